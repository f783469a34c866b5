"""Watch it train: everything the shared-clock view shows, per frame, for one or two runs.

A frame is one state of the network (state t: after t updates). The view
plays up to MAX_FRAMES evenly spread states of each run, the same states for
both when they ran equally long, and shows for each one:

- the mini-batch loss of the step that led to it (a marker on the loss curve);
- the training path on the loss surface up to it (``landscape.network_plane``);
- one hidden layer's input to its activation, for one unit: a histogram over
  the training rows with its 15th, 50th and 85th percentiles;
- that layer's running mean and variance against the exact full-data values
  (for a run without BN, the exact values only: there is nothing running);
- P(label) over the feature plane (``inference.decision_grid``), for two input features and
  two classes; for other data (the handwritten digits) the grid is None, ``grid_note`` says
  why, and the panel follows the test accuracy in evaluation mode instead (``accuracy``).

NumPy only; the page turns a ``WatchRun`` into a drawing.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .evaluation import (CHUNK_NUMBERS, chunks, full_data_stats, loss_and_accuracy, pack_buffers, row_numbers,
                         unit_states)
from .inference import decision_grid, running_buffers
from .landscape import ContourGrid, network_plane
from .run import Run
from .unsupported import Unsupported

MAX_FRAMES = 240          # states per run: 10 s of playback at 24 frames a second (film's rate)
MIN_FRAMES = 24           # a big network gets fewer frames, never fewer than this
VIEW_WORK = 2.5e7         # rows x parameters per run for the view: what a big network's frames cost before
                          # the training loop was compiled, and no more
MAX_CURVE_POINTS = 1500   # loss values drawn per run; longer runs are averaged in bins
PLANE_SIZE = 31
GRID_SIZE = 28
BINS = 30
PERCENTILES = (15, 50, 85)
MAX_PATH = 1e6            # coordinates of a path on the loss surface beyond which it is not drawn


@dataclass
class WatchRun:
    """One run, frame by frame. F frames, S steps, B histogram bins, G grid points a side.

    states: (F,) network states (updates done); loss_at: (F,) mini-batch loss of
    step `states` (1-based: the update that made the state), NaN for state 0.
    curve_step, curve_loss, curve_smooth: the loss curve and its trailing mean over one
    epoch of steps (every step, or bin means for long runs).
    plane: the loss surface (path: (F, 2) at `states`), or None when it cannot be drawn.
    layer, unit: which hidden layer (1-based) and unit (0-based) the distribution is of;
    stage: "bn" (BN output) or "z" (Dense output): the input to the activation.
    edges: (B + 1,) histogram bin edges; hist: (F, B) share of rows per bin;
    percentiles: (F, 3) the 15th, 50th and 85th percentile of the values.
    running_mean, running_var: (F,) that BN unit's running statistics, or None without BN;
    exact_mean, exact_var: (F,) mean and biased variance over every training row of what
    BN normalizes (the Dense output without BN), earlier BN layers using full-data
    statistics too. The histogram and percentiles are over the run's snapshot rows:
    rows_used of n_rows (a fixed sample of 1,000 when there are more).
    grid_x, grid_y: (G,) raw feature values; prob: (F, G, G) float32 P(label) in evaluation mode (the
    view draws it in 256 shades; float32 halves what a run carries from the worker that trained it); all
    three None for data that is not two features and two classes, and then grid_note is the
    sentence that says so ("" otherwise) and accuracy: (F,) the share of held-out rows (the
    training rows when none are held out) put in their class, in evaluation mode, at each frame.
    final_loss: mean mini-batch loss over the last epoch's finite losses.
    """

    label: str
    bn: bool
    n_steps: int
    diverged_at: int | None
    states: np.ndarray
    loss_at: np.ndarray
    curve_step: np.ndarray
    curve_loss: np.ndarray
    curve_smooth: np.ndarray
    plane: ContourGrid | None
    layer: int
    unit: int
    stage: str
    edges: np.ndarray
    hist: np.ndarray
    percentiles: np.ndarray
    running_mean: np.ndarray | None
    running_var: np.ndarray | None
    exact_mean: np.ndarray
    exact_var: np.ndarray
    grid_x: np.ndarray | None
    grid_y: np.ndarray | None
    prob: np.ndarray | None
    final_loss: float
    rows_used: int
    n_rows: int
    grid_note: str = ""
    accuracy: np.ndarray | None = None
    accuracy_split: str = "test"
    norm: str = "batch"           # the run's normalization: batch, layer or none

    def at(self, frame: int) -> dict:
        """The numbers frame `frame` shows, by name (what a reader checks a drawing against)."""
        out = {"state": int(self.states[frame]), "loss": float(self.loss_at[frame]),
               "p15": float(self.percentiles[frame, 0]), "median": float(self.percentiles[frame, 1]),
               "p85": float(self.percentiles[frame, 2]),
               "exact_mean": float(self.exact_mean[frame]), "exact_var": float(self.exact_var[frame])}
        if self.running_mean is not None:
            out["running_mean"] = float(self.running_mean[frame])
            out["running_var"] = float(self.running_var[frame])
        if self.accuracy is not None:
            out["accuracy"] = float(self.accuracy[frame])
        return out


def frame_states(n_steps: int, frames: int = MAX_FRAMES) -> np.ndarray:
    """Up to `frames` evenly spread states 0..n_steps, always with both ends."""
    return np.unique(np.linspace(0, n_steps, min(frames, n_steps + 1)).round().astype(int))


def frames_for(run: Run, frames: int = MAX_FRAMES) -> int:
    """How many frames the view can afford for this run: each costs a forward pass of
    every parameter over the snapshot rows and the decision grid and, when the snapshots
    keep a sample, the passes over every training row for the exact statistics (one per
    BN layer when the rows go through in chunks)."""
    rows = len(run.snapshot_rows) + (GRID_SIZE ** 2 if plane_drawn(run) else run.n_train_rows // 4)
    if len(run.snapshot_rows) < run.n_train_rows:
        chunked = run.arch.bn and run.n_train_rows * row_numbers(run.arch) > CHUNK_NUMBERS
        rows += run.n_train_rows * (len(run.arch.hidden) if chunked else 1)
    per_frame = run.arch.param_layout().size * rows
    return int(min(frames, max(MIN_FRAMES, VIEW_WORK // max(per_frame, 1))))


def plane_drawn(run: Run) -> bool:
    """Whether the view paints P(label) over the feature plane (two inputs, one sigmoid output)."""
    return run.arch.n_in == 2 and not run.arch.softmax


def frame_accuracy(run: Run, data, states) -> tuple:
    """((F,) accuracy at each state in evaluation mode, split name): over the held-out rows, or over
    the training rows when none are held out. NaN where a state's outputs are not finite."""
    split = "test" if len(data.y_test) else "training"
    X, y = (data.X_test, data.y_test) if split == "test" else (data.X_train, data.y_train)
    states = np.asarray(states, dtype=int)
    with np.errstate(all="ignore"):
        _, acc = loss_and_accuracy(run.arch, run.params_of(states), data.inputs(X, run.config.standardize),
                                   np.asarray(y, dtype=float), running_buffers(run, states))
    return np.asarray(acc, dtype=float).reshape(-1), split


