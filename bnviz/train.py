"""The training loop: many models at once along a leading model axis.

A single training is an ensemble of one, so there is one loop to trust. Every
member shares the architecture, data, batch size, epochs and optimizer; each
has its own learning rate, init scale, seed (initial weights and batch order).

Per step the loop stores only what cannot be recomputed: the loss and accuracy
of the mini-batch, the parameters after the update, the gradients, and BN's
batch and running statistics. Everything else a chart needs (statistics over
the whole training set, activations, per-epoch metrics) is a pure function of
the stored parameters and is computed afterwards, many states at once, by
``bnviz.run``.

One-row batches: BN in training mode maps a lone row to beta (its variance is
0), so a trailing batch of one row is folded into the batch before it. With
batch_size = 1 every batch has one row; bnviz then trains exactly as the
formulas say (BN outputs beta, nothing before it learns, and the running
variance heads to 0), which is why Keras and PyTorch refuse it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .config import Config
from .data import Dataset
from .nn import Architecture, init_params
from .nn.mlp import loss_and_grads
from .optim import make_optimizer
from .seeding import rng_for

# Settings that may differ between members of one ensemble.
MEMBER_FIELDS = ("lr", "init_scale", "seed")


def architecture(cfg: Config, n_in: int = 2) -> Architecture:
    return Architecture(n_in=n_in, hidden=tuple(cfg.hidden), activation=cfg.activation, bn=cfg.bn,
                        bn_position=cfg.bn_position, keep_bias=cfg.keep_bias, eps=cfg.eps)


def batch_bounds(n_rows: int, batch_size: int) -> list:
    """(start, stop) of each mini-batch in a shuffled epoch.

    batch_size >= n_rows gives one full batch. A trailing batch of a single row
    joins the batch before it (BN cannot normalize one row).
    """
    size = max(1, min(int(batch_size), n_rows))
    bounds = [(s, min(s + size, n_rows)) for s in range(0, n_rows, size)]
    if len(bounds) > 1 and size > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n_rows)]
    return bounds


def network_inputs(cfg: Config, data: Dataset, X: np.ndarray) -> np.ndarray:
    """Raw features -> what the first layer sees (z-scores when cfg.standardize)."""
    return data.standardize(X) if cfg.standardize else np.asarray(X, dtype=float)


def initial_params(cfg: Config, arch: Architecture) -> dict:
    return init_params(arch, rng_for(cfg.seed, "init"), cfg.init, cfg.init_scale)


def epoch_orders(seed: int, n_rows: int, epochs: int) -> np.ndarray:
    """(epochs, n_rows): the row order of each epoch, a fresh permutation each time."""
    rng = rng_for(seed, "shuffle")
    return np.stack([rng.permutation(n_rows) for _ in range(epochs)]).astype(np.intp)


class RunningAverage:
    """How BN's running statistics follow the batch statistics (buffers, not parameters).

    ewma:        running = m * running + (1 - m) * batch        (Keras' momentum m)
    cumulative:  running = plain average of the batch statistics of steps 1..t
    The variance folded in is the biased batch variance, or with variance="unbiased"
    that times n / (n - 1) (PyTorch); a one-row batch has no unbiased variance and
    contributes its biased one, 0.
    """

    def __init__(self, is_var: np.ndarray, momentum: float, kind: str, variance: str):
        self.is_var, self.m, self.kind, self.variance = is_var, momentum, kind, variance
        self._factors = {}

    def update(self, buffers: np.ndarray, stats: np.ndarray, n: int, t: int) -> None:
        """Fold one step's stats (..., R) from a batch of n rows in place; t counts steps from 1."""
        if self.variance == "unbiased" and n > 1:
            if n not in self._factors:
                self._factors[n] = np.where(self.is_var, n / (n - 1), 1.0)
            stats = stats * self._factors[n]
        if self.kind == "ewma":
            buffers *= self.m
            buffers += (1.0 - self.m) * stats
        else:
            buffers += (stats - buffers) / t


@dataclass
class Progress:
    """Handed to a progress callback: how far training is, and a way to see it so far."""

    step: int
    total_steps: int
    history: "History"

    @property
    def fraction(self) -> float:
        return self.step / max(self.total_steps, 1)

    def run(self, member: int = 0):
        """The Run of one member up to this step (computes its derived arrays)."""
        from .run import assemble_run
        return assemble_run(self.history, member, upto=self.step)


@dataclass
class History:
    """What the loop stored, for M members over the steps done so far.

    loss, acc: (S, M); params: (S + 1, M, P) after 0..S updates; grads: (S, M, P);
    batch_stats, running: (S, M, R) in the buffer layout (mean1, var1, ...), the
    batch variance biased, the running one as configured; orders: (M, E, N);
    diverged_at: (M,) step index whose loss was not finite, or -1.
    """

    configs: list
    data: Dataset
    arch: Architecture
    bounds: list
    orders: np.ndarray
    loss: np.ndarray
    acc: np.ndarray
    params: np.ndarray
    grads: np.ndarray
    batch_stats: np.ndarray
    running: np.ndarray
    diverged_at: np.ndarray
    steps_done: int = 0
    seconds: float = 0.0
    extras: dict = field(default_factory=dict)

    @property
    def steps_per_epoch(self) -> int:
        return len(self.bounds)

    def member_steps(self, member: int) -> int:
        d = int(self.diverged_at[member])
        return self.steps_done if d < 0 else min(d, self.steps_done)


def check_members(configs: list) -> None:
    """Members may differ only in MEMBER_FIELDS."""
    first = configs[0].to_dict()
    for cfg in configs[1:]:
        other = cfg.to_dict()
        diff = [k for k in first if first[k] != other[k] and k not in MEMBER_FIELDS]
        if diff:
            raise ValueError(f"ensemble members may differ only in {', '.join(MEMBER_FIELDS)}; "
                             f"they also differ in {', '.join(diff)}")


def run_loop(configs: list, data: Dataset, init_params_list=None,
             progress: Callable | None = None, progress_seconds: float = 0.25) -> History:
    """Train every member; returns the History. Never raises on divergence."""
    if not configs:
        raise ValueError("an ensemble needs at least one Config")
    check_members(configs)
    cfg = configs[0]
    M = len(configs)
    X = network_inputs(cfg, data, data.X_train)
    y = np.asarray(data.y_train, dtype=float)
    N = len(y)
    if N < 2:
        raise ValueError("training needs at least two rows")
    arch = architecture(cfg, X.shape[1])
    player, blayout = arch.param_layout(), arch.buffer_layout()
    P, R = player.size, blayout.size

    if init_params_list is None:
        init_params_list = [initial_params(c, arch) for c in configs]
    params = np.stack([player.pack(p) for p in init_params_list]).astype(float)
    if params.shape != (M, P):
        raise ValueError(f"init_params do not fit {arch.summary()!r}: need {player.names}")
    pviews = player.views(params)
    buffers = arch.initial_buffers((M,))

    bounds = batch_bounds(N, cfg.batch_size)
    orders = np.stack([epoch_orders(c.seed, N, cfg.epochs) for c in configs])
    S = cfg.epochs * len(bounds)
    hist = History(
        configs=list(configs), data=data, arch=arch, bounds=bounds, orders=orders,
        loss=np.zeros((S, M)), acc=np.zeros((S, M)), params=np.zeros((S + 1, M, P)),
        grads=np.zeros((S, M, P)), batch_stats=np.zeros((S, M, R)), running=np.zeros((S, M, R)),
        diverged_at=np.full(M, -1),
    )
    hist.params[0] = params

    opt = make_optimizer(cfg.optimizer, params.shape, cfg.beta1, cfg.beta2, cfg.opt_eps)
    lr = np.array([c.lr for c in configs])[:, None]
    is_var = np.zeros(R, dtype=bool)
    for slot in blayout.slots:
        is_var[slot.start:slot.stop] = slot.name.startswith("var")
    running_average = RunningAverage(is_var, cfg.bn_momentum, cfg.running_avg, cfg.running_var)

    started = last_report = time.perf_counter()
    s = 0
    with np.errstate(all="ignore"):
        for epoch in range(cfg.epochs):
            for start, stop in bounds:
                idx = orders[:, epoch, start:stop]
                xb, yb = X[idx], y[idx]
                loss, grads, result = loss_and_grads(arch, pviews, xb, yb)
                hist.loss[s] = loss
                hist.acc[s] = ((result.logits > 0.0) == (yb > 0.5)).mean(-1)
                if R:
                    stats = np.concatenate([a for c in result.bn_caches for a in (c.mean, c.var)], axis=-1)
                    hist.batch_stats[s] = stats
                    running_average.update(buffers, stats, stop - start, s + 1)
                    hist.running[s] = buffers
                g = player.pack(grads, (M,))
                hist.grads[s] = g
                opt.step(params, g, lr)
                hist.params[s + 1] = params
                s += 1
                hist.steps_done = s
                bad = ~np.isfinite(loss)
                if bad.any():
                    newly = bad & (hist.diverged_at < 0)
                    hist.diverged_at[newly] = s - 1
                    if (hist.diverged_at >= 0).all():
                        break
                if progress is not None and time.perf_counter() - last_report >= progress_seconds:
                    hist.seconds = time.perf_counter() - started
                    progress(Progress(s, S, hist))
                    last_report = time.perf_counter()
            else:
                continue
            break
    # an update that overflowed on the last step shows only in the parameters
    blown = ~np.isfinite(params).all(axis=1) & (hist.diverged_at < 0)
    hist.diverged_at[blown] = s
    hist.seconds = time.perf_counter() - started
    if progress is not None:
        progress(Progress(s, S, hist))
    return hist


def train(cfg: Config, data: Dataset, init_params: dict | None = None,
          progress: Callable | None = None, progress_seconds: float = 0.25):
    """Train one network; returns its Run. Pure: the same Config and data give the same Run.

    init_params: start from these parameters ({W1, ..., bL} as in Run.initial_params)
    instead of drawing them from cfg.seed. progress: called about every
    `progress_seconds` with a Progress (its .run() is the Run so far) and once at the end.
    """
    from .run import assemble_run

    history = run_loop([cfg], data, None if init_params is None else [init_params], progress, progress_seconds)
    return assemble_run(history, 0)


def train_ensemble(configs: list, data: Dataset, init_params: list | None = None,
                   progress: Callable | None = None, progress_seconds: float = 0.25):
    """Train M networks at once; they may differ in lr, init_scale and seed. Returns an Ensemble."""
    from .run import Ensemble

    return Ensemble(run_loop(list(configs), data, init_params, progress, progress_seconds))
