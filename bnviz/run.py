"""The Run: everything one training measured, as plain NumPy arrays.

Built from the loop's History by ``assemble_run``. What the loop saved (the
parameters of every state, every gradient, BN's running statistics, the
batch order) is copied out of the History; every other quantity is declared
once in ``bnviz.recording.RECORDED`` and computed here from those saved
states, many states in one batched forward pass.

Steps and states: step s (0-based) is the s-th mini-batch update. State t is
the network after t updates, so state 0 is the initial network and state S
the final one. Per-step arrays of "after the update" quantities (running
statistics, gamma, beta) describe state s + 1.

A long run is recorded at a stride k (``bnviz.striding``): its per-step
arrays hold the steps ``run.axis_states("step")`` = 0, k, 2k, ... and its
parameters the states ``run.axis_states("state")``; readers go through those
(``run.step_index``, ``run.state_index``), never a raw step number.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from .config import Config
from .evaluation import EPOCH_METRICS, chunks, epoch_metrics, forward_states, population_stats, row_numbers  # noqa: F401
from .nn import Architecture, forward, logits_finite
from .recording import BY_NAME, RECORDED, Saved, describe
from .striding import kept_states, last_kept, nearest_kept, positions, recorded_steps, thinning_sentence

# What a diverged run's page says went past float64 (the largest float64 is about 1.8e308).
DIVERGENCE_WHY = {
    "logits": "its logits, and so its loss, went past the largest number float64 holds",
    "weights": "its weights went past the largest number float64 holds",
    "statistics": "a BN layer's input passed 1e154, so its batch variance went past the largest number "
                  "float64 holds",
    "rows": "the values some training or test rows give at that state went past the largest number float64 "
            "holds (its mini-batches stayed finite)",
}
SNAPSHOT_CAP = 120              # at most this many states keep full activations
SNAPSHOT_ROWS = 1000            # at most this many training rows per snapshot
SNAPSHOT_BUDGET = 1_500_000     # numbers kept in snapshots, in all (12 MB of float64)
SNAPSHOT_MIN_ROWS = 100         # a big network's snapshots keep fewer rows, never fewer than this


def snapshot_row_count(n_rows: int, units: int, budget: int = SNAPSHOT_BUDGET) -> int:
    """Training rows a snapshot keeps: all up to SNAPSHOT_ROWS, and for a big network (units: hidden
    units x stages kept) no more than lets the first and the last state fit `budget` numbers."""
    fits = int(budget) // max(1, 2 * int(units))
    return int(min(max(int(n_rows), 0), SNAPSHOT_ROWS, max(SNAPSHOT_MIN_ROWS, fits)))


@dataclass(eq=False)
class Run:
    """One training, measured.

    S = number of steps done (n_steps), L = Dense layers, P = parameter count, E =
    epochs done, K = snapshots. Lists indexed by k hold one array per BN layer (0-based).
    stride: 1 when every step is recorded, else k (see bnviz.striding): per-step
    arrays then hold the S' = ceil(S / k) steps axis_states("step") and params
    the T states axis_states("state"); below, "(S, ...)" reads "(S', ...)" and
    "(S + 1, ...)" reads "(T, ...)".

    config, arch; feature_mean, feature_std: (n_in,) the scaling applied to raw inputs
    (mean 0 and std 1 when standardize is off).
    initial_params, final_params: {name: array} named W1, b1, gamma1, beta1, ..., WL, bL.
    params: (S + 1, P) flat parameters of every state; grads: (S, P) each step's gradient.
    state_running: (T, R) BN's running statistics of the kept states of a strided
    record (mean1, var1, ...), None when stride is 1 (running_mean holds them).
    orders: (E, N) the row order of each epoch; bounds: [(start, stop)] of each batch in it.
    snapshot_steps: (K,) evenly spread states (0 and S among them) kept in full;
    snapshot_rows: training-row positions used (all of them up to SNAPSHOT_ROWS).
    epoch_steps: (E + 1,) states at epoch ends.
    diverged_at: the step whose logits (so its loss) or BN batch statistics were not finite, or
    the first state whose recorded values over the training or test rows were not, or None;
    every number recorded before it is finite. diverged_why: a DIVERGENCE_WHY key, or "".
    recorded: {name: value} of every quantity in bnviz.recording.RECORDED, each
    also an attribute (run.train_loss, run.running_mean[k], ...):

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
    snapshot_steps: np.ndarray
    snapshot_rows: np.ndarray
    epoch_steps: np.ndarray
    diverged_at: int | None
    recorded: dict
    seconds: float = 0.0
    n_steps: int = 0
    stride: int = 1
    state_running: np.ndarray | None = None
    diverged_why: str = ""

    @property
    def divergence(self) -> str:
        """A sentence on what went past float64, or "" when the run did not diverge."""
        if self.diverged_at is None:
            return ""
        return DIVERGENCE_WHY.get(self.diverged_why, "its numbers went past the largest number float64 holds")

    def __getattr__(self, name):
        # only called when normal lookup fails: the recorded quantities read as attributes
        recorded = self.__dict__.get("recorded", {})
        if name in recorded:
            return recorded[name]
        raise AttributeError(f"a Run has no {name!r}")

    # A Run sent to another process (a worker's result) leaves its snapshots behind, most of its
    # bytes, and takes the training inputs instead: only the Activations tab reads them, and the
    # receiver recomputes them there on first use, the same numbers bit for bit.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if state.get("train_inputs") is not None:
            state["recorded"] = {k: v for k, v in self.recorded.items() if k != SNAPSHOTS}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if SNAPSHOTS not in state["recorded"]:
            self.recorded = _LaterSnapshots(state["recorded"], self)

    def _snapshots_again(self) -> dict:
        """The snapshots, recomputed as the training process computed them (bnviz.recording)."""
        saved = Saved(arch=self.arch, params=self.params, grads=self.grads, running=None, seen={},
                      X=self.train_inputs, y=None, X_test=None, y_test=None, snapshot_steps=self.snapshot_steps,
                      snapshot_rows=self.snapshot_rows, epoch_steps=self.epoch_steps,
                      states=self.axis_states("state"), steps=self.axis_states("step"))
        return BY_NAME[SNAPSHOTS].compute(saved)

    def axis_states(self, axis: str) -> np.ndarray:
        """The step numbers ("step") or states ("state": params; "snapshot", "epoch") an axis runs along."""
        return {"step": lambda: recorded_steps(self.n_steps, self.stride),
                "state": lambda: kept_states(self.n_steps, self.steps_per_epoch, self.stride),
                "snapshot": lambda: self.snapshot_steps, "epoch": lambda: self.epoch_steps}[axis]()

    def step_index(self, steps):
        """Positions of recorded steps in the per-step arrays (ValueError for a step not recorded)."""
        if self.stride == 1:
            steps = np.asarray(steps)
            if np.any((steps < 0) | (steps >= self.n_steps)):
                raise ValueError(f"step must be 0 to {self.n_steps - 1}, got {steps}")
            return steps
        return positions(self.axis_states("step"), steps)

    def state_index(self, states):
        """Positions of kept states in params (ValueError for a state not kept)."""
        if self.stride == 1:
            states = np.asarray(states)
            if np.any((states < 0) | (states > self.n_steps)):
                raise ValueError(f"state must be 0 to {self.n_steps}, got {states}")
            return states
        return positions(self.axis_states("state"), states)

    def params_of(self, states) -> np.ndarray:
        """(len(states), P) the flat parameters of kept states (ValueError for one not kept)."""
        return self.params[self.state_index(states)]

    def even_states(self, count: int) -> np.ndarray:
        """Up to `count` evenly spread kept states 0..S, both ends among them (every state when they are fewer)."""
        wanted = np.linspace(0, self.n_steps, max(2, min(int(count), self.n_steps + 1))).round().astype(int)
        if self.stride == 1:
            return np.unique(wanted)
        return np.unique(nearest_kept(self.axis_states("state"), wanted))

    @property
    def epoch_window(self) -> int:
        """Recorded steps in one epoch: the window of a per-step chart's 1-epoch mean."""
        return max(1, round(self.steps_per_epoch / self.stride))

    @property
    def thinning(self) -> str | None:
        """A sentence saying what a strided record kept, or None when it kept every step."""
        return thinning_sentence(self.n_steps, self.stride, len(self.params))

    @property
    def n_train_rows(self) -> int:
        """How many training rows the run learned from (the snapshots may keep fewer)."""
        return self.orders.shape[1]

    @property
    def steps_per_epoch(self) -> int:
        return len(self.bounds)

    @property
    def n_bn(self) -> int:
        return len(self.running_mean)

    @property
    def batch_indices(self) -> list:
        """One array per recorded step: the positions in data.X_train of that step's rows, in order."""
        return [self.step_rows(s) for s in self.axis_states("step")]

    def step_rows(self, step: int) -> np.ndarray:
        epoch, b = divmod(step, self.steps_per_epoch)
        start, stop = self.bounds[b]
        return self.orders[epoch, start:stop]

    def param_history(self, name: str) -> np.ndarray:
        """(S + 1, *shape) one parameter over all (kept) states."""
        start, stop, shape = self.param_slices[name]
        return self.params[:, start:stop].reshape((len(self.params),) + shape)

    def params_at(self, state: int) -> dict:
        """{name: array} of the network after `state` updates (copies); the state must be kept."""
        row = int(self.state_index(int(state)))
        return {n: self.param_history(n)[row].copy() for n in self.param_names}

    def buffers_at(self, state: int) -> dict:
        """{mean1, var1, ...}: running statistics after `state` updates (0: mean 0, var 1)."""
        out = {}
        if self.state_running is not None:
            row = self.state_running[int(self.state_index(int(state)))]
            return {name: view.copy() for name, view in self.arch.buffer_layout().views(row).items()}
        for k in range(self.n_bn):
            if state == 0:
                out[f"mean{k + 1}"] = np.zeros(self.running_mean[k].shape[1])
                out[f"var{k + 1}"] = np.ones(self.running_var[k].shape[1])
            else:
                out[f"mean{k + 1}"] = self.running_mean[k][state - 1].copy()
                out[f"var{k + 1}"] = self.running_var[k][state - 1].copy()
        return out

    def running_after_states(self, k: int, states) -> tuple:
        """(mean, var) of BN layer k (0-based), each (len(states), units), after the given kept states > 0."""
        states = np.asarray(states)
        if self.state_running is None:
            return self.running_mean[k][states - 1], self.running_var[k][states - 1]
        views = self.arch.buffer_layout().views(self.state_running[self.state_index(states)])
        return views[f"mean{k + 1}"], views[f"var{k + 1}"]

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
        running_mean, running_var = self.running_after_states(k, states)
        with np.errstate(all="ignore"):
            mean_gap = np.abs(running_mean - exact_mean) / np.sqrt(exact_var)
            var_gap = np.abs(running_var - exact_var) / exact_var
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
        """Memory held by the Run's arrays, each buffer counted once (γ and β are views of params),
        with the snapshots a received Run recomputes when first read counted as if already there:
        a cache sizes the Run once, and it grows to this."""
        buffers = {}
        for array in _arrays(vars(self)):
            while isinstance(array.base, np.ndarray):
                array = array.base
            buffers[id(array)] = array.nbytes
        later = 0
        if isinstance(self.recorded, _LaterSnapshots) and not dict.__contains__(self.recorded, SNAPSHOTS):
            stages = 3 if self.arch.normed else 2          # z, the activation (and the normalization's output)
            later = 8 * len(self.snapshot_steps) * len(self.snapshot_rows) * sum(self.arch.hidden) * stages
        return sum(buffers.values()) + later

    def __repr__(self):
        end = f"diverged at step {self.diverged_at}" if self.diverged_at is not None else "finished"
        loss = f"{self.train_loss[-1]:.4f}" if self.n_steps else "n/a"
        return (f"Run({self.n_steps} steps, {end}, last batch loss {loss}, "
                f"{self.nbytes / 1e6:.1f} MB)\n{self.arch.summary()}")


