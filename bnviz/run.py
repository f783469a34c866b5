"""The Run: everything one training measured, as plain NumPy arrays.

Built from the loop's History by ``assemble_run``. The arrays the loop could
not recompute are copied out of the History; the rest (statistics over the
whole training set, activations for histograms, per-epoch metrics, gradient
norms) are computed here from the stored parameters, many states in one
batched forward pass.

Steps and states: step s (0-based) is the s-th mini-batch update. State t is
the network after t updates, so state 0 is the initial network and state S
the final one. Per-step arrays of "after the update" quantities (running and
population statistics, gamma, beta) describe state s + 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Config
from .nn import Architecture, bce_with_logits_forward, forward
from .running import RunningAverage

SNAPSHOT_CAP = 120              # at most this many states keep full activations
SNAPSHOT_ROWS = 1000            # at most this many training rows per snapshot
SNAPSHOT_BUDGET = 1_500_000     # numbers kept in snapshots, in all (12 MB of float64)
CHUNK_NUMBERS = 2_000_000       # numbers per batched forward pass, to bound memory
EPOCH_METRICS = tuple(f"{split}_{what}_{mode}" for split in ("train", "test")
                      for what in ("loss", "acc") for mode in ("eval", "batch"))


@dataclass(eq=False)
class Run:
    """One training, measured.

    S = number of steps done, L = Dense layers, P = parameter count, E = epochs
    done, K = snapshots. Lists indexed by k hold one array per BN layer (0-based).

    config, arch; feature_mean, feature_std: (n_in,) the scaling applied to raw inputs
    (mean 0 and std 1 when standardize is off).
    initial_params, final_params: {name: array} named W1, b1, gamma1, beta1, ..., WL, bL.
    params: (S + 1, P) flat parameters of every state; grads: (S, P) each step's gradient.
    orders: (E, N) the row order of each epoch; bounds: [(start, stop)] of each batch in it.
    train_loss, train_acc: (S,) each step's mini-batch loss and accuracy, before its update.
    batch_mean[k], batch_var[k]: (S, units) the mini-batch statistics (biased variance).
    running_mean[k], running_var[k]: (S, units) running statistics after each update.
    snapshot_steps: (K,) evenly spread states (0 and S among them) kept in full.
    population_mean[k], population_var[k]: (K, units) exact mean and (biased) variance
        of BN layer k's input over all training rows at each snapshot state, with
        earlier BN layers using the same full-data statistics: what the running
        averages estimate (compare with running_mean[k][snapshot_steps - 1]).
    grad_norm, update_ratio: (S, L) ||dW_l|| and ||W_l(after) - W_l(before)|| / ||W_l(before)||.
    snapshot_rows: training-row positions used (all of them up to SNAPSHOT_ROWS);
    snapshots: {"z" | "bn" | "act": [ (K, rows, units) per hidden layer ]}: the Dense
        output, BN output and activation output, with full-data BN statistics.
    epoch_steps: (E + 1,) states at epoch ends; epoch_metrics: {name: (E + 1,)} with
        names like test_acc_eval (running statistics) and test_acc_batch (the whole
        split normalized by its own statistics); NaN where a split is empty.
    diverged_at: the step whose loss was not finite, or None.
    """

    config: Config
    arch: Architecture
    feature_names: tuple
    feature_mean: np.ndarray
    feature_std: np.ndarray
    param_names: list
    param_slices: dict
    initial_params: dict
    final_params: dict
    params: np.ndarray
    grads: np.ndarray
    orders: np.ndarray
    bounds: list
    train_loss: np.ndarray
    train_acc: np.ndarray
    batch_mean: list
    batch_var: list
    running_mean: list
    running_var: list
    population_mean: list
    population_var: list
    grad_norm: np.ndarray
    update_ratio: np.ndarray
    snapshot_steps: np.ndarray
    snapshot_rows: np.ndarray
    snapshots: dict
    epoch_steps: np.ndarray
    epoch_metrics: dict
    diverged_at: int | None
    seconds: float = 0.0

    @property
    def n_steps(self) -> int:
        return len(self.train_loss)

    @property
    def steps_per_epoch(self) -> int:
        return len(self.bounds)

    @property
    def n_bn(self) -> int:
        return len(self.running_mean)

    @property
    def batch_indices(self) -> list:
        """One array per step: the positions in data.X_train of that step's rows, in order."""
        return [self.step_rows(s) for s in range(self.n_steps)]

    def step_rows(self, step: int) -> np.ndarray:
        epoch, b = divmod(step, self.steps_per_epoch)
        start, stop = self.bounds[b]
        return self.orders[epoch, start:stop]

    def param_history(self, name: str) -> np.ndarray:
        """(S + 1, *shape) one parameter over all states."""
        start, stop, shape = self.param_slices[name]
        return self.params[:, start:stop].reshape((len(self.params),) + shape)

    def params_at(self, state: int) -> dict:
        """{name: array} of the network after `state` updates (copies)."""
        return {n: self.param_history(n)[state].copy() for n in self.param_names}

    def buffers_at(self, state: int) -> dict:
        """{mean1, var1, ...}: running statistics after `state` updates (0: mean 0, var 1)."""
        out = {}
        for k in range(self.n_bn):
            if state == 0:
                out[f"mean{k + 1}"] = np.zeros(self.running_mean[k].shape[1])
                out[f"var{k + 1}"] = np.ones(self.running_var[k].shape[1])
            else:
                out[f"mean{k + 1}"] = self.running_mean[k][state - 1].copy()
                out[f"var{k + 1}"] = self.running_var[k][state - 1].copy()
        return out

    @property
    def gamma(self) -> list:
        """[(S, units)] gamma of each BN layer after each update."""
        return [self.param_history(f"gamma{k + 1}")[1:] for k in range(self.n_bn)]

    @property
    def beta(self) -> list:
        return [self.param_history(f"beta{k + 1}")[1:] for k in range(self.n_bn)]

    def running_gap(self, k: int):
        """How far BN layer k's (0-based) running statistics are from the exact ones, at each snapshot.

        Returns (states (K',), mean_gap (K', units), var_gap (K', units)) for the
        snapshot states after the first update: |running mean - exact mean| in
        units of the exact standard deviation, and |running var - exact var| /
        exact var.
        """
        states = self.snapshot_steps[self.snapshot_steps > 0]
        keep = self.snapshot_steps > 0
        exact_mean, exact_var = self.population_mean[k][keep], self.population_var[k][keep]
        with np.errstate(all="ignore"):
            mean_gap = np.abs(self.running_mean[k][states - 1] - exact_mean) / np.sqrt(exact_var)
            var_gap = np.abs(self.running_var[k][states - 1] - exact_var) / exact_var
        return states, mean_gap, var_gap

    def settled_step(self, k: int, tolerance: float = 0.05):
        """First snapshot state from which every unit's mean and variance gap stays under
        `tolerance` for the rest of training, or None."""
        states, mean_gap, var_gap = self.running_gap(k)
        worst = np.fmax(mean_gap.max(axis=1), var_gap.max(axis=1))
        bad = np.flatnonzero(~(worst < tolerance))
        if not len(states) or (len(bad) and bad[-1] == len(states) - 1):
            return None
        return int(states[bad[-1] + 1]) if len(bad) else int(states[0])

    @property
    def nbytes(self) -> int:
        """Memory held by the Run's arrays."""
        total = 0
        for value in vars(self).values():
            total += _nbytes(value)
        return total

    def __repr__(self):
        end = f"diverged at step {self.diverged_at}" if self.diverged_at is not None else "finished"
        loss = f"{self.train_loss[-1]:.4f}" if self.n_steps else "n/a"
        return (f"Run({self.n_steps} steps, {end}, last batch loss {loss}, "
                f"{self.nbytes / 1e6:.1f} MB)\n{self.arch.summary()}")


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 0


