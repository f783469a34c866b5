"""Ioffe & Szegedy's Figure 1 on the handwritten digits: test accuracy over training, and one
last-layer unit's input to its sigmoid, with and without batch norm, over seeds.

The paper's network: three hidden layers of 100 sigmoid units, mini-batches of 60, BN before
each activation, a softmax over ten classes. Each seed trains BN on and BN off from its own
split and initialization (paired runs); every EVERY steps the network is evaluated:

- test accuracy in evaluation mode (BN with the running statistics), as a deployed network;
- the 15th, 50th and 85th percentiles over the training rows of unit 1 of the last hidden
  layer's input to its sigmoid (BN's output with BN, the Dense output without), BN normalizing
  with those rows' own statistics, as in training.

NumPy only (the engine's training loop, whose record it reads directly: the Run a page gets
derives per-epoch metrics and snapshots the figure never shows, which took more than half of its
time); ``bnviz.lessons`` turns the numbers into a verdict and ``bnviz.figures.lessons.figure1_svg``
draws them.
"""
from __future__ import annotations

import numpy as np

from . import load_for
from .config import Config
from .evaluation import forward_states, loss_and_accuracy
from .nn import Architecture
from .train import run_loop

FIGURE1 = Config(dataset="digits", hidden=(100, 100, 100), activation="sigmoid", bn_position="before",
                 batch_size=60, lr=0.5, epochs=10)
EVERY = 8                 # steps between two evaluations: 31 points over the 240 steps of 10 epochs
UNIT = 0                  # the watched unit of the last hidden layer (unit 1 on the page)
PERCENTILES = (15, 50, 85)
STATES_PER_PASS = 4       # states evaluated in one batched forward pass (bounds memory for 100-unit layers)


def figure1_states(n_steps: int, every: int = EVERY) -> np.ndarray:
    """(T,) the steps evaluated: 0, every, 2 every, ... and always the last."""
    return np.unique(np.append(np.arange(0, n_steps + 1, every), n_steps)).astype(int)


def sigmoid_input_percentiles(arch: Architecture, X: np.ndarray, params: np.ndarray, unit: int = UNIT) -> np.ndarray:
    """(3, T) the 15th, 50th and 85th percentiles over the rows X (what the network sees) of `unit` of
    the last hidden layer's input to its activation, at each of T states (params (T, P)), BN with
    those rows' own statistics."""
    before = arch.bn and arch.bn_position == "before"
    out = np.empty((len(PERCENTILES), len(params)))
    for start in range(0, len(params), STATES_PER_PASS):
        chunk = params[start:start + STATES_PER_PASS]
        trace = forward_states(arch, chunk, X).traces[-1]
        seen = (trace.bn if before else trace.z)[..., unit]                    # (k, N)
        with np.errstate(invalid="ignore"):
            out[:, start:start + len(chunk)] = np.percentile(seen, PERCENTILES, axis=-1)
    return out


def test_accuracy(arch: Architecture, X: np.ndarray, y: np.ndarray, params: np.ndarray,
                  buffers: np.ndarray | None) -> np.ndarray:
    """(T,) accuracy on the rows X (what the network sees), labels y, at each of T states (params
    (T, P)) in evaluation mode: BN with the running statistics buffers (T, R) (None without BN)."""
    with np.errstate(all="ignore"):
        _, acc = loss_and_accuracy(arch, params, X, np.asarray(y, dtype=float), buffers)
    return np.asarray(acc, dtype=float).reshape(-1)


def drift(percentiles: np.ndarray) -> np.ndarray:
    """How far a unit's distribution moves over training, in units of its final spread: the path
    length of each percentile from state to state, averaged over the three, over the final
    15th-85th width. percentiles: (..., 3, T) -> (...)."""
    p = np.asarray(percentiles, dtype=float)
    path = np.abs(np.diff(p, axis=-1)).sum(axis=-1).mean(axis=-1)
    width = np.maximum(p[..., 2, -1] - p[..., 0, -1], 1e-9)
    return path / width


def measure_figure1(seeds, base: Config = FIGURE1, every: int = EVERY) -> dict:
    """Figure 1 over `seeds`, BN on and off (paired by seed).

    Returns steps (T,); acc {True: (S, T), False: (S, T)} test accuracy; pct {bn: (S, 3, T)} the
    watched unit's percentiles; drift {bn: (S,)}; seconds {bn: training seconds over all seeds};
    diverged {bn: (S,) bool}.
    """
    acc, pct, seconds, diverged, steps = {}, {}, {}, {}, None
    for bn in (True, False):
        rows_acc, rows_pct, spent, broke = [], [], 0.0, []
        for seed in seeds:
            cfg = base.replace(bn=bn, seed=int(seed))
            data = load_for(cfg)
            # recorded every `every` steps: the states the figure reads are kept, with their running
            # statistics (the same training as ``train``'s Run, read before it is assembled)
            history = run_loop([cfg], data, stride=every)
            spent += history.seconds
            if steps is None:           # every run plans the same steps; a diverged one stops early
                steps = figure1_states(cfg.epochs * history.steps_per_epoch, every)
            states = steps[steps <= history.member_steps(0)]
            rows = history.state_rows(states)
            params = history.params[rows, 0]
            buffers = history.running[rows, 0] if history.arch.bn else None
            a = np.full(len(steps), np.nan)
            p = np.full((len(PERCENTILES), len(steps)), np.nan)
            a[:len(states)] = test_accuracy(history.arch, data.inputs(data.X_test, cfg.standardize), data.y_test,
                                            params, buffers)
            p[:, :len(states)] = sigmoid_input_percentiles(history.arch, data.inputs(data.X_train, cfg.standardize),
                                                           params)
            # a state whose unit overflowed over the training rows, though every batch stayed finite, is
            # a divergence too (as a Run is cut there): nothing from it on is drawn
            overflowed = ~np.isfinite(p[:, :len(states)]).all(axis=0)
            if overflowed.any():
                cut = overflowed.argmax()
                a[cut:], p[:, cut:] = np.nan, np.nan
            rows_acc.append(a)
            rows_pct.append(p)
            broke.append(bool(history.diverged_at[0] >= 0 or overflowed.any()))
        acc[bn], pct[bn] = np.array(rows_acc), np.array(rows_pct)
        seconds[bn], diverged[bn] = spent, np.array(broke)
    return {"steps": steps, "acc": acc, "pct": pct, "drift": {bn: drift(pct[bn]) for bn in (True, False)},
            "seconds": seconds, "diverged": diverged, "unit": UNIT, "layer": len(base.hidden)}