Run.__doc__ = Run.__doc__.rstrip() + "\n\n" + describe() + "\n"


SNAPSHOTS = "snapshots"


class _LaterSnapshots(dict):
    """A received Run's recorded quantities: the snapshots are computed when first asked for."""

    def __init__(self, values: dict, run: Run):
        super().__init__(values)
        self._run = weakref.ref(run)

    def __missing__(self, key):
        run = self._run()
        if key != SNAPSHOTS or run is None:
            raise KeyError(key)
        self[key] = value = run._snapshots_again()
        return value

    def __contains__(self, key) -> bool:
        return key == SNAPSHOTS or super().__contains__(key)

    def __reduce__(self):
        return dict, (dict(self),)


def _arrays(value):
    """Every NumPy array inside nested dicts, lists and tuples."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v)
    elif hasattr(value, "__dataclass_fields__") and not isinstance(value, type):   # what a Run carries along
        yield from _arrays(vars(value))


# ----------------------------------------------------------------------- assembly


def snapshot_states(n_steps: int, n_rows: int, units: int, cap: int = SNAPSHOT_CAP,
                    kept: np.ndarray | None = None, budget: int = SNAPSHOT_BUDGET) -> np.ndarray:
    """Evenly spread states 0..n_steps to keep in full, within the cap and `budget` numbers.

    kept: the states a strided record holds (default: all); each chosen state is the kept one nearest.
    """
    per_state = max(1, n_rows * units)
    count = n_steps + 1 if kept is None else len(kept)
    k = int(min(count, cap, max(2, int(budget) // per_state)))
    wanted = np.round(np.linspace(0, n_steps, k)).astype(int)
    return np.unique(wanted if kept is None else nearest_kept(kept, wanted))


def _put(store, at, value) -> None:
    """store[at] = value, for one array or a list of per-layer arrays."""
    if isinstance(store, list):
        for part, v in zip(store, value):
            part[at] = v
    else:
        store[at] = value


def replay(history, members, steps: int, first: int = 0) -> dict:
    """Recompute what the recorded steps in first..steps-1 saw, for some members.

    Every step's forward pass is a pure function of the parameters before it
    and its batch rows, so all steps with batches of one size are run in one
    batched pass. Returns {name: value} for every "batch" quantity of
    RECORDED, each with leading axes (recorded steps in the range, m) (lists
    per BN layer where the table says so), and "logits_ok": (that many, m)
    whether every logit of the step was finite.
    """
    members = list(members)
    if getattr(history, "seen", None) is not None:
        return _recorded_seen(history, members, steps, first)
    arch = history.arch
    X, y = history.inputs(members, "train")
    player, spe = arch.param_layout(), history.steps_per_epoch
    recorded = history.steps
    all_steps = recorded[(recorded >= first) & (recorded < steps)]
    count = len(all_steps)
    wanted = [q for q in RECORDED if q.source == "batch"]
    seen = {q.name: q.empty(arch, (count, len(members))) for q in wanted}
    seen["logits_ok"] = np.ones((count, len(members)), dtype=bool)
    orders = history.orders[members]
    position = all_steps % spe
    starts = np.array([start for start, _ in history.bounds])
    sizes = np.array([stop - start for start, stop in history.bounds])
    for n in np.unique(sizes):
        where = np.flatnonzero(sizes[position] == n)                        # positions in the output
        if not len(where):
            continue
        at = all_steps[where]
        columns = starts[at % spe][:, None] + np.arange(n)                 # (K, n)
        rows = orders[:, (at // spe)[:, None], columns].transpose(1, 0, 2)  # (K, m, n)
        state_rows = history.state_rows(at)
        for chunk in chunks(len(at), len(members) * n, row_numbers(arch)):
            flat = history.params[state_rows[chunk]][:, members]           # (k, m, P)
            if X.ndim == 3:                                                # each member its own rows
                who = np.arange(len(members))[None, :, None]
                xb, yb = X[who, rows[chunk]], y[who, rows[chunk]]
            else:
                xb, yb = X[rows[chunk]], y[rows[chunk]]
            out = where[chunk]
            with np.errstate(all="ignore"):
                result = forward(arch, player.views(flat), xb, None, history.noise_at(at[chunk], members))
                for q in wanted:
                    _put(seen[q.name], out, q.compute(result, yb, arch))
                seen["logits_ok"][out] = logits_finite(arch, result.logits)
    return seen


def _recorded_seen(history, members: list, steps: int, first: int = 0) -> dict:
    """``replay``'s numbers as the compiled loop kept them while it trained (History.seen, laid out
    as bnviz.compiled.seen_width says): the same quantities, each from the step's own forward pass."""
    arch = history.arch
    recorded = history.steps
    rows = np.flatnonzero((recorded >= first) & (recorded < steps))
    seen = history.seen[rows][:, members]                      # (count, m, columns)
    n_hidden, H = len(arch.hidden), sum(arch.hidden)
    out = {"train_loss": seen[..., 0].copy(), "train_acc": seen[..., 1].copy(),
           "saturated": seen[..., 3:3 + n_hidden].copy(), "logits_ok": seen[..., 2] > 0.5}
    starts = np.cumsum((0,) + tuple(arch.hidden))
    at_mean, at_var = 3 + n_hidden, 3 + n_hidden + H
    out["batch_mean"] = [seen[..., at_mean + a:at_mean + b].copy() for a, b in zip(starts[:-1], starts[1:])] \
        if arch.bn else []
    out["batch_var"] = [seen[..., at_var + a:at_var + b].copy() for a, b in zip(starts[:-1], starts[1:])] \
        if arch.bn else []
    return out


