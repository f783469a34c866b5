"""Parameters over training: gamma and beta, gradient norms, update ratios."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..run import Run
from .common import BLACK, UNIT_COLOURS, check_layer, missing, pair_labels, placeholder, run_colour, smooth, style
from .curves import thin


def gamma_beta_figure(run: Run, layer: int = 1) -> go.Figure:
    """γ and β of every unit of one BN (or layer-norm) layer over training."""
    layer_norm = run.config.norm == "layer"
    title = f"{'Layer-norm' if layer_norm else 'BN'} layer {layer}: the learned scale and shift"
    blank = missing(run, title, need_bn=not layer_norm)
    if blank is not None:
        return blank
    check_layer(run, layer, need_bn=not layer_norm)
    k = layer - 1
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("γ (scale)", "β (shift)"))
    if layer_norm:                      # γ and β are parameters like any other: read from the kept states
        steps = run.axis_states("state")[1:]
        gamma, beta = run.param_history(f"gamma{layer}")[1:], run.param_history(f"beta{layer}")[1:]
    else:
        steps = run.axis_states("step") + 1                  # γ and β after each recorded step
        gamma, beta = run.gamma[k], run.beta[k]
    for col, values, symbol in ((1, gamma, "γ"), (2, beta, "β")):
        for u in range(values.shape[1]):
            fig.add_trace(go.Scatter(x=steps, y=values[:, u], mode="lines", name=f"unit {u + 1}",
                                     line=dict(color=UNIT_COLOURS[u % len(UNIT_COLOURS)], width=2),
                                     legendgroup=f"u{u}", showlegend=col == 1,
                                     hovertemplate=f"step %{{x}}<br>{symbol} %{{y:.4g}}<extra></extra>"), 1, col)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="γ", row=1, col=1)
    fig.update_yaxes(title_text="β", row=1, col=2)
    return style(fig, title, 420,
                  "per unit, shared by every row: each row's own statistics change from row to row, so no "
                  "γ and β can undo layer norm for every row" if layer_norm else
                  "γ = √(σ² + ε), β = μ would undo the normalization; training finds its own values")


def _per_layer_lines(run: Run, other: Run | None, values, hover: str) -> go.Figure:
    """One line per Dense layer and run: values(run) (S, L), smoothed over an epoch."""
    fig = go.Figure()
    for r, name, _ in pair_labels(run, other):
        if r.n_steps == 0:
            continue
        per_layer = values(r)
        for l in range(per_layer.shape[1]):
            fig.add_trace(go.Scatter(x=r.axis_states("step"), y=smooth(per_layer[:, l], r.epoch_window),
                                     mode="lines", name=f"{name}: W{l + 1}",
                                     line=dict(color=run_colour(r) if other is not None else
                                               UNIT_COLOURS[l % len(UNIT_COLOURS)], width=2,
                                               dash=["solid", "dash", "dot", "dashdot", "longdash"][l % 5]),
                                     hovertemplate=f"step %{{x}}<br>{hover}<extra></extra>"))
    fig.update_xaxes(title_text="step")
    return fig


def gradient_norm_figure(run: Run, other: Run | None = None) -> go.Figure:
    """‖∂L/∂W‖ of every Dense layer per step, on a log axis."""
    title = "Gradient norm per layer"
    blank = missing(run, title)
    if blank is not None:
        return blank
    fig = _per_layer_lines(run, other, lambda r: r.grad_norm, "‖dW‖ %{y:.3g}")
    fig.update_yaxes(type="log", title_text="‖∂L/∂W‖ (1-epoch mean)")
    return style(fig, title, 440,
                 "when gradients vanish, the first layers' norms fall orders of magnitude below the last layer's")


def _log_ratio(run: Run) -> np.ndarray:
    """log10 of the update ratio, with an update of exactly 0 drawn at -12."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(np.log10(run.update_ratio), neginf=-12)


def update_ratio_figure(run: Run, other: Run | None = None) -> go.Figure:
    """log₁₀ of ‖ΔW‖ / ‖W‖ per Dense layer per step (about −3 is a healthy pace)."""
    title = "How much each step changes the weights"
    blank = missing(run, title)
    if blank is not None:
        return blank
    fig = _per_layer_lines(run, other, _log_ratio, "log₁₀ ratio %{y:.2f}")
    fig.add_hline(y=-3, line=dict(color=BLACK, dash="dash"), annotation_text="10⁻³")
    fig.update_yaxes(title_text="log₁₀ ‖ΔW‖ / ‖W‖ (1-epoch mean)")
    return style(fig, title, 440, "update-to-weight ratio, per Dense layer")


