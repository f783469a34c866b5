"""Running statistics against the exact full-data statistics they estimate."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..run import Run
from ..running import RunningSeries
from .colours import COLOURS
from .common import BLACK, LIGHT_FRAMES, UNIT_COLOURS, check_layer, frame_slider, frame_states, missing, style


def running_stats_figure(run: Run, layer: int = 1, unit: int = 0,
                         alternative: RunningSeries | None = None) -> go.Figure:
    """One BN unit: batch statistics (dots), the running averages, the exact
    full-data statistics they estimate and, when given, another averaging rule.

    alternative: the same layer's statistics under another rule, e.g.
    ``bnviz.running.cumulative_running(run, layer - 1)``, drawn when the run itself uses EWMA.
    """
    blank = missing(run, f"BN layer {layer}, unit {unit + 1}: running statistics", need_bn=True)
    if blank is not None:
        return blank
    check_layer(run, layer, need_bn=True)
    k = layer - 1
    if not 0 <= unit < run.running_mean[k].shape[1]:
        raise ValueError(f"unit must be 0 to {run.running_mean[k].shape[1] - 1}, got {unit}")
    steps = run.axis_states("step") + 1                      # the state after each recorded step
    cfg = run.config
    other_rule = (None, None) if alternative is None else (alternative.mean[:, unit], alternative.var[:, unit])
    rule = {"ewma": f"EWMA, m = {cfg.bn_momentum:g}", "cumulative": "cumulative average",
            "population": f"EWMA, m = {cfg.bn_momentum:g}, then population statistics at the end"}[cfg.running_avg]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.09,
                        subplot_titles=("mean: μ_B and the running μ",
                                        f"variance: σ²_B (biased) and the running σ² ({cfg.running_var})"))
    batch_stat, averaged, cumulative, exact_stat, now = (COLOURS[m] for m in (
        "batch statistic", "running average", "cumulative average", "exact statistic", "current step"))
    for row, batch, running, exact, alt, symbol in (
            (1, run.batch_mean[k][:, unit], run.running_mean[k][:, unit], run.population_mean[k][:, unit],
             other_rule[0], "μ"),
            (2, run.batch_var[k][:, unit], run.running_var[k][:, unit], run.population_var[k][:, unit],
             other_rule[1], "σ²")):
        fig.add_trace(go.Scatter(x=steps, y=batch, mode="markers",
                                 marker=dict(size=3, color=batch_stat.hex, opacity=0.45), name=batch_stat.words,
                                 showlegend=row == 1, legendgroup="batch",
                                 hovertemplate=f"step %{{x}}<br>{symbol}_B %{{y:.4g}}<extra></extra>"), row, 1)
        fig.add_trace(go.Scatter(x=steps, y=running, mode="lines", line=dict(color=averaged.hex, width=2.5),
                                 name=f"{averaged.words} ({rule})", showlegend=row == 1, legendgroup="running",
                                 hovertemplate=f"step %{{x}}<br>running {symbol} %{{y:.4g}}<extra></extra>"), row, 1)
        if cfg.running_avg == "ewma" and alt is not None:
            fig.add_trace(go.Scatter(x=steps, y=alt, mode="lines", line=dict(color=cumulative.hex, width=2, dash="dot"),
                                     name=cumulative.words, showlegend=row == 1,
                                     legendgroup="cumulative",
                                     hovertemplate=f"step %{{x}}<br>cumulative {symbol} %{{y:.4g}}<extra></extra>"),
                          row, 1)
        fig.add_trace(go.Scatter(x=run.snapshot_steps, y=exact, mode="lines",
                                 line=dict(color=exact_stat.hex, width=2, dash="dash"),
                                 name=exact_stat.words, showlegend=row == 1, legendgroup="exact",
                                 hovertemplate=f"step %{{x}}<br>exact {symbol} %{{y:.4g}}<extra></extra>"), row, 1)
        low, high = np.nanpercentile(np.r_[running, exact, batch], [1, 99])
        pad = (high - low) * 0.1 + 1e-9
        fig.update_yaxes(range=[low - pad, high + pad], row=row, col=1)
    settled = run.settled_step(k)
    if settled is not None:
        mark = COLOURS["settled"]      # not the cumulative average's green: that line is dotted too
        fig.add_vline(x=settled, line=dict(color=mark.hex, dash="dot"), annotation_text=f"{mark.words} {settled}")
    marker_states = frame_states(run, LIGHT_FRAMES)
    final_mean, final_var = run.running_after_states(k, [run.n_steps])
    fig.add_trace(go.Scatter(x=[run.n_steps], y=[final_mean[0, unit]], mode="markers",
                             marker=dict(size=12, color=now.hex, line=dict(color=BLACK, width=1)), name=now.words,
                             showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(x=[run.n_steps], y=[final_var[0, unit]], mode="markers",
                             marker=dict(size=12, color=now.hex, line=dict(color=BLACK, width=1)), showlegend=False),
                  2, 1)
    n = len(fig.data)
    at = np.maximum(marker_states, 1)                      # state 1 is always kept: the first step is recorded
    after_mean, after_var = run.running_after_states(k, at)
    fig.frames = [go.Frame(name=str(t), traces=[n - 2, n - 1], data=[
        go.Scatter(x=[a], y=[after_mean[i, unit]]), go.Scatter(x=[a], y=[after_var[i, unit]])])
        for i, (t, a) in enumerate(zip(marker_states, at))]
    frame_slider(fig, [str(t) for t in marker_states])
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_yaxes(title_text="μ", row=1, col=1)
    fig.update_yaxes(title_text="σ²", row=2, col=1)
    return style(fig, f"BN layer {layer}, unit {unit + 1}: running statistics against the exact ones", 640,
                  "running averages start at μ = 0, σ² = 1 and lag the statistics they estimate", legend="right")


def running_gap_figure(run: Run, layer: int = 1) -> go.Figure:
    """|running − exact| for every unit of one BN layer on a log axis, with the 5% line."""
    blank = missing(run, f"BN layer {layer}: how far the running statistics are from the exact ones", need_bn=True)
    if blank is not None:
        return blank
    check_layer(run, layer, need_bn=True)
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
    return style(fig, f"BN layer {layer}: how far the running statistics are from the exact ones", 460,
                  f"dashed line: 5%; {note}")
