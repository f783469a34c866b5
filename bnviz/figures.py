"""Plotly figures of the lab, each built from a Run (and a Dataset or a second Run).

Builders never touch the model: they read a Run's arrays, or numbers computed
from a Run by ``bnviz.inference`` and ``bnviz.landscape``. One look throughout:
the Okabe-Ito colour-blind-safe palette, BN on always blue and BN off always
vermillion, symbols on the axes, text legible at 1280x720.

Step-dependent figures carry Plotly animation frames and a slider, so scrubbing
through a finished run costs the server nothing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .inference import batch_calculation, decision_grid, one_row_at_a_time
from .landscape import input_scaling, network_plane
from .run import Run
from .running import RunningAverage

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency
BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, YELLOW, BLACK = (
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
BN_ON, BN_OFF = BLUE, VERMILLION
UNIT_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, BLACK, YELLOW)
FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14)
STAGE_NAMES = {
    "z": "z = a·W (+ b), the Dense output",
    "bn": "BN output γ·ẑ + β",
    "act": "activation output g(·)",
    "act_in": "input to the activation",
}
MAX_FRAMES = 40          # frames for heavy replays (a whole probability grid each)
LIGHT_FRAMES = 60        # frames for light ones (a few points or bars each): finer scrubbing

_AXIS = dict(gridcolor="#E5ECF6", zerolinecolor="#C8D4E3", linecolor="#C8D4E3", showline=False, ticks="",
             automargin=True, title=dict(standoff=10))
# A small template of our own: Plotly's "plotly_white" carries defaults for every
# trace type and costs about 10 ms per figure to apply.
TEMPLATE = go.layout.Template(layout=dict(
    paper_bgcolor="white", plot_bgcolor="white", font=FONT, colorway=list(UNIT_COLOURS), xaxis=_AXIS, yaxis=_AXIS,
    hoverlabel=dict(font_size=13), title=dict(font=dict(size=19))))


# --------------------------------------------------------------------- helpers


def run_colour(run: Run) -> str:
    return BN_ON if run.n_bn else BN_OFF


def run_label(run: Run) -> str:
    cfg = run.config
    if not cfg.bn:
        return "BN off"
    return f"BN {cfg.bn_position} {cfg.activation}"


def _pair_labels(run: Run, other: Run | None):
    """Legend names and dash styles for one run or a compared pair."""
    if other is None:
        return [(run, run_label(run), "solid")]
    a, b = run_label(run), run_label(other)
    if a == b:  # the same BN setting: name what differs instead
        diff = [k for k, v in run.config.to_dict().items() if other.config.to_dict()[k] != v]
        a = ", ".join(f"{k}={run.config.to_dict()[k]}" for k in diff[:2]) or a
        b = ", ".join(f"{k}={other.config.to_dict()[k]}" for k in diff[:2]) or b
    return [(run, f"A: {a}", "solid"), (other, f"B: {b}", "dash" if run.n_bn == other.n_bn else "solid")]


def _wrap(text: str, width: int = 105) -> str:
    """Break a long subtitle into lines (Plotly does not wrap titles)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + [line])


def _has_subplot_titles(fig) -> bool:
    return any(a.yref == "paper" and a.showarrow is False and a.y is not None and a.y >= 0.99
               for a in fig.layout.annotations)


def _style(fig: go.Figure, title: str, height: int = 440, subtitle: str | None = None,
           legend: str = "bottom") -> go.Figure:
    """The common look. legend: "bottom" (a row under the plot), "right" (a column
    beside it: for figures with a slider underneath) or "none"."""
    text = title if subtitle is None else f"{title}<br><span style='font-size:13px'>{_wrap(subtitle)}</span>"
    layout = dict(template=TEMPLATE, height=height,
                  title=dict(text=text, x=0.01, xanchor="left"),
                  margin=dict(l=70, r=30, t=(95 if subtitle else 60) + (34 if _has_subplot_titles(fig) else 0)
                              + 24 * _wrap(subtitle or "").count("<br>"), b=70))
    if legend == "bottom":
        layout["legend"] = dict(orientation="h", x=0.0, xanchor="left", y=0.0, yref="container",
                                yanchor="bottom", font=dict(size=13))
        rows = 1 + sum(1 for t in fig.data if t.showlegend is not False) // 4
        layout["margin"]["b"] = 80 + 22 * rows
        layout["height"] = height + 22 * rows
    elif legend == "right":
        layout["legend"] = dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top", font=dict(size=13))
    elif legend == "top":  # a row between the subtitle and the plot, clear of colorbars and sliders
        layout["legend"] = dict(orientation="h", x=0.0, xanchor="left", y=1.01, yanchor="bottom", font=dict(size=13))
        layout["margin"]["t"] += 30
    else:
        layout["showlegend"] = False
    fig.update_layout(**layout)
    return fig


def _check_run(run):
    if not isinstance(run, Run):
        raise TypeError(f"expected a Run, got {type(run).__name__}")
    if run.n_steps == 0:
        raise ValueError("this run has no steps to show (it diverged at its first step)")


