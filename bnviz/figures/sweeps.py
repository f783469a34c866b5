"""Sweeps: final metrics across a swept learning rate or init scale."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import BLACK, BN_OFF, BN_ON, style


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
    return style(fig, f"Sweep of the {label}: {len(sweep.values)} trainings with BN and {len(sweep.values)} without",
                  460, f"median over seeds {', '.join(str(s) for s in sweep.seeds)} (same data and epochs); only this number changes")