def watched_layer(run: Run) -> int:
    """The layer the view follows: the last hidden one (the one whose inputs move most)."""
    return len(run.arch.hidden)


def _stage(run: Run) -> str:
    """The input to the activation: the normalization's output (batch or layer norm) when it sits
    before it, the Dense output otherwise."""
    return "bn" if run.arch.normed and run.arch.bn_position == "before" else "z"


def _unit_values(run: Run, X: np.ndarray, states: np.ndarray, layer: int, unit: int, stages,
                 buffers: np.ndarray | None = None) -> dict:
    """{stage: (F, N)} one unit's values over rows X at each state: BN with X's own statistics,
    or in evaluation mode with `buffers` (F, R) when given."""
    out = {s: np.empty((len(states), len(X))) for s in stages}
    for chunk in chunks(len(states), len(X), row_numbers(run.arch)):
        values = unit_states(run.arch, run.params_of(states[chunk]), X, layer, unit,
                             None if buffers is None else buffers[chunk])
        for s in stages:
            out[s][chunk] = values[s]
    return out


def _curve(loss: np.ndarray, window: int, points: int = MAX_CURVE_POINTS, steps: np.ndarray | None = None):
    """(steps, loss, trailing mean over `window` recorded steps) for steps 1..S (or the recorded
    `steps` + 1 of a strided record); bin means for long runs."""
    steps = np.arange(1, len(loss) + 1, dtype=float) if steps is None else np.asarray(steps, dtype=float) + 1
    finite = np.isfinite(loss)
    csum = np.cumsum(np.r_[0.0, np.where(finite, loss, 0.0)])
    count = np.cumsum(np.r_[0, finite])
    start = np.maximum(np.arange(1, len(loss) + 1) - max(1, window), 0)
    with np.errstate(all="ignore"):
        smooth = (csum[1:] - csum[start]) / (count[1:] - count[start])
    if len(loss) <= points:
        return steps, loss.astype(float), smooth
    starts = np.linspace(0, len(loss), points + 1).astype(int)[:-1]

    def mean(values):
        finite = np.isfinite(values)
        total = np.add.reduceat(np.where(finite, values, 0.0), starts)
        count = np.add.reduceat(finite.astype(float), starts)
        with np.errstate(all="ignore"):
            return np.where(count > 0, total / count, np.nan)

    return mean(steps), mean(loss), mean(smooth)


