"""Watch it train: the shared-clock view as Plotly panels plus per-frame arrays.

``watch_spec`` turns the engine's ``WatchRun``s (bnviz.watch) into what the
page's player draws: for each run, five Plotly figures (data and layout) in
their first frame, and the arrays that later frames restyle them with. Arrays
travel as base64 (float32, or uint8 for probabilities) to keep a default pair
of runs well under 2 MB.
"""
from __future__ import annotations

import base64
import hashlib

import numpy as np

from ..watch import WatchRun
from .common import BLACK, BN_OFF, BN_ON, FONT, GREEN, ORANGE, alpha

PANELS = ("Loss", "Loss surface and path", "Input to the activation", "Running μ and σ²", "P({label})")
_SMALL = dict(family=FONT["family"], size=11)
_AXIS = dict(gridcolor="#E5ECF6", zeroline=False, showline=False, ticks="", automargin=True,
             title=dict(font=dict(size=11), standoff=4), tickfont=dict(size=10))


def f32(values) -> str:
    """float32 array as base64 (NaN kept: a gap in a line; beyond float32's range: infinity)."""
    with np.errstate(over="ignore"):
        return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode()


def u8(values) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode()


def _layout(x_title: str, y_title: str, **extra) -> dict:
    layout = dict(margin=dict(l=44, r=8, t=6, b=34), font=_SMALL, showlegend=False, paper_bgcolor="white",
                  plot_bgcolor="white", xaxis=dict(_AXIS, title=dict(_AXIS["title"], text=x_title)),
                  yaxis=dict(_AXIS, title=dict(_AXIS["title"], text=y_title)), hovermode="closest",
                  dragmode=False)
    layout.update(extra)
    return layout


def _finite_range(*arrays, pad: float = 0.08):
    values = np.concatenate([np.ravel(a) for a in arrays if a is not None])
    values = values[np.isfinite(values)]
    if not len(values):
        return [0.0, 1.0]
    low, high = np.percentile(values, [1, 99]) if len(values) > 50 else (values.min(), values.max())
    span = max(high - low, 1e-6)
    return [float(low - pad * span), float(high + pad * span)]


def _loss_panel(v: WatchRun, colour: str) -> dict:
    y_range = _finite_range(v.curve_loss, v.loss_at)
    y_range[0] = max(y_range[0], 0.0)
    data = [dict(type="scatter", mode="lines", x=v.curve_step.tolist(), y=_rounded(v.curve_loss),
                 line=dict(color=alpha(colour, 0.3), width=1), hoverinfo="skip"),
            dict(type="scatter", mode="lines", x=v.curve_step.tolist(), y=_rounded(v.curve_smooth),
                 line=dict(color=colour, width=2), hovertemplate="step %{x}<br>last-epoch mean %{y:.3f}"
                 "<extra></extra>")]
    return dict(data=data, layout=_layout("step", "mini-batch loss", xaxis=dict(
        _AXIS, title=dict(_AXIS["title"], text="step"), range=[0, max(v.n_steps, 1)]),
        yaxis=dict(_AXIS, title=dict(_AXIS["title"], text="mini-batch loss"), range=y_range)))


def _surface_panel(v: WatchRun, colour: str) -> dict:
    p = v.plane
    if p is None:
        return dict(data=[], layout=_layout("", "", annotations=[dict(
            text="weights left the<br>finite range", x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)],
            xaxis=dict(visible=False), yaxis=dict(visible=False)))
    loss = np.where(np.isfinite(p.loss), p.loss, np.nan)
    top = float(np.nanpercentile(loss, 95)) if np.isfinite(loss).any() else 1.0
    data = [dict(type="contour", x=p.a.tolist(), y=p.b.tolist(), z=_rounded(np.minimum(loss, top)),
                 colorscale="Greys", reversescale=True, showscale=False, ncontours=14, line=dict(width=0.5),
                 contours=dict(coloring="heatmap"), opacity=0.55, hovertemplate="loss %{z:.3f}<extra></extra>")]
    return dict(data=data, layout=_layout(p.a_label, p.b_label,
                xaxis=dict(_AXIS, title=dict(_AXIS["title"], text=p.a_label), range=[float(p.a[0]), float(p.a[-1])]),
                yaxis=dict(_AXIS, title=dict(_AXIS["title"], text=p.b_label), range=[float(p.b[0]), float(p.b[-1])])))


def _histogram_panel(v: WatchRun, colour: str) -> dict:
    centres = (v.edges[:-1] + v.edges[1:]) / 2
    top = float(max(np.nanmax(v.hist) * 1.08, 0.05))
    data = [dict(type="scatter", mode="lines", x=[float(centres[0])], y=[0.0], hoverinfo="skip",
                 line=dict(width=0))]       # axes only: the bars and percentiles move with the clock
    stage = "BN output" if v.stage == "bn" else "Dense output z"
    return dict(data=data, layout=_layout(f"{stage}, unit {v.unit + 1}", "share of rows",
                xaxis=dict(_AXIS, title=dict(_AXIS["title"], text=f"{stage}, unit {v.unit + 1}"),
                           range=[float(v.edges[0]), float(v.edges[-1])]),
                yaxis=dict(_AXIS, title=dict(_AXIS["title"], text="share of rows"), range=[0, top]),
                bargap=0.02))


