"""Test time: one row at a time with running statistics, and the decision boundary.

The accuracies and the probability grid come from ``bnviz.inference``; these builders draw them.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..inference import AccuracyByStatistics, DecisionGrid, OneStudentInBatches
from ..run import Run
from ..visitor_text import shown
from .colours import COLOURS, class_scale
from .common import BLACK, accuracy_axis, frame_slider, missing, pair_labels, run_colour, style


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
    ways = (("test running, layer norm", "test whole batch", "test alone, layer norm")
            if run.config.norm == "layer" else ("test running", "test whole batch", "test alone"))
    for y, way, dash in ((accuracy.running, ways[0], "solid"), (accuracy.whole_batch, ways[1], "dash"),
                         (accuracy.alone, ways[2], "dot")):
        fig.add_trace(go.Scatter(x=accuracy.steps, y=y, mode="lines+markers", name=COLOURS[way].words,
                                 line=dict(color=COLOURS[way].hex, width=2.5, dash=dash), marker=dict(size=5),
                                 hovertemplate="step %{x}<br>test accuracy %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title_text="step")
    accuracy_axis(fig, "test accuracy")
    with np.errstate(invalid="ignore"):
        gaps = np.abs(np.r_[accuracy.whole_batch - accuracy.running, accuracy.alone - accuracy.running])
    gap = float(np.nanmax(gaps, initial=0.0))
    sub = ("a lone row's batch mean is itself, so BN outputs β for every row: one answer for all"
           if run.n_bn else
           f"layer norm normalizes each row by its own units, so the three ways agree (largest gap {gap:.1%})"
           if run.config.norm == "layer" else "without BN the three ways agree")
    return style(fig, title, 440, sub)


def decision_boundary_figure(run: Run, grid: DecisionGrid | None, data) -> go.Figure:
    """P(label) over the raw feature plane in evaluation mode, with the 0.5 boundary,
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
    fig.add_trace(go.Contour(x=grid.x, y=grid.y, z=last, zmin=0, zmax=1, colorscale=class_scale(),
                             contours=dict(start=0.0, end=1.0, size=0.1), line=dict(width=0.5),
                             colorbar=dict(title=f"P({shown(data.label_name)})"), opacity=0.8,
                             hovertemplate=(f"{names[0]} %{{x:.3g}}<br>{names[1]} %{{y:.3g}}<br>"
                                            "P %{z:.2f}<extra></extra>")))
    fig.add_trace(go.Contour(x=grid.x, y=grid.y, z=last, showscale=False, contours=dict(
        start=0.5, end=0.5, size=1, coloring="none"), line=dict(color=BLACK, width=3), name="P = 0.5",
        hoverinfo="skip"))
    for split, X, y, symbol in (("train", data.X_train, data.y_train, "circle"),
                                ("test", data.X_test, data.y_test, "x")):
        for cls in (0, 1):
            colour, pick = COLOURS[f"class {cls}"].hex, y == cls
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
    mode = {"batch": "evaluation mode: BN with the running statistics of each step",
            "layer": "layer norm: each point normalized over its own units, as in training",
            "none": "no normalization: each point on its own"}[run.config.norm]
    return style(fig, "Decision boundary over raw " + " and ".join(names), 600, mode, legend="top")


def batch_dependence_figure(run: Run, result: OneStudentInBatches, other: Run | None = None,
                            other_result: OneStudentInBatches | None = None) -> go.Figure:
    """One student's probability of a class (P(label)), alone and inside random batches, in training
    mode and at test time.

    result: ``bnviz.inference.one_student_in_batches(run, data, x)``; other, other_result: run B's.
    Each batch is one dot; where the dots spread, the prediction depends on who else is in the batch.
    """
    title = "One student, alone and inside other batches"
    blank = missing(run, title)
    if blank is not None:
        return blank
    places = ("alone, training mode", "alone, test time", "in each batch, training mode", "in each batch, test time")
    fig = go.Figure()
    pairs = [(r, name, res) for (r, name, _), res in zip(pair_labels(run, other), (result, other_result))
             if res is not None and r.n_steps]
    for i, (r, name, res) in enumerate(pairs):
        offset = 0.0 if len(pairs) == 1 else (-0.12 if i == 0 else 0.12)
        xs = np.r_[0, 1, np.full(len(res.in_batches), 2), np.full(len(res.in_batches_eval), 3)] + offset
        ys = np.r_[res.alone_train, res.alone_eval, res.in_batches, res.in_batches_eval]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=f"{name} (spread {res.spread:.2g})",
                                 marker=dict(color=run_colour(r), size=9, opacity=0.7,
                                             symbol="circle" if i == 0 else "diamond"),
                                 hovertemplate="P %{y:.4f}<extra>" + name + "</extra>"))
    fig.update_xaxes(tickvals=list(range(4)), ticktext=list(places), range=[-0.5, 3.5],
                     title_text="where the student is, and in which mode")
    fig.update_yaxes(title_text=f"P({shown(result.label)})", range=[-0.03, 1.03])
    size = result.batch_size
    return style(fig, title, 420, f"each dot in a batch column: the student with {size - 1} training rows drawn at "
                                  f"random; with layer norm (or none) every dot is the same number", legend="top")


def _class_name(data, cls: int) -> str:
    value = data.label_values[cls]
    text = f"{value:g}" if isinstance(value, (float, int, np.floating, np.integer)) else str(value)
    return f"{shown(data.label_name)} = {shown(text)}"
