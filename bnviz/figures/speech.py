"""Charts in words: a name, a sentence written from the chart's numbers, and the numbers as a table.

A screen reader cannot see a curve. Each chart of the page gets a ``Speech``:
its accessible name, one or two sentences written from the numbers it draws
(first and last values, lowest and highest), and a table of those numbers,
sampled to TABLE_ROWS rows. ``training_curves_speech`` writes the loss curves'
sentence from the Run itself; ``describe`` writes any other chart's from the
traces of its figure (which are the Run's numbers, as the builders drew them);
``watch_panel_sentences`` writes the training view's panels' from a WatchRun.
Rendering (aria attributes, captions, the table's place) is bnviz.ui.access's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from html import unescape

import numpy as np

from ..run import Run
from ..visitor_text import ordinal
from .common import smooth

TABLE_ROWS = 40          # a chart's table: at most this many rows, spread evenly, the first and last kept
MOST_TRACES = 6          # lines a sentence names one by one; the rest are counted


@dataclass(frozen=True)
class Speech:
    """name: the chart's accessible name; sentence: what it shows, from its numbers;
    columns, rows: its numbers as a table ([] when a table would not help, e.g. a diagram);
    table_note: how the table was sampled, or ""."""
    name: str
    sentence: str
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    table_note: str = ""


def counted(n: int, noun: str) -> str:
    """n and its noun, singular for one: "1 step", "1,200 steps"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def number(x) -> str:
    """A number as the sentences say it: 3 significant digits, n/a for NaN."""
    x = float(x)
    if not np.isfinite(x):
        return "n/a" if np.isnan(x) else ("∞" if x > 0 else "−∞")
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.2e}"
    if float(x).is_integer():
        return f"{int(x):,}"
    # 999.5 rounds to 1000 at 3 digits: written as 1,000, never as "1e+03"
    return f"{x:.3g}" if abs(float(f"{x:.3g}")) < 1000 else f"{x:,.0f}"