def _running_panel(v: WatchRun, colour: str) -> dict:
    x_range = [0, max(v.n_steps, 1)]
    exact = dict(color=BLACK, width=1.5, dash="dash")
    data = [dict(type="scatter", mode="lines", x=[], y=[], line=exact, xaxis="x", yaxis="y",
                 hovertemplate="step %{x}<br>exact μ %{y:.4g}<extra></extra>"),
            dict(type="scatter", mode="lines", x=[], y=[], line=exact, xaxis="x2", yaxis="y2",
                 hovertemplate="step %{x}<br>exact σ² %{y:.4g}<extra></extra>")]
    if v.running_mean is not None:
        data += [dict(type="scatter", mode="lines", x=[], y=[], line=dict(color=colour, width=2.5), xaxis="x",
                      yaxis="y", hovertemplate="step %{x}<br>running μ %{y:.4g}<extra></extra>"),
                 dict(type="scatter", mode="lines", x=[], y=[], line=dict(color=colour, width=2.5), xaxis="x2",
                      yaxis="y2", hovertemplate="step %{x}<br>running σ² %{y:.4g}<extra></extra>")]
    layout = _layout("step", "μ", xaxis=dict(_AXIS, range=x_range, showticklabels=False, anchor="y"),
                     xaxis2=dict(_AXIS, range=x_range, anchor="y2", title=dict(_AXIS["title"], text="step")),
                     yaxis=dict(_AXIS, domain=[0.56, 1.0], range=_finite_range(v.exact_mean, v.running_mean),
                                title=dict(_AXIS["title"], text="μ")),
                     yaxis2=dict(_AXIS, domain=[0.0, 0.44], range=_finite_range(v.exact_var, v.running_var),
                                 title=dict(_AXIS["title"], text="σ²")))
    return dict(data=data, layout=layout)


def _boundary_panel(v: WatchRun, data_rows) -> dict:
    X, y, names = data_rows
    traces = []              # P(label) is painted under the axes by the player, frame by frame
    for label, colour in ((0, ORANGE), (1, GREEN)):
        rows = X[y == label]
        traces.append(dict(type="scatter", mode="markers", x=_rounded(rows[:, 0]), y=_rounded(rows[:, 1]),
                           marker=dict(size=4, color=colour, line=dict(color=BLACK, width=0.5)), hoverinfo="skip"))
    return dict(data=traces, layout=_layout(names[0], names[1], plot_bgcolor="rgba(0,0,0,0)",
                paper_bgcolor="rgba(0,0,0,0)",
                xaxis=dict(_AXIS, title=dict(_AXIS["title"], text=names[0]),
                           range=[float(v.grid_x[0]), float(v.grid_x[-1])]),
                yaxis=dict(_AXIS, title=dict(_AXIS["title"], text=names[1]),
                           range=[float(v.grid_y[0]), float(v.grid_y[-1])])))


def _rounded(values, digits: int = 5) -> list:
    """Plain numbers for static traces: NaN and infinities become gaps (null)."""
    values = np.asarray(values, dtype=float)
    out = np.round(values, digits).astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def _frames(v: WatchRun) -> dict:
    path = v.plane.path if v.plane is not None else np.zeros((len(v.states), 2))
    frames = {"states": f32(v.states), "loss": f32(v.loss_at), "path_x": f32(path[:, 0]),
              "path_y": f32(path[:, 1]), "hist": f32(v.hist), "pct": f32(v.percentiles),
              "exact_mean": f32(v.exact_mean), "edges": f32(v.edges), "exact_var": f32(v.exact_var),
              "prob": u8(np.round(np.clip(np.nan_to_num(v.prob, nan=0.5), 0, 1) * 255)),
              "grid": len(v.grid_x), "bins": len(v.edges) - 1}
    if v.running_mean is not None:
        frames["running_mean"], frames["running_var"] = f32(v.running_mean), f32(v.running_var)
    return frames


KEY = ("Grey band: the middle 70% of rows (15th to 85th percentile); black line: the median. Solid: the running "
       "averages BN keeps for test time; dashed: the exact values over the training rows. P({label}): orange 0, "
       "green 1.")


def watch_spec(views: list, names: list, data, autoplay: bool = False, live: bool = False,
               seconds: float = 10.0) -> dict:
    """What the player draws: one entry per run (label, colour, five panels, frame arrays).

    views: [WatchRun]; names: a short label per run ("A · BN on"); data: the
    Dataset (its training rows are drawn under the decision boundary).
    autoplay: start playing once drawn; live: a run still training (the newest
    frame is shown and the clock waits); seconds: one pass at normal speed.
    """
    rows = (data.X_train, np.asarray(data.y_train), tuple(data.feature_names))
    runs = []
    for v, name in zip(views, names):
        if not isinstance(v, WatchRun):
            raise TypeError(f"expected a WatchRun, got {type(v).__name__}")
        colour = BN_ON if v.bn else BN_OFF
        hist = _histogram_panel(v, colour)
        note = f"diverged at step {v.diverged_at:,}" if v.diverged_at is not None else f"{v.n_steps:,} steps"
        if v.running_mean is None:
            note += " · no BN: nothing runs"
        if v.rows_used < v.n_rows:
            note += f" · statistics over {v.rows_used:,} of {v.n_rows:,} rows"
        runs.append(dict(label=name, colour=colour, note=note, frames=_frames(v),
                         grid=[float(v.grid_x[0]), float(v.grid_x[-1]), float(v.grid_y[0]), float(v.grid_y[-1])],
                         running=v.running_mean is not None,
                         panels=[_loss_panel(v, colour), _surface_panel(v, colour), hist,
                                 _running_panel(v, colour), _boundary_panel(v, rows)]))
    digest = hashlib.sha1(repr([(r["label"], r["frames"]["loss"], r["frames"]["states"]) for r in runs])
                          .encode()).hexdigest()[:12]
    panels = [title.format(label=data.label_name) for title in PANELS]
    return dict(id=digest, panels=panels, runs=runs, key=KEY.format(label=data.label_name),
                autoplay=bool(autoplay), live=bool(live), seconds=float(seconds))