def _check_layer(run: Run, layer: int, need_bn: bool = False):
    limit = run.n_bn if need_bn else len(run.arch.hidden)
    if need_bn and not run.n_bn:
        raise ValueError("this run has no batch norm layers")
    if not 1 <= layer <= limit:
        raise ValueError(f"layer must be 1 to {limit}, got {layer}")


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` steps (shorter at the start)."""
    values = np.asarray(values, dtype=float)
    window = max(1, int(window))
    csum = np.cumsum(np.r_[0.0, values])
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (csum[idx] - csum[start]) / (idx - start)


def _frame_slider(fig: go.Figure, labels: list, prefix: str = "step ") -> None:
    """A slider (and play button) that shows the figure's frames one by one."""
    steps = [dict(method="animate", label=str(label),
                  args=[[str(label)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                           transition=dict(duration=0))]) for label in labels]
    fig.update_layout(
        sliders=[dict(active=len(steps) - 1, steps=steps, x=0.08, len=0.9, y=-0.06, yanchor="top",
                      currentvalue=dict(prefix=prefix, font=dict(size=13)), pad=dict(t=30))],
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=-0.06, xanchor="left", yanchor="top",
                          pad=dict(t=30, r=10), buttons=[
                              dict(label="▶", method="animate",
                                   args=[None, dict(frame=dict(duration=120, redraw=True), fromcurrent=True,
                                                    transition=dict(duration=0))]),
                              dict(label="❚❚", method="animate",
                                   args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])])
    fig.update_layout(margin=dict(b=140))


def _frame_states(run: Run, count: int = MAX_FRAMES) -> np.ndarray:
    """Up to `count` snapshot states, evenly spread, always with the first and last."""
    snaps = run.snapshot_steps
    picks = np.unique(np.linspace(0, len(snaps) - 1, min(count, len(snaps))).round().astype(int))
    return snaps[picks]


def _diverged_placeholder(run: Run, title: str) -> go.Figure:
    """What to show instead of a picture that needs finite final weights."""
    fig = go.Figure(layout=dict(annotations=[dict(
        text=f"This run diverged at step {run.diverged_at}: its weights left the range where this picture "
             "can be drawn.<br>Lower the learning rate, turn batch norm on, or standardize the inputs.",
        x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=15))]))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, 300, legend="none")


def _mark_divergence(fig, run: Run, row=None, col=None):
    if run.diverged_at is not None:
        kw = dict(row=row, col=col) if row else {}
        fig.add_vline(x=run.diverged_at, line=dict(color=run_colour(run), dash="dot", width=2),
                      annotation_text=f"diverged at step {run.diverged_at}", annotation_position="top left",
                      **kw)


# ----------------------------------------------------------------- 1. curves


def _thin(n: int, most: int = 600) -> np.ndarray:
    """Indices of at most `most` evenly spread steps out of n, the last always among them."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.r_[np.arange(0, n, int(np.ceil(n / most))), n - 1])


def training_curves(run: Run, other: Run | None = None) -> go.Figure:
    """Mini-batch loss per step (faint) with its running mean, per-epoch train and
    test loss and accuracy in evaluation mode; a second run overlaid. Per-step
    lines show at most 600 evenly spread steps, to stay light in the browser."""
    _check_run(run)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("loss (binary cross-entropy)", "accuracy"))
    for r, name, dash in _pair_labels(run, other):
        _check_run(r)
        colour = run_colour(r)
        steps = _thin(r.n_steps)
        fig.add_trace(go.Scatter(x=steps, y=r.train_loss[steps], mode="lines", line=dict(color=colour, width=1),
                                 opacity=0.25, name=f"{name}: mini-batch loss", legendgroup=name,
                                 showlegend=False, hovertemplate="step %{x}<br>batch loss %{y:.4f}"), 1, 1)
        fig.add_trace(go.Scatter(x=steps, y=smooth(r.train_loss, r.steps_per_epoch)[steps], mode="lines",
                                 line=dict(color=colour, width=2.5, dash=dash),
                                 name=f"{name}: batch loss, 1-epoch mean",
                                 legendgroup=name, hovertemplate="step %{x}<br>mean batch loss %{y:.4f}"), 1, 1)
        em = r.epoch_metrics
        for split, symbol, width in (("train", "circle", 1.5), ("test", "diamond", 2.5)):
            for col, what in ((1, "loss"), (2, "acc")):
                fig.add_trace(go.Scatter(
                    x=r.epoch_steps, y=em[f"{split}_{what}_eval"], mode="lines+markers",
                    marker=dict(symbol=symbol, size=5, color=colour), name=f"{name}: {split} (eval mode)",
                    line=dict(color=colour, width=width, dash="dot" if split == "train" else dash),
                    legendgroup=name, showlegend=col == 2,
                    hovertemplate=f"step %{{x}}<br>{split} {what} %{{y:.4f}}"), 1, col)
        _mark_divergence(fig, r, 1, 1)
    fig.update_xaxes(title_text="step (mini-batch updates)")
    fig.update_yaxes(title_text="loss", row=1, col=1, rangemode="tozero")
    accs = np.concatenate([r.epoch_metrics[f"{s}_acc_eval"] for r in (run, other) if r is not None
                           for s in ("train", "test")])
    low = np.nanmin(accs) if np.isfinite(accs).any() else 0.0
    fig.update_yaxes(title_text="accuracy", row=1, col=2, range=[max(0.0, min(low, 0.9) - 0.05), 1.0])
    _cap_loss_axis(fig, run, other)
    return _style(fig, "Training curves", 460, "faint: each mini-batch's loss before its update; "
                  "markers: all train and test rows at epoch ends (BN in evaluation mode)")


def _cap_loss_axis(fig, run, other):
    """Keep the interesting part of the loss visible when one run blows up."""
    values = np.concatenate([r.train_loss for r in (run, other) if r is not None])
    top = np.nanpercentile(values, 99) if len(values) else 1.0
    if np.isfinite(top) and top > 0:
        fig.update_yaxes(range=[0, min(top * 1.15, 10.0)], row=1, col=1)


# ----------------------------------------------------------------- 2. contours


def _contour_levels(loss):
    finite = loss[np.isfinite(loss)]
    if not len(finite):
        return 0.0, 1.0
    low, high = finite.min(), np.percentile(finite, 95)
    return np.log10(max(low, 1e-6)), np.log10(max(high, low * 1.01, 1e-6))


def _loss_colorbar(lo, hi) -> dict:
    """A colorbar for log10(loss) labelled with the loss itself."""
    nice = np.array([0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100])
    ticks = nice[(np.log10(nice) >= lo - 1e-9) & (np.log10(nice) <= hi + 1e-9)]
    if len(ticks) < 3:
        ticks = 10 ** np.linspace(lo, hi, 4)
    return dict(title="loss", tickvals=np.log10(ticks).tolist(), ticktext=[f"{t:.3g}" for t in ticks], len=0.85)


def input_scaling_figure(run: Run, data, lr: float = 0.12, steps: int = 100) -> go.Figure:
    """The notes' picture: one logistic unit's loss over (w_gpa, w_iq) on raw and on
    standardized features, with gradient descent's path at the same lr and steps."""
    raw, std = input_scaling(data, lr, steps)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        f"raw units (centred): stable only for lr < {raw.lr_limit:.3g}",
        f"standardized: stable for lr < {std.lr_limit:.3g}"))
    for col, grid in ((1, raw), (2, std)):
        _contour_panel(fig, grid, col, show_scale=col == 2)
        x, y = (("x", "y"), ("x2", "y2"))[col - 1]
        fig.update_layout({f"yaxis{'' if col == 1 else 2}": dict(scaleanchor=x, scaleratio=1)})
    fig.update_xaxes(title_text=f"w_{data.feature_names[0]}")
    fig.update_yaxes(title_text=f"w_{data.feature_names[1]}")
    return _style(fig, "Why normalize inputs: the same descent on raw and on standardized features", 520,
                  f"{std.note.split(': ', 1)[1]}; equal axis scales show the true shape of the contours")


def _contour_panel(fig, grid, col, show_scale):
    lo, hi = _contour_levels(grid.loss)
    fig.add_trace(go.Contour(
        x=grid.a, y=grid.b, z=np.log10(np.maximum(grid.loss, 1e-12)), colorscale="Viridis", reversescale=True,
        contours=dict(start=lo, end=hi, size=(hi - lo) / 18, coloring="heatmap"), line=dict(width=0.5),
        showscale=show_scale, colorbar=_loss_colorbar(lo, hi), customdata=grid.loss,
        hovertemplate=(f"{grid.a_label} %{{x:.3g}}<br>{grid.b_label} %{{y:.3g}}<br>"
                       "loss %{customdata:.4f}<extra></extra>"),
    ), 1, col)
    fig.add_trace(go.Scatter(x=grid.path[:, 0], y=grid.path[:, 1], mode="lines+markers",
                             line=dict(color="white", width=2), marker=dict(size=4, color=ORANGE),
                             name="gradient descent", showlegend=col == 1,
                             hovertemplate="step %{pointNumber}<br>(%{x:.3g}, %{y:.3g})<extra></extra>"), 1, col)
    fig.add_trace(go.Scatter(x=[grid.optimum[0]], y=[grid.optimum[1]], mode="markers",
                             marker=dict(symbol="star", size=16, color=BLACK, line=dict(color="white", width=1.5)),
                             name="minimum", showlegend=col == 1), 1, col)
    fig.update_xaxes(range=[grid.a[0], grid.a[-1]], row=1, col=col)
    fig.update_yaxes(range=[grid.b[0], grid.b[-1]], row=1, col=col)


def landscape_figure(run: Run, data, directions: str = "pca", size: int = 41) -> go.Figure:
    """The trained network's loss over a plane through its final weights, with the
    training path projected onto it; the slider replays the path."""
    _check_run(run)
    if run.diverged_at is not None:
        return _diverged_placeholder(run, "Loss landscape of the trained network")
    grid = network_plane(run, data, directions, size)
    lo, hi = _contour_levels(grid.loss)
    fig = go.Figure()
    fig.add_trace(go.Contour(
        x=grid.a, y=grid.b, z=np.log10(np.maximum(grid.loss, 1e-12)), colorscale="Viridis", reversescale=True,
        contours=dict(start=lo, end=hi, size=(hi - lo) / 20, coloring="heatmap"), line=dict(width=0.5),
        colorbar=_loss_colorbar(lo, hi), customdata=grid.loss,
        hovertemplate="(%{x:.3g}, %{y:.3g})<br>loss %{customdata:.4f}<extra></extra>"))
    path, n = grid.path, len(grid.path)
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name="training path",
                             line=dict(color="white", width=2), marker=dict(size=4, color=run_colour(run)),
                             customdata=np.c_[grid.path_loss],
                             hovertemplate="(%{x:.3g}, %{y:.3g})<br>loss %{customdata[0]:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[path[0, 0]], y=[path[0, 1]], mode="markers", name="start",
                             marker=dict(symbol="circle-open", size=14, color=ORANGE, line=dict(width=3))))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="final weights",
                             marker=dict(symbol="star", size=16, color=BLACK, line=dict(color="white", width=1.5))))
    picks = np.unique(np.linspace(1, n, min(MAX_FRAMES, n)).round().astype(int))
    states = np.unique(np.linspace(0, run.n_steps, n).round().astype(int))
    fig.frames = [go.Frame(name=str(states[k - 1]), traces=[1],
                           data=[go.Scatter(x=path[:k, 0], y=path[:k, 1])]) for k in picks]
    _frame_slider(fig, [str(states[k - 1]) for k in picks])
    fig.update_xaxes(title_text=grid.a_label)
    fig.update_yaxes(title_text=grid.b_label)
    return _style(fig, "Loss landscape of the trained network", 580, grid.note, legend="top")


# ------------------------------------------------------ 3. internal covariate shift


def _stage_values(run: Run, layer: int, stage: str):
    """(K, rows, units) snapshot values of one stage, or None when the run has no such stage."""
    if stage == "act_in":
        stage = "bn" if run.n_bn and run.arch.bn_position == "before" else "z"
    if stage not in run.snapshots:
        return None
    return run.snapshots[stage][layer - 1]


def activation_heatmap(run: Run, layer: int = 1, stage: str = "act_in", other: Run | None = None,
                       unit: int | None = None, bins: int = 40) -> go.Figure:
    """How one layer's values are distributed over training: a histogram per
    snapshot (step on x, value on y, share of rows as colour); two runs share the bins."""
    _check_run(run)
    _check_layer(run, layer)
    pairs = _pair_labels(run, other)
    values = [(_stage_values(r, layer, stage), name, r) for r, name, _ in pairs]
    values = [(v if unit is None else v[..., unit:unit + 1], name, r) for v, name, r in values if v is not None]
    if not values:
        raise ValueError(f"no run has the stage {stage!r}")
    pooled = np.concatenate([v.ravel() for v, _, _ in values])
    pooled = pooled[np.isfinite(pooled)]
    low, high = (np.percentile(pooled, [0.5, 99.5]) if len(pooled) else (0.0, 1.0))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = make_subplots(rows=len(values), cols=1, shared_xaxes=False, vertical_spacing=0.14,
                        subplot_titles=[name for _, name, _ in values])
    for i, (v, name, r) in enumerate(values, start=1):
        flat = v.reshape(len(v), -1)
        density = np.stack([np.histogram(np.clip(col, low, high), edges)[0] for col in flat], axis=1)
        density = density / np.maximum(density.sum(axis=0, keepdims=True), 1)
        fig.add_trace(go.Heatmap(x=r.snapshot_steps, y=centres, z=density, colorscale="Blues" if r.n_bn else "Oranges",
                                 zmin=0, zmax=max(float(np.percentile(density, 99)), 1e-9),
                                 colorbar=dict(title="share<br>of rows", len=0.8 / len(values),
                                               y=1 - (i - 0.5) / len(values)),
                                 hovertemplate="step %{x}<br>value %{y:.3g}<br>share %{z:.3f}<extra></extra>"), i, 1)
        fig.update_yaxes(title_text="value", range=[low, high], row=i, col=1)
        fig.update_xaxes(title_text="step", row=i, col=1)
    which = "all units" if unit is None else f"unit {unit + 1}"
    return _style(fig, f"Layer {layer}: {STAGE_NAMES.get(stage, stage)} over training ({which})",
                  300 + 220 * len(values), "each column is a histogram over all training rows at that step")


def activation_percentiles(run: Run, layer: int = 1, unit: int = 0, stage: str = "act_in",
                           other: Run | None = None) -> go.Figure:
    """The 15th, 50th and 85th percentiles of one unit's values over training, as in
    Ioffe & Szegedy's Figure 1; with and without BN on the same axes."""
    _check_run(run)
    _check_layer(run, layer)
    fig = go.Figure()
    for r, name, dash in _pair_labels(run, other):
        v = _stage_values(r, layer, stage)
        if v is None:
            continue
        if not 0 <= unit < v.shape[-1]:
            raise ValueError(f"unit must be 0 to {v.shape[-1] - 1}, got {unit}")
        with np.errstate(invalid="ignore"):
            p15, p50, p85 = np.percentile(v[..., unit], [15, 50, 85], axis=1)
        colour = run_colour(r)
        x = r.snapshot_steps
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[p85, p15[::-1]], fill="toself", line=dict(width=0),
                                 fillcolor=_alpha(colour, 0.18), name=f"{name}: 15th–85th percentile",
                                 legendgroup=name, hoverinfo="skip"))
        for values, label, width in ((p15, "15th", 1), (p50, "median", 2.5), (p85, "85th", 1)):
            fig.add_trace(go.Scatter(x=x, y=values, mode="lines", line=dict(color=colour, width=width, dash=dash),
                                     name=f"{name}: {label}", legendgroup=name, showlegend=label == "median",
                                     hovertemplate=f"step %{{x}}<br>{label} percentile %{{y:.3g}}<extra></extra>"))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text=f"{STAGE_NAMES.get(stage, stage)}")
    return _style(fig, f"Layer {layer}, unit {unit + 1}: how its input distribution moves", 440,
                  "15th, 50th and 85th percentiles over all training rows (Ioffe & Szegedy 2015, Figure 1)")


def _alpha(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def activation_histogram_replay(run: Run, layer: int = 1, stage: str = "act_in", other: Run | None = None,
                                bins: int = 40) -> go.Figure:
    """One histogram of the layer's values, replayed over training with a slider."""
    _check_run(run)
    _check_layer(run, layer)
    pairs = [(r, name, _stage_values(r, layer, stage)) for r, name, _ in _pair_labels(run, other)]
    pairs = [(r, name, v) for r, name, v in pairs if v is not None]
    pooled = np.concatenate([v.ravel() for _, _, v in pairs])
    pooled = pooled[np.isfinite(pooled)]
    low, high = np.percentile(pooled, [0.5, 99.5]) if len(pooled) else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    frames_at = _frame_states(run, LIGHT_FRAMES)

    def bars(r, v, state):
        i = int(np.argmin(np.abs(r.snapshot_steps - state)))
        counts = np.histogram(np.clip(v[i].ravel(), low, high), edges)[0]
        return counts / max(counts.sum(), 1)

    fig = go.Figure()
    for r, name, v in pairs:
        fig.add_trace(go.Bar(x=centres, y=bars(r, v, frames_at[-1]), width=width, name=name,
                             marker_color=run_colour(r), opacity=0.6,
                             hovertemplate="value %{x:.3g}<br>share %{y:.3f}<extra></extra>"))
    fig.frames = [go.Frame(name=str(t), data=[go.Bar(y=bars(r, v, t)) for r, _, v in pairs],
                           traces=list(range(len(pairs)))) for t in frames_at]
    _frame_slider(fig, [str(t) for t in frames_at])
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text=STAGE_NAMES.get(stage, stage), range=[low, high])
    fig.update_yaxes(title_text="share of training rows")
    return _style(fig, f"Layer {layer}: the distribution at one step", 460, "drag the slider to replay training",
                  legend="right")


# ------------------------------------------------------------ 4. running statistics


def running_stats_figure(run: Run, layer: int = 1, unit: int = 0) -> go.Figure:
    """One BN unit: batch statistics (dots), the running averages, the cumulative
    average as the alternative, and the exact full-data statistics they estimate."""
    _check_run(run)
    _check_layer(run, layer, need_bn=True)
    k = layer - 1
    if not 0 <= unit < run.running_mean[k].shape[1]:
        raise ValueError(f"unit must be 0 to {run.running_mean[k].shape[1] - 1}, got {unit}")
    steps = np.arange(1, run.n_steps + 1)
    cfg = run.config
    cumulative = RunningAverage(np.array([False, True]), cfg.bn_momentum, "cumulative", cfg.running_var).series(
        np.stack([run.batch_mean[k][:, unit], run.batch_var[k][:, unit]], axis=1),
        [len(r) for r in run.batch_indices], np.array([0.0, 1.0]))
    rule = (f"EWMA, m = {cfg.bn_momentum:g}" if cfg.running_avg == "ewma" else "cumulative average")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.09,
                        subplot_titles=("mean: μ_B and the running μ",
                                        f"variance: σ²_B (biased) and the running σ² ({cfg.running_var})"))
    for row, batch, running, exact, alt, symbol in (
            (1, run.batch_mean[k][:, unit], run.running_mean[k][:, unit], run.population_mean[k][:, unit],
             cumulative[:, 0], "μ"),
            (2, run.batch_var[k][:, unit], run.running_var[k][:, unit], run.population_var[k][:, unit],
             cumulative[:, 1], "σ²")):
        fig.add_trace(go.Scatter(x=steps, y=batch, mode="markers", marker=dict(size=3, color=SKY, opacity=0.45),
                                   name="mini-batch statistic", showlegend=row == 1, legendgroup="batch",
                                   hovertemplate=f"step %{{x}}<br>{symbol}_B %{{y:.4g}}<extra></extra>"), row, 1)
        fig.add_trace(go.Scatter(x=steps, y=running, mode="lines", line=dict(color=BLUE, width=2.5),
                                 name=f"running ({rule})", showlegend=row == 1, legendgroup="running",
                                 hovertemplate=f"step %{{x}}<br>running {symbol} %{{y:.4g}}<extra></extra>"), row, 1)
        if cfg.running_avg == "ewma":
            fig.add_trace(go.Scatter(x=steps, y=alt, mode="lines", line=dict(color=GREEN, width=2, dash="dot"),
                                     name="alternative: cumulative average", showlegend=row == 1,
                                     legendgroup="cumulative",
                                     hovertemplate=f"step %{{x}}<br>cumulative {symbol} %{{y:.4g}}<extra></extra>"),
                          row, 1)
        fig.add_trace(go.Scatter(x=run.snapshot_steps, y=exact, mode="lines",
                                 line=dict(color=BLACK, width=2, dash="dash"),
                                 name="exact, over all training rows", showlegend=row == 1, legendgroup="exact",
                                 hovertemplate=f"step %{{x}}<br>exact {symbol} %{{y:.4g}}<extra></extra>"), row, 1)
        low, high = np.nanpercentile(np.r_[running, exact, batch], [1, 99])
        pad = (high - low) * 0.1 + 1e-9
        fig.update_yaxes(range=[low - pad, high + pad], row=row, col=1)
    settled = run.settled_step(k)
    if settled is not None:
        fig.add_vline(x=settled, line=dict(color=GREEN, dash="dot"), annotation_text=f"within 5% from step {settled}")
    marker_states = _frame_states(run, LIGHT_FRAMES)
    fig.add_trace(go.Scatter(x=[run.n_steps], y=[run.running_mean[k][-1, unit]], mode="markers",
                             marker=dict(size=12, color=ORANGE, line=dict(color=BLACK, width=1)), name="replay",
                             showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(x=[run.n_steps], y=[run.running_var[k][-1, unit]], mode="markers",
                             marker=dict(size=12, color=ORANGE, line=dict(color=BLACK, width=1)), showlegend=False),
                  2, 1)
    n = len(fig.data)
    fig.frames = [go.Frame(name=str(t), traces=[n - 2, n - 1], data=[
        go.Scatter(x=[max(t, 1)], y=[run.running_mean[k][max(t, 1) - 1, unit]]),
        go.Scatter(x=[max(t, 1)], y=[run.running_var[k][max(t, 1) - 1, unit]])]) for t in marker_states]
    _frame_slider(fig, [str(t) for t in marker_states])
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_yaxes(title_text="μ", row=1, col=1)
    fig.update_yaxes(title_text="σ²", row=2, col=1)
    return _style(fig, f"BN layer {layer}, unit {unit + 1}: running statistics against the exact ones", 640,
                  "running averages start at μ = 0, σ² = 1 and lag the statistics they estimate", legend="right")


def running_gap_figure(run: Run, layer: int = 1) -> go.Figure:
    """|running − exact| for every unit of one BN layer on a log axis, with the 5% line."""
    _check_run(run)
    _check_layer(run, layer, need_bn=True)
    states, mean_gap, var_gap = run.running_gap(layer - 1)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        "|running μ − exact μ| / exact σ", "|running σ² − exact σ²| / exact σ²"))
    for col, gap in ((1, mean_gap), (2, var_gap)):
        for u in range(gap.shape[1]):
            fig.add_trace(go.Scatter(x=states, y=np.maximum(gap[:, u], 1e-6), mode="lines",
                                     line=dict(color=UNIT_COLOURS[u % len(UNIT_COLOURS)], width=2),
                                     name=f"unit {u + 1}", legendgroup=f"u{u}", showlegend=col == 1,
                                     hovertemplate="step %{x}<br>gap %{y:.2%}<extra></extra>"), 1, col)
        fig.add_hline(y=0.05, line=dict(color=BLACK, dash="dash"), row=1, col=col)
    settled = run.settled_step(layer - 1)
    note = (f"every unit stays within 5% from step {settled}" if settled is not None else
            "not within 5% by the end: a biased running σ² settles near (n−1)/n of the exact one, and later "
            "layers see noisier inputs in mini-batches than in the full-data pass")
    ticks = [1e-4, 1e-3, 1e-2, 0.05, 0.1, 1.0, 10.0, 100.0]
    fig.update_yaxes(type="log", title_text="relative gap", tickvals=ticks,
                     ticktext=["0.01%", "0.1%", "1%", "5%", "10%", "100%", "1000%", "10⁴%"])
    fig.update_xaxes(title_text="step")
    return _style(fig, f"BN layer {layer}: how far the running statistics are from the exact ones", 460,
                  f"dashed line: 5%; {note}")


# ----------------------------------------------------------------- 5. test time


def test_time_figure(run: Run, data) -> go.Figure:
    """Test accuracy per epoch three ways: BN with running statistics, with the test
    set's own batch statistics, and one row at a time with its own statistics."""
    _check_run(run)
    em = run.epoch_metrics
    single = one_row_at_a_time(run, data, run.epoch_steps) if run.n_bn else em["test_acc_eval"]
    fig = go.Figure()
    for y, name, colour, dash in ((em["test_acc_eval"], "running statistics (evaluation mode)", BLUE, "solid"),
                                  (em["test_acc_batch"], "the whole test set as one batch", GREEN, "dash"),
                                  (single, "one student at a time, own batch statistics", VERMILLION, "dot")):
        fig.add_trace(go.Scatter(x=run.epoch_steps, y=y, mode="lines+markers", name=name,
                                 line=dict(color=colour, width=2.5, dash=dash), marker=dict(size=5),
                                 hovertemplate="step %{x}<br>test accuracy %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="test accuracy", range=[0, 1.02])
    sub = ("a lone row's batch mean is itself, so BN outputs β for every student: one answer for all"
           if run.n_bn else "without BN the three ways agree")
    return _style(fig, "At test time: which statistics normalize?", 440, sub)


def decision_boundary_figure(run: Run, data, size: int = 40, frames: int = 25) -> go.Figure:
    """P(placed) over the raw feature plane in evaluation mode, with the 0.5 boundary,
    training (circles) and test (crosses) students; the slider replays training."""
    _check_run(run)
    if run.diverged_at is not None:
        return _diverged_placeholder(run, "Decision boundary")
    states = _frame_states(run, frames)
    grid = decision_grid(run, data, states, size)
    prob = grid.prob.astype(np.float32)  # probabilities to 7 digits: half the payload of every frame
    names = data.feature_names
    fig = go.Figure()
    last = prob[-1]
    fig.add_trace(go.Contour(x=grid.x, y=grid.y, z=last, zmin=0, zmax=1, colorscale="RdBu", reversescale=False,
                             contours=dict(start=0.0, end=1.0, size=0.1), line=dict(width=0.5),
                             colorbar=dict(title="P(placed)"), opacity=0.8,
                             hovertemplate=(f"{names[0]} %{{x:.3g}}<br>{names[1]} %{{y:.3g}}<br>"
                                            "P %{z:.2f}<extra></extra>")))
    fig.add_trace(go.Contour(x=grid.x, y=grid.y, z=last, showscale=False, contours=dict(
        start=0.5, end=0.5, size=1, coloring="none"), line=dict(color=BLACK, width=3), name="P = 0.5",
        hoverinfo="skip"))
    for split, X, y, symbol in (("train", data.X_train, data.y_train, "circle"),
                                ("test", data.X_test, data.y_test, "x")):
        for cls, colour in ((0, VERMILLION), (1, BLUE)):
            pick = y == cls
            fig.add_trace(go.Scatter(
                x=X[pick, 0], y=X[pick, 1], mode="markers", name=f"{split}: {_class_name(data, cls)}",
                marker=dict(symbol=symbol, size=7 if split == "train" else 9, color=colour,
                            line=dict(color="white", width=1) if split == "train" else dict(width=0)),
                hovertemplate=f"{names[0]} %{{x}}<br>{names[1]} %{{y}}<extra>{split}</extra>"))
    fig.frames = [go.Frame(name=str(t), traces=[0, 1], data=[go.Contour(z=prob[i]), go.Contour(z=prob[i])])
                  for i, t in enumerate(grid.states)]
    _frame_slider(fig, [str(t) for t in grid.states])
    fig.update_xaxes(title_text=names[0], range=[grid.x[0], grid.x[-1]])
    fig.update_yaxes(title_text=names[1], range=[grid.y[0], grid.y[-1]])
    return _style(fig, "Decision boundary over raw " + " and ".join(names), 600,
                  "evaluation mode: BN with the running statistics of each step", legend="top")


def _class_name(data, cls: int) -> str:
    value = data.label_values[cls]
    shown = f"{value:g}" if isinstance(value, (float, int, np.floating, np.integer)) else str(value)
    return f"{data.label_name} = {shown}"


# ----------------------------------------------------------------- 6. parameters


def gamma_beta_figure(run: Run, layer: int = 1) -> go.Figure:
    """γ and β of every unit of one BN layer over training."""
    _check_run(run)
    _check_layer(run, layer, need_bn=True)
    k = layer - 1
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("γ (scale)", "β (shift)"))
    steps = np.arange(1, run.n_steps + 1)
    for col, values, symbol in ((1, run.gamma[k], "γ"), (2, run.beta[k], "β")):
        for u in range(values.shape[1]):
            fig.add_trace(go.Scatter(x=steps, y=values[:, u], mode="lines", name=f"unit {u + 1}",
                                     line=dict(color=UNIT_COLOURS[u % len(UNIT_COLOURS)], width=2),
                                     legendgroup=f"u{u}", showlegend=col == 1,
                                     hovertemplate=f"step %{{x}}<br>{symbol} %{{y:.4g}}<extra></extra>"), 1, col)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="γ", row=1, col=1)
    fig.update_yaxes(title_text="β", row=1, col=2)
    return _style(fig, f"BN layer {layer}: the learned scale and shift", 420,
                  "γ = √(σ² + ε), β = μ would undo the normalization; training finds its own values")


def gradient_norm_figure(run: Run, other: Run | None = None) -> go.Figure:
    """‖∂L/∂W‖ of every Dense layer per step, on a log axis."""
    _check_run(run)
    fig = go.Figure()
    for r, name, dash in _pair_labels(run, other):
        for l in range(r.grad_norm.shape[1]):
            fig.add_trace(go.Scatter(x=np.arange(r.n_steps), y=smooth(r.grad_norm[:, l], r.steps_per_epoch),
                                       mode="lines", name=f"{name}: W{l + 1}",
                                       line=dict(color=run_colour(r) if other is not None else
                                                 UNIT_COLOURS[l % len(UNIT_COLOURS)], width=2,
                                                 dash=["solid", "dash", "dot", "dashdot", "longdash"][l % 5]),
                                       hovertemplate="step %{x}<br>‖dW‖ %{y:.3g}<extra></extra>"))
    fig.update_yaxes(type="log", title_text="‖∂L/∂W‖ (1-epoch mean)")
    fig.update_xaxes(title_text="step")
    return _style(fig, "Gradient norm per layer", 440,
                  "when gradients vanish, the first layers' norms fall orders of magnitude below the last layer's")


def update_ratio_figure(run: Run, other: Run | None = None) -> go.Figure:
    """log₁₀ of ‖ΔW‖ / ‖W‖ per Dense layer per step (about −3 is a healthy pace)."""
    _check_run(run)
    fig = go.Figure()
    for r, name, dash in _pair_labels(run, other):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log10(r.update_ratio)
        for l in range(ratio.shape[1]):
            fig.add_trace(go.Scatter(x=np.arange(r.n_steps), y=smooth(np.nan_to_num(ratio[:, l], neginf=-12),
                                                                          r.steps_per_epoch),
                                       mode="lines", name=f"{name}: W{l + 1}",
                                       line=dict(color=run_colour(r) if other is not None else
                                                 UNIT_COLOURS[l % len(UNIT_COLOURS)], width=2,
                                                 dash=["solid", "dash", "dot", "dashdot", "longdash"][l % 5]),
                                       hovertemplate="step %{x}<br>log₁₀ ratio %{y:.2f}<extra></extra>"))
    fig.add_hline(y=-3, line=dict(color=BLACK, dash="dash"), annotation_text="10⁻³")
    fig.update_yaxes(title_text="log₁₀ ‖ΔW‖ / ‖W‖ (1-epoch mean)")
    fig.update_xaxes(title_text="step")
    return _style(fig, "How much each step changes the weights", 440, "update-to-weight ratio, per Dense layer")


# ----------------------------------------------------------------- 7. the network


def model_summary(run: Run) -> pd.DataFrame:
    """Keras-style summary: output shape, trainable and non-trainable counts per layer."""
    arch, rows = run.arch, []
    for k in range(1, arch.n_dense + 1):
        width = arch.widths[k]
        W = arch.widths[k - 1] * width
        b = width if arch.has_bias(k) else 0
        last = k == arch.n_dense
        rows.append(dict(layer=f"dense_{k} ({'sigmoid' if last else arch.activation})", output=f"(None, {width})",
                         trainable=W + b, non_trainable=0, holds=f"W{k} ({W})" + (f", b{k} ({b})" if b else "")))
        if arch.bn and not last:
            rows.append(dict(layer=f"batch_norm_{k}", output=f"(None, {width})", trainable=2 * width,
                             non_trainable=2 * width,
                             holds=f"γ{k}, β{k} ({width} each); running μ, σ² ({width} each)"))
    table = pd.DataFrame(rows)
    table["params"] = table["trainable"] + table["non_trainable"]
    total = dict(layer="total", output="", trainable=int(table["trainable"].sum()),
                 non_trainable=int(table["non_trainable"].sum()), holds="", params=int(table["params"].sum()))
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)[
        ["layer", "output", "holds", "trainable", "non_trainable", "params"]]


def network_diagram(run: Run) -> go.Figure:
    """The layers from input to output, each box a Dense, BN or activation step."""
    arch = run.arch
    boxes = [(f"input<br>{', '.join(run.feature_names)}", SKY)]
    for k in range(1, arch.n_dense + 1):
        width = arch.widths[k]
        bias = " + b" if arch.has_bias(k) else ""
        dense = (f"Dense {width}<br>z = a·W{k}{bias}", "#DDDDDD")
        if k == arch.n_dense:
            boxes += [dense, ("sigmoid<br>P(placed)", ORANGE)]
            continue
        bn = (f"BN {width}<br>γ{k}·ẑ + β{k}", BLUE)
        act = (f"{arch.activation}", GREEN)
        boxes += [dense] + ([bn, act] if arch.bn and arch.bn_position == "before" else
                            [act, bn] if arch.bn else [act])
    n = len(boxes)
    shapes = [dict(type="rect", x0=i - 0.42, x1=i + 0.42, y0=-0.5, y1=0.5, fillcolor=_alpha(colour, 0.35),
                   line=dict(color=colour, width=2)) for i, (_, colour) in enumerate(boxes)]
    labels = [dict(x=i, y=0, text=text, showarrow=False, font=dict(size=13)) for i, (text, _) in enumerate(boxes)]
    arrows = [dict(x=i - 0.43, y=0, ax=i - 0.57, ay=0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                   arrowhead=3, arrowsize=1.2, arrowwidth=2, text="") for i in range(1, n)]
    fig = go.Figure(layout=dict(shapes=shapes, annotations=labels + arrows))
    fig.update_xaxes(visible=False, range=[-0.6, n - 0.4])
    fig.update_yaxes(visible=False, range=[-0.8, 0.8])
    counts = model_summary(run).iloc[-1]
    return _style(fig, "The network", 220, f"{counts['trainable']} trainable parameters, "
                  f"{counts['non_trainable']} running statistics (4 numbers per BN unit: γ, β, μ, σ²)",
                  legend="none")


# ------------------------------------------------------------ 8. batch calculator


def batch_table(run: Run, data, step: int, layer: int = 1) -> pd.DataFrame:
    """One mini-batch through one BN layer, row by row and unit by unit: the
    students' raw features, z, μ_B, σ²_B, ẑ, γ·ẑ + β and the activation."""
    calc = batch_calculation(run, data, step, layer)
    rows = []
    names = data.feature_names
    before = run.arch.bn_position == "before"
    for i, row in enumerate(calc.rows):
        for u in range(calc.z.shape[1]):
            entry = {"row": int(row), names[0]: calc.raw[i, 0], names[1]: calc.raw[i, 1], "unit": u + 1,
                     "z": calc.z[i, u]}
            if not before:
                entry["g(z)"] = calc.bn_input[i, u]
            entry.update({"μ_B": calc.mean[u], "σ²_B": calc.var[u], "ẑ": calc.xhat[i, u],
                          "γ": calc.gamma[u], "β": calc.beta[u], "γ·ẑ + β": calc.out[i, u]})
            if before:
                entry[f"{run.arch.activation}(γ·ẑ + β)"] = calc.act[i, u]
            rows.append(entry)
    return pd.DataFrame(rows)


def step_table(run: Run) -> pd.DataFrame:
    """Everything recorded per step, one row per step: the export behind the CSV download."""
    table = {"step": np.arange(run.n_steps), "epoch": np.arange(run.n_steps) // run.steps_per_epoch,
             "batch_loss": run.train_loss, "batch_accuracy": run.train_acc}
    for k in range(run.n_bn):
        for u in range(run.running_mean[k].shape[1]):
            for name, values in (("batch_mean", run.batch_mean), ("batch_var", run.batch_var),
                                 ("running_mean", run.running_mean), ("running_var", run.running_var),
                                 ("gamma", run.gamma), ("beta", run.beta)):
                table[f"bn{k + 1}_unit{u + 1}_{name}"] = values[k][:, u]
    for l in range(run.grad_norm.shape[1]):
        table[f"W{l + 1}_grad_norm"] = run.grad_norm[:, l]
        table[f"W{l + 1}_update_ratio"] = run.update_ratio[:, l]
    return pd.DataFrame(table)


# ----------------------------------------------------------------- 9. sweeps


def sweep_figure(sweep) -> go.Figure:
    """Final test accuracy and training loss across a sweep of lr or init_scale, BN on and off.

    sweep: a bnviz.sweeps.Sweep. Trainings that diverged are marked with a cross.
    """
    label = {"lr": "learning rate", "init_scale": "init scale (multiplier on the initial weights)"}[sweep.field]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("test accuracy at the end (evaluation mode)", "training loss at the end"))
    for bn, name, colour in ((True, "BN on", BN_ON), (False, "BN off", BN_OFF)):
        m, dead = sweep.metrics[bn], sweep.diverged[bn]
        for col, key in ((1, "test_acc_eval"), (2, "train_loss_eval")):
            fig.add_trace(go.Scatter(x=sweep.values, y=m[key], mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=col == 1, line=dict(color=colour, width=2.5),
                                     marker=dict(size=8, color=colour),
                                     hovertemplate=f"{sweep.field} %{{x:.3g}}<br>%{{y:.3f}}<extra>{name}</extra>"),
                          1, col)
            if dead.any():
                fig.add_trace(go.Scatter(x=sweep.values[dead], y=np.full(dead.sum(), 0.02 if col == 1 else None),
                                         mode="markers", name=f"{name}: diverged", legendgroup=name,
                                         showlegend=col == 1, marker=dict(symbol="x", size=12, color=colour)), 1, col)
    fig.update_xaxes(type="log", title_text=label)
    fig.update_yaxes(range=[0, 1.02], title_text="accuracy", row=1, col=1)
    fig.update_yaxes(type="log", title_text="loss", row=1, col=2)
    fig.add_vline(x=getattr(sweep.config, sweep.field), line=dict(color=BLACK, dash="dot"),
                  annotation_text="current setting")
    return _style(fig, f"Sweep of the {label}: {len(sweep.values)} trainings with BN and {len(sweep.values)} without",
                  460, "every training uses the same data, seed and number of epochs; only this number changes")


# ----------------------------------------------------------------- everything


def all_figures(run: Run, data, other: Run | None = None) -> dict:
    """Every chart of a run by name (what the page shows), for checks and exports."""
    figures = {
        "training_curves": training_curves(run, other),
        "input_scaling": input_scaling_figure(run, data),
        "landscape": landscape_figure(run, data),
        "activations": activation_heatmap(run, 1, "act_in", other),
        "percentiles": activation_percentiles(run, len(run.arch.hidden), 0, "act_in", other),
        "histogram_replay": activation_histogram_replay(run, 1, "act_in", other),
        "test_time": test_time_figure(run, data),
        "decision_boundary": decision_boundary_figure(run, data),
        "gradient_norms": gradient_norm_figure(run, other),
        "update_ratios": update_ratio_figure(run, other),
        "network": network_diagram(run),
    }
    if run.n_bn:
        figures["running_stats"] = running_stats_figure(run, run.n_bn, 0)
        figures["running_gap"] = running_gap_figure(run, run.n_bn)
        figures["gamma_beta"] = gamma_beta_figure(run, 1)
    return figures
