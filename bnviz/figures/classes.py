"""Many classes: a sheet of test images with what the network says, confusion matrices, one row's probabilities.

The numbers come from ``bnviz.classes`` and ``bnviz.inference``; these builders draw them.
A wrong prediction is marked three ways, never by colour alone: a ✗ before its caption,
a thick dashed frame around its image, and the colour of that frame (the table's "wrong").
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..classes import Confusion, Sheet
from ..visitor_text import shown
from .colours import COLOURS, norm_meaning
from .common import BLACK, style, text_colour

GAP = 3                  # blank pixels between two images of a sheet's row
ROW_GAP = 5              # and between two rows, where the captions go
PIXELS = "Greys"         # ink dark on white paper, as the digits were written


def class_names(data) -> list:
    """What each class number stands for, as text for a chart (upload labels are visitor text)."""
    out = []
    for value in data.label_values:
        text = f"{value:g}" if isinstance(value, (float, int, np.floating, np.integer)) else str(value)
        out.append(shown(text))
    return out


def mosaic(images: np.ndarray, per_row: int, side: int) -> np.ndarray:
    """(rows * (side + ROW_GAP), per_row * (side + GAP) - GAP) one picture of n images (n, side²),
    row by row, NaN in the gaps (drawn blank). Image i sits at row i // per_row, column i % per_row;
    rows of the picture run top-down as the images' pixels do."""
    n = len(images)
    rows = max(1, -(-n // per_row))
    cell, row_cell = side + GAP, side + ROW_GAP
    out = np.full((rows * row_cell, per_row * cell - GAP), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, per_row)
        out[r * row_cell:r * row_cell + side, c * cell:c * cell + side] = (
            np.asarray(image, dtype=float).reshape(side, side))
    return out


def caption(sheet: Sheet, i: int, names: list) -> str:
    """Under image i: its predicted class and that class's probability, ✗ first when wrong."""
    if sheet.predicted[i] < 0:
        return "no answer"
    text = f"{names[sheet.predicted[i]]} · {sheet.probability[i]:.2f}"
    return f"✗ {text}" if sheet.wrong[i] else text


def digit_sheet_figure(sheet: Sheet, side: int, data, title: str = "Test images and what the network says",
                       note: str = "") -> go.Figure:
    """Held-out images on a sheet (one row per class), each captioned with its predicted class and
    probability; wrong ones framed and marked ✗. sheet: ``bnviz.classes.held_out_sheet``; side: the
    images' side in pixels (``bnviz.classes.image_side``)."""
    names = class_names(data)
    picture = mosaic(sheet.images, sheet.per_row, side)
    cell, row_cell = side + GAP, side + ROW_GAP
    fig = go.Figure(go.Heatmap(z=picture, colorscale=PIXELS, showscale=False, hoverinfo="skip",
                               zmin=float(np.nanmin(picture)) if np.isfinite(picture).any() else 0.0,
                               zmax=float(np.nanmax(picture)) if np.isfinite(picture).any() else 1.0,
                               xgap=0, ygap=0))
    for i in range(len(sheet.rows)):
        r, c = divmod(i, sheet.per_row)
        x0, y0 = c * cell - 0.5, r * row_cell - 0.5
        wrong = bool(sheet.wrong[i])
        ink = text_colour(COLOURS["wrong"].hex) if wrong else BLACK   # the frame's hue, dark enough for words
        fig.add_annotation(x=x0 + side / 2, y=y0 + side + 0.3, text=caption(sheet, i, names), showarrow=False,
                           yanchor="top", font=dict(size=12, color=ink,
                                                    weight="bold" if wrong else "normal"))
        if wrong:
            fig.add_shape(type="rect", x0=x0 - 0.3, x1=x0 + side + 0.3, y0=y0 - 0.3, y1=y0 + side + 0.3,
                          line=dict(color=COLOURS["wrong"].hex, width=3, dash="dash"))
    rows = max(1, -(-len(sheet.rows) // sheet.per_row))
    fig.update_xaxes(visible=False, range=[-1, sheet.per_row * cell], constrain="domain")
    fig.update_yaxes(visible=False, range=[rows * row_cell, -1.5], scaleanchor="x", scaleratio=1)
    wrong = int(sheet.wrong.sum())
    sub = (f"first {sheet.per_row} {sheet.split} images per class; under each: predicted class · probability"
           + (f". {note}" if note else ""))
    return style(fig, f"{title}: {wrong} of {len(sheet.rows)} wrong (✗, framed)", 170 + 70 * rows, sub,
                 legend="none")


def confusion_figure(matrices: list, labels: list, data, norms: list | None = None) -> go.Figure:
    """One confusion matrix per run, side by side (BN on beside BN off): the count in every cell,
    darker for more, in the shades of the run's normalization (blue for BN, orange without, green
    for layer norm). matrices: [``bnviz.classes.Confusion``]; labels: a title per run; norms: each
    run's Config.norm (default batch norm for all)."""
    norms = norms or ["batch"] * len(matrices)
    names = class_names(data)
    fig = make_subplots(rows=1, cols=len(matrices), horizontal_spacing=0.1,
                        subplot_titles=[f"{label}: {m.accuracy:.1%} right" for label, m in zip(labels, matrices)])
    top = max(1, max(int(m.counts.max()) for m in matrices))
    for j, (m, norm) in enumerate(zip(matrices, norms), start=1):
        counts = m.counts
        fig.add_trace(go.Heatmap(z=counts, x=names, y=names, zmin=0, zmax=top, colorscale=norm_meaning(norm).scale,
                                 showscale=False,
                                 text=np.where(counts > 0, counts.astype(str), ""), texttemplate="%{text}",
                                 textfont=dict(size=11),
                                 hovertemplate="true %{y}, predicted %{x}: %{z} rows<extra></extra>"),
                      row=1, col=j)
        fig.update_xaxes(title_text="predicted class", type="category", row=1, col=j, side="bottom")
        fig.update_yaxes(title_text="true class" if j == 1 else None, type="category", autorange="reversed",
                         row=1, col=j, scaleanchor=f"x{'' if j == 1 else j}", constrain="domain")
    split = matrices[0].split if matrices else "test"
    return style(fig, f"Confusion matrix on the {split} rows", 520,
                 "rows: the true class; columns: the class the network chose (evaluation mode); the diagonal is "
                 "what it got right; blank cells are 0", legend="none")


def probabilities_figure(image: np.ndarray | None, side: int | None, probabilities: list, labels: list,
                         colours: list, data, truth: int) -> go.Figure:
    """One row: its image (when the features are pixels) beside the probability every class gets from
    each run. probabilities: [(K,)] per run; labels, colours: per run; truth: the row's class."""
    names = class_names(data)
    with_image = image is not None and side is not None
    fig = make_subplots(rows=1, cols=2 if with_image else 1, column_widths=[0.3, 0.7] if with_image else None,
                        horizontal_spacing=0.08)
    col = 1
    if with_image:
        fig.add_trace(go.Heatmap(z=np.asarray(image, dtype=float).reshape(side, side), colorscale=PIXELS,
                                 showscale=False, hovertemplate="pixel value %{z}<extra></extra>"), row=1, col=1)
        fig.update_xaxes(visible=False, row=1, col=1, constrain="domain")
        fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", row=1, col=1)
        col = 2
    for p, label, colour in zip(probabilities, labels, colours):
        fig.add_trace(go.Bar(x=names, y=np.asarray(p, dtype=float), name=label, marker_color=colour,
                             text=[f"{v:.2f}" if v >= 0.01 else "" for v in np.asarray(p, dtype=float)],
                             textposition="outside",
                             cliponaxis=False, hovertemplate="class %{x}: %{y:.3f}<extra>" + label + "</extra>"),
                      row=1, col=col)
    fig.update_xaxes(title_text=f"class (true class: {names[truth]})", type="category", row=1, col=col)
    fig.update_yaxes(title_text="probability", range=[0, 1.08], row=1, col=col)
    fig.update_layout(barmode="group")
    return style(fig, "One held-out row and the probability of every class", 400,
                 "evaluation mode: BN with the running statistics, the row on its own", legend="top")