def bias_figure(run: Run, records: list) -> go.Figure:
    """The Dense biases in front of BN: their values over training and the size of
    their recorded gradient next to the weight gradient's, on a log axis.

    records: ``bnviz.bias.biases_before_bn(run)``, one BiasRecord per such bias
    (none without keep_bias). Steps where a norm is exactly 0 cannot sit on a log
    axis and are left out; lines show at most 600 evenly spread steps.
    """
    title = "The bias in front of BN"
    blank = missing(run, title, need_bn=True)
    if blank is not None:
        return blank
    if not records:
        return placeholder(title, "This run has no bias in front of a BN layer: BN before the activation drops "
                                  "it.<br>Turn on keep_bias to keep it and watch its gradient.")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("the bias b over training", "gradient size per step"))
    for i, rec in enumerate(records):
        colour = UNIT_COLOURS[i % len(UNIT_COLOURS)]
        for u in range(rec.values.shape[1]):
            states = thin(len(rec.values))                  # positions among the kept states
            fig.add_trace(go.Scatter(x=run.axis_states("state")[states], y=rec.values[states, u], mode="lines",
                                     name=f"b{rec.layer}, unit {u + 1}", line=dict(color=colour, width=2,
                                     dash=["solid", "dash", "dot", "dashdot"][u % 4]),
                                     hovertemplate=f"state %{{x}}<br>b{rec.layer}[{u + 1}] %{{y:.6g}}<extra></extra>"),
                          1, 1)
        steps = thin(len(rec.grad_norm))
        for norm, label, dash in ((rec.weight_grad_norm, f"‖∂L/∂W{rec.layer}‖", "solid"),
                                  (rec.grad_norm, f"‖∂L/∂b{rec.layer}‖", "dot")):
            keep = steps[norm[steps] > 0]                   # positions among the recorded steps
            fig.add_trace(go.Scatter(x=run.axis_states("step")[keep], y=norm[keep], mode="lines", name=label,
                                     line=dict(color=colour if dash == "solid" else BLACK, width=1.5, dash=dash),
                                     hovertemplate=f"step %{{x}}<br>{label} %{{y:.3g}}<extra></extra>"), 1, 2)
        if not (rec.grad_norm > 0).any():
            fig.add_annotation(text=f"‖∂L/∂b{rec.layer}‖ = 0 at every step", x=0.5, y=0.08 + 0.08 * i,
                               xref="x2 domain", yref="y2 domain", showarrow=False, font=dict(size=13))
    fig.update_xaxes(title_text="state (updates done)", row=1, col=1)
    fig.update_xaxes(title_text="step", row=1, col=2)
    fig.update_yaxes(title_text="b", row=1, col=1)
    fig.update_yaxes(type="log", title_text="gradient norm", exponentformat="power", row=1, col=2)
    return style(fig, title, 440,
                 "BN subtracts the batch mean, so a constant added before it cancels: its gradient is "
                 "rounding noise, many orders of magnitude below the weights'")


def eval_lag_figure(run: Run, other: Run | None = None) -> go.Figure:
    """Training-set loss per epoch in evaluation mode (running statistics) and in batch
    mode (the exact statistics of all training rows), for one run or a compared pair.

    Where the two differ, the running averages have not caught up with the
    statistics the network now produces, for example with a bias that starts
    far from 0 in front of BN.
    """
    title = "Evaluation mode against batch mode, per epoch"
    blank = missing(run, title, need_bn=True)
    if blank is not None:
        return blank
    fig = go.Figure()
    for r, name, dash in pair_labels(run, other):
        em, epochs = r.epoch_metrics, np.arange(len(r.epoch_steps))
        # each run in its normalization's colour; where A and B share it, B's two lines take dashes of
        # their own (dash-dot for batch mode beside A's dots)
        dots = "dot" if dash == "solid" else "dashdot"
        for key, mode, width, line in (("train_loss_batch", "batch mode (exact statistics)", 1.5, dots),
                                       ("train_loss_eval", "evaluation mode (running statistics)", 2.5, dash)):
            fig.add_trace(go.Scatter(x=epochs, y=em[key], mode="lines+markers", name=f"{name}: {mode}",
                                     line=dict(color=run_colour(r), width=width, dash=line), marker=dict(size=4),
                                     hovertemplate=f"epoch %{{x}}<br>loss %{{y:.4f}}<extra>{name}</extra>"))
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="training-set loss", rangemode="tozero")
    return style(fig, title, 420,
                 "the gap closes as the running averages catch up with the statistics of the layers' inputs")
