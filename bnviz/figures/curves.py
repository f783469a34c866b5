"""Training curves: mini-batch loss per step and per-epoch loss and accuracy."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..run import Run
from .common import check_run, mark_divergence, pair_labels, run_colour, smooth, style


def thin(n: int, most: int = 600) -> np.ndarray:
    """Indices of at most `most` evenly spread steps out of n, the last always among them."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.r_[np.arange(0, n, int(np.ceil(n / most))), n - 1])


def training_curves(run: Run, other: Run | None = None) -> go.Figure:
    """Mini-batch loss per step (faint) with its running mean, per-epoch train and
    test loss and accuracy in evaluation mode; a second run overlaid. Per-step
    lines show at most 600 evenly spread steps, to stay light in the browser."""
    check_run(run)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("loss (binary cross-entropy)", "accuracy"))
    for r, name, dash in pair_labels(run, other):
        check_run(r)
        colour = run_colour(r)
        steps = thin(r.n_steps)
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
        mark_divergence(fig, r, 1, 1)
    fig.update_xaxes(title_text="step (mini-batch updates)")
    fig.update_yaxes(title_text="loss", row=1, col=1, rangemode="tozero")
    accs = np.concatenate([r.epoch_metrics[f"{s}_acc_eval"] for r in (run, other) if r is not None
                           for s in ("train", "test")])
    low = np.nanmin(accs) if np.isfinite(accs).any() else 0.0
    fig.update_yaxes(title_text="accuracy", row=1, col=2, range=[max(0.0, min(low, 0.9) - 0.05), 1.0])
    _cap_loss_axis(fig, run, other)
    return style(fig, "Training curves", 460, "faint: each mini-batch's loss before its update; "
                  "markers: all train and test rows at epoch ends (BN in evaluation mode)")


def _cap_loss_axis(fig, run, other):
    """Keep the interesting part of the loss visible when one run blows up."""
    values = np.concatenate([r.train_loss for r in (run, other) if r is not None])
    top = np.nanpercentile(values, 99) if len(values) else 1.0
    if np.isfinite(top) and top > 0:
        fig.update_yaxes(range=[0, min(top * 1.15, 10.0)], row=1, col=1)
