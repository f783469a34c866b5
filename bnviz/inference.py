"""What a trained network says about given rows: predictions, decision grids,
one-row-at-a-time behaviour and the batch calculator's numbers.

Everything here evaluates a Run's stored states with the engine's forward
pass, so each number shown can be traced to ``bnviz.nn``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluation import states_logits
from .nn import batchnorm_forward, class_probabilities, correct, forward, layernorm_forward, probabilities
from .run import Run, forward_states
from .visitor_text import ordinal
from .unsupported import need_two_features


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


def _logits(run: Run, data, X_raw, state, mode) -> np.ndarray:
    """The logits of raw rows X_raw (n, n_in) at a kept state: (n,) or (n, K)."""
    state = run.n_steps if state is None else int(state)
    X = data.inputs(np.atleast_2d(np.asarray(X_raw, dtype=float)), run.config.standardize)
    buffers = running_buffers(run, [state]) if mode == "eval" else None
    result = forward_states(run.arch, run.params_of([state]), X, buffers)
    return result.logits[0]


def predict(run: Run, data, X_raw: np.ndarray, state: int | None = None, mode: str = "eval") -> np.ndarray:
    """What the network says of raw rows X_raw (n, n_in) at `state` (default: the final one).

    Two classes (one sigmoid output): P(class 1), e.g. P(placed), shape (n,).
    K > 2 classes (softmax): the class probabilities, shape (n, K), each row summing to 1;
    ``predict_proba`` gives (n, n_classes) for either.

    mode "eval": BN uses the running statistics, each row on its own.
    mode "batch": the n rows form one batch and BN uses their own statistics;
    with n = 1 every BN unit outputs its beta, whatever the row.
    Layer norm has one mode: each row by its own units, so both give the same.
    """
    with np.errstate(all="ignore"):
        return probabilities(run.arch, _logits(run, data, X_raw, state, mode))


def predict_proba(run: Run, data, X_raw: np.ndarray, state: int | None = None, mode: str = "eval") -> np.ndarray:
    """(n, n_classes) the probability of every class for raw rows X_raw (n, n_in), column k
    for class number k (``data.label_values[k]`` in the source); columns P(0), P(1) for
    two classes. state and mode as in ``predict``."""
    with np.errstate(all="ignore"):
        return class_probabilities(run.arch, _logits(run, data, X_raw, state, mode))


def predict_class(run: Run, data, X_raw: np.ndarray, state: int | None = None, mode: str = "eval") -> np.ndarray:
    """(n,) int the class number each raw row is put in (the most probable class)."""
    return predict_proba(run, data, X_raw, state, mode).argmax(axis=-1)


def one_row_at_a_time(run: Run, data, states) -> np.ndarray:
    """(K,) test accuracy when every test row is normalized by its own batch statistics, alone."""
    if len(data.y_test) == 0:
        return np.full(len(states), np.nan)
    X = data.inputs(data.X_test, run.config.standardize)[:, None, :]      # (n, 1, n_in): n batches of one
    views = run.arch.param_layout().views(run.params_of(states)[:, None, :])   # lead (K, 1)
    with np.errstate(all="ignore"):
        logits = forward(run.arch, views, X[None]).logits                # (K, n, 1) or (K, n, 1, classes)
        logits = logits[..., 0, :] if run.arch.softmax else logits[..., 0]
    return correct(run.arch, logits, data.y_test).mean(axis=1)


@dataclass
class AccuracyByStatistics:
    """Test accuracy at the epoch-end states `steps` (E + 1,), three ways, each (E + 1,):
    running: BN with the running statistics (evaluation mode); whole_batch: the test
    set normalized by its own statistics; alone: each test row normalized by itself.
    Without BN (none, or layer norm: each row by its own units) the three are the
    same network and agree."""

    steps: np.ndarray
    running: np.ndarray
    whole_batch: np.ndarray
    alone: np.ndarray


def accuracy_by_statistics(run: Run, data) -> AccuracyByStatistics:
    """How the choice of statistics at test time changes the test accuracy, per epoch."""
    em = run.epoch_metrics
    # layer norm's lone rows are computed too (not copied), so the chart shows that they agree
    alone = one_row_at_a_time(run, data, run.epoch_steps) if run.arch.normed else em["test_acc_eval"]
    return AccuracyByStatistics(run.epoch_steps, em["test_acc_eval"], em["test_acc_batch"], alone)


@dataclass
class OneStudentInBatches:
    """One student's probability of one class after training, alone and inside other batches, in both modes.

    alone_train: training mode, a batch of one (BN: every unit outputs β); alone_eval:
    evaluation mode, alone (BN: the running statistics); in_batches: (B,) training mode,
    inside B batches of batch_size rows, the student with batch_size - 1 training rows drawn
    at random; in_batches_eval: (B,) the same batches in evaluation mode. With layer norm,
    or without normalization, all of them are one number; with BN the training-mode ones
    depend on the batch. label_class: the class number whose probability these are (1 for two
    classes; else the class the student is put in alone at test time); label: that class as the
    data names it ("placed = 1"), visitor text to show through ``visitor_text``.
    """

    alone_train: float
    alone_eval: float
    in_batches: np.ndarray
    in_batches_eval: np.ndarray
    batch_size: int
    label_class: int = 1
    label: str = "placed = 1"

    @property
    def spread(self) -> float:
        """The largest difference between any two of the numbers."""
        every = np.r_[self.alone_train, self.alone_eval, self.in_batches, self.in_batches_eval]
        return float(every.max() - every.min())


def one_student_in_batches(run: Run, data, x_raw, batches: int = 20, seed: int = 0) -> OneStudentInBatches:
    """Where one student's prediction depends on the batch around it (final state; see OneStudentInBatches).

    x_raw: (n_in,) the student's raw features. The other rows are training rows drawn without
    replacement from a generator seeded by `seed`, so the page shows the same batches every time.
    """
    state = run.n_steps
    n_train = len(data.y_train)
    size = int(min(max(run.config.batch_size, 2), n_train + 1))
    rng = np.random.default_rng(seed)
    others = np.stack([rng.choice(n_train, size - 1, replace=False) for _ in range(batches)])
    student = data.inputs(np.atleast_2d(np.asarray(x_raw, dtype=float)), run.config.standardize)   # (1, D)
    rows = data.inputs(data.X_train, run.config.standardize)[others]                                # (B, n-1, D)
    X = np.concatenate([np.broadcast_to(student, (batches, 1, student.shape[1])), rows], axis=1)    # (B, n, D)
    views = run.arch.param_layout().views(run.params_of([state]))                                    # lead (1,)
    buffers = running_buffers(run, [state])
    buffer_views = None if buffers is None else run.arch.buffer_layout().views(buffers)
    with np.errstate(all="ignore"):
        def first_row(buffered, batch):        # (B, K) every class's probability for the student, row 0
            return class_probabilities(run.arch, forward(run.arch, views, batch, buffered).logits)[:, 0]

        alone_eval = first_row(buffer_views, student[None])[0]
        k = 1 if run.arch.n_classes == 2 else int(np.nan_to_num(alone_eval, nan=-1.0).argmax())
        train_mode, eval_mode = first_row(None, X)[:, k], first_row(buffer_views, X)[:, k]
        alone_train = float(first_row(None, student[None])[0, k])
    value = data.label_values[k] if k < len(data.label_values) else k
    label = f"{data.label_name} = {value:g}" if isinstance(value, (int, float, np.number)) else \
        f"{data.label_name} = {value}"
    return OneStudentInBatches(alone_train, float(alone_eval[k]), train_mode, eval_mode, size, k, label)


@dataclass
class RowCalculation:
    """One mini-batch through one layer-norm layer: each row normalized over its own units.

    rows: (n,) positions in data.X_train; raw: (n, 2); ln_input: (n, units) what enters
    layer norm (z, or g(z) after the activation); mean, var: (n,) each row's mean and biased
    variance over its units; xhat, out: (n, units); gamma, beta: (units,).
    """

    step: int
    layer: int
    rows: np.ndarray
    raw: np.ndarray
    ln_input: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    xhat: np.ndarray
    out: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    eps: float


def _step_pass(run: Run, data, step: int, layer: int, layers: int) -> tuple:
    """(rows (n,), parameters before `step`, inputs X (n, n_in), layer `layer`'s LayerTrace, what that
    layer normalizes (n, units): the Dense output, or the activation when the normalization sits
    after it) for the batch of a recorded step; layer is 1-based, of `layers`. Raises ValueError
    for a layer, step or unrecorded step out of range."""
    if not 1 <= layer <= layers:
        raise ValueError(f"layer must be 1 to {layers}, got {layer}")
    if not 0 <= step < run.n_steps:
        raise ValueError(f"step must be 0 to {run.n_steps - 1}, got {step}")
    if step % run.stride:
        raise ValueError(f"step {step} was not recorded: this run's record keeps every {ordinal(run.stride)} step")
    rows = run.step_rows(step)
    params = run.params_at(step)
    X = data.inputs(data.X_train[rows], run.config.standardize)
    trace = forward(run.arch, params, X).traces[layer - 1]
    return rows, params, X, trace, trace.z if run.arch.bn_position == "before" else trace.act


def row_calculation(run: Run, data, step: int, layer: int) -> RowCalculation:
    """The numbers layer-norm layer `layer` (1-based) worked with at `step` (before its update)."""
    if run.arch.norm != "layer":
        raise ValueError("this run has no layer norm")
    rows, params, _, _, ln_input = _step_pass(run, data, step, layer, len(run.arch.hidden))
    gamma, beta = params[f"gamma{layer}"], params[f"beta{layer}"]
    out, cache = layernorm_forward(ln_input, gamma, beta, run.arch.eps)
    return RowCalculation(step, layer, rows, data.X_train[rows], ln_input, cache.mean, cache.var, cache.xhat, out,
                          gamma, beta, run.arch.eps)


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
    """Evaluation-mode probabilities on a size x size grid covering every row of the data.

    Two input features and two classes only: raises bnviz.unsupported.Unsupported (a sentence)
    for any other data."""
    need_two_features(data.n_features, "The decision boundary")
    if run.arch.softmax:
        from .unsupported import need_two_classes

        need_two_classes(run.arch.n_classes, "The decision boundary")
    X_all = np.vstack([data.X_train, data.X_test])
    low, high = X_all.min(axis=0), X_all.max(axis=0)
    pad = (high - low) * margin
    gx = np.linspace(low[0] - pad[0], high[0] + pad[0], size)
    gy = np.linspace(low[1] - pad[1], high[1] + pad[1], size)
    XX, YY = np.meshgrid(gx, gy)
    points = data.inputs(np.column_stack([XX.ravel(), YY.ravel()]), run.config.standardize)
    states = np.asarray(states, dtype=int)
    logits = states_logits(run.arch, run.params_of(states), points, running_buffers(run, states))
    with np.errstate(all="ignore"):
        prob = probabilities(run.arch, logits)
    return DecisionGrid(gx, gy, prob.reshape(len(states), size, size), states)


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
    rows, params, X, trace, bn_input = _step_pass(run, data, step, layer, run.n_bn)
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
