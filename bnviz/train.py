"""The training loop: many models at once along a leading model axis.

A single training is an ensemble of one, so there is one loop to trust. It runs
compiled (``bnviz.compiled``: the same arithmetic, held equal to this NumPy loop to
1e-12 by the tests) unless BNVIZ_ENGINE=numpy, numba cannot be had, or a member's
step is big enough (rows x parameters past ``compiled.COMPILED_MAX_WORK``) for
NumPy's matrix products to be the faster way. Every
member shares the architecture, data, batch size, epochs and optimizer; each
has its own learning rate, init scale, seed (initial weights and batch order).

Per step the loop stores the parameters after the update, the gradient and
BN's running statistics (buffers: an averaging rule trains them, not
backprop, and the loop updates them where a reader expects it). A long run
stores them at a stride k (``bnviz.striding``): the gradients of steps 0, k,
2k, ..., the states around those steps, every epoch end and the final state,
so its memory is bounded while it trains. Everything
else a chart needs (each step's loss, accuracy and BN batch statistics,
statistics over the whole training set, activations, per-epoch metrics) is a
pure function of those and the batch order, declared in
``bnviz.recording.RECORDED`` and computed afterwards, many steps at once, by
``bnviz.run``.

One-row batches: BN in training mode maps a lone row to beta (its variance is
0), so a trailing batch of one row is folded into the batch before it. With
batch_size = 1 every batch has one row; bnviz then trains exactly as the
formulas say (BN outputs beta, nothing before it learns, and the running
variance heads to 0), which is why Keras and PyTorch refuse it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .batches import batch_bounds, n_batches  # noqa: F401  (bnviz.train.batch_bounds is still imported from here)
from .compiled import Kernel, Unavailable, engine
from .config import Config
from .data import Dataset
from .nn import (Architecture, backward, draw_bn_noise, forward, init_params, logit_sum, logits_finite, noise_pairs,
                 output_grad)
from .optim import make_optimizer
from .run import SNAPSHOT_BUDGET, Ensemble, assemble_run, replay
from .running import RunningAverage
from .seeding import rng_for
from .striding import kept_states, last_kept, positions, recorded_steps

# Settings that may differ between members of one ensemble.
MEMBER_FIELDS = ("lr", "init_scale", "seed")


def architecture(cfg: Config, n_in: int = 2, n_classes: int = 2) -> Architecture:
    """The network a Config describes for n_in features and n_classes classes: one sigmoid
    output unit for two classes, a softmax over K outputs for K > 2."""
    return Architecture(n_in=n_in, hidden=tuple(cfg.hidden), activation=cfg.activation, bn=cfg.bn,
                        bn_position=cfg.bn_position, keep_bias=cfg.keep_bias, eps=cfg.eps,
                        n_out=1 if n_classes <= 2 else int(n_classes), norm=cfg.norm)


def network_inputs(cfg: Config, data: Dataset, X: np.ndarray) -> np.ndarray:
    """Raw features -> what the first layer sees (z-scores when cfg.standardize)."""
    return data.inputs(X, cfg.standardize)


def initial_params(cfg: Config, arch: Architecture) -> dict:
    return init_params(arch, rng_for(cfg.seed, "init"), cfg.init, cfg.init_scale, cfg.bias_init)


def bn_noise(cfg: Config, steps: int):
    """(steps, 2 * sum(hidden)) the noisy-BN scales and shifts of every step, or None when off."""
    if not (cfg.bn and cfg.bn_noise > 0):
        return None
    return draw_bn_noise(rng_for(cfg.seed, "noise"), steps, cfg.hidden, cfg.bn_noise)


def epoch_orders(seed: int, n_rows: int, epochs: int) -> np.ndarray:
    """(epochs, n_rows): the row order of each epoch, a fresh permutation each time."""
    rng = rng_for(seed, "shuffle")
    orders = np.empty((epochs, n_rows), dtype=np.intp)
    orders[:] = np.arange(n_rows)
    # row after row, the same draws as rng.permutation(n_rows) each epoch, in one call (a tenth of a
    # 200-member ensemble's time went to a Python loop of shuffles)
    return rng.permuted(orders, axis=1, out=orders)


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
        return assemble_run(self.history, member, upto=self.step)


@dataclass
class History:
    """What the loop stored, for M members over the steps done so far.

    stride: k, states: (T,) the kept states (0..S when k = 1), steps: (K,) the
    recorded steps 0, k, 2k, ... (bnviz.striding). params: (T, M, P) the
    parameters of the kept states; grads: (K, M, P) the gradient of each
    recorded step; running: (T, M, R) BN's running statistics of the kept states
    (mean1, var1, ...); orders: (M, E, N); diverged_at: (M,) the step whose
    logits (and so loss) were not finite, or -1. Losses, accuracies and batch
    statistics are recomputed from these by ``bnviz.run.replay`` (or read from
    ``seen``, where the compiled loop kept them). data: the
    Dataset every member learns from, or a list of one Dataset per member (same
    row counts). noise: (S, M, 2 * sum(hidden)) noisy BN's scales and shifts of
    every step, or None.
    """

    configs: list
    data: Dataset | list
    arch: Architecture
    bounds: list
    orders: np.ndarray
    params: np.ndarray
    grads: np.ndarray
    running: np.ndarray
    diverged_at: np.ndarray
    steps_done: int = 0
    seconds: float = 0.0
    noise: np.ndarray | None = None
    stride: int = 1
    states: np.ndarray | None = None
    steps: np.ndarray | None = None
    diverged_why: list | None = None     # per member: what left float64 first (DIVERGENCE_WHY keys), or ""
    snapshot_numbers: int = SNAPSHOT_BUDGET     # what a Run assembled from it keeps in snapshots, at most
    # (K, M, bnviz.compiled.seen_width) what each recorded step's forward pass saw, kept by the compiled
    # loop as it trains; None from the NumPy loop, whose History is replayed (bnviz.run.replay)
    seen: np.ndarray | None = None

    def __post_init__(self):
        if self.diverged_why is None:
            self.diverged_why = [""] * len(self.configs)
        if self.states is None:                      # every step recorded
            self.states = np.arange(len(self.params))
            self.steps = np.arange(len(self.grads))

    def state_rows(self, states) -> np.ndarray:
        """Positions in params/running of kept states (ValueError for one not kept)."""
        return positions(self.states, states)

    def data_of(self, member: int) -> Dataset:
        return self.data[member] if isinstance(self.data, list) else self.data

    def inputs(self, members, split: str = "train"):
        """(X, y) of a split as the members' networks see it: X (N, n_in) and y (N,)
        when they share one Dataset, else X (m, N, n_in) and y (m, N)."""
        return split_inputs(self.configs[0], self.data, members, split)

    def noise_at(self, steps, members) -> list | None:
        """[(scale, shift)] per BN layer, each (len(steps), len(members), units), or None."""
        if self.noise is None:
            return None
        return noise_pairs(self.noise[np.asarray(steps)][:, list(members)], self.arch.hidden)

    @property
    def steps_per_epoch(self) -> int:
        return len(self.bounds)

    def member_steps(self, member: int) -> int:
        """Steps a member's record covers: up to its divergence, ending on a kept state."""
        d = int(self.diverged_at[member])
        return last_kept(self.states, self.steps_done if d < 0 else min(d, self.steps_done))