def _bn_input(run: Run) -> str:
    """What the normalization (batch or layer norm) takes in the watched layer: the Dense output, or the
    activation when it sits after it (the Dense output for a run without normalization)."""
    return "act" if run.arch.normed and run.arch.bn_position == "after" else "z"


def _values(run: Run, data, states) -> dict:
    """{stage: (F, rows)} the watched unit over the run's snapshot rows: its input to the
    activation and what BN normalizes, from one forward pass per state; and "exact":
    (mean (F,), variance (F,)) of what BN normalizes over every training row.

    With more training rows than the snapshots keep, BN normalizes the sampled rows
    with the statistics of all rows (computed in chunks), as the Run's snapshots do."""
    X = data.inputs(data.X_train, run.config.standardize)
    layer, stages = watched_layer(run), {_stage(run), _bn_input(run)}
    with np.errstate(all="ignore"):
        if len(run.snapshot_rows) == len(X):
            out = _unit_values(run, X, states, layer, 0, stages)
            bn_in = out[_bn_input(run)]
            out["exact"] = (bn_in.mean(axis=1), bn_in.var(axis=1))
            return out
        flat = run.params_of(states)
        means, variances = full_data_stats(run.arch, flat, X)
        buffers = pack_buffers(run.arch, means, variances) if run.arch.bn else None
        out = _unit_values(run, X[run.snapshot_rows], states, layer, 0, stages, buffers)
        out["exact"] = (means[layer - 1][:, 0], variances[layer - 1][:, 0])
        return out


@dataclass
class Prepared:
    """One run's frames before the pair's shared histogram bins: what ``watch_prepare`` computes where
    the run trains, so that only this (not the Run) travels to be joined with the other run's.

    frames, plane_size: the settings it was made with; view: its WatchRun, `edges` and `hist`
    still empty; shown: (F, N) the values the histogram counts, each row sorted (NaN last); tails:
    their smallest and largest finite values, from which the pair's histogram range is found.
    """

    frames: int
    plane_size: int
    view: WatchRun
    shown: np.ndarray
    tails: "Tails"


@dataclass
class Tails:
    """The `share` smallest and largest of a set of values' `count` finite ones (low, high: (t,) each,
    ascending): what the 0.5th and 99.5th percentile of two such sets pooled need, when neither set is
    far bigger than the other (``pooled_limits``)."""

    low: np.ndarray
    high: np.ndarray
    count: int


TAIL_SHARE = 0.01         # of a run's finite values kept at each end: twice what the pooled 0.5 % tails need