def _member(value, i: int):
    """One member's slice of a replayed value (array or list of per-layer arrays)."""
    return [v[:, i] for v in value] if isinstance(value, list) else value[:, i]


def assemble_run(history, member: int = 0, upto: int | None = None) -> Run:
    """The Run of one member of a History, over its first `upto` steps (default: all).

    A state whose recorded values over all training or test rows (snapshots,
    full-data statistics, per-epoch metrics) go past float64, though the
    mini-batches stayed finite, is a divergence too: the Run is cut there.
    A strided record ends on a kept state: the last one within `upto` steps.
    """
    d = int(history.diverged_at[member])
    reach = history.steps_done if d < 0 else min(d, history.steps_done)
    if upto is not None:
        reach = min(reach, upto)
    diverged, why = (d, history.diverged_why[member]) if 0 <= d <= reach else (None, "")
    S = last_kept(history.states, reach)
    while True:
        run = _assemble(history, member, S, diverged, why)
        bad = first_overflow(run, has_test=len(history.data_of(member).y_test) > 0)
        if bad is None:
            return run
        S, diverged, why = last_kept(history.states, bad), bad, "rows"


def first_overflow(run: Run, has_test: bool = True) -> int | None:
    """The first state (step, for per-step values) before the run's divergence at which a
    recorded value is not finite, or None. Without test rows the test metrics are NaN by
    definition, not by overflow."""
    stop = run.n_steps if run.diverged_at is None else run.diverged_at
    first = None
    for q in RECORDED:
        states = run.axis_states(q.axis)
        value = run.recorded[q.name]
        parts = [v for k, v in value.items() if has_test or not k.startswith("test")] \
            if isinstance(value, dict) else [value]
        arrays = [a for part in parts for a in (part if isinstance(part, list) else [part])]
        bad = np.zeros(len(states), dtype=bool)
        for array in arrays:
            bad |= ~np.isfinite(array).all(axis=tuple(range(1, array.ndim)))
        bad &= states < stop if run.diverged_at is not None else states <= stop
        if bad.any():
            t = int(states[np.argmax(bad)])
            first = t if first is None else min(first, t)
    return first


