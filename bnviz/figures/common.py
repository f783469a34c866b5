"""The common look of every figure: palette, template, layout helpers, checks.

Builders never touch the model: they read a Run's arrays, or numbers computed
from a Run by ``bnviz.inference`` and ``bnviz.landscape``. One look throughout:
the Okabe-Ito colour-blind-safe palette, BN on always blue and BN off always
vermillion, symbols on the axes, text legible at 1280x720.

Step-dependent figures carry Plotly animation frames and a slider, so scrubbing
through a finished run costs the server nothing.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..inference import spread_states as frame_states  # noqa: F401 (the replay frames' states)
from ..run import Run
from .colours import COLOURS, OKABE_ITO, RUN_LETTERS, norm_meaning

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency (bnviz.figures.colours)
BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, YELLOW, BLACK = (OKABE_ITO[name] for name in (
    "blue", "vermillion", "green", "orange", "sky blue", "purple", "yellow", "black"))
# what a run's colour means (the table's words go with them: run_label)
BN_ON, BN_OFF, LN_ON = (COLOURS[meaning].hex for meaning in ("bn on", "bn off", "layer norm"))
# Text in a palette colour needs a contrast of 4.5:1 on white (WCAG 2.1, 1.4.3): vermillion has 3.9:1,
# so words in it are written in a darker vermillion (5.1:1); lines and markers keep the palette's.
TEXT_COLOURS = {VERMILLION: "#B84F00", GREEN: "#007A5A", ORANGE: "#8F6300", SKY: "#1F6E9C", PURPLE: "#A6487D"}
# Lines told apart by colour need 3:1 against the white plot (WCAG 2.1, 1.4.11): Okabe-Ito's orange, sky
# blue and yellow have 2.3, 2.3 and 1.2, so the units' lines use darker shades of the same hues.
LINE_COLOURS = {ORANGE: "#B47B00", SKY: "#2F8FC8", YELLOW: "#9C8600"}
UNIT_COLOURS = tuple(LINE_COLOURS.get(c, c) for c in (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, BLACK, YELLOW))
FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=14)
STAGE_NAMES = {
    "z": "z = a·W (+ b), the Dense output",
    "bn": "BN output γ·ẑ + β",
    "act": "activation output g(·)",
    "act_in": "input to the activation",
}
# what a chart of BN's batch or running statistics says for a run with layer norm
LAYER_NORM_HAS_NONE = ("This run uses layer norm: each student is normalized over its own units, one mean and "
                       "variance per row,<br>so there are no batch statistics per unit and no running averages: "
                       "training and test time compute the same thing.")
MAX_FRAMES = 40          # frames for heavy replays (a whole probability grid each)
LIGHT_FRAMES = 60        # frames for light ones (a few points or bars each): finer scrubbing

_AXIS = dict(gridcolor="#E5ECF6", zerolinecolor="#C8D4E3", linecolor="#C8D4E3", showline=False, ticks="",
             automargin=True, title=dict(standoff=10))
# A small template of our own: Plotly's "plotly_white" carries defaults for every
# trace type and costs about 10 ms per figure to apply.
TEMPLATE = go.layout.Template(layout=dict(
    paper_bgcolor="white", plot_bgcolor="white", font=FONT, colorway=list(UNIT_COLOURS), xaxis=_AXIS, yaxis=_AXIS,
    hoverlabel=dict(font_size=13), title=dict(font=dict(size=19))))


def text_colour(colour: str) -> str:
    """The colour in which words in `colour` are written on white: itself, or a darker shade of it."""
    return TEXT_COLOURS.get(colour, colour)


def run_colour(run: Run) -> str:
    """Blue with batch norm, green with layer norm, vermillion with neither (bnviz.figures.colours)."""
    return norm_meaning(run.config.norm).hex


def run_label(run: Run) -> str:
    """A run's legend name, starting with the words of its colour's row: "BN before relu",
    "LN after tanh", "BN off"."""
    cfg = run.config
    short = norm_meaning(cfg.norm).short
    if cfg.norm == "none":
        return short
    return f"{short} {cfg.bn_position} {cfg.activation}"


def stage_name(stage: str, run: Run | None = None) -> str:
    """A stage's name on an axis or menu; "bn" is layer norm's output in a run with layer norm."""
    if stage == "bn" and run is not None and run.config.norm == "layer":
        return "layer-norm output γ·x̂ + β (each row by its own units)"
    return STAGE_NAMES.get(stage, stage)


def pair_labels(run: Run, other: Run | None):
    """Legend names and dash styles for one run or a compared pair."""
    if other is None:
        return [(run, run_label(run), "solid")]
    a, b = run_label(run), run_label(other)
    if a == b:  # the same BN setting: name what differs instead
        diff = run.config.differences(other.config)[:2]
        values_a, values_b = run.config.to_dict(), other.config.to_dict()
        a = ", ".join(f"{k}={values_a[k]}" for k in diff) or a
        b = ", ".join(f"{k}={values_b[k]}" for k in diff) or b
    (letter_a, dash_a), (letter_b, dash_b) = RUN_LETTERS["run A"], RUN_LETTERS["run B"]
    # B's dashes tell it from A only where the two share a colour
    return [(run, f"{letter_a}: {a}", dash_a),
            (other, f"{letter_b}: {b}", dash_b if run.config.norm == other.config.norm else dash_a)]


def wrap(text: str, width: int = 105) -> str:
    """Break a long subtitle into lines (Plotly does not wrap titles)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + [line])