def split_inputs(cfg: Config, data, members, split: str = "train"):
    """(X, y) of the training or test rows of `data` (one Dataset, or a list of one per member)."""

    def one(d):
        X, y = (d.X_train, d.y_train) if split == "train" else (d.X_test, d.y_test)
        return network_inputs(cfg, d, X), np.asarray(y, dtype=float)

    if not isinstance(data, list):
        return one(data)
    pairs = [one(data[i]) for i in members]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def check_members(configs: list) -> None:
    """Members may differ only in MEMBER_FIELDS."""
    for cfg in configs[1:]:
        diff = [k for k in configs[0].differences(cfg) if k not in MEMBER_FIELDS]
        if diff:
            raise ValueError(f"ensemble members may differ only in {', '.join(MEMBER_FIELDS)}; "
                             f"they also differ in {', '.join(diff)}")


def run_loop(configs: list, data: Dataset, init_params_list=None,
             progress: Callable | None = None, progress_seconds: float = 0.25, stride: int = 1,
             snapshot_numbers: int = SNAPSHOT_BUDGET) -> History:
    """Train every member, recording every `stride`-th step; returns the History. Never raises on divergence."""
    if not configs:
        raise ValueError("an ensemble needs at least one Config")
    check_members(configs)
    cfg = configs[0]
    M = len(configs)
    if isinstance(data, (list, tuple)):
        data = list(data)
        if len(data) != M:
            raise ValueError(f"give one Dataset per member: {M} members, {len(data)} data sets")
        if len({(len(d.y_train), len(d.y_test), d.n_features, d.n_classes) for d in data}) > 1:
            raise ValueError("the members' data sets need the same numbers of training and test rows, features "
                             "and classes")
    X, y = split_inputs(cfg, data, range(M), "train")
    per_member = X.ndim == 3
    N = y.shape[-1]
    if N < 2:
        raise ValueError("training needs at least two rows")
    arch = architecture(cfg, X.shape[-1], (data[0] if isinstance(data, list) else data).n_classes)
    player, blayout = arch.param_layout(), arch.buffer_layout()
    P, R = player.size, blayout.size

    if init_params_list is None:
        init_params_list = [initial_params(c, arch) for c in configs]
    params = np.stack([player.pack(p) for p in init_params_list]).astype(float)
    if params.shape != (M, P):
        raise ValueError(f"init_params do not fit {arch.summary()!r}: need {player.names}")
    pviews = player.views(params)
    grad_flat = np.zeros((M, P))
    gviews = player.views(grad_flat)

    bounds = batch_bounds(N, cfg.batch_size)
    orders = np.stack([epoch_orders(c.seed, N, cfg.epochs) for c in configs])
    S = cfg.epochs * len(bounds)
    k = max(1, int(stride))
    states, steps = kept_states(S, len(bounds), k), recorded_steps(S, k)
    noise = [bn_noise(c, S) for c in configs]
    noise = None if noise[0] is None else np.stack(noise, axis=1)          # (S, M, 2 * units)
    hist = History(configs=list(configs), data=data, arch=arch, bounds=bounds, orders=orders,
                   params=np.zeros((len(states), M, P)), grads=np.zeros((len(steps), M, P)),
                   running=np.zeros((len(states), M, R)), diverged_at=np.full(M, -1), noise=noise,
                   stride=k, states=states, steps=steps, snapshot_numbers=int(snapshot_numbers))
    hist.params[0] = params
    next_kept = min(1, len(states) - 1)             # position in `states` of the next state to keep
    # A strided record cannot replay an epoch to find where it diverged, so the loop
    # notes per step whether the logits, the updated parameters and running statistics were finite.
    finite = np.ones((3, len(bounds), M), dtype=bool) if k > 1 else None
    # BN's buffers start at mean 0, variance 1; batch_stats is this step's (mean1, var1, ...)
    running = arch.initial_buffers((M,))
    hist.running[0] = running
    rule = RunningAverage.for_config(cfg, blayout)
    batch_stats = np.zeros((M, R))
    stat_views = blayout.views(batch_stats)
    opt = make_optimizer(cfg.optimizer, params.shape, cfg.beta1, cfg.beta2, cfg.opt_eps)
    lr = np.array([c.lr for c in configs])[:, None]
    if np.all(lr == lr[0]):
        lr = float(lr[0, 0])  # a plain number multiplies faster than a (M, 1) column

    # The loop does only what the next step depends on, and keeps BN's running
    # statistics. The loss, accuracy and batch statistics of each step are pure
    # functions of the stored parameters and batch, recomputed afterwards for
    # all steps at once (bnviz.run.replay).
    started = last_report = time.perf_counter()
    s = 0
    # each step's logits summed per member: a non-finite sum flags a member whose
    # logits overflowed, even where its parameters stayed finite
    logit_sums = np.zeros((len(bounds), M))
    with np.errstate(all="ignore"):
        s = _compiled_steps(hist, configs, X, y, params, running, progress, progress_seconds, started) \
            if engine(max(stop - start for start, stop in bounds) * P) == "compiled" else None
        if s is None:              # the NumPy loop: no compiled one here, big steps, or it failed to compile
            s = 0
            for epoch in range(cfg.epochs):
                # gather the epoch's rows once; each batch is then a view
                order = orders[:, epoch]
                if per_member:
                    X_epoch, y_epoch = X[np.arange(M)[:, None], order], y[np.arange(M)[:, None], order]
                else:
                    X_epoch, y_epoch = X[order], y[order]
                for b, (start, stop) in enumerate(bounds):
                    step_noise = None if noise is None else noise_pairs(noise[s], arch.hidden)
                    result = forward(arch, pviews, X_epoch[:, start:stop], None, step_noise)
                    logit_sum(arch, result.logits, out=logit_sums[s % len(bounds)])
                    backward(arch, result, output_grad(arch, result.logits, y_epoch[:, start:stop]), out=gviews)
                    if s % k == 0:
                        hist.grads[s // k] = grad_flat
                    opt.step(params, grad_flat, lr)
                    # BN's running statistics take in this batch's mean and biased
                    # variance: running = m * running + (1 - m) * batch (or the
                    # plain average so far); evaluation mode will use them.
                    if R:
                        for (*_, mean, var), cache in zip(arch.keys, result.bn_caches):
                            stat_views[mean][...] = cache.mean
                            stat_views[var][...] = cache.var
                        rule.update(running, batch_stats, stop - start, s + 1)
                    if finite is not None:
                        finite[0, b] = logits_finite(arch, result.logits)
                        finite[1, b] = np.isfinite(params).all(axis=-1)
                        finite[2, b] = np.isfinite(running).all(axis=-1)
                    s += 1
                    if s == states[next_kept]:
                        hist.params[next_kept] = params
                        hist.running[next_kept] = running
                        next_kept = min(next_kept + 1, len(states) - 1)
                    if progress is not None and time.perf_counter() - last_report >= progress_seconds:
                        hist.steps_done = s
                        hist.seconds = time.perf_counter() - started
                        progress(Progress(s, S, hist))
                        last_report = time.perf_counter()
                hist.steps_done = s
                if _epoch_end(hist, epoch, params, logit_sums, running, finite):
                    break
    if cfg.running_avg == "population" and R and s == S:
        ok = hist.diverged_at < 0
        hist.running[-1][ok] = population_buffers(arch, params, X, orders[:, -1], bounds, rule)[ok]
    hist.seconds = time.perf_counter() - started
    if progress is not None:
        progress(Progress(s, S, hist))
    return hist


def population_buffers(arch: Architecture, params: np.ndarray, X: np.ndarray, order: np.ndarray, bounds: list,
                       rule: RunningAverage) -> np.ndarray:
    """Ioffe & Szegedy's Algorithm 2: BN's inference statistics from the trained network.

    params: (M, P) the final parameters; X: (N, n_in) or (M, N, n_in) the training
    inputs; order: (M, N) the row order of one epoch, cut into mini-batches at
    `bounds`. Each batch goes through the network in training mode (every BN
    layer with that batch's own statistics); the buffers are the plain average,
    over those batches, of each BN layer's batch mean and of its batch variance
    (times n / (n - 1) when the rule keeps the unbiased variance, as the paper
    does). Returns (M, R) in the buffer layout (mean1, var1, ...).
    """
    M = len(params)
    pviews = arch.param_layout().views(params)
    blayout = arch.buffer_layout()
    rows = X[np.arange(M)[:, None], order] if X.ndim == 3 else X[order]          # (M, N, n_in)
    stats, total = np.zeros((M, blayout.size)), np.zeros((M, blayout.size))
    views = blayout.views(stats)
    with np.errstate(all="ignore"):
        for start, stop in bounds:
            result = forward(arch, pviews, rows[:, start:stop])
            for (*_, mean, var), cache in zip(arch.keys, result.bn_caches):
                views[mean][...] = cache.mean
                views[var][...] = cache.var
            total += rule.folded(stats, stop - start)
    return total / len(bounds)


def _epoch_end(hist: History, epoch: int, params, logit_sums, running, finite) -> bool:
    """After an epoch: mark the members that diverged in it; True once every member has.

    A non-finite loss comes from non-finite logits. Those either leave the parameters
    non-finite for good, or (a saturated output unit) leave them finite; a BN input past
    1e154 leaves its batch variance (and the running one, for good) infinite. The
    parameters, the logit sums and the running statistics, checked once an epoch, find
    every divergence, and the replay (or a strided record's notes) pins down its step.
    """
    suspects = (~np.isfinite(params).all(axis=1) | ~np.isfinite(logit_sums).all(axis=0)
                | ~np.isfinite(running).all(axis=1))
    if suspects.any():
        _mark_divergence(hist, epoch, suspects, finite)
    return bool((hist.diverged_at >= 0).all())


def _compiled_steps(hist: History, configs: list, X, y, params, running, progress, progress_seconds: float,
                    started: float) -> int:
    """run_loop's steps by the compiled kernel (bnviz.compiled): the same updates, records and checks.

    Without a progress callback the kernel runs the whole training in one call; with one, in pieces
    of about half of `progress_seconds` (a step at a time when it is 0). Returns the steps done, or None
    when the kernel failed to compile here (bnviz.compiled says so in the log)."""
    try:
        fast = Kernel(hist, configs, X, y, params, running)
        return _kernel_steps(fast, hist, params, running, progress, progress_seconds, started)
    except Unavailable:          # compiling failed on the first call, before any step: the NumPy loop runs
        params[...], running[...] = hist.params[0], hist.running[0]
        hist.seen = None                     # the NumPy loop's History is replayed
        return None


def _kernel_steps(fast, hist: History, params, running, progress, progress_seconds: float, started: float) -> int:
    spe = hist.steps_per_epoch
    S = len(hist.orders[0]) * spe
    finite = fast.finite if hist.stride > 1 else None
    s, piece, last_report = 0, S if progress is None else 1, started
    while s < S:
        began = time.perf_counter()
        done = fast.run(s, min(S, s + piece))
        hist.steps_done = done
        if done % spe == 0 and _epoch_end(hist, done // spe - 1, params, fast.logit_sums, running, finite):
            return done
        if progress is not None:
            now = time.perf_counter()
            piece = max(1, int(0.5 * progress_seconds * (done - s) / max(now - began, 1e-9)))
            if now - last_report >= progress_seconds:
                hist.seconds = now - started
                progress(Progress(done, S, hist))
                last_report = time.perf_counter()
        s = done
    return s


def _mark_divergence(hist: History, epoch: int, suspects: np.ndarray, finite: np.ndarray | None = None) -> None:
    """Set diverged_at for the suspected members (M,) bool that diverged in `epoch`:
    the first step whose logits or BN batch statistics were not finite, or the
    step after the update that overflowed. A suspect with none of these (its
    logits' sum overflowed, not a logit) carries on. finite: (3, steps per
    epoch, M) the loop's per-step notes of a strided record (logits, parameters
    after the update, running statistics after it: all finite); without them
    the epoch is replayed from its saved states."""
    spe = hist.steps_per_epoch
    first, last = epoch * spe, hist.steps_done
    fresh = np.flatnonzero(suspects & (hist.diverged_at < 0))
    if not len(fresh):
        return
    if finite is not None:
        logits_ok, params_ok, stats_ok = (f[:last - first][:, fresh] for f in finite)
    else:
        logits_ok = replay(hist, fresh, last, first=first)["logits_ok"]       # (last - first, m)
        params_ok = np.isfinite(hist.params[first + 1:last + 1][:, fresh]).all(axis=2)
        stats_ok = np.isfinite(hist.running[first + 1:last + 1][:, fresh]).all(axis=2)
    for j, member in enumerate(fresh):
        bad_logits = np.flatnonzero(~logits_ok[:, j])
        bad_params = np.flatnonzero(~params_ok[:, j]) + 1
        bad_stats = np.flatnonzero(~stats_ok[:, j])
        # at one step, name the cause: weights that overflowed make everything after them overflow
        found = [(int(bad[0]), rank, why) for rank, (bad, why) in enumerate(
            ((bad_params, "weights"), (bad_stats, "statistics"), (bad_logits, "logits"))) if len(bad)]
        if found:
            step, _, why = min(found)
            hist.diverged_at[member], hist.diverged_why[member] = first + step, why


def train(cfg: Config, data: Dataset, init_params: dict | None = None,
          progress: Callable | None = None, progress_seconds: float = 0.25, stride: int = 1,
          snapshot_numbers: int = SNAPSHOT_BUDGET):
    """Train one network; returns its Run. Pure: the same Config and data give the same Run.

    init_params: start from these parameters ({W1, ..., bL} as in Run.initial_params)
    instead of drawing them from cfg.seed. progress: called about every
    `progress_seconds` with a Progress (its .run() is the Run so far) and once at the end.
    stride: record every k-th step (bnviz.striding); 1, every step, by default. A server
    passes the smallest stride whose record fits its memory (``bnviz.budget.record_stride``).
    snapshot_numbers: the numbers the Run's snapshots may keep (``bnviz.budget.snapshot_numbers``:
    less for each of a page's pair of runs).
    """
    history = run_loop([cfg], data, None if init_params is None else [init_params], progress, progress_seconds,
                       stride, snapshot_numbers)
    return assemble_run(history, 0)


def train_ensemble(configs: list, data, init_params: list | None = None,
                   progress: Callable | None = None, progress_seconds: float = 0.25):
    """Train M networks at once; they may differ in lr, init_scale and seed. Returns an Ensemble.

    data: one Dataset for every member, or a list of one per member (for
    example each seed's own split, as ``load_for`` gives it), all with the same
    numbers of rows.
    """
    return Ensemble(run_loop(list(configs), data, init_params, progress, progress_seconds))
