"""Sweeps: final metrics across a swept learning rate, init scale or batch size,
the median over seeds as a line and the range from the lowest to the highest seed as a band."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .colours import COLOURS
from .common import BLACK, accuracy_axis, alpha, style

# a sweep trains every value with BN and without: (the Sweep's key, the table's row)
SIDES = ((True, COLOURS["bn on"]), (False, COLOURS["bn off"]))


def median_and_band(fig, x, s: dict, seeds: int, name: str, colour: str, row: int, col: int, legend: bool,
                    what: str) -> None:
    """Add one series to a subplot: the band of the range (with two or more seeds) and the median line.

    s: {"median", "low", "high", "finished": (V,)} over `seeds` seeds (``bnviz.sweeps.spread_over_seeds``).
    """
    if seeds > 1:
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[s["high"], s["low"][::-1]], mode="lines", fill="toself",
                                 fillcolor=alpha(colour, 0.18), line=dict(width=0), legendgroup=name,
                                 name=f"{name}: range over {seeds} seeds", showlegend=legend, hoverinfo="skip"),
                      row, col)
    fig.add_trace(go.Scatter(
        x=x, y=s["median"], mode="lines+markers", legendgroup=name, showlegend=legend,
        name=f"{name}: median" if seeds > 1 else name, line=dict(color=colour, width=2.5),
        marker=dict(size=8, color=colour), customdata=np.c_[s["low"], s["high"], s["finished"]],
        hovertemplate=(f"{what} %{{x:.3g}}<br>median %{{y:.3g}}, range %{{customdata[0]:.3g}} to "
                       f"%{{customdata[1]:.3g}}<br>%{{customdata[2]}} of {seeds} seeds finished<extra>{name}</extra>")),
        row, col)


def sweep_figure(sweep) -> go.Figure:
    """Final test accuracy and training loss across a sweep of lr or init_scale, BN on and off,
    median and range over the sweep's seeds.

    sweep: a bnviz.sweeps.Sweep (metrics: the median; low, high; diverged_count). Values
    where every seed diverged get a cross; the hover says how many seeds finished.
    """
    label = {"lr": "learning rate", "init_scale": "init scale (multiplier on the initial weights)"}[sweep.field]
    seeds = len(sweep.seeds)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("test accuracy at the end (evaluation mode)", "training loss at the end"))
    for bn, meaning in SIDES:
        name, colour = meaning.words, meaning.hex
        for col, key in ((1, "test_acc_eval"), (2, "train_loss_eval")):
            s = {"median": sweep.metrics[bn][key], "low": sweep.low[bn][key], "high": sweep.high[bn][key],
                 "finished": seeds - sweep.diverged_count[bn]}
            median_and_band(fig, sweep.values, s, seeds, name, colour, 1, col, col == 1, sweep.field)
            dead = s["finished"] == 0
            if dead.any():
                fig.add_trace(go.Scatter(x=sweep.values[dead], y=np.full(dead.sum(), 0.02 if col == 1 else None),
                                         mode="markers", name=f"{name}: every seed diverged", legendgroup=name,
                                         showlegend=col == 1, marker=dict(symbol="x", size=12, color=colour)), 1, col)
    fig.update_xaxes(type="log", title_text=label)
    accuracy_axis(fig, row=1, col=1)
    fig.update_yaxes(type="log", title_text="loss", row=1, col=2)
    fig.add_vline(x=getattr(sweep.config, sweep.field), line=dict(color=BLACK, dash="dot"),
                  annotation_text="current setting")
    n = len(sweep.values)
    return style(fig, f"Sweep of the {label}: {n} values × {seeds} seeds, with BN and without", 480,
                 "every training uses the same data and number of epochs; seeds change the initial weights and "
                 "the batch order; only the swept number changes along the axis")


def batch_size_figure(summary: dict) -> go.Figure:
    """The batch-size sweep's three measures against batch size, median and range over seeds.

    summary: ``bnviz.sweeps.batch_size_summary`` of ``bnviz.measures.batch_noise``: batch_sizes (B,),
    seeds, epochs, train_rows, and per measure {"median", "low", "high", "finished": (B,)}:
    mu_spread and mode_gap (BN on), acc_gap {True, False}.
    """
    sizes = np.asarray(summary["batch_sizes"], dtype=float)
    seeds = summary["seeds"]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, subplot_titles=(
        "spread of μ_B / spread of the data", "training- minus evaluation-mode loss", "train minus test accuracy"))
    on = COLOURS["bn on"]
    median_and_band(fig, sizes, summary["mu_spread"], seeds, on.words, on.hex, 1, 1, True, "batch size")
    median_and_band(fig, sizes, summary["mode_gap"], seeds, on.words, on.hex, 1, 2, False, "batch size")
    for bn, meaning in SIDES:
        median_and_band(fig, sizes, summary["acc_gap"][bn], seeds, meaning.words, meaning.hex, 1, 3, not bn,
                        "batch size")
    fig.update_xaxes(type="log", title_text="batch size (rows)", tickvals=sizes, ticktext=[f"{b:g}" for b in sizes])
    fig.update_yaxes(title_text="ratio", rangemode="tozero", row=1, col=1)   # the whole set: exactly 0
    fig.update_yaxes(title_text="loss difference", row=1, col=2)
    fig.update_yaxes(title_text="accuracy difference", row=1, col=3)
    for col in (2, 3):
        fig.add_hline(y=0, line=dict(color=BLACK, width=1), row=1, col=col)
    return style(fig, f"Batch size: {len(sizes)} sizes × {seeds} seeds, {summary['epochs']} epochs each", 480,
                 f"the largest size is the whole training set ({summary['train_rows']} rows); small batches make "
                 "μ_B wander and training mode differ from evaluation mode")
