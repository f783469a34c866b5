"""Test time: one row at a time with running statistics, and the decision boundary."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..inference import decision_grid, one_row_at_a_time
from ..run import Run
from .common import BLACK, BLUE, GREEN, VERMILLION, check_run, diverged_placeholder, frame_slider, frame_states, style


def test_time_figure(run: Run, data) -> go.Figure:
    """Test accuracy per epoch three ways: BN with running statistics, with the test
    set's own batch statistics, and one row at a time with its own statistics."""
    check_run(run)
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
    return style(fig, "At test time: which statistics normalize?", 440, sub)


def decision_boundary_figure(run: Run, data, size: int = 40, frames: int = 25) -> go.Figure:
    """P(placed) over the raw feature plane in evaluation mode, with the 0.5 boundary,
    training (circles) and test (crosses) students; the slider replays training."""
    check_run(run)
    if run.diverged_at is not None:
        return diverged_placeholder(run, "Decision boundary")
    states = frame_states(run, frames)
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
    frame_slider(fig, [str(t) for t in grid.states])
    fig.update_xaxes(title_text=names[0], range=[grid.x[0], grid.x[-1]])
    fig.update_yaxes(title_text=names[1], range=[grid.y[0], grid.y[-1]])
    return style(fig, "Decision boundary over raw " + " and ".join(names), 600,
                  "evaluation mode: BN with the running statistics of each step", legend="top")


def _class_name(data, cls: int) -> str:
    value = data.label_values[cls]
    shown = f"{value:g}" if isinstance(value, (float, int, np.floating, np.integer)) else str(value)
    return f"{data.label_name} = {shown}"