def watch_prepare(run: Run, data, frames: int = MAX_FRAMES, plane_size: int = PLANE_SIZE) -> Prepared:
    """Everything the view shows of one run (with at least one step) but the histogram, whose bins it
    shares with the other run's (``watch_join``)."""
    states = run.even_states(frames_for(run, frames))
    values = _values(run, data, states)
    layer, unit = watched_layer(run), 0
    shown = np.sort(values[_stage(run)], axis=1)       # sorted once: percentiles and histograms then search
    with np.errstate(all="ignore"):
        percentiles = frame_percentiles(shown, ordered=True)
        exact_mean, exact_var = values["exact"]
        running_mean = running_var = None
        if run.n_bn:
            after = run.running_after_states(layer - 1, np.where(states > 0, states, states[-1]))
            running_mean = np.where(states > 0, after[0][:, unit], 0.0)
            running_var = np.where(states > 0, after[1][:, unit], 1.0)
    # the loss of the last recorded step before each state (the step that led to it when every step is kept)
    before = np.maximum(np.searchsorted(run.axis_states("step"), states) - 1, 0)
    loss_at = np.where(states > 0, run.train_loss[before], np.nan)
    curve_step, curve_loss, curve_smooth = _curve(run.train_loss, run.epoch_window, steps=run.axis_states("step"))
    try:
        grid, grid_note = decision_grid(run, data, states, size=GRID_SIZE), ""
    except Unsupported as why:
        grid, grid_note = None, str(why)
    accuracy, split = frame_accuracy(run, data, states) if grid is None else (None, "test")
    last = run.train_loss[-run.epoch_window:]
    last = last[np.isfinite(last)]
    view = WatchRun(label="", bn=bool(run.n_bn), n_steps=run.n_steps, diverged_at=run.diverged_at,
                    states=states, loss_at=loss_at, curve_step=curve_step, curve_loss=curve_loss,
                    curve_smooth=curve_smooth,
                    plane=_plane(run, data, states, plane_size), layer=layer, unit=unit, stage=_stage(run),
                    edges=np.empty(0), hist=np.empty((len(states), 0)), percentiles=percentiles,
                    running_mean=running_mean, running_var=running_var,
                    exact_mean=exact_mean, exact_var=exact_var, grid_x=None if grid is None else grid.x,
                    grid_y=None if grid is None else grid.y,
                    prob=None if grid is None else grid.prob.astype(np.float32),
                    final_loss=float(last.mean()) if len(last) else float("nan"),
                    rows_used=len(run.snapshot_rows), n_rows=len(data.y_train), grid_note=grid_note,
                    accuracy=accuracy, accuracy_split=split, norm=run.config.norm)
    return Prepared(frames, plane_size, view, shown, tails(shown))


def watch_join(prepared: list, labels) -> list:
    """[WatchRun] from each run's ``watch_prepare``, labelled; their histograms share bins, so a
    distribution that drifts in one run and stays put in the other is seen on the same axis."""
    limits = pooled_limits([p.tails for p in prepared]) or value_limits([p.shown for p in prepared])
    edges = np.linspace(*limits, BINS + 1)
    with np.errstate(all="ignore"):
        return [replace(p.view, label=label, edges=edges.copy(), hist=frame_histograms(p.shown, edges, ordered=True))
                for p, label in zip(prepared, labels)]


def _finite_span(ordered: np.ndarray) -> tuple:
    """(start, count): (F,) where each sorted row's finite values begin (after any -inf) and how many
    there are (+inf and NaN sort after them)."""
    return np.isneginf(ordered).sum(axis=1), np.isfinite(ordered).sum(axis=1)


def _positions(n, q: float) -> tuple:
    """(i, k, t): np.percentile's neighbouring order statistics (0-based) for its percentile q of n
    sorted values (n an int or an array of them, each at least 1), and the weight between them: its
    'linear' method's own arithmetic. One value: i = k = 0."""
    virtual = (n - 1) * (q / 100)
    below = np.floor(virtual)
    i = below.astype(np.intp)
    return i, np.minimum(i + 1, n - 1), virtual - below


def _lerp(a, b, t):
    """numpy's linear interpolation between neighbouring order statistics (np.percentile's own
    arithmetic, from b backwards past the midpoint), so the percentiles here equal np.percentile's
    to the last bit."""
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def frame_percentiles(values: np.ndarray, ordered: bool = False) -> np.ndarray:
    """(F, 3) the PERCENTILES of each row of values (F, N) over its finite entries (NaN if none),
    exactly np.percentile's numbers. ordered: each row already sorted (np.sort's order)."""
    s = values if ordered else np.sort(values, axis=1)
    start, n = _finite_span(s)
    out = np.full((len(s), len(PERCENTILES)), np.nan)
    rows = np.flatnonzero(n > 0)
    start, n = start[rows], n[rows]
    for j, p in enumerate(PERCENTILES):
        i, k, t = _positions(n, p)
        out[rows, j] = _lerp(s[rows, start + i], s[rows, start + k], t)
    return out