# ------------------------------------------------------------- batched evaluation


def _chunks(n_states: int, n_rows: int, width: int):
    per_chunk = max(1, CHUNK_NUMBERS // max(1, n_rows * width))
    for start in range(0, n_states, per_chunk):
        yield slice(start, min(start + per_chunk, n_states))


def forward_states(arch: Architecture, flat_params: np.ndarray, X: np.ndarray, buffers: np.ndarray | None = None):
    """Forward pass of K parameter states at once on the same rows.

    flat_params: (K, P); X: (N, n_in); buffers: (K, R) running statistics for
    evaluation mode, or None for BN with the statistics of X itself.
    Returns the ForwardResult with leading axis K.
    """
    views = arch.param_layout().views(flat_params)
    bviews = arch.buffer_layout().views(buffers) if buffers is not None else None
    with np.errstate(all="ignore"):
        return forward(arch, views, X[None], bviews)


def population_stats(arch: Architecture, flat_params: np.ndarray, X: np.ndarray):
    """Exact mean and biased variance of every BN layer's input over X, per state.

    flat_params: (K, P). Returns ([ (K, units) ] means, [ (K, units) ] variances).
    """
    n_bn = len(arch.hidden) if arch.bn else 0
    means = [np.empty((len(flat_params), u)) for u in arch.hidden[:n_bn]]
    variances = [np.empty_like(m) for m in means]
    for chunk in _chunks(len(flat_params), len(X), max(arch.hidden)):
        result = forward_states(arch, flat_params[chunk], X)
        for k, cache in enumerate(result.bn_caches):
            means[k][chunk] = cache.mean
            variances[k][chunk] = cache.var
    return means, variances


def loss_and_accuracy(arch, flat_params, X, y, buffers=None, split=None):
    """Loss and accuracy of K states on rows X (N, n_in), y (N,): each (1, K), NaN if N = 0.

    With `split` = s (evaluation mode only), rows :s and s: are scored
    separately and each result is (2, K).
    """
    K = len(flat_params)
    parts = [slice(0, len(y))] if split is None else [slice(0, split), slice(split, len(y))]
    loss, acc = np.full((len(parts), K), np.nan), np.full((len(parts), K), np.nan)
    if len(y) == 0:
        return loss, acc
    for chunk in _chunks(K, len(X), max(arch.hidden)):
        result = forward_states(arch, flat_params[chunk], X, None if buffers is None else buffers[chunk])
        with np.errstate(all="ignore"):
            for i, rows in enumerate(parts):
                if rows.stop > rows.start:
                    z, t = result.logits[..., rows], y[rows]
                    loss[i, chunk] = bce_with_logits_forward(z, t)[0]
                    acc[i, chunk] = ((z > 0.0) == (t > 0.5)).mean(-1)
    return loss, acc


def epoch_metrics(arch, flat_params, buffers, train, test) -> dict:
    """{EPOCH_METRICS name: (K,)} for K states on the (X, y) train and test splits.

    eval: BN with the running statistics `buffers` (K, R); rows do not interact,
    so both splits go through one pass. batch: each split normalized by its own
    statistics, as one batch. Without BN the two modes coincide.
    """
    (X, y), (X_test, y_test) = train, test
    n = len(y)
    both = np.concatenate([X, X_test]) if len(y_test) else X
    loss, acc = loss_and_accuracy(arch, flat_params, both, np.r_[y, y_test], buffers, split=n)
    out = {"train_loss_eval": loss[0], "train_acc_eval": acc[0], "test_loss_eval": loss[1], "test_acc_eval": acc[1]}
    for split, (Xs, ys) in (("train", (X, y)), ("test", (X_test, y_test))):
        if arch.bn:
            loss, acc = loss_and_accuracy(arch, flat_params, Xs, ys)
            out[f"{split}_loss_batch"], out[f"{split}_acc_batch"] = loss[0], acc[0]
        else:
            out[f"{split}_loss_batch"], out[f"{split}_acc_batch"] = out[f"{split}_loss_eval"], out[f"{split}_acc_eval"]
    return out


# ----------------------------------------------------------------------- assembly


def snapshot_states(n_steps: int, n_rows: int, units: int, cap: int = SNAPSHOT_CAP) -> np.ndarray:
    """Evenly spread states 0..n_steps to keep in full, within the cap and the budget."""
    per_state = max(1, n_rows * units)
    k = int(min(n_steps + 1, cap, max(2, SNAPSHOT_BUDGET // per_state)))
    return np.unique(np.round(np.linspace(0, n_steps, k)).astype(int))


def replay(history, members, steps: int, first: int = 0) -> dict:
    """Recompute what steps first..steps-1 saw, for some members.

    Every step's forward pass is a pure function of the parameters before it
    and its batch rows, so all steps with batches of one size are run in one
    batched pass. Returns {"loss", "acc", "logits_ok": (steps - first, m);
    "batch_stats": (steps - first, m, R)} in the buffer layout (mean1, var1, ...)
    with the biased batch variance, and when first == 0 also "running":
    (steps, m, R), the running statistics after each step as the Config says.
    """
    members = list(members)
    arch, data, cfg = history.arch, history.data, history.configs[members[0]]
    X, y = data.inputs(data.X_train, cfg.standardize), np.asarray(data.y_train, dtype=float)
    player, blayout = arch.param_layout(), arch.buffer_layout()
    m, R, spe = len(members), blayout.size, history.steps_per_epoch
    count = max(steps - first, 0)
    loss, acc = np.full((count, m), np.nan), np.full((count, m), np.nan)
    logits_ok = np.ones((count, m), dtype=bool)
    stats = np.zeros((count, m, R))
    slots = [(blayout[f"mean{k}"], blayout[f"var{k}"]) for k in range(1, len(arch.hidden) + 1)] if R else []
    orders = history.orders[members]
    all_steps = np.arange(first, steps)
    position = all_steps % spe
    sizes = np.array([stop - start for start, stop in history.bounds])
    for n in np.unique(sizes):
        at = all_steps[sizes[position] == n]
        if not len(at):
            continue
        starts = np.array([start for start, _ in history.bounds])[at % spe]
        columns = starts[:, None] + np.arange(n)                           # (K, n)
        rows = orders[:, (at // spe)[:, None], columns].transpose(1, 0, 2)  # (K, m, n)
        for chunk in _chunks(len(at), m * n, max(arch.hidden)):
            flat = history.params[at[chunk]][:, members]                   # (k, m, P)
            xb, yb = X[rows[chunk]], y[rows[chunk]]
            out = at[chunk] - first
            with np.errstate(all="ignore"):
                result = forward(arch, player.views(flat), xb)
                loss[out] = bce_with_logits_forward(result.logits, yb)[0]
                acc[out] = ((result.logits > 0.0) == (yb > 0.5)).mean(-1)
                logits_ok[out] = np.isfinite(result.logits).all(-1)
                for (mean_slot, var_slot), cache in zip(slots, result.bn_caches):
                    stats[out, :, mean_slot.start:mean_slot.stop] = cache.mean
                    stats[out, :, var_slot.start:var_slot.stop] = cache.var
    seen = {"loss": loss, "acc": acc, "logits_ok": logits_ok, "batch_stats": stats}
    if first == 0:
        is_var = np.zeros(R, dtype=bool)
        for slot in blayout.slots:
            is_var[slot.start:slot.stop] = slot.name.startswith("var")
        rule = RunningAverage(is_var, cfg.bn_momentum, cfg.running_avg, cfg.running_var)
        with np.errstate(all="ignore"):
            seen["running"] = rule.series(stats, sizes[position], arch.initial_buffers((m,)))
    return seen


def assemble_run(history, member: int = 0, upto: int | None = None) -> Run:
    """The Run of one member of a History, over its first `upto` steps (default: all)."""
    cfg = history.configs[member]
    data, arch = history.data, history.arch
    S = history.member_steps(member)
    if upto is not None:
        S = min(S, upto)
    player, blayout = arch.param_layout(), arch.buffer_layout()
    params = history.params[: S + 1, member].copy()
    grads = history.grads[:S, member].copy()
    X = data.inputs(data.X_train, cfg.standardize)
    X_test = data.inputs(data.X_test, cfg.standardize)
    if cfg.standardize:
        mean, std = data.feature_mean, data.feature_std
    else:
        mean, std = np.zeros(X.shape[1]), np.ones(X.shape[1])
    seen = replay(history, [member], S)

    def per_layer(flat):
        views = blayout.views(flat)
        n_bn = len(arch.hidden) if arch.bn else 0
        return ([views[f"mean{k + 1}"].copy() for k in range(n_bn)],
                [views[f"var{k + 1}"].copy() for k in range(n_bn)])

    batch_mean, batch_var = per_layer(seen["batch_stats"][:, 0])
    running_mean, running_var = per_layer(seen["running"][:, 0])

    # gradient norm and relative update size of each Dense layer's W
    L = arch.n_dense
    grad_norm, update_ratio = np.empty((S, L)), np.empty((S, L))
    with np.errstate(all="ignore"):
        for l in range(L):
            slot = player[f"W{l + 1}"]
            w = params[:, slot.start:slot.stop]
            grad_norm[:, l] = np.linalg.norm(grads[:, slot.start:slot.stop], axis=1)
            update_ratio[:, l] = np.linalg.norm(np.diff(w, axis=0), axis=1) / np.linalg.norm(w[:-1], axis=1)

    # activations of a few states over (up to SNAPSHOT_ROWS) training rows
    rows = np.arange(len(X))
    if len(rows) > SNAPSHOT_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(X), SNAPSHOT_ROWS, replace=False))
    stages = ("z", "bn", "act") if arch.bn else ("z", "act")
    states = snapshot_states(S, len(rows), sum(arch.hidden) * len(stages))
    result = forward_states(arch, params[states], X[rows])
    snapshots = {st: [getattr(t, st) for t in result.traces] for st in stages}   # fresh arrays: no copies
    if len(rows) == len(X):
        population_mean = [c.mean.copy() for c in result.bn_caches]
        population_var = [c.var.copy() for c in result.bn_caches]
    else:
        population_mean, population_var = population_stats(arch, params[states], X)

    # per-epoch metrics, in evaluation mode (running statistics) and batch mode
    spe = history.steps_per_epoch
    epoch_steps = np.arange(0, S + 1, spe)
    if epoch_steps[-1] != S:
        epoch_steps = np.r_[epoch_steps, S]
    run_buffers = np.concatenate([arch.initial_buffers((1,)), seen["running"][:, 0]], axis=0)
    metrics = epoch_metrics(arch, params[epoch_steps], run_buffers[epoch_steps] if arch.bn else None,
                            (X, data.y_train), (X_test, data.y_test))

    d = int(history.diverged_at[member])
    epochs_done = -(-S // spe)
    return Run(
        config=cfg, arch=arch, feature_names=tuple(data.feature_names), feature_mean=mean, feature_std=std,
        param_names=list(player.names),
        param_slices={s.name: (s.start, s.stop, s.shape) for s in player.slots},
        initial_params=_unpack(player, params[0]), final_params=_unpack(player, params[S]),
        params=params, grads=grads, orders=history.orders[member, :epochs_done].copy(), bounds=list(history.bounds),
        train_loss=seen["loss"][:, 0], train_acc=seen["acc"][:, 0],
        batch_mean=batch_mean, batch_var=batch_var, running_mean=running_mean, running_var=running_var,
        population_mean=population_mean, population_var=population_var,
        grad_norm=grad_norm, update_ratio=update_ratio,
        snapshot_steps=states, snapshot_rows=rows, snapshots=snapshots,
        epoch_steps=epoch_steps, epoch_metrics=metrics,
        diverged_at=d if 0 <= d <= S else None,
        seconds=history.seconds,
    )


def _unpack(layout, flat) -> dict:
    return {name: view.copy() for name, view in layout.views(flat).items()}


class Ensemble:
    """M trainings of one architecture, trained together. ``member(i)`` is a Run."""

    def __init__(self, history):
        self.history = history
        self._members = {}
        self._seen = None

    def __len__(self):
        return len(self.history.configs)

    @property
    def configs(self) -> list:
        return self.history.configs

    @property
    def diverged_at(self) -> list:
        """Per member: the step whose loss was not finite, or None."""
        return [int(d) if d >= 0 else None for d in self.history.diverged_at]

    def _replay(self) -> dict:
        """Every member's steps, recomputed once (losses and running statistics both come from it)."""
        if self._seen is None:
            self._seen = replay(self.history, range(len(self)), self.history.steps_done)
            for i, d in enumerate(self.history.diverged_at):
                if d >= 0:
                    self._seen["loss"][d:, i] = np.nan
        return self._seen

    @property
    def train_loss(self) -> np.ndarray:
        """(S, M) mini-batch losses, recomputed for every member; NaN after a member diverged."""
        return self._replay()["loss"]

    def member(self, i: int) -> Run:
        if i not in self._members:
            self._members[i] = assemble_run(self.history, i)
        return self._members[i]

    def final_metrics(self) -> dict:
        """{name: (M,)} the EPOCH_METRICS of each member's final state (NaN if it diverged)."""
        h = self.history
        arch, data, cfg = h.arch, h.data, h.configs[0]
        X, X_test = data.inputs(data.X_train, cfg.standardize), data.inputs(data.X_test, cfg.standardize)
        S = h.steps_done
        flat = h.params[S]
        buffers = None
        if arch.bn:
            buffers = self._replay()["running"][S - 1] if S else arch.initial_buffers((len(self),))
        out = epoch_metrics(arch, flat, buffers, (X, data.y_train), (X_test, data.y_test))
        for values in out.values():
            values[h.diverged_at >= 0] = np.nan
        return out
