"""Watch it train: the shared-clock view as panel drawings plus per-frame arrays.

``watch_spec`` turns the engine's ``WatchRun``s (bnviz.watch) into what the
page's player (bnviz/ui/watch.js) draws: for each run, five panels (axes and
the parts that stay still: curves, shaded surfaces, data points) and the
arrays every frame draws from (markers, paths, histograms, lines up to the
current step, probabilities). Arrays travel as base64 (float32, or uint8 for
shades and probabilities) to keep a default pair of runs well under 2 MB.
"""
from __future__ import annotations

import base64
import hashlib

import numpy as np

from ..visitor_text import plain
from ..watch import WatchRun
from .colours import COLOURS, norm_meaning
from .common import BLACK, alpha, text_colour
from .speech import counted, watch_panel_sentences, watch_table

F32_MAX = 3.0e38
PANELS = ("Loss", "Loss surface and path", "Input to the activation", "Running μ and σ²", "P({label})")


def f32(values) -> str:
    """float32 array as base64; NaN is kept (a gap in a line), and values beyond float32's
    range (a diverging run) are held at its edge, so every number arrives finite or NaN."""
    values = np.clip(np.asarray(values, dtype=float), -F32_MAX, F32_MAX)
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode()


def u8(values) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode()


def _axes(x_range, y_range, x_title: str, y_title: str, low: float = 0.0, high: float = 1.0,
          x_ticks: bool = True) -> dict:
    """One pair of axes of a panel: data ranges, titles, and the share of the panel's height it takes."""
    x_range, y_range = (np.clip(np.nan_to_num(np.asarray(r, dtype=float)), -1e30, 1e30) for r in (x_range, y_range))
    return dict(x=[float(x_range[0]), float(x_range[1])], y=[float(y_range[0]), float(y_range[1])],
                x_title=x_title, y_title=y_title, low=low, high=high, x_ticks=x_ticks)


def _line(x, y, style: dict, axis: int = 0) -> dict:
    return dict(kind="line", axis=axis, x=f32(x), y=f32(y), style=style)


def _image(values, grid, palette: str) -> dict:
    """A grid of values in [0, 1] (rows bottom-up) painted over the plot area between its first and last points."""
    values = np.clip(np.nan_to_num(np.asarray(values, dtype=float), nan=1.0), 0.0, 1.0)
    return dict(kind="image", axis=0, grid=[float(g) for g in grid], size=[values.shape[1], values.shape[0]],
                values=u8(np.round(values * 255)), palette=palette)


def _finite_range(*arrays, pad: float = 0.08):
    values = np.concatenate([np.ravel(a) for a in arrays if a is not None])
    values = values[np.isfinite(values)]
    if not len(values):
        return [0.0, 1.0]
    low, high = np.percentile(values, [1, 99]) if len(values) > 50 else (values.min(), values.max())
    span = max(high - low, 1e-6)
    return [float(low - pad * span), float(high + pad * span)]


def _loss_panel(v: WatchRun, colour: str, span: int) -> dict:
    y_range = _finite_range(v.curve_loss, v.loss_at)
    y_range[0] = max(y_range[0], 0.0)
    start = v.curve_loss[:3][np.isfinite(v.curve_loss[:3])]
    if len(start):              # an exploding loss leaves through the top instead of flattening the rest
        y_range[1] = min(y_range[1], 10 * max(float(np.median(start)), 0.7))
    return dict(axes=[_axes([0, span], y_range, "step", "mini-batch loss")],
                items=[_line(v.curve_step, v.curve_loss, {"stroke": alpha(colour, 0.3), "stroke-width": 1}),
                       _line(v.curve_step, v.curve_smooth, {"stroke": colour, "stroke-width": 2})])


