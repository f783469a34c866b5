"""Internal covariate shift: how each layer's values move over training.

The histograms and percentiles come from ``bnviz.activations``; these builders draw them.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..activations import LayerHistograms, UnitPercentiles
from ..run import Run
from .colours import norm_meaning
from .common import (LIGHT_FRAMES, stage_name, alpha, frame_slider, frame_states, missing, pair_labels,
                     placeholder, rows_phrase, run_colour, style)


def _drawn(run: Run, other: Run | None, values: list, title: str) -> tuple:
    """(pairs, None), pairs being (run, legend name, dash, its values) for each run
    that has the stage; or ([], a figure saying what is missing)."""
    blank = missing(run, title)
    pairs = [(r, name, dash, v) for (r, name, dash), v in zip(pair_labels(run, other), values) if v is not None]
    if blank is None and not pairs:
        blank = placeholder(title, "No run here has a BN output to show: turn batch normalization on.")
    return ([], blank) if blank is not None else (pairs, None)


def activation_heatmap(run: Run, hist: LayerHistograms, other: Run | None = None) -> go.Figure:
    """How one layer's values are distributed over training: a histogram per
    snapshot (step on x, value on y, share of rows as colour); two runs share the bins.

    hist: ``bnviz.activations.layer_histograms([run, other], ...)``.
    """
    title = f"Layer {hist.layer}: {stage_name(hist.stage, run)} over training"
    pairs, blank = _drawn(run, other, hist.shares, title)
    if blank is not None:
        return blank
    low, high = hist.edges[0], hist.edges[-1]
    fig = make_subplots(rows=len(pairs), cols=1, shared_xaxes=False, vertical_spacing=0.14,
                        subplot_titles=[name for _, name, _, _ in pairs])
    for i, (r, name, _, shares) in enumerate(pairs, start=1):
        density = shares.T
        fig.add_trace(go.Heatmap(x=r.snapshot_steps, y=hist.centres, z=density,
                                 colorscale=norm_meaning(r.config.norm).scale,
                                 zmin=0, zmax=max(float(np.percentile(density, 99)), 1e-9),
                                 colorbar=dict(title="share<br>of rows", len=0.8 / len(pairs),
                                               y=1 - (i - 0.5) / len(pairs)),
                                 hovertemplate="step %{x}<br>value %{y:.3g}<br>share %{z:.3f}<extra></extra>"), i, 1)
        fig.update_yaxes(title_text="value", range=[low, high], row=i, col=1)
        fig.update_xaxes(title_text="step", row=i, col=1)
    which = "all units" if hist.unit is None else f"unit {hist.unit + 1}"
    return style(fig, f"{title} ({which})", 300 + 220 * len(pairs),
                 f"each column is a histogram over {rows_phrase(run)} at that step")


def activation_percentiles(run: Run, percentiles: UnitPercentiles, other: Run | None = None) -> go.Figure:
    """The 15th, 50th and 85th percentiles of one unit's values over training, as in
    Ioffe & Szegedy's Figure 1; with and without BN on the same axes.

    percentiles: ``bnviz.activations.unit_percentiles([run, other], ...)``.
    """
    title = f"Layer {percentiles.layer}, unit {percentiles.unit + 1}: how its input distribution moves"
    pairs, blank = _drawn(run, other, percentiles.values, title)
    if blank is not None:
        return blank
    fig = go.Figure()
    for r, name, dash, (p15, p50, p85) in pairs:
        colour = run_colour(r)
        x = r.snapshot_steps
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[p85, p15[::-1]], fill="toself", line=dict(width=0),
                                 fillcolor=alpha(colour, 0.18), name=f"{name}: 15th–85th percentile",
                                 legendgroup=name, hoverinfo="skip"))
        for values, label, width in ((p15, "15th", 1), (p50, "median", 2.5), (p85, "85th", 1)):
            fig.add_trace(go.Scatter(x=x, y=values, mode="lines", line=dict(color=colour, width=width, dash=dash),
                                     name=f"{name}: {label}", legendgroup=name, showlegend=label == "median",
                                     hovertemplate=f"step %{{x}}<br>{label} percentile %{{y:.3g}}<extra></extra>"))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text=f"{stage_name(percentiles.stage, run)}")
    return style(fig, title, 440,
                 f"15th, 50th and 85th percentiles over {rows_phrase(run)} (Ioffe & Szegedy 2015, Figure 1)")


def activation_histogram_replay(run: Run, hist: LayerHistograms, other: Run | None = None) -> go.Figure:
    """One histogram of the layer's values, replayed over training with a slider.

    hist: ``bnviz.activations.layer_histograms([run, other], ...)``; each frame
    shows every run at its snapshot nearest to the frame's step.
    """
    title = f"Layer {hist.layer}: the distribution at one step"
    pairs, blank = _drawn(run, other, hist.shares, title)
    if blank is not None:
        return blank
    centres, width = hist.centres, hist.edges[1] - hist.edges[0]
    frames_at = frame_states(run, LIGHT_FRAMES)

    def bars(r, shares, state):
        return shares[int(np.argmin(np.abs(r.snapshot_steps - state)))]

    fig = go.Figure()
    for r, name, _, shares in pairs:
        fig.add_trace(go.Bar(x=centres, y=bars(r, shares, frames_at[-1]), width=width, name=name,
                             marker_color=run_colour(r), opacity=0.6,
                             hovertemplate="value %{x:.3g}<br>share %{y:.3f}<extra></extra>"))
    fig.frames = [go.Frame(name=str(t), data=[go.Bar(y=bars(r, shares, t)) for r, _, _, shares in pairs],
                           traces=list(range(len(pairs)))) for t in frames_at]
    frame_slider(fig, [str(t) for t in frames_at])
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text=stage_name(hist.stage, run), range=[hist.edges[0], hist.edges[-1]])
    fig.update_yaxes(title_text="share of training rows")
    return style(fig, title, 460, "drag the slider to replay training", legend="right")
