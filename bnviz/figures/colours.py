"""What a colour means, as data: one table from each meaning a student reads from a colour
to that colour and the words that name it.

Figures, legends and keys look a meaning up here, so the colour and its words come from
the same row: a legend cannot say "BN on" beside vermillion. The colours are Okabe & Ito's
(2008) palette, distinguishable with every common colour-vision deficiency.
"""
from __future__ import annotations

from dataclasses import dataclass

# Okabe & Ito (2008), by the names keys use for them
OKABE_ITO = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "orange": "#E69F00",
             "sky blue": "#56B4E9", "purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000"}


@dataclass(frozen=True)
class Meaning:
    """One meaning's colour and words.

    hex: "#RRGGBB" of its lines and markers; words: what a legend or key says for it;
    name: the colour's own name, for keys that name colours ("orange 0, green 1");
    short: the words a run's legend starts with, before its BN position and activation
    ("BN before relu"); scale: a Plotly colorscale of the same hue, for shares drawn as shades.
    """
    hex: str
    words: str
    name: str
    short: str = ""
    scale: str | None = None


# Marks told apart by colour need 3:1 against the white plot (WCAG 2.1, 1.4.11): Okabe-Ito's orange
# and sky blue have 2.3:1, so points and lines in them take these darker shades of the same hues
MARK_SHADES = {"orange": "#B47B00", "sky blue": "#2F8FC8"}


def _meaning(name: str, words: str, mark: bool = False, **kw) -> Meaning:
    """A row of the table; mark: the colour draws points or lines, in the palette's 3:1 shade."""
    return Meaning(MARK_SHADES.get(name, OKABE_ITO[name]) if mark else OKABE_ITO[name], words, name, **kw)


COLOURS = {
    # which normalization a run uses: every line, marker and shade of that run
    "bn on": _meaning("blue", "BN on", short="BN", scale="Blues"),
    "layer norm": _meaning("green", "layer norm", short="LN", scale="Greens"),
    "bn off": _meaning("vermillion", "BN off", short="BN off", scale="Oranges"),
    # the two classes on the feature plane: data points and the probability shades between them
    "class 0": _meaning("orange", "class 0", mark=True),
    "class 1": _meaning("green", "class 1"),
    # a held-out image the network got wrong (also marked ✗ and framed, never by colour alone)
    "wrong": _meaning("vermillion", "wrong (✗, framed)"),
    # a BN unit's statistics over training
    "batch statistic": _meaning("sky blue", "mini-batch statistic", mark=True),
    "running average": _meaning("blue", "running"),
    "cumulative average": _meaning("green", "alternative: cumulative average"),
    "exact statistic": _meaning("black", "exact, over all training rows"),
    "current step": _meaning("orange", "replay", mark=True),
    "settled": _meaning("black", "within 5% from step"),
    # which statistics normalize at test time
    "test running": _meaning("blue", "running statistics (evaluation mode)"),
    "test running, layer norm": _meaning("blue", "evaluation mode (layer norm: no running statistics)"),
    "test whole batch": _meaning("green", "the whole test set as one batch"),
    "test alone": _meaning("vermillion", "one row at a time, own batch statistics"),
    "test alone, layer norm": _meaning("vermillion", "one row at a time, training mode"),
    # descent on a loss surface
    "descent step": _meaning("orange", "gradient descent", mark=True),
    "start": _meaning("orange", "start", mark=True),
    "minimum": _meaning("black", "minimum"),
    "final weights": _meaning("black", "final weights"),
    # the boxes of the network diagram (its normalization boxes are the runs' colours above)
    "network input": _meaning("sky blue", "input"),
    "network activation": _meaning("purple", "activation"),
    "network output": _meaning("orange", "output"),
}

# which colour a run's normalization (Config.norm) draws in
NORM_MEANINGS = {"batch": "bn on", "layer": "layer norm", "none": "bn off"}

# compare mode tells A from B by the letter before the legend and, when both runs share a
# normalization (and so a colour), by B's dashes
RUN_LETTERS = {"run A": ("A", "solid"), "run B": ("B", "dash")}


def class_scale() -> list:
    """A colorscale for P(class 1): class 0's colour at 0, white at 0.5, class 1's at 1."""
    return [[0.0, COLOURS["class 0"].hex], [0.5, "#FFFFFF"], [1.0, COLOURS["class 1"].hex]]


def norm_meaning(norm: str) -> Meaning:
    """The row of the table for a run's normalization: "batch", "layer" or "none"."""
    return COLOURS[NORM_MEANINGS[norm]]