def frame_histograms(values: np.ndarray, edges: np.ndarray, ordered: bool = False) -> np.ndarray:
    """(F, B) share of each row's finite values (F, N) per bin of `edges` (B + 1, increasing), values
    outside clipped into the end bins: np.histogram's bins (the last one closed). ordered: each row
    already sorted (np.sort's order), when a search per row counts them."""
    s = values if ordered else np.sort(values, axis=1)
    start, n = _finite_span(s)
    # below[f, j]: row f's finite values under inner edge j (values under the first edge count in bin 0)
    below = np.array([np.searchsorted(row, edges[1:-1]) for row in s], dtype=np.int64).reshape(len(s), -1)
    cumulative = np.column_stack([np.zeros(len(s), np.int64), below - start[:, None], n])
    counts = np.diff(cumulative, axis=1)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def tails(values: np.ndarray, share: float = TAIL_SHARE) -> Tails:
    """The smallest and largest ceil(share * m) + 2 of values' m finite ones (all of them for share 1)."""
    flat = np.ravel(values)
    finite = flat[np.isfinite(flat)]
    m = finite.size
    t = min(m, int(np.ceil(share * m)) + 2)
    if 2 * t >= m:
        whole = np.sort(finite)
        return Tails(whole[:t], whole[m - t:], m)
    part = np.partition(finite, [t - 1, m - t])
    return Tails(np.sort(part[:t]), np.sort(part[m - t:]), m)


def pooled_limits(parts: list) -> tuple | None:
    """(low, high): the 0.5th to 99.5th percentile of the values whose ``Tails`` are given, pooled
    (never empty: equal ends are widened to a unit around them); exactly np.percentile's numbers of
    the pooled values. None when a set's tail is too short to reach them (one set far bigger)."""
    m = sum(p.count for p in parts)
    if m == 0:
        return 0.0, 1.0
    lows = np.sort(np.concatenate([p.low for p in parts]))
    highs = np.sort(np.concatenate([p.high for p in parts]))
    # the i-th smallest of all values is lows[i] while i is under every cut tail's length (a set kept
    # whole sets no limit), and highs[i - m + len(highs)] while i is that near the top
    reach = min((len(p.low) for p in parts if len(p.low) < p.count), default=m)

    def order(i: int):
        if i < reach:
            return lows[i]
        if m - 1 - i < reach:
            return highs[len(highs) - m + i]
        return None

    ends = []
    for q in (0.5, 99.5):
        i, k, t = _positions(m, q)
        a, b = order(int(i)), order(int(k))
        if a is None or b is None:
            return None
        ends.append(float(_lerp(a, b, t)))
    low, high = ends
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return low, high


def _plane(run: Run, data, states, size: int = PLANE_SIZE) -> ContourGrid | None:
    """The loss surface around the path, or None when the weights left the finite range."""
    if not np.isfinite(run.params_of(states)).all():
        return None
    try:
        with np.errstate(all="ignore"):
            plane = network_plane(run, data, "pca", size=size, states=states)
    except np.linalg.LinAlgError:
        return None
    # a path thrown millions of units away (a diverging run) leaves nothing to see on a plane
    return plane if np.isfinite(plane.path).all() and np.abs(plane.path).max() < MAX_PATH else None


def value_limits(values: list) -> tuple:
    """(low, high): the 0.5th to 99.5th percentile of all finite values given, never empty."""
    return pooled_limits([tails(v, share=1.0) for v in values])


def watch_pair(a: Run, b: Run | None, data, labels=("A", "B"), frames: int = MAX_FRAMES,
               plane_size: int = PLANE_SIZE) -> list:
    """[WatchRun] for run A and (if given) run B; runs without a single step are left out.

    Their histograms share bins, so a distribution that drifts in one run and
    stays put in the other is seen on the same axis.
    """
    runs = [(r, label) for r, label in zip((a, b), labels) if r is not None and r.n_steps > 0]
    return watch_join([watch_prepare(r, data, frames, plane_size) for r, _ in runs], [label for _, label in runs])


def watch_run(run: Run, data, label: str = "A", frames: int = MAX_FRAMES) -> WatchRun:
    """The view's numbers for one run alone."""
    if run.n_steps == 0:
        raise ValueError("this run has no steps to show (it diverged at its first step)")
    return watch_pair(run, None, data, (label,), frames)[0]


def median_drift(view: WatchRun) -> float:
    """How far the watched unit's median wandered: its largest minus its smallest value over the frames."""
    median = view.percentiles[:, 1]
    median = median[np.isfinite(median)]
    return float(median.max() - median.min()) if len(median) else float("nan")


def _number(x: float, digits: int = 3) -> str:
    """0.370 for an ordinary value, 2.6e+247 for an exploding one."""
    return f"{x:.{digits}f}" if abs(x) < 1000 and digits == 3 else f"{x:.{digits}g}"


LITTLE_ACCURACY = 0.02    # test accuracies this close, and
LITTLE_LOSS = 0.2         # last-epoch losses within this share of each other: "changes little"
CLEAR_ACCURACY = 0.05     # one side ahead by this much in accuracy (or the other's loss 1.5x): a clear difference


