"""What a trained network says about given rows: predictions, decision grids,
one-row-at-a-time behaviour and the batch calculator's numbers.

Everything here evaluates a Run's stored states with the engine's forward
pass, so each number shown can be traced to ``bnviz.nn``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluation import states_logits
from .nn import batchnorm_forward, forward, sigmoid
from .run import Run, forward_states


def spread_states(run: Run, count: int) -> np.ndarray:
    """Up to `count` of the run's snapshot states, evenly spread, the first and last among them."""
    snaps = run.snapshot_steps
    picks = np.unique(np.linspace(0, len(snaps) - 1, min(count, len(snaps))).round().astype(int))
    return snaps[picks]


def running_buffers(run: Run, states) -> np.ndarray | None:
    """(K, R) running statistics after each state (state 0: mean 0, variance 1), or None without BN:
    ``run.buffers_at`` of every state, packed, gathered at once."""
    if not run.n_bn:
        return None
    states = np.asarray(states, dtype=int)
    if run.state_running is not None:
        return run.state_running[run.state_index(states)].copy()
    out = np.empty((len(states), run.arch.buffer_layout().size))
    views = run.arch.buffer_layout().views(out)
    after = (states > 0)[:, None]
    for k in range(run.n_bn):
        for name, recorded, start in (("mean", run.running_mean[k], 0.0), ("var", run.running_var[k], 1.0)):
            if len(recorded):
                views[f"{name}{k + 1}"][...] = np.where(after, recorded[np.maximum(states - 1, 0)], start)
            else:
                views[f"{name}{k + 1}"][...] = start
    return out


def predict(run: Run, data, X_raw: np.ndarray, state: int | None = None, mode: str = "eval") -> np.ndarray:
    """P(placed) for raw rows X_raw (n, 2) at `state` (default: the final one).

    mode "eval": BN uses the running statistics, each row on its own.
    mode "batch": the n rows form one batch and BN uses their own statistics;
    with n = 1 every BN unit outputs its beta, whatever the row.
    """
    state = run.n_steps if state is None else int(state)
    X = data.inputs(np.atleast_2d(np.asarray(X_raw, dtype=float)), run.config.standardize)
    buffers = running_buffers(run, [state]) if mode == "eval" else None
    result = forward_states(run.arch, run.params_of([state]), X, buffers)
    return sigmoid(result.logits[0])


def one_row_at_a_time(run: Run, data, states) -> np.ndarray:
    """(K,) test accuracy when every test row is normalized by its own batch statistics, alone."""
    if len(data.y_test) == 0:
        return np.full(len(states), np.nan)
    X = data.inputs(data.X_test, run.config.standardize)[:, None, :]      # (n, 1, 2): n batches of one
    views = run.arch.param_layout().views(run.params_of(states)[:, None, :])   # lead (K, 1)
    with np.errstate(all="ignore"):
        logits = forward(run.arch, views, X[None]).logits[..., 0]        # (K, n)
    return ((logits > 0) == (data.y_test > 0.5)).mean(axis=1)


@dataclass
class AccuracyByStatistics:
    """Test accuracy at the epoch-end states `steps` (E + 1,), three ways, each (E + 1,):
    running: BN with the running statistics (evaluation mode); whole_batch: the test
    set normalized by its own statistics; alone: each test row normalized by itself.
    Without BN the three are the same network and agree."""

    steps: np.ndarray
    running: np.ndarray
    whole_batch: np.ndarray
    alone: np.ndarray


def accuracy_by_statistics(run: Run, data) -> AccuracyByStatistics:
    """How the choice of statistics at test time changes the test accuracy, per epoch."""
    em = run.epoch_metrics
    alone = one_row_at_a_time(run, data, run.epoch_steps) if run.n_bn else em["test_acc_eval"]
    return AccuracyByStatistics(run.epoch_steps, em["test_acc_eval"], em["test_acc_batch"], alone)


@dataclass
class DecisionGrid:
    """P(placed) over a grid of the raw feature plane at K states.

    x: (G,) first feature, y: (G,) second feature (raw units); prob: (K, G, G)
    with prob[k, i, j] at (x[j], y[i]); states: (K,).
    """

    x: np.ndarray
    y: np.ndarray
    prob: np.ndarray
    states: np.ndarray