def sample(n: int, most: int = TABLE_ROWS) -> np.ndarray:
    """Indices of at most `most` of n rows, evenly spread, the first and the last always kept."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, most)).astype(int))


def plain_text(text) -> str:
    """A Plotly title or name without its markup: <br> becomes a space, other tags go, entities
    (an escaped underscore in a feature's name) become their characters."""
    text = re.sub(r"<br\s*/?>", " ", str(text or ""))
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", text)).strip())


def loss(x: float) -> str:
    """A loss as the sentences say it: two decimals (0.69), more digits only when it is tiny or huge."""
    return f"{x:.2f}" if np.isfinite(x) and 0.01 <= abs(x) < 1000 else number(x)


def _trend(first: float, last: float) -> str:
    if not (np.isfinite(first) and np.isfinite(last)):
        return "goes"
    return "falls" if last < first else "rises" if last > first else "stays"


def run_words(runs: list) -> list:
    """How a sentence calls each run: by its normalization ("with BN", "with layer norm", "without
    normalization") when that tells them apart (or for a single run), else "in A"/"in B"."""
    norms = [r.config.norm for r in runs]
    if len(runs) == 1 or norms[0] != norms[1]:
        return [{"batch": "with BN", "layer": "with layer norm"}.get(n, "without BN" if "layer" not in norms
                                                                    else "without normalization") for n in norms]
    return ["in A", "in B"]


def finite_ends(values) -> tuple:
    """(first, last) finite values of a 1-d array, NaN when it has none."""
    values = np.asarray(values, dtype=float)
    ok = values[np.isfinite(values)]
    return (float(ok[0]), float(ok[-1])) if len(ok) else (float("nan"), float("nan"))


# ----------------------------------------------------------- the training curves


def training_curves_speech(fig, run: Run, other: Run | None = None, x: str = "steps") -> Speech:
    """The loss curves in words, from the runs' recorded mini-batch losses (their one-epoch
    means, the bold lines) and their test accuracy at the last epoch."""
    runs = [r for r in (run, other) if r is not None and r.n_steps > 0]
    if not runs:
        return describe(fig)
    words = run_words(runs)
    ends = [finite_ends(smooth(r.train_loss, r.epoch_window)) for r in runs]
    steps = {r.n_steps for r in runs}
    parts, said = [], None
    for i, ((first, last), word, r) in enumerate(zip(ends, words, runs)):
        span = "" if len(steps) == 1 else f" over {counted(r.n_steps, 'step')}"
        verb = _trend(first, last)
        who = word + " it" if word in ("with BN", "without BN") else word
        if i == 1 and words == ["with BN", "without BN"]:
            who = "without it"
        verb = "" if verb == said else f" {verb}"       # "..., without it from 0.69 to 0.33"
        said = verb.strip() or said
        parts.append(f"{who}{verb} from {loss(first)} to {loss(last)}{span}")
    head = f"Mini-batch loss over {counted(runs[0].n_steps, 'step')}" if len(steps) == 1 else "Mini-batch loss"
    sentence = f"{head} (mean over one epoch): {', '.join(parts)}."
    accs = [r.epoch_metrics["test_acc_eval"][-1] for r in runs]
    if all(np.isfinite(accs)):
        sentence += " Test accuracy after the last epoch: " + ", ".join(
            f"{a:.1%} {w}" for a, w in zip(accs, words)) + "."
    columns, rows = ["step"], []
    index = sample(max(r.n_steps for r in runs))
    for w in words:
        columns.append(f"mini-batch loss {w} (1-epoch mean)")
    means = [smooth(r.train_loss, r.epoch_window) for r in runs]
    for i in index:
        rows.append([int(i)] + [float(m[i]) if i < len(m) else "" for m in means])
    note = (f"{len(index)} of {max(r.n_steps for r in runs):,} steps, evenly spread."
            if len(index) < max(r.n_steps for r in runs) else "")
    if runs[0].stride > 1:
        note = (note + " Steps are positions in the run's record, which kept every "
                f"{ordinal(runs[0].stride)} step.").strip()
    return Speech("Training curves: loss and accuracy", sentence, columns, rows, note)


# ------------------------------------------------------------- any other chart


def _name(fig) -> str:
    title = fig.layout.title.text if fig.layout.title is not None else ""
    first = re.split(r"<br\s*/?>", str(title or ""), maxsplit=1)[0]
    return plain_text(first) or "Chart"


def _axis_title(fig, trace, letter: str) -> str:
    ref = getattr(trace, f"{letter}axis", None) or letter
    axis = fig.layout[f"{letter}axis{ref[1:]}"] if len(ref) > 1 else fig.layout[f"{letter}axis"]
    text = axis.title.text if axis is not None and axis.title is not None else ""
    return plain_text(text) or letter


def _numeric(values) -> np.ndarray | None:
    if values is None:
        return None
    try:
        out = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    return out if out.size else None


def _trace_name(fig, trace, many_axes: bool) -> str:
    name = plain_text(trace.name) or "line"
    return f"{_axis_title(fig, trace, 'y')}, {name}" if many_axes else name


def _line_words(fig, trace, many_axes: bool = False) -> str | None:
    y = _numeric(trace.y)
    if y is None or not np.isfinite(y).any():
        return None
    name = _trace_name(fig, trace, many_axes)
    x = _numeric(trace.x)
    first, last = finite_ends(y)
    low, high = float(np.nanmin(y[np.isfinite(y)])), float(np.nanmax(y[np.isfinite(y)]))
    if len(y) == 1:
        return f"{name}: {number(first)}"
    x_title, y_title = _axis_title(fig, trace, "x"), _axis_title(fig, trace, "y")
    if trace.type == "bar" and x is not None and len(x) == len(y):
        top = int(np.nanargmax(np.where(np.isfinite(y), y, -np.inf)))
        return (f"{name}: {len(y)} bars over {x_title} {number(np.nanmin(x))} to {number(np.nanmax(x))}, "
                f"the highest {number(high)} at {number(x[top])}")
    ordered = x is not None and len(x) == len(y) and bool(np.all(np.diff(x[np.isfinite(x)]) >= 0))
    if x is not None and len(x) == len(y) and (not ordered or "lines" not in (getattr(trace, "mode", None) or "lines")):
        # points (a scatter of rows) or a closed band: where they lie, not a path from first to last
        ok = np.isfinite(x)
        return (f"{name}: {len(y)} points, {x_title} from {number(np.nanmin(x[ok]))} to "
                f"{number(np.nanmax(x[ok]))}, {y_title} from {number(low)} to {number(high)}")
    where = f" ({x_title} {number(np.nanmin(x))} to {number(np.nanmax(x))})" if ordered else ""
    return (f"{name}: from {number(first)} to {number(last)}{where}, lowest {number(low)}, "
            f"highest {number(high)}")


def _grid_words(trace) -> str | None:
    z = _numeric(trace.z)
    if z is None or not np.isfinite(z).any():
        return None
    shape = np.shape(trace.z)
    name = plain_text(trace.name) or "shading"
    size = f" over a {shape[1]} by {shape[0]} grid" if len(shape) == 2 else ""
    return f"{name}: values from {number(np.nanmin(z))} to {number(np.nanmax(z))}{size}"


def _table(fig, traces, many_axes: bool = False) -> tuple:
    """(columns, rows, note): one row per x where every line shares its x; else one row per point."""
    lines = [t for t in traces if _numeric(t.y) is not None and _numeric(t.x) is not None
             and len(_numeric(t.x)) == len(_numeric(t.y))]
    if not lines:
        return [], [], ""
    xs = [_numeric(t.x) for t in lines]
    names = [_trace_name(fig, t, many_axes) for t in lines]
    x_title = _axis_title(fig, lines[0], "x")
    if all(len(x) == len(xs[0]) and np.array_equal(x, xs[0], equal_nan=True) for x in xs):
        index = sample(len(xs[0]))
        rows = [[float(xs[0][i])] + [float(_numeric(t.y)[i]) for t in lines] for i in index]
        note = f"{len(index)} of {len(xs[0])} points, evenly spread." if len(index) < len(xs[0]) else ""
        return [x_title] + names, rows, note
    each = max(3, TABLE_ROWS // len(lines))
    rows, cut = [], False
    for name, t, x in zip(names, lines, xs):
        y = _numeric(t.y)
        index = sample(len(x), each)
        cut |= len(index) < len(x)
        rows += [[name, float(x[i]), float(y[i])] for i in index]
    return ["line", x_title, "value"], rows, (f"At most {each} points per line, evenly spread." if cut else "")


def describe(fig) -> Speech:
    """Any Plotly figure in words, from the numbers its traces hold: each line's first and last
    value with its lowest and highest, each shaded grid's range, or a placeholder's sentence."""
    name = _name(fig)
    traces = [t for t in fig.data if getattr(t, "visible", True) is not False]
    many_axes = len({getattr(t, "yaxis", None) or "y" for t in traces}) > 1
    said, grids = [], []
    for t in traces:
        if t.type in ("heatmap", "contour", "surface"):
            words = _grid_words(t)
            if words:
                grids.append(words)
        elif t.type in ("scatter", "scattergl", "bar", "box", "histogram"):
            if t.type == "scatter" and getattr(t, "showlegend", None) is False and (t.opacity or 1) < 1:
                continue                     # a faint copy under a bold line: the bold line speaks for it
            words = _line_words(fig, t, many_axes)
            if words:
                said.append(words)
    parts = said[:MOST_TRACES] + grids
    if len(said) > MOST_TRACES:
        parts.append(f"and {counted(len(said) - MOST_TRACES, 'more line')}")
    if not parts:
        texts = [plain_text(a.text) for a in fig.layout.annotations if plain_text(a.text)]
        sentence = (f"{name}: " + ("; ".join(texts) if texts else "nothing drawn")).rstrip(".") + "."
        return Speech(name, sentence)
    frames = f" It has {len(fig.frames)} frames to step through; this describes the one shown first." \
        if fig.frames else ""
    y_title = "" if many_axes or not traces else f"Y axis: {_axis_title(fig, traces[0], 'y')}. "
    stop = "" if name[-1:] in ".?!" else "."
    sentence = f"{name}{stop} {y_title}" + "; ".join(parts) + "." + frames
    columns, rows, note = _table(fig, traces, many_axes)
    return Speech(name, sentence, columns, rows, note)


# ------------------------------------------------------------- a lesson's spread over seeds


def spread_sentence(groups: dict, label: str, log: bool = False) -> str:
    """A lesson's strip chart in words: per group, over how many seeds, its median and its range.

    groups: {name: (n,) values, NaN for a seed with no value}; label: the measure."""
    parts = []
    for name, values in groups.items():
        values = np.asarray(values, dtype=float).ravel()
        ok = values[np.isfinite(values) & ((values > 0) if log else True)]
        if not len(ok):
            parts.append(f"{name}: no value in {counted(len(values), 'seed')}")
            continue
        missing = f", {len(values) - len(ok)} without a value" if len(ok) < len(values) else ""
        parts.append(f"{name}: median {number(np.median(ok))} over {counted(len(ok), 'seed')}, from {number(ok.min())} "
                     f"to {number(ok.max())}{missing}")
    return f"{plain_text(label)}. " + "; ".join(parts) + "."


def by_batch_size_sentence(sizes, series: dict, label: str, log: bool = False) -> str:
    """A measure against batch size in words: per series, its median over seeds at each batch size.

    sizes: (S,) batch sizes; series: {name: (seeds, S) values, NaN for a seed with no value}."""
    sizes = [int(s) for s in np.asarray(sizes, dtype=float).ravel()]
    parts = []
    for name, values in series.items():
        values = np.asarray(values, dtype=float).reshape(-1, len(sizes))
        cells = []
        for j, size in enumerate(sizes):
            ok = values[:, j][np.isfinite(values[:, j]) & ((values[:, j] > 0) if log else True)]
            cells.append(f"{number(np.median(ok))} at {size}" if len(ok) else f"no value at {size}")
        parts.append(f"{name}: median " + ", ".join(cells))
    return f"{plain_text(label)} against batch size. " + "; ".join(parts) + "."


# ------------------------------------------------------------- the training view


def watch_panel_sentences(view, name: str, label: str) -> list:
    """A sentence for each of the training view's five panels of one run, from its WatchRun
    (bnviz.watch): [loss, loss surface, input to the activation, running statistics, P(label)].
    name: the run's row label ("A · BN on"); label: the data's label name, as typed."""
    v = view
    first, last = finite_ends(v.curve_smooth)
    loss = (f"Loss, {name}: the mini-batch loss (mean over one epoch) {_trend(first, last)} from "
            f"{number(first)} to {number(last)} over {counted(v.n_steps, 'step')}.")
    if v.plane is None:
        surface = f"Loss surface, {name}: the weights left the finite range, so there is no surface."
    else:
        grid = np.asarray(v.plane.loss, dtype=float)
        ok = grid[np.isfinite(grid)]
        surface = (f"Loss surface and path, {name}: on the plane through the path the loss ranges from "
                   f"{number(ok.min()) if len(ok) else 'n/a'} to {number(ok.max()) if len(ok) else 'n/a'}; "
                   f"the path has {len(v.states)} points.")
    med0, med1 = finite_ends(v.percentiles[:, 1])
    low, high = v.percentiles[-1, 0], v.percentiles[-1, 2]
    stage = "BN output" if v.stage == "bn" else "Dense output z"
    hist = (f"Input to the activation ({stage}, layer {v.layer}, unit {v.unit + 1}), {name}: the median moves "
            f"from {number(med0)} to {number(med1)}; at the end the middle 70% of rows lie between "
            f"{number(low)} and {number(high)}.")
    if v.running_mean is None:
        running = (f"Running μ and σ², {name}: no BN, so nothing runs; the exact mean ends at "
                   f"{number(finite_ends(v.exact_mean)[1])} and the variance at "
                   f"{number(finite_ends(v.exact_var)[1])}.")
    else:
        running = (f"Running μ and σ², {name}: the running mean ends at {number(finite_ends(v.running_mean)[1])} "
                   f"(exact {number(finite_ends(v.exact_mean)[1])}), the running variance at "
                   f"{number(finite_ends(v.running_var)[1])} (exact {number(finite_ends(v.exact_var)[1])}).")
    if v.prob is None:          # no two-feature plane: the panel follows held-out accuracy instead
        first_acc, last_acc = finite_ends(v.accuracy)
        boundary = (f"{v.accuracy_split.capitalize()} accuracy, {name}: in evaluation mode it goes from "
                    f"{first_acc:.0%} to {last_acc:.0%} over {counted(v.n_steps, 'step')}.")
        return [loss, surface, hist, running, boundary]
    prob = np.asarray(v.prob[-1], dtype=float)
    share = float(np.mean(prob[np.isfinite(prob)] > 0.5)) if np.isfinite(prob).any() else float("nan")
    boundary = (f"P({label}), {name}: at the last step the network gives P({label}) above 0.5 on "
                f"{share:.0%} of the plane of the two features.")
    return [loss, surface, hist, running, boundary]


def watch_table(views: list, names: list) -> Speech:
    """The training view's numbers as a table: one row per frame (at most TABLE_ROWS, spread evenly)
    with each run's mini-batch loss, the median of the watched unit's input to its activation, its
    running mean (BN only) and its exact mean. views: [WatchRun]; names: each run's row label."""
    master = max(views, key=lambda v: v.states[-1])
    index = sample(len(master.states))
    columns = ["step"]
    for name, v in zip(names, views):
        columns += [f"{name}: mini-batch loss", f"{name}: median input"]
        if v.running_mean is not None:
            columns.append(f"{name}: running mean")
        columns.append(f"{name}: exact mean")
    rows = []
    for i in index:
        step = int(master.states[i])
        row = [step]
        for v in views:
            f = int(np.searchsorted(v.states, step, side="right") - 1)     # its last state at or before step
            row += [v.loss_at[f], v.percentiles[f, 1]]
            if v.running_mean is not None:
                row.append(v.running_mean[f])
            row.append(v.exact_mean[f])
        # None where there is no number (the loss before the first step): the spec travels as JSON
        rows.append([step] + [float(x) if np.isfinite(x) else None for x in row[1:]])
    note = (f"{len(index)} of the view's {len(master.states)} frames, evenly spread."
            if len(index) < len(master.states) else "")
    return Speech("Watch it train", "", columns, rows, note)