def final_accuracy(run: Run) -> tuple:
    """(accuracy, split): the run's evaluation-mode accuracy at the end on the test rows, or on the
    training rows when there is no test split (NaN if it diverged)."""
    metrics = run.epoch_metrics
    for name, split in (("test_acc_eval", "test"), ("train_acc_eval", "training")):
        value = metrics.get(name)
        if value is not None and len(value) and np.isfinite(value[-1]):
            return float(value[-1]), split
    return float("nan"), "test"


def verdict_words(views: list, accuracies: list, names: list) -> str:
    """What to notice when one run has BN and the other not: which one does better, or that BN changes
    little here. views, accuracies and names are (with BN, without BN) in that order."""
    (on, off), (acc_on, acc_off) = views, accuracies
    if on.diverged_at is None and off.diverged_at is not None:
        return f"Here BN makes the difference: the run {names[1]} diverged and the run {names[0]} trained."
    if off.diverged_at is None and on.diverged_at is not None:
        return f"Here the run {names[0]} diverged and the run {names[1]} trained."
    loss_on, loss_off = on.final_loss, off.final_loss
    if not (np.isfinite(acc_on) and np.isfinite(acc_off) and np.isfinite(loss_on) and np.isfinite(loss_off)):
        return ""
    if acc_on - acc_off >= CLEAR_ACCURACY or (loss_off >= 1.5 * loss_on and acc_on >= acc_off):
        return "Here BN helps clearly: compare the two loss curves and where each boundary ends."
    if acc_off - acc_on >= CLEAR_ACCURACY or (loss_on >= 1.5 * loss_off and acc_off >= acc_on):
        if getattr(off, "norm", "none") == "layer":
            return "Here the network with layer norm does better: BN is no guarantee."
        return "Here the network without BN does better: BN is no guarantee."
    if abs(acc_on - acc_off) <= LITTLE_ACCURACY and abs(loss_on - loss_off) <= LITTLE_LOSS * max(loss_on, loss_off):
        return "On this network BN changes little: both runs learn about equally well; the scenarios show where it matters."
    return "The two runs end close, but not the same."


def summary(views: list, names: list, accuracies: list | None = None, gaps: list | None = None) -> str:
    """One sentence, from the runs themselves, on what to look at.

    views: [WatchRun]; names: how to call each run ("with BN (A)"); accuracies: each
    run's (accuracy, split) from ``final_accuracy``, or None to leave accuracy out;
    gaps: each run's ``generalization_gap``, quoted when BN's and the plain net's differ clearly.
    """
    if not views:
        return "Neither run made a single step, so there is nothing to watch yet."
    v = views[0]
    where = f"layer {v.layer}, unit {v.unit + 1}"
    drift = " and ".join(f"{_number(median_drift(w), 2)} {name}" for w, name in zip(views, names))
    loss = " and ".join(f"{_number(w.final_loss)} {name}" for w, name in zip(views, names))
    text = (f"Watch the histogram: the median input to the activation in {where} moved over a range of {drift}; "
            f"the mini-batch loss averaged {loss} over the last epoch")
    if accuracies:
        split = accuracies[0][1]
        text += "; " + f"{split} accuracy at the end: " + " and ".join(
            f"{_number(acc)} {name}" for (acc, _), name in zip(accuracies, names))
    text += "."
    for w, name in zip(views, names):
        if w.diverged_at is not None:
            text += f" The run {name} diverged at step {w.diverged_at:,}: the view shows the steps before it."
    if accuracies and len(views) == 2 and views[0].bn != views[1].bn:
        order = (0, 1) if views[0].bn else (1, 0)
        words = verdict_words([views[i] for i in order], [accuracies[i][0] for i in order], [names[i] for i in order])
        text += (" " + words) if words else ""
        if gaps is not None and all(np.isfinite(gaps)) and abs(abs(gaps[0]) - abs(gaps[1])) >= CLEAR_ACCURACY:
            text += (" Train minus test accuracy: " + " and ".join(
                f"{_number(gaps[i])} {names[i]}" for i in order) + ".")
    return text


def generalization_gap(run: Run) -> float:
    """Training minus test accuracy at the end, in evaluation mode (NaN without a test split)."""
    metrics = run.epoch_metrics
    train, test = metrics.get("train_acc_eval"), metrics.get("test_acc_eval")
    if train is None or test is None or not len(train) or not len(test):
        return float("nan")
    return float(train[-1] - test[-1])
