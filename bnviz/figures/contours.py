"""Loss contours: input scaling on a logistic unit, and the trained network's loss surface.

The grids come from ``bnviz.landscape``; these builders draw them.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..landscape import ContourGrid, InputScaling
from ..run import Run
from ..visitor_text import shown
from .colours import COLOURS
from .common import MAX_FRAMES, frame_slider, missing, run_colour, style


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


def _log_loss_contour(grid: ContourGrid, levels: int, hover: str, **kw) -> go.Contour:
    """The loss over the grid as filled contours, evenly spaced in log10(loss) and labelled with the loss."""
    lo, hi = _contour_levels(grid.loss)
    return go.Contour(x=grid.a, y=grid.b, z=np.log10(np.maximum(grid.loss, 1e-12)), colorscale="Viridis",
                      reversescale=True, contours=dict(start=lo, end=hi, size=(hi - lo) / levels, coloring="heatmap"),
                      line=dict(width=0.5), colorbar=_loss_colorbar(lo, hi), customdata=grid.loss,
                      hovertemplate=hover + "<br>loss %{customdata:.4f}<extra></extra>", **kw)


def input_scaling_figure(scaling: InputScaling) -> go.Figure:
    """The notes' picture: one logistic unit's loss over (w_gpa, w_iq) on raw and on
    standardized features, with gradient descent's path at the same lr and steps.

    scaling: ``bnviz.landscape.input_scaling(data, lr, steps)``.
    """
    raw, std = scaling.raw, scaling.standardized
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        f"raw units (centred): stable only for lr < {raw.lr_limit:.3g}",
        f"standardized: stable for lr < {std.lr_limit:.3g}"))
    for col, grid in ((1, raw), (2, std)):
        _contour_panel(fig, grid, col, show_scale=col == 2)
        x = ("x", "x2")[col - 1]
        fig.update_layout({f"yaxis{'' if col == 1 else 2}": dict(scaleanchor=x, scaleratio=1)})
    fig.update_xaxes(title_text=shown(std.a_label))       # w_ and a feature's name: an upload's header
    fig.update_yaxes(title_text=shown(std.b_label))
    return style(fig, "Why normalize inputs: the same descent on raw and on standardized features", 520,
                 f"{std.note.split(': ', 1)[1]}; equal axis scales show the true shape of the contours")


def _contour_panel(fig, grid, col, show_scale):
    hover = f"{shown(grid.a_label)} %{{x:.3g}}<br>{shown(grid.b_label)} %{{y:.3g}}"
    fig.add_trace(_log_loss_contour(grid, 18, hover, showscale=show_scale), 1, col)
    fig.add_trace(go.Scatter(x=grid.path[:, 0], y=grid.path[:, 1], mode="lines+markers",
                             line=dict(color="white", width=2), marker=dict(size=4, color=COLOURS["descent step"].hex),
                             name=COLOURS["descent step"].words, showlegend=col == 1,
                             hovertemplate="step %{pointNumber}<br>(%{x:.3g}, %{y:.3g})<extra></extra>"), 1, col)
    fig.add_trace(go.Scatter(x=[grid.optimum[0]], y=[grid.optimum[1]], mode="markers",
                             marker=dict(symbol="star", size=16, color=COLOURS["minimum"].hex,
                                         line=dict(color="white", width=1.5)),
                             name=COLOURS["minimum"].words, showlegend=col == 1), 1, col)
    fig.update_xaxes(range=[grid.a[0], grid.a[-1]], row=1, col=col)
    fig.update_yaxes(range=[grid.b[0], grid.b[-1]], row=1, col=col)


def landscape_figure(run: Run, plane: ContourGrid | None) -> go.Figure:
    """The trained network's loss over a plane through its final weights, with the
    training path projected onto it; the slider replays the path.

    plane: ``bnviz.landscape.network_plane(run, ...)`` (None for a run that diverged).
    """
    title = "Loss landscape of the trained network"
    blank = missing(run, title, need_finite=True)
    if blank is not None:
        return blank
    fig = go.Figure()
    fig.add_trace(_log_loss_contour(plane, 20, "(%{x:.3g}, %{y:.3g})"))
    path, n = plane.path, len(plane.path)
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name="training path",
                             line=dict(color="white", width=2), marker=dict(size=4, color=run_colour(run)),
                             customdata=np.c_[plane.path_loss],
                             hovertemplate="(%{x:.3g}, %{y:.3g})<br>loss %{customdata[0]:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[path[0, 0]], y=[path[0, 1]], mode="markers", name=COLOURS["start"].words,
                             marker=dict(symbol="circle-open", size=14, color=COLOURS["start"].hex,
                                         line=dict(width=3))))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name=COLOURS["final weights"].words,
                             marker=dict(symbol="star", size=16, color=COLOURS["final weights"].hex,
                                         line=dict(color="white", width=1.5))))
    picks = np.unique(np.linspace(1, n, min(MAX_FRAMES, n)).round().astype(int))
    fig.frames = [go.Frame(name=str(plane.path_steps[k - 1]), traces=[1],
                           data=[go.Scatter(x=path[:k, 0], y=path[:k, 1])]) for k in picks]
    frame_slider(fig, [str(plane.path_steps[k - 1]) for k in picks])
    fig.update_xaxes(title_text=plane.a_label)
    fig.update_yaxes(title_text=plane.b_label)
    return style(fig, title, 580, plane.note, legend="top")