def decision_grid(run: Run, data, states, size: int = 45, margin: float = 0.08) -> DecisionGrid:
    """Evaluation-mode probabilities on a size x size grid covering every row of the data."""
    X_all = np.vstack([data.X_train, data.X_test])
    low, high = X_all.min(axis=0), X_all.max(axis=0)
    pad = (high - low) * margin
    gx = np.linspace(low[0] - pad[0], high[0] + pad[0], size)
    gy = np.linspace(low[1] - pad[1], high[1] + pad[1], size)
    XX, YY = np.meshgrid(gx, gy)
    points = data.inputs(np.column_stack([XX.ravel(), YY.ravel()]), run.config.standardize)
    states = np.asarray(states, dtype=int)
    logits = states_logits(run.arch, run.params_of(states), points, running_buffers(run, states))
    return DecisionGrid(gx, gy, sigmoid(logits).reshape(len(states), size, size), states)


def boundary_replay(run: Run, data, frames: int = 25, size: int = 40) -> DecisionGrid:
    """The decision grid at up to `frames` evenly spread snapshot states: the boundary's replay."""
    return decision_grid(run, data, spread_states(run, frames), size)


@dataclass
class BatchCalculation:
    """One mini-batch through one BN layer, exactly as the engine computed it.

    rows: (n,) positions in data.X_train; raw: (n, 2) the students' features;
    z: (n, units) the Dense output; bn_input: (n, units) what enters BN (z, or
    g(z) with BN after the activation); mean, var: (units,) mu_B and the biased
    sigma^2_B; xhat: (n, units) z_norm; out: (n, units) gamma * z_norm + beta;
    act: (n, units) the activation output g(.); gamma, beta: (units,).
    """

    step: int
    layer: int
    rows: np.ndarray
    raw: np.ndarray
    z: np.ndarray
    bn_input: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    xhat: np.ndarray
    out: np.ndarray
    act: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    eps: float


def batch_calculation(run: Run, data, step: int, layer: int, undo: bool = False) -> BatchCalculation:
    """The numbers BN layer `layer` (1-based) worked with at `step` (before its update).

    undo=True sets that layer's gamma to sqrt(sigma^2_B + eps) and beta to mu_B
    of this very batch and runs the batch through the engine again, so `out`
    shows what BN gives back with those values (z itself, up to rounding).
    """
    if not run.n_bn:
        raise ValueError("this run has no batch norm")
    if not 1 <= layer <= run.n_bn:
        raise ValueError(f"layer must be 1 to {run.n_bn}, got {layer}")
    if not 0 <= step < run.n_steps:
        raise ValueError(f"step must be 0 to {run.n_steps - 1}, got {step}")
    if step % run.stride:
        raise ValueError(f"step {step} was not recorded: this run's record keeps every {run.stride}th step")
    rows = run.step_rows(step)
    params = run.params_at(step)
    X = data.inputs(data.X_train[rows], run.config.standardize)
    trace = forward(run.arch, params, X).traces[layer - 1]
    bn_input = trace.z if run.arch.bn_position == "before" else trace.act
    if undo:
        # mu_B and sigma^2_B do not depend on this layer's own gamma and beta,
        # so the first pass's statistics are the ones the second pass uses.
        _, first = batchnorm_forward(bn_input, params[f"gamma{layer}"], params[f"beta{layer}"], run.arch.eps)
        params[f"gamma{layer}"] = np.sqrt(first.var + run.arch.eps)
        params[f"beta{layer}"] = first.mean.copy()
        trace = forward(run.arch, params, X).traces[layer - 1]
    gamma, beta = params[f"gamma{layer}"], params[f"beta{layer}"]
    out, cache = batchnorm_forward(bn_input, gamma, beta, run.arch.eps)
    return BatchCalculation(step, layer, rows, data.X_train[rows], trace.z, bn_input, cache.mean, cache.var,
                            cache.xhat, out, trace.act, gamma, beta, run.arch.eps)
