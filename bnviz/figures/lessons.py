"""A lesson's measurement over seeds: one dot per seed and group, the median marked.

The builder draws the numbers it is given (a lesson's per-seed values, as
``bnviz.lessons.measure`` computed them); it runs nothing itself.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .common import BLACK, BN_OFF, BN_ON, GREEN, ORANGE, PURPLE, SKY, TEMPLATE, wrap

GROUP_COLOURS = {"BN on": BN_ON, "BN off": BN_OFF}
OTHER_COLOURS = (GREEN, PURPLE, SKY, ORANGE)    # far from BN off's vermillion first


def group_colour(name: str, index: int) -> str:
    """BN on blue and BN off vermillion everywhere; any other group (noisy BN, ...) its own colour."""
    return GROUP_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])


def jitter(n: int, width: float = 0.28) -> np.ndarray:
    """(n,) fixed vertical offsets in [-width, width], so equal values stay visible side by side."""
    if n < 2:
        return np.zeros(n)
    return np.linspace(-width, width, n)[np.argsort(np.arange(n) * 7 % n)]


def spread_figure(groups: dict, label: str, seeds=None, log: bool = False, height: int | None = None) -> go.Figure:
    """A strip chart of one measure over seeds.

    groups: {name: (n,) values}, one row per group, in the order given ("BN on"
    and "BN off" in their colours); NaN marks a seed with no value (it diverged),
    counted on the row's label instead of drawn. label: the measure and its unit
    (the x axis title). seeds: (n,) the seed of each value, for hover text
    (default 0..n-1). log: a log x axis (only positive values are drawn).
    """
    if not groups:
        raise ValueError("nothing to draw: no groups of values")
    fig = go.Figure()
    names = list(groups)
    rows = {}
    for i, name in enumerate(names):
        values = np.asarray(groups[name], dtype=float).ravel()
        ids = np.arange(len(values)) if seeds is None else np.asarray(seeds).ravel()
        if len(ids) != len(values):
            raise ValueError(f"{len(values)} values for {name!r} but {len(ids)} seeds")
        shown = np.isfinite(values) & ((values > 0) if log else True)
        missing = int((~shown).sum())
        row = f"{name} ({missing} of {len(values)} no value)" if missing else name
        rows[name] = wrap(row, 16)          # long names on two lines, so the chart keeps its width
        y = len(names) - 1 - i
        colour = group_colour(name, i)
        fig.add_trace(go.Scatter(
            x=values[shown], y=y + jitter(len(values))[shown], mode="markers", name=name,
            marker=dict(size=9, color=colour, opacity=0.8, line=dict(width=1, color="white")),
            customdata=ids[shown], hovertemplate=f"{name}, seed %{{customdata}}: %{{x:.4g}}<extra></extra>"))
        if shown.any():
            median = float(np.median(values[shown]))
            fig.add_trace(go.Scatter(
                x=[median], y=[y], mode="markers", name=f"{name}: median", showlegend=False,
                marker=dict(symbol="line-ns", size=26, line=dict(width=3, color=BLACK)),
                hovertemplate=f"{name}: median %{{x:.4g}}<extra></extra>"))
    fig.update_yaxes(tickvals=list(range(len(names)))[::-1], ticktext=[rows[n] for n in names],
                     range=[-0.6, len(names) - 0.4], showgrid=False, zeroline=False)
    fig.update_xaxes(title_text=wrap(label, 48), type="log" if log else "linear", zeroline=False,
                     exponentformat="power", dtick="D2" if log else None)     # log: label 1, 2 and 5 only
    finite = np.concatenate([np.asarray(v, dtype=float).ravel() for v in groups.values()])
    finite = finite[np.isfinite(finite) & ((finite > 0) if log else True)]
    if len(finite) and finite.min() == finite.max():     # no spread at all: a narrow axis around the value
        v = float(finite[0])
        fig.update_xaxes(range=[np.log10(v) - 0.5, np.log10(v) + 0.5] if log
                         else [v - max(abs(v) * 0.05, 1e-3), v + max(abs(v) * 0.05, 1e-3)])
    fig.update_layout(template=TEMPLATE, height=height or 95 + 48 * len(names), showlegend=False,
                      margin=dict(l=10, r=15, t=10, b=40 + 18 * wrap(label, 48).count("<br>") + 15))
    return fig