def _surface_panel(v: WatchRun, colour: str) -> dict:
    p = v.plane
    if p is None:
        return dict(axes=[], items=[], message="The weights left the finite range: no surface to draw.")
    loss = np.where(np.isfinite(p.loss), p.loss, np.nan)
    low, top = (np.nanmin(loss), np.nanpercentile(loss, 95)) if np.isfinite(loss).any() else (0.0, 1.0)
    # banded shades, dark for low loss and light for high: contours without the cost of contour lines
    with np.errstate(invalid="ignore"):
        levels = np.floor(np.clip((loss - low) / max(top - low, 1e-12), 0, 1) * 12) / 12
    grid = [p.a[0], p.a[-1], p.b[0], p.b[-1]]
    return dict(axes=[_axes(grid[:2], grid[2:], p.a_label, p.b_label)], items=[_image(levels, grid, "grey")])


def _histogram_panel(v: WatchRun) -> dict:
    top = float(max(np.nanmax(v.hist) * 1.08, 0.05))
    stage = ("layer-norm output" if v.norm == "layer" else "BN output") if v.stage == "bn" else "Dense output z"
    return dict(axes=[_axes(v.edges[[0, -1]], [0, top], f"{stage}, unit {v.unit + 1}", "share of rows")],
                items=[])


def _running_panel(v: WatchRun, span: int) -> dict:
    x_range = [0, span]
    return dict(axes=[_axes(x_range, _finite_range(v.exact_mean, v.running_mean), "", "μ", 0.56, 1.0, False),
                      _axes(x_range, _finite_range(v.exact_var, v.running_var), "step", "σ²", 0.0, 0.44)],
                items=[])


def _accuracy_panel(v: WatchRun, span: int) -> dict:
    """For data off the two-feature plane: the accuracy in evaluation mode up to the current frame."""
    return dict(axes=[_axes([0, span], [0, 1], "step", f"{v.accuracy_split} accuracy")], items=[])


def _boundary_panel(v: WatchRun, data_rows, span: int = 1) -> dict:
    if v.prob is None:
        return _accuracy_panel(v, span)
    X, y, names = data_rows
    items = []                 # P(label) is painted under the points by the player, frame by frame
    for label in (0, 1):
        colour, rows = COLOURS[f"class {label}"].hex, X[y == label]
        items.append(dict(kind="points", axis=0, x=f32(rows[:, 0]), y=f32(rows[:, 1]), r=2.2,
                          style={"fill": colour, "stroke": BLACK, "stroke-width": 0.4}))
    return dict(axes=[_axes(v.grid_x[[0, -1]], v.grid_y[[0, -1]], plain(names[0]), plain(names[1]))], items=items)


def _frames(v: WatchRun) -> dict:
    path = v.plane.path if v.plane is not None else np.zeros((len(v.states), 2))
    frames = {"states": f32(v.states), "loss": f32(v.loss_at), "path_x": f32(path[:, 0]),
              "path_y": f32(path[:, 1]), "hist": f32(v.hist), "pct": f32(v.percentiles),
              "exact_mean": f32(v.exact_mean), "edges": f32(v.edges), "exact_var": f32(v.exact_var),
              "bins": len(v.edges) - 1}
    if v.prob is not None:
        frames["prob"] = u8(np.round(np.clip(np.nan_to_num(v.prob, nan=0.5), 0, 1) * 255))
        frames["grid"] = len(v.grid_x)
    else:
        frames["accuracy"], frames["grid"] = f32(v.accuracy), 0
    if v.running_mean is not None:
        frames["running_mean"], frames["running_var"] = f32(v.running_mean), f32(v.running_var)
    return frames


SHARED_PANELS = (0, 2, 3)    # loss, input to the activation, running statistics: one quantity in both runs


def share_y_ranges(runs: list) -> None:
    """Give runs A and B one y-range on every panel where both measure the same thing (in place), so the
    eye compares like with like. The loss surface (each run's own plane) and P(label) (over the
    feature plane, already shared) keep their own."""
    for i in SHARED_PANELS:
        panels = [r["panels"][i] for r in runs]
        if len(panels) < 2 or len({len(p["axes"]) for p in panels}) != 1:
            continue
        for j in range(len(panels[0]["axes"])):
            axes = [p["axes"][j] for p in panels]
            low, high = min(a["y"][0] for a in axes), max(a["y"][1] for a in axes)
            for a in axes:
                a["y"] = [low, high]


