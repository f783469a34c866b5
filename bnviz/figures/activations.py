"""Internal covariate shift: how each layer's values move over training."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..run import Run
from .common import (LIGHT_FRAMES, STAGE_NAMES, alpha, check_layer, check_run, frame_slider, frame_states,
                     pair_labels, run_colour, style)


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
    check_run(run)
    check_layer(run, layer)
    pairs = pair_labels(run, other)
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
    return style(fig, f"Layer {layer}: {STAGE_NAMES.get(stage, stage)} over training ({which})",
                  300 + 220 * len(values), "each column is a histogram over all training rows at that step")


def activation_percentiles(run: Run, layer: int = 1, unit: int = 0, stage: str = "act_in",
                           other: Run | None = None) -> go.Figure:
    """The 15th, 50th and 85th percentiles of one unit's values over training, as in
    Ioffe & Szegedy's Figure 1; with and without BN on the same axes."""
    check_run(run)
    check_layer(run, layer)
    fig = go.Figure()
    for r, name, dash in pair_labels(run, other):
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
                                 fillcolor=alpha(colour, 0.18), name=f"{name}: 15th–85th percentile",
                                 legendgroup=name, hoverinfo="skip"))
        for values, label, width in ((p15, "15th", 1), (p50, "median", 2.5), (p85, "85th", 1)):
            fig.add_trace(go.Scatter(x=x, y=values, mode="lines", line=dict(color=colour, width=width, dash=dash),
                                     name=f"{name}: {label}", legendgroup=name, showlegend=label == "median",
                                     hovertemplate=f"step %{{x}}<br>{label} percentile %{{y:.3g}}<extra></extra>"))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text=f"{STAGE_NAMES.get(stage, stage)}")
    return style(fig, f"Layer {layer}, unit {unit + 1}: how its input distribution moves", 440,
                  "15th, 50th and 85th percentiles over all training rows (Ioffe & Szegedy 2015, Figure 1)")


def activation_histogram_replay(run: Run, layer: int = 1, stage: str = "act_in", other: Run | None = None,
                                bins: int = 40) -> go.Figure:
    """One histogram of the layer's values, replayed over training with a slider."""
    check_run(run)
    check_layer(run, layer)
    pairs = [(r, name, _stage_values(r, layer, stage)) for r, name, _ in pair_labels(run, other)]
    pairs = [(r, name, v) for r, name, v in pairs if v is not None]
    pooled = np.concatenate([v.ravel() for _, _, v in pairs])
    pooled = pooled[np.isfinite(pooled)]
    low, high = np.percentile(pooled, [0.5, 99.5]) if len(pooled) else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    frames_at = frame_states(run, LIGHT_FRAMES)

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
    frame_slider(fig, [str(t) for t in frames_at])
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text=STAGE_NAMES.get(stage, stage), range=[low, high])
    fig.update_yaxes(title_text="share of training rows")
    return style(fig, f"Layer {layer}: the distribution at one step", 460, "drag the slider to replay training",
                  legend="right")
