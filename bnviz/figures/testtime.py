"""Test time: one row at a time with running statistics, and the decision boundary.

The accuracies and the probability grid come from ``bnviz.inference``; these builders draw them.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..inference import AccuracyByStatistics, DecisionGrid
from ..run import Run
from ..visitor_text import shown
from .common import BLACK, BLUE, GREEN, VERMILLION, accuracy_axis, frame_slider, missing, style


def test_time_figure(run: Run, accuracy: AccuracyByStatistics) -> go.Figure:
    """Test accuracy per epoch three ways: BN with running statistics, with the test
    set's own batch statistics, and one row at a time with its own statistics.

    accuracy: ``bnviz.inference.accuracy_by_statistics(run, data)``.
    """
    title = "At test time: which statistics normalize?"
    blank = missing(run, title)
    if blank is not None:
        return blank
    fig = go.Figure()
    for y, name, colour, dash in ((accuracy.running, "running statistics (evaluation mode)", BLUE, "solid"),
                                  (accuracy.whole_batch, "the whole test set as one batch", GREEN, "dash"),
                                  (accuracy.alone, "one student at a time, own batch statistics", VERMILLION, "dot")):
        fig.add_trace(go.Scatter(x=accuracy.steps, y=y, mode="lines+markers", name=name,
                                 line=dict(color=colour, width=2.5, dash=dash), marker=dict(size=5),
                                 hovertemplate="step %{x}<br>test accuracy %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title_text="step")
    accuracy_axis(fig, "test accuracy")
    sub = ("a lone row's batch mean is itself, so BN outputs β for every student: one answer for all"
           if run.n_bn else "without BN the three ways agree")
    return style(fig, title, 440, sub)


def decision_boundary_figure(run: Run, grid: DecisionGrid | None, data) -> go.Figure:
    """P(placed) over the raw feature plane in evaluation mode, with the 0.5 boundary,
    training (circles) and test (crosses) students; the slider replays training.

    grid: ``bnviz.inference.decision_grid(run, data, states)`` at the states to replay
    (None for a run that diverged); data: the Dataset whose students are drawn.
    """
    blank = missing(run, "Decision boundary", need_finite=True)
    if blank is not None:
        return blank
    prob = grid.prob.astype(np.float32)  # probabilities to 7 digits: half the payload of every frame
    names = [shown(n) for n in data.feature_names]        # header names of an upload: text, never markup
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
    frame_slider(fig, [str(t) for t in grid.states])
    fig.update_xaxes(title_text=names[0], range=[grid.x[0], grid.x[-1]])
    fig.update_yaxes(title_text=names[1], range=[grid.y[0], grid.y[-1]])
    return style(fig, "Decision boundary over raw " + " and ".join(names), 600,
                  "evaluation mode: BN with the running statistics of each step", legend="top")


def _class_name(data, cls: int) -> str:
    value = data.label_values[cls]
    text = f"{value:g}" if isinstance(value, (float, int, np.floating, np.integer)) else str(value)
    return f"{shown(data.label_name)} = {shown(text)}"