# the player paints P(label) from class 0's colour through white to class 1's (bnviz/ui/watch.js, PALETTES.prob)
KEY = ("Grey band: the middle 70% of rows (15th to 85th percentile); black line: the median. Solid: the running "
       "averages BN keeps for test time; dashed: the exact values over the training rows. P({label}): "
       f"{COLOURS['class 0'].name} 0, {COLOURS['class 1'].name} 1.")


def watch_spec(views: list, names: list, data, autoplay: bool = False, live: bool = False,
               seconds: float = 10.0, planned_steps: int = 0) -> dict:
    """What the player draws: one entry per run (label, colour, five panels, frame arrays).

    views: [WatchRun]; names: a short label per run ("A · BN on"); data: the
    Dataset (its training rows are drawn under the decision boundary).
    autoplay: start playing once drawn; live: a run still training (the newest
    frame is shown and the clock waits); seconds: one pass at normal speed;
    planned_steps: the steps a run still training will take (its step axes span them).
    """
    span = max([planned_steps, 1] + [v.n_steps for v in views])
    rows = (data.X_train, np.asarray(data.y_train), tuple(data.feature_names))
    label = plain(data.label_name)          # the player sets every text as textContent; the key is Markdown
    runs = []
    for v, name in zip(views, names):
        if not isinstance(v, WatchRun):
            raise TypeError(f"expected a WatchRun, got {type(v).__name__}")
        colour = norm_meaning(v.norm).hex          # a layer-norm run in layer norm's colour, as in every chart
        note = f"diverged at step {v.diverged_at:,}" if v.diverged_at is not None else counted(v.n_steps, "step")
        if v.running_mean is None:
            note += " · no BN: nothing runs"
        if v.rows_used < v.n_rows:
            note += f" · histogram over {v.rows_used:,} of {v.n_rows:,} rows, exact statistics over all"
        panels = [_loss_panel(v, colour, span), _surface_panel(v, colour), _histogram_panel(v),
                  _running_panel(v, span), _boundary_panel(v, rows, span)]
        for panel, said in zip(panels, watch_panel_sentences(v, name, label)):
            panel["said"] = said            # the panel's accessible name: what it shows, in numbers
        runs.append(dict(label=name, colour=colour, ink=text_colour(colour), note=note, frames=_frames(v),
                         grid=[0.0, 0.0, 0.0, 0.0] if v.grid_x is None else
                         [float(v.grid_x[0]), float(v.grid_x[-1]), float(v.grid_y[0]), float(v.grid_y[-1])],
                         running=v.running_mean is not None, panels=panels))
    share_y_ranges(runs)
    digest = hashlib.sha1(repr([(r["label"], r["frames"]["loss"], r["frames"]["states"]) for r in runs])
                          .encode()).hexdigest()[:12]
    panels = [title.format(label=label) for title in PANELS]
    key = KEY.format(label=label)
    if views and views[0].prob is None:           # off the two-feature plane: the last panel follows accuracy
        split = views[0].accuracy_split
        panels[-1] = f"{split.capitalize()} accuracy"
        key = key.split(" P(")[0] + (f" {split.capitalize()} accuracy (evaluation mode, running statistics) "
                                     f"stands in for P({label}) over the feature plane, which needs two input "
                                     f"features; this data has {data.n_features}.")
    table = watch_table(views, names)
    return dict(id=digest, panels=panels, runs=runs, key=key,
                classes=[COLOURS["class 0"].hex, COLOURS["class 1"].hex],     # the player's P(label) shades
                table=dict(columns=table.columns, rows=table.rows, note=table.table_note),
                autoplay=bool(autoplay), live=bool(live), seconds=float(seconds), span=int(span))
