"""Training curves: mini-batch loss per step and per-epoch loss and accuracy."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..run import Run
from .common import accuracy_axis, mark_divergence, missing, pair_labels, run_colour, smooth, style


def thin(n: int, most: int = 600) -> np.ndarray:
    """Indices of at most `most` evenly spread steps out of n, the last always among them."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.r_[np.arange(0, n, int(np.ceil(n / most))), n - 1])


X_AXES = {"steps": "step (mini-batch updates)", "epochs": "epoch (passes over the training rows)",
          "examples": "training examples seen"}


def state_axis(run: Run, unit: str = "steps", upto: int | None = None) -> np.ndarray:
    """(S + 1,) where each state (t updates done) sits on the chosen x axis (up to state
    `upto` when given: a strided run's divergence can lie past its last kept state).

    steps: t; examples: the rows the first t mini-batches held; epochs: that
    count over the number of training rows, so runs with different batch sizes
    line up by how much data they have seen.
    """
    if unit not in X_AXES:
        raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, got {unit!r}")
    last = run.n_steps if upto is None else max(run.n_steps, int(upto))
    if unit == "steps":
        return np.arange(last + 1)
    sizes = np.array([stop - start for start, stop in run.bounds], dtype=float)
    per_step = np.resize(sizes, last)
    seen = np.r_[0.0, np.cumsum(per_step)]
    return seen if unit == "examples" else seen / sizes.sum()


def training_curves(run: Run, other: Run | None = None, x: str = "steps") -> go.Figure:
    """Mini-batch loss per step (faint) with its running mean, per-epoch train and
    test loss and accuracy in evaluation mode; a second run overlaid. Per-step
    lines show at most 600 evenly spread steps, to stay light in the browser.

    x: "steps", "epochs" or "examples" (see ``state_axis``); a step's
    mini-batch loss sits where its state was, before its update."""
    if x not in X_AXES:
        raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, got {x!r}")
    blank = missing(run, "Training curves")
    if blank is not None:
        return blank
    note = ""
    if other is not None and missing(other, "") is not None:
        other, note = None, "; run B has no steps to show (it diverged at its first step)"
    unit = {"steps": "step", "epochs": "epoch", "examples": "examples"}[x]
    fmt = "%{x:.3g}" if x == "epochs" else "%{x:,}"
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("loss (binary cross-entropy)", "accuracy"))
    for r, name, dash in pair_labels(run, other):
        colour = run_colour(r)
        steps = thin(len(r.train_loss))                     # positions among the recorded steps
        axis = state_axis(r, x, upto=r.diverged_at)
        where = axis[r.axis_states("step")[steps]]
        fig.add_trace(go.Scatter(x=where, y=r.train_loss[steps], mode="lines", line=dict(color=colour, width=1),
                                 opacity=0.25, name=f"{name}: mini-batch loss", legendgroup=name,
                                 showlegend=False, hovertemplate=f"{unit} {fmt}<br>batch loss %{{y:.4f}}"), 1, 1)
        fig.add_trace(go.Scatter(x=where, y=smooth(r.train_loss, r.epoch_window)[steps], mode="lines",
                                 line=dict(color=colour, width=2.5, dash=dash),
                                 name=f"{name}: batch loss, 1-epoch mean",
                                 legendgroup=name, hovertemplate=f"{unit} {fmt}<br>mean batch loss %{{y:.4f}}"), 1, 1)
        em = r.epoch_metrics
        for split, symbol, width in (("train", "circle", 1.5), ("test", "diamond", 2.5)):
            for col, what in ((1, "loss"), (2, "acc")):
                fig.add_trace(go.Scatter(
                    x=axis[r.epoch_steps], y=em[f"{split}_{what}_eval"], mode="lines+markers",
                    marker=dict(symbol=symbol, size=5, color=colour), name=f"{name}: {split} (eval mode)",
                    line=dict(color=colour, width=width, dash="dot" if split == "train" else dash),
                    legendgroup=name, showlegend=col == 2,
                    hovertemplate=f"{unit} {fmt}<br>{split} {what} %{{y:.4f}}"), 1, col)
        mark_divergence(fig, r, 1, 1, axis)
    fig.update_xaxes(title_text=X_AXES[x])
    fig.update_yaxes(title_text="loss", row=1, col=1, rangemode="tozero")
    accs = np.concatenate([r.epoch_metrics[f"{s}_acc_eval"] for r in (run, other) if r is not None
                           for s in ("train", "test")])
    low = np.nanmin(accs) if np.isfinite(accs).any() else 0.0
    accuracy_axis(fig, low=min(low, 0.9) - 0.05, row=1, col=2)
    _cap_loss_axis(fig, run, other)
    return style(fig, "Training curves", 460, "faint: each mini-batch's loss before its update; "
                  "markers: all train and test rows at epoch ends (BN in evaluation mode)" + note)


def _cap_loss_axis(fig, run, other):
    """Keep the interesting part of the loss visible when one run blows up."""
    values = np.concatenate([r.train_loss for r in (run, other) if r is not None])
    top = np.nanpercentile(values, 99) if len(values) else 1.0
    if np.isfinite(top) and top > 0:
        fig.update_yaxes(range=[0, min(top * 1.15, 10.0)], row=1, col=1)