def _has_subplot_titles(fig) -> bool:
    return any(a.yref == "paper" and a.showarrow is False and a.y is not None and a.y >= 0.99
               for a in fig.layout.annotations)


def style(fig: go.Figure, title: str, height: int = 440, subtitle: str | None = None,
           legend: str = "bottom") -> go.Figure:
    """The common look. legend: "bottom" (a row under the plot), "right" (a column
    beside it: for figures with a slider underneath) or "none"."""
    text = title if subtitle is None else f"{title}<br><span style='font-size:13px'>{wrap(subtitle)}</span>"
    layout = dict(template=TEMPLATE, height=height,
                  title=dict(text=text, x=0.01, xanchor="left"),
                  margin=dict(l=70, r=30, t=(95 if subtitle else 60) + (34 if _has_subplot_titles(fig) else 0)
                              + 24 * wrap(subtitle or "").count("<br>"), b=70))
    if legend == "bottom":
        layout["legend"] = dict(orientation="h", x=0.0, xanchor="left", y=0.0, yref="container",
                                yanchor="bottom", font=dict(size=13))
        rows = 1 + sum(1 for t in fig.data if t.showlegend is not False) // 4
        layout["margin"]["b"] = 80 + 22 * rows
        layout["height"] = height + 22 * rows
    elif legend == "right":
        layout["legend"] = dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top", font=dict(size=13))
    elif legend == "top":  # a row between the subtitle and the plot, clear of colorbars and sliders
        layout["legend"] = dict(orientation="h", x=0.0, xanchor="left", y=1.01, yanchor="bottom", font=dict(size=13))
        layout["margin"]["t"] += 30
    else:
        layout["showlegend"] = False
    fig.update_layout(**layout)
    return fig


def accuracy_axis(fig: go.Figure, title: str = "accuracy", low: float = 0.0, row=None, col=None) -> None:
    """An accuracy y axis from `low` to exactly 1, never past it; markers at 1 are drawn
    whole rather than cut in half by the plot's edge."""
    fig.update_yaxes(title_text=title, range=[max(0.0, low), 1.0], row=row, col=col)
    fig.update_traces(cliponaxis=False, selector=dict(type="scatter"), row=row, col=col)


