"""What one training costs, and the nearest experiment within the server's budget.

A training of S updates on N training rows with P parameters over E epochs
costs, to a good approximation:

- time: a price per update (the work around each layer's step, so a deeper
  network's update costs more: weight w = 1 + DEPTH_COST per hidden layer past
  two) plus a price per row x parameter x update (the arithmetic), W = E * N * P.
  Measured with the compiled loop (benchmarks/costs.py), recording and the Run's
  derived numbers included: 3.9 us an update and 5.6 ns a row x parameter x
  update (the NumPy loop: about 90 us and 22 ns, so its bounds are
  NUMPY_STEPS and NUMPY_WORK times smaller where it is the process's loop).
  A big step (batch rows x P past ``compiled.COMPILED_MAX_WORK``) runs the NumPy
  loop whatever the process's loop, whose matrix products BLAS does at a fraction
  of a small network's price per unit: its W is priced at BLAS_WORK_PRICE and its
  updates at the NumPy loop's. Measured on one core (best of two, recording and
  every derived array included; bnviz.budget's tests hold the model to these):
  the digits at 64-100-100-100-10 sigmoid, batch 60, 50 epochs (1,200 updates,
  W = 2.0e9) takes 1.96 s with BN and 0.70 s without; 64-100x5-10 ReLU for 20
  epochs 1.58 s and 0.45 s; 64-32-32-10 tanh for 30 epochs 0.23 s and 0.17 s;
- memory: its record, about 16 * S * P bytes (parameters after every update
  and every gradient) plus per-step statistics and the snapshots, or less when
  a long run is recorded at a stride (bnviz.striding).

A run fits when w * S / MAX_STEPS + price * W / MAX_WORK <= 1 (about 1.1 s of one
core for the small networks of the compiled loop, about 2 s for the big ones of the
NumPy loop, the paper's Figure 1 network among them) and its record fits RUN_BYTES
(a big network's record is kept at a stride of as few as 10 recorded steps,
bnviz.striding). A request that does not fit is moved to the nearest experiment that
does: fewer epochs first, then fewer points of a toy data set, then a smaller
network, then bigger batches; ``Fit.note`` says what changed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import limits
from .batches import n_batches
from .compiled import COMPILED_MAX_WORK
from .config import Config
from .evaluation import CHUNK_NUMBERS
from .recording import RECORDED
from .run import SNAPSHOT_BUDGET, SNAPSHOT_CAP, snapshot_row_count
from .striding import count_kept, max_stride

# working memory of the batched forward passes (bnviz.evaluation.chunks) while a record is filled
WORKING_BYTES = 2 * 8 * CHUNK_NUMBERS
MIN_EPOCHS = 5                                     # epochs are cut to this before anything else changes
DEPTH_COST = 0.16                                  # an update's extra cost per hidden layer past two
# how much more the NumPy loop (where numba cannot be had) pays than the compiled one, measured
NUMPY_STEPS = 23.0                                 # per update: about 90 us against 3.9 us
NUMPY_WORK = 4.0                                   # per row x parameter x update: about 22 ns against 5.6 ns
# what a row x parameter x update of a big step (the NumPy loop, BLAS) costs next to one of a small step
# in the compiled loop: 0.08, from the measurements above (about 1e-9 s a unit with BN, 0.35e-9 s without,
# so that the Figure 1 network's 50 epochs, W = 2.0e9, fit in about 2 s)
BLAS_WORK_PRICE = 0.08


def _numpy_loop() -> bool:
    from .compiled import engine

    return engine() == "numpy"


def _bound(value: float, numpy_factor: float) -> float:
    """A time bound (limits: the compiled loop's) for the loop this process trains with."""
    return value / numpy_factor if _numpy_loop() else value


@dataclass(frozen=True)
class Budget:
    """max_steps: updates; max_work: rows x parameters x updates; max_bytes: one record. By default
    the limits' bounds, for the compiled loop, or the NumPy loop's where it runs."""

    max_steps: float = field(default_factory=lambda: _bound(limits.MAX_STEPS, NUMPY_STEPS))
    max_work: float = field(default_factory=lambda: _bound(limits.MAX_WORK, NUMPY_WORK))
    max_bytes: float = limits.RUN_BYTES

    def times(self, share: float) -> "Budget":
        return Budget(self.max_steps * share, self.max_work * share, self.max_bytes * share)


@dataclass(frozen=True)
class Cost:
    """updates S, work W (rows x parameters x updates, all members) and record bytes of a training,
    its record kept at `stride` (bnviz.striding); work_price and step_price: what a unit of W and an
    update cost (1, or more or less for steps big enough for the NumPy loop: ``work_price``,
    ``step_price``)."""

    updates: int
    work: float
    bytes: float
    stride: int = 1
    depth: int = 2
    work_price: float = 1.0
    step_price: float = 1.0

    @property
    def priced_work(self) -> float:
        """W at its price: what the work adds to the time, in units of the compiled loop's row x parameter."""
        return self.work * self.work_price

    @property
    def step_weight(self) -> float:
        """What one update costs next to one of a two-hidden-layer network: the work around each
        layer's forward and backward pass is paid per layer (measured with the NumPy loop: 94 us a
        step with two hidden layers, 182 us with eight; the compiled loop's fit, benchmarks/costs.py,
        keeps the same weights), times step_price (NUMPY_STEPS for big steps the NumPy loop runs in a
        process whose loop is the compiled one)."""
        return (1.0 + DEPTH_COST * max(self.depth - 2, 0)) * self.step_price

    def share(self, budget: Budget) -> float:
        """The largest fraction of the budget it uses (over 1: too costly)."""
        return max(self.updates * self.step_weight / budget.max_steps + self.priced_work / budget.max_work,
                   self.bytes / budget.max_bytes)


def n_params(hidden, bn: bool = True, keep_bias: bool = False, bn_position: str = "before", n_in: int = 2,
             n_out: int = 1, norm: str | None = None) -> int:
    """Parameter count of the MLP: Dense layers, the normalization's gamma and beta, the output layer
    (n_out units: 1 for two classes, K for a softmax over K). norm ("batch", "layer", "none"), when
    given, says what bn says and also names layer norm."""
    norm = ("batch" if bn else "none") if norm is None else norm
    total, fan_in = 0, n_in
    for width in hidden:
        bias = not (norm == "batch" and bn_position == "before" and not keep_bias)
        total += fan_in * width + (width if bias else 0) + (2 * width if norm != "none" else 0)
        fan_in = width
    return total + (fan_in + 1) * n_out


def big_steps(cfg: Config, n_rows: int, n_params: int) -> bool:
    """Whether cfg's largest step (batch rows x parameters) is big enough for the NumPy loop
    (``bnviz.compiled.engine``), whatever the process's loop."""
    rows = min(max(int(cfg.batch_size), 1), max(int(n_rows), 2))
    rows = rows + 1 if max(int(n_rows), 2) % rows == 1 else rows        # a trailing lone row is folded in
    return rows * n_params > COMPILED_MAX_WORK


def work_price(cfg: Config, n_rows: int, n_params: int) -> float:
    """What a row x parameter x update of cfg's training costs, in units of the process's loop's small
    step: 1, or for big steps BLAS_WORK_PRICE (a quarter of it where the process's loop is NumPy's,
    whose units cost NUMPY_WORK times more)."""
    if not big_steps(cfg, n_rows, n_params):
        return 1.0
    return BLAS_WORK_PRICE / NUMPY_WORK if _numpy_loop() else BLAS_WORK_PRICE


def step_price(cfg: Config, n_rows: int, n_params: int) -> float:
    """What an update costs in units of the process's loop's: 1, or NUMPY_STEPS for big steps in a
    process whose loop is the compiled one (the NumPy loop runs them, at its price per update)."""
    return NUMPY_STEPS if big_steps(cfg, n_rows, n_params) and not _numpy_loop() else 1.0


def cost(cfg: Config, n_rows: int, members: int = 1, n_in: int = 2, strided: bool = True, n_out: int = 1,
         max_bytes: float | None = None) -> Cost:
    """The cost of training `members` networks of cfg's shape on n_rows training rows of n_in features,
    with n_out output units (1: two classes; K: a softmax over K classes).

    One network's record is kept at the stride the server trains it with (``record_stride`` for a
    record of at most max_bytes, default RUN_BYTES); an ensemble's members keep every step (sweeps
    and lessons read every step of every member). strided=False: every step kept, as a record
    without a stride would be (for comparisons).
    """
    n_rows = max(int(n_rows), 2)
    steps = cfg.epochs * n_batches(n_rows, cfg.batch_size)
    P = n_params(cfg.hidden, cfg.bn, cfg.keep_bias, cfg.bn_position, n_in, n_out, cfg.norm)
    stride = record_stride(cfg, n_rows, n_in, max_bytes, n_out) if members == 1 and strided else 1
    snapshots = snapshot_numbers(max_bytes) if members == 1 and strided else SNAPSHOT_BUDGET
    return Cost(steps, float(cfg.epochs) * n_rows * P * members,
                float(record_bytes(cfg, steps, n_rows, P, stride, snapshots)) * members, stride, len(cfg.hidden),
                work_price(cfg, n_rows, P), step_price(cfg, n_rows, P))


def snapshot_numbers(max_bytes: float | None = None) -> int:
    """The numbers a Run's snapshots may keep when its record may hold max_bytes (default RUN_BYTES):
    SNAPSHOT_BUDGET, in proportion for a smaller share (each of a page's pair of runs)."""
    share = 1.0 if max_bytes is None else min(1.0, max(float(max_bytes), 0.0) / limits.RUN_BYTES)
    return max(1, int(SNAPSHOT_BUDGET * share))


def record_bytes(cfg: Config, steps: int, n_rows: int, n_params: int, stride: int = 1,
                 snapshots: int = SNAPSHOT_BUDGET) -> int:
    """Bytes of a Run's record, from the table of what it records (bnviz.recording.RECORDED).

    Per recorded step (every `stride`-th, bnviz.striding): its gradient plus every per-step
    quantity; per kept state: the parameters (and, in a strided record, the running
    statistics); per snapshot: the activations (within the snapshot budget) and population
    statistics; per epoch: the row order and the epoch metrics. The training loop holds the
    same parameters, gradients and running statistics while it trains. snapshots: the numbers its
    snapshots may keep (``snapshot_numbers``).
    """
    bn_units = sum(cfg.hidden) if cfg.bn else 0
    width = {"": 1, "bn": bn_units, "dense": len(cfg.hidden) + 1, "hidden": len(cfg.hidden)}
    per_step = n_params + sum(width[q.layers] for q in RECORDED if q.axis == "step")
    per_snapshot = sum(width[q.layers] for q in RECORDED if q.axis == "snapshot" and q.layers)
    stride = max(1, int(stride))
    n_steps = -(-int(steps) // stride)                  # recorded steps
    n_states = count_kept(steps, n_batches(max(int(n_rows), 2), cfg.batch_size), stride)
    per_state = n_params + (2 * bn_units if stride > 1 else 0)
    # snapshots fill their budget, but always keep two states (the first and the last) in full
    units = sum(cfg.hidden) * (3 if cfg.norm != "none" else 2)
    snapshot = max(snapshots, 2 * snapshot_row_count(max(int(n_rows), 2), units, snapshots) * units)
    numbers = (n_steps * per_step + n_states * per_state + snapshot + SNAPSHOT_CAP * per_snapshot
               + cfg.epochs * (n_rows + 8) + 8 + 3 * n_params)
    return 8 * numbers


def record_stride(cfg: Config, n_rows: int, n_in: int = 2, max_bytes: float | None = None, n_out: int = 1) -> int:
    """The smallest stride k whose record of training cfg on n_rows rows fits max_bytes (default
    RUN_BYTES): 1 for every run whose full record fits, at most ``striding.max_stride`` (200 recorded
    steps), or for a network too big for that, at most ``max_stride(steps, fewest=True)`` (10).

    A strided record leaves WORKING_BYTES of the budget to the batched forward passes that fill
    it, so that the whole training, not only its result, stays within max_bytes. Its snapshots
    keep ``snapshot_numbers(max_bytes)`` numbers at most, as the server trains it.
    """
    snapshots = snapshot_numbers(max_bytes)
    max_bytes = limits.RUN_BYTES if max_bytes is None else max_bytes
    n_rows = max(int(n_rows), 2)
    steps = cfg.epochs * n_batches(n_rows, cfg.batch_size)
    P = n_params(cfg.hidden, cfg.bn, cfg.keep_bias, cfg.bn_position, n_in, n_out, cfg.norm)
    if record_bytes(cfg, steps, n_rows, P, 1, snapshots) <= max_bytes:
        return 1

    def fits(k: int) -> bool:
        return record_bytes(cfg, steps, n_rows, P, k, snapshots) <= max_bytes - WORKING_BYTES

    low, high = 2, max_stride(steps)
    if high < low or not fits(high):            # a big network: fewer recorded steps, if that is enough
        low, high = max(high + 1, 2), max_stride(steps, fewest=True)
    if high < low or not fits(high):
        return max(high, low - 1)
    while low < high:                   # the record shrinks as the stride grows
        mid = (low + high) // 2
        low, high = (low, mid) if fits(mid) else (mid + 1, high)
    return low


@dataclass(frozen=True)
class Fit:
    """The experiment to run: `config`, and what was changed from the request (field: (asked, used))."""

    asked: Config
    config: Config
    asked_cost: Cost
    cost: Cost
    budget: Budget
    changes: dict = field(default_factory=dict)

    @property
    def note(self) -> str | None:
        """A sentence for the page, or None when the request fits as asked."""
        if not self.changes:
            return None
        what = "; ".join(f"{name} {show_value(used)} instead of {show_value(asked)}"
                         for name, (asked, used) in self.changes.items())
        asked, b = self.asked_cost, self.budget
        work = f"{asked.work:.2g} rows × parameters × updates" + (
            f" (each at {asked.work_price:g} of a small network's price: {asked.priced_work:.2g})"
            if asked.work_price != 1 else "")
        return (f"This experiment asks for more than one run may cost on this server: {asked.updates:,} updates "
                f"and {work} with a {asked.bytes / 2**20:,.0f} MB record "
                f"(together at most {b.max_steps:,.0f} updates or {b.max_work:.2g} rows × parameters × updates, "
                f"and {b.max_bytes / 2**20:,.0f} MB). It ran the nearest experiment that fits instead: {what}.")


def show_value(value) -> str:
    """A setting as the page writes it: widths as 3,2, counts with thousands separators."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else f"{value:,}" if isinstance(value, int) else str(value)


def fit(cfg: Config, n_rows: int, budget: Budget | None = None, members: int = 1,
        resizable_data: bool | None = None, n_in: int = 2, strided: bool = True, n_out: int = 1) -> Fit:
    """The nearest Config to cfg whose training on n_rows rows fits the budget.

    n_rows: training rows of the data cfg asks for (n_in features, n_out output units: see
    ``data_shape``). resizable_data: whether
    cfg.data_size sets the number of rows (a toy data set); by default, when
    cfg names one. Order of cuts: epochs down to MIN_EPOCHS, data size, widths,
    depth, epochs down to 1, then larger batches. A long run's record is kept at a
    stride (``record_stride``), so the bytes bind only when even the largest stride
    does not fit; strided=False fits as if every step were kept (for comparisons).
    """
    from .data import TOY_MAKERS

    budget = budget or Budget()
    if resizable_data is None:
        resizable_data = cfg.dataset in TOY_MAKERS
    asked_cost = cost(cfg, n_rows, members, n_in, strided, n_out, budget.max_bytes)

    def rows_for(c: Config) -> int:
        if not resizable_data or c.data_size == cfg.data_size:
            return n_rows
        # the stratified split rounds per class: a row or two more, never fewer
        return min(n_rows, math.ceil(n_rows * c.data_size / cfg.data_size) + 2)

    def fits(c: Config) -> bool:
        return cost(c, rows_for(c), members, n_in, strided, n_out, budget.max_bytes).share(budget) <= 1.0

    chosen = cfg if fits(cfg) else _nearest(cfg, fits, resizable_data)
    changes = {name: (getattr(cfg, name), getattr(chosen, name))
               for name in ("epochs", "data_size", "hidden", "batch_size") if getattr(cfg, name) != getattr(chosen, name)}
    return Fit(cfg, chosen, asked_cost, cost(chosen, rows_for(chosen), members, n_in, strided, n_out,
                                             budget.max_bytes), budget,
               changes)


def data_shape(data) -> dict:
    """{"n_in", "n_out"} of a Dataset, as cost, fit and record_stride take them."""
    return {"n_in": data.n_features, "n_out": 1 if data.n_classes <= 2 else data.n_classes}


def plane_sampling(n_rows: int, n_params: int, size: int, extra_points: int, max_work: float | None = None):
    """(grid size, rows) for a loss surface: size**2 + extra_points parameter vectors scored on rows
    training rows each, within max_work rows x parameters (default MAX_WORK). Rows are cut first
    (down to 128 or all), then the grid (down to 21 a side), then rows again (down to 16)."""
    max_work = limits.MAX_WORK if max_work is None else max_work

    def rows_for(s):
        return int(max_work // ((s * s + extra_points) * max(n_params, 1)))

    floor = min(n_rows, 128)
    if rows_for(size) < floor:
        size = max(21, min(size, int(math.sqrt(max(max_work / (floor * n_params) - extra_points, 1)))))
    return size, max(min(n_rows, rows_for(size)), min(n_rows, 16))


def _largest(low: int, high: int, ok) -> int | None:
    """The largest v in [low, high] with ok(v), for ok monotone (true up to some point), or None."""
    if high < low or not ok(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if ok(mid) else (low, mid - 1)
    return low


def _nearest(cfg: Config, fits, resizable_data: bool) -> Config:
    floor = min(cfg.epochs, MIN_EPOCHS)
    epochs = _largest(floor, cfg.epochs, lambda e: fits(cfg.replace(epochs=e)))
    if epochs is not None:
        return cfg.replace(epochs=epochs)
    c = cfg.replace(epochs=floor)
    if resizable_data:
        size = _largest(40, cfg.data_size, lambda n: fits(c.replace(data_size=n)))
        if size is not None:
            return c.replace(data_size=size)
        c = c.replace(data_size=40)
    width = _largest(1, max(c.hidden), lambda w: fits(c.replace(hidden=tuple(min(h, w) for h in c.hidden))))
    if width is not None:
        return c.replace(hidden=tuple(min(h, width) for h in c.hidden))
    c = c.replace(hidden=tuple(1 for _ in c.hidden))
    depth = _largest(1, len(c.hidden), lambda d: fits(c.replace(hidden=c.hidden[:d])))
    if depth is not None:
        return c.replace(hidden=c.hidden[:depth])
    c = c.replace(hidden=(1,))
    epochs = _largest(1, floor, lambda e: fits(c.replace(epochs=e)))
    if epochs is not None:
        return c.replace(epochs=epochs)
    c = c.replace(epochs=1)
    high = 100_000
    batch = next((b for b in _doubling(c.batch_size, high) if fits(c.replace(batch_size=b))), high)
    return c.replace(batch_size=batch)


def _doubling(start: int, stop: int):
    b = max(1, start)
    while b < stop:
        b *= 2
        yield min(b, stop)