def _assemble(history, member: int, S: int, diverged_at: int | None, why: str) -> Run:
    """The Run of one member over its first S steps, diverged at `diverged_at` (or None) for `why`."""
    cfg = history.configs[member]
    data, arch = history.data_of(member), history.arch
    player = arch.param_layout()
    spe, k = history.steps_per_epoch, history.stride
    kept = kept_states(S, spe, k)
    steps = recorded_steps(S, k)
    whole = S == history.states[-1] and len(history.configs) == 1
    # one member trained to the end: views share the History's memory; otherwise copies
    params = history.params[:len(kept), member]
    grads = history.grads[:len(steps), member]
    if not whole:
        params, grads = params.copy(), grads.copy()
    running = history.running[:len(kept), member]
    X = data.inputs(data.X_train, cfg.standardize)
    if cfg.standardize:
        mean, std = data.feature_mean, data.feature_std
    else:
        mean, std = np.zeros(X.shape[1]), np.ones(X.shape[1])

    # which states and rows keep every activation, and where the epochs end
    stages = 3 if arch.normed else 2
    rows = np.arange(len(X))
    budget = getattr(history, "snapshot_numbers", SNAPSHOT_BUDGET)
    count = snapshot_row_count(len(X), sum(arch.hidden) * stages, budget)
    if len(rows) > count:
        rows = np.sort(np.random.default_rng(0).choice(len(X), count, replace=False))
    states = snapshot_states(S, len(rows), sum(arch.hidden) * stages, kept=None if k == 1 else kept, budget=budget)
    epoch_steps = np.arange(0, S + 1, spe)
    if epoch_steps[-1] != S:
        epoch_steps = np.r_[epoch_steps, S]

    seen = replay(history, [member], S)
    saved = Saved(arch=arch, params=params, grads=grads, running=running, seen=seen, X=X,
                  y=np.asarray(data.y_train, float), X_test=data.inputs(data.X_test, cfg.standardize),
                  y_test=data.y_test, snapshot_steps=states, snapshot_rows=rows, epoch_steps=epoch_steps,
                  states=kept, steps=steps)
    recorded = {q.name: _member(seen[q.name], 0) if q.source == "batch" else q.compute(saved) for q in RECORDED}

    epochs_done = -(-S // spe)
    run = Run(
        config=cfg, arch=arch, feature_names=tuple(data.feature_names), feature_mean=mean, feature_std=std,
        param_names=list(player.names),
        param_slices={s.name: (s.start, s.stop, s.shape) for s in player.slots},
        initial_params=_unpack(player, params[0]), final_params=_unpack(player, params[-1]),
        params=params, grads=grads, orders=history.orders[member, :epochs_done].copy(),
        bounds=list(history.bounds), snapshot_steps=states, snapshot_rows=rows, epoch_steps=epoch_steps,
        diverged_at=diverged_at, recorded=recorded, seconds=history.seconds, diverged_why=why,
        n_steps=S, stride=k, state_running=None if k == 1 or not arch.bn else running.copy(),
    )
    run.train_inputs = X          # (N, n_in) what the network saw: the snapshots can be made again from it
    return run


def _unpack(layout, flat) -> dict:
    return {name: view.copy() for name, view in layout.views(flat).items()}


class Ensemble:
    """M trainings of one architecture, trained together. ``member(i)`` is a Run."""

    def __init__(self, history):
        self.history = history
        self._members = {}
        self._seen = None
        self.overflowed = np.zeros(len(history.configs), dtype=bool)   # set by final_metrics

    def __len__(self):
        return len(self.history.configs)

    @property
    def configs(self) -> list:
        return self.history.configs

    @property
    def diverged_at(self) -> list:
        """Per member: the step whose logits or BN batch statistics were not finite, or None."""
        return [int(d) if d >= 0 else None for d in self.history.diverged_at]

    def _replay(self) -> dict:
        """Every member's steps, recomputed once."""
        if self._seen is None:
            self._seen = replay(self.history, range(len(self)), self.history.steps_done)
            for i, d in enumerate(self.history.diverged_at):
                if d >= 0:
                    self._seen["train_loss"][d:, i] = np.nan
        return self._seen

    @property
    def train_loss(self) -> np.ndarray:
        """(S, M) mini-batch losses, recomputed for every member; NaN after a member diverged."""
        return self._replay()["train_loss"]

    def member(self, i: int) -> Run:
        if i not in self._members:
            self._members[i] = assemble_run(self.history, i)
        return self._members[i]

    def final_metrics(self) -> dict:
        """{name: (M,)} the EPOCH_METRICS of each member's final state: NaN if it diverged, or if
        its final state's numbers over the training or test rows went past float64 (then it is
        marked in ``overflowed``). Test metrics are NaN for an empty test split."""
        h = self.history
        arch, members = h.arch, range(len(self))
        S = int(h.state_rows([h.steps_done])[0])              # the final state's row (a strided record keeps it)
        test = h.inputs(members, "test")
        out = epoch_metrics(arch, h.params[S], h.running[S] if arch.bn else None, h.inputs(members, "train"), test)
        scored = [v for name, v in out.items() if test[1].shape[-1] or not name.startswith("test")]
        self.overflowed = (h.diverged_at < 0) & ~np.all([np.isfinite(v) for v in scored], axis=0)
        for values in out.values():
            values[(h.diverged_at >= 0) | self.overflowed] = np.nan
        return out