def rows_phrase(run: Run) -> str:
    """Which training rows a run's snapshots hold: all of them, or how many of them."""
    kept, total = len(run.snapshot_rows), run.n_train_rows
    if kept >= total:
        return "all training rows"
    return f"{kept:,} of the {total:,} training rows (a fixed random sample; BN with the statistics of all)"


def check_run(run):
    if not isinstance(run, Run):
        raise TypeError(f"expected a Run, got {type(run).__name__}")


def check_layer(run: Run, layer: int, need_bn: bool = False):
    limit = run.n_bn if need_bn else len(run.arch.hidden)
    if not 1 <= layer <= limit:
        raise ValueError(f"layer must be 1 to {limit}, got {layer}")


def missing(run: Run, title: str, need_bn: bool = False, need_finite: bool = False) -> go.Figure | None:
    """A figure that says what this run lacks for the chart `title`, or None if it has it all.

    Every run gets a figure: a run with no steps (diverged at its first) and,
    for charts about BN, a run without BN get a sentence instead of a picture.
    need_finite: the chart needs the final weights of a run that did not diverge.
    """
    check_run(run)
    if run.n_steps == 0:
        if run.diverged_at is None:
            return placeholder(title, "This run has no steps to show yet.")
        return placeholder(title, f"This run has no steps to show: at its first step {run.divergence}."
                                  "<br>Lower the learning rate or the init scale, or standardize the inputs.")
    if need_bn and not run.n_bn:
        if run.config.norm == "layer":
            return placeholder(title, LAYER_NORM_HAS_NONE)
        return placeholder(title, "This run has no batch norm, so there is nothing of BN's to show here.<br>"
                                  "Turn batch normalization on to see it.")
    if need_finite and run.diverged_at is not None:
        return placeholder(title, f"This run diverged at step {run.diverged_at}: {run.divergence}, so this "
                                  "picture cannot be drawn.<br>Lower the learning rate, turn batch norm on, or "
                                  "standardize the inputs.")
    return None


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` steps (shorter at the start)."""
    values = np.asarray(values, dtype=float)
    window = max(1, int(window))
    csum = np.cumsum(np.r_[0.0, values])
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (csum[idx] - csum[start]) / (idx - start)


def frame_slider(fig: go.Figure, labels: list, prefix: str = "step ") -> None:
    """A slider (and play button) that shows the figure's frames one by one."""
    steps = [dict(method="animate", label=str(label),
                  args=[[str(label)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                           transition=dict(duration=0))]) for label in labels]
    fig.update_layout(
        sliders=[dict(active=len(steps) - 1, steps=steps, x=0.08, len=0.9, y=-0.06, yanchor="top",
                      currentvalue=dict(prefix=prefix, font=dict(size=13)), pad=dict(t=30))],
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=-0.06, xanchor="left", yanchor="top",
                          pad=dict(t=30, r=10), buttons=[
                              dict(label="▶", method="animate",
                                   args=[None, dict(frame=dict(duration=120, redraw=True), fromcurrent=True,
                                                    transition=dict(duration=0))]),
                              dict(label="❚❚", method="animate",
                                   args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])])
    fig.update_layout(margin=dict(b=140))


def placeholder(title: str, sentence: str) -> go.Figure:
    """A figure holding one sentence instead of a chart."""
    fig = go.Figure(layout=dict(annotations=[dict(text=sentence, x=0.5, y=0.5, xref="paper", yref="paper",
                                                  showarrow=False, font=dict(size=15))]))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, title, 300, legend="none")


def mark_divergence(fig, run: Run, row=None, col=None, where=None):
    """A dotted line at the step where the run diverged; where: (S + 1,) x position of each state."""
    if run.diverged_at is not None:
        kw = dict(row=row, col=col) if row else {}
        x = run.diverged_at if where is None else float(where[run.diverged_at])
        fig.add_vline(x=x, line=dict(color=run_colour(run), dash="dot", width=2),
                      annotation_text=f"diverged at step {run.diverged_at}", annotation_position="top left",
                      **kw)


def alpha(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
