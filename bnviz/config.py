"""The experiment: one frozen, validated Config, driven by one table of fields.

FIELDS lists every setting once: its type, default, allowed values and help.
The same table checks a Config, reads and writes the URL query (keys are the
field names, so ``?lr=0.5&bn=0&hidden=3,2`` can be typed by hand) and gives
the page its widget ranges.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .nn import ACTIVATIONS, BN_POSITIONS, INITS, NORMS
from .optim import OPTIMIZERS
from .visitor_text import plain

DATASETS = ("placement", "notes4", "notes_batch", "notes_students", "xor", "circles", "moons", "gaussians",
            "digits")
TOY_DATASETS = ("xor", "circles", "moons", "gaussians")
MAX_LAYERS = 8
MAX_UNITS = 100          # the batch-norm paper's Figure 1 network: three hidden layers of 100
GROUPS = ("Data", "Network", "Batch norm", "Training")
WIDGETS = ("toggle", "select", "radio", "slider", "log_slider", "number", "text")
COMPARE_RULES = ("opposite", "next", "one more layer", "x10", "small or large", "+1", "shorter memory", "0 or x")


@dataclass(frozen=True)
class Field:
    """One setting of the experiment, and everything the page needs to offer it.

    kind: bool, int, float, choice or widths (a tuple of ints).
    low, high: the values a Config (and so a link) may hold, inclusive.
    group: the sidebar section (one of GROUPS); label: the widget's label;
    help: its tooltip. choices: the allowed values of a choice, shown as
    `labels` when given (same order).
    widget: one of WIDGETS; "" picks by kind (bool: toggle, choice: select,
    widths: text, float with log: log_slider, other numbers: slider).
    widget_low, widget_high: the widget's range where it is narrower than what a
    link may ask for (a link's value outside it is still shown and kept);
    widget_high "rows" means the number of training rows. log: the widget steps
    1-2-5 per decade. step, fmt: the slider's or number box's step and format.
    fold: a folded part of the group the widget sits in ("" for none).
    only_for: the data sets for which the setting matters (the widget is greyed
    out for others); empty for all.
    compare: how run B's value is made from run A's when compare mode changes
    this field (one of COMPARE_RULES; "0 or x" written with the number, e.g.
    "0 or 0.5": off when on, else that value), or "" when it cannot be compared.
    presets: (preset name, value) pairs: what each framework's convention sets
    this field to (one click in the sidebar sets them all; see PRESETS).
    """

    name: str
    kind: str
    default: Any
    group: str
    label: str
    help: str
    choices: tuple = ()
    labels: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    widget: str = ""
    widget_low: float | None = None
    widget_high: float | str | None = None
    step: float | None = None
    fmt: str = ""
    fold: str = ""
    only_for: tuple = ()
    compare: str = ""
    presets: tuple = ()

    @property
    def control(self) -> str:
        """The widget that shows this field (WIDGETS)."""
        if self.widget:
            return self.widget
        return {"bool": "toggle", "choice": "select", "widths": "text"}.get(
            self.kind, "log_slider" if self.log else "slider")


FIELDS = (
    # ---- Data
    Field("dataset", "choice", "placement", "Data", "Data set", "Which students (or toy points, or handwritten digits) to learn from.",
          DATASETS, labels=("Student placement (GPA, IQ)", "The notes' 4 students", "The notes' worked batch of 4",
                            "The notes' student table",
                            "XOR (toy)", "Circles (toy)", "Moons (toy)", "Two Gaussians (toy)",
                            "Handwritten digits (8×8 pixels, 10 classes)")),
    Field("standardize", "bool", True, "Data", "Standardize inputs",
          "Z-score GPA and IQ with the training rows' mean and standard deviation before the first layer.",
          compare="opposite"),
    Field("test_fraction", "float", 0.2, "Data", "Test share",
          "Share of rows held out for testing (stratified by class).", low=0.05, high=0.5, step=0.05),
    Field("data_size", "int", 400, "Data", "Toy set size",
          "Number of points in a toy data set (xor, circles, moons, gaussians).", low=40, high=5000, step=20,
          only_for=TOY_DATASETS),
    Field("data_noise", "float", 0.2, "Data", "Toy set noise",
          "Noise of a toy data set, in units of its natural scale.", low=0.0, high=2.0, step=0.05,
          only_for=TOY_DATASETS),
    # ---- Network
    Field("hidden", "widths", (3, 2), "Network", "Hidden layers (widths)",
          f"Widths of the hidden Dense layers, e.g. 3,2 (1 to {MAX_LAYERS} layers of 1 to {MAX_UNITS} units).",
          compare="one more layer"),
    Field("activation", "choice", "relu", "Network", "Activation",
          "Activation of the hidden layers; the output is one sigmoid unit.", ACTIVATIONS, compare="next"),
    Field("init", "choice", "he", "Network", "Weight initialization",
          "How the weights start (biases start at bias_init, gamma at 1, beta at 0).", INITS, compare="next"),
    Field("init_scale", "float", 1.0, "Network", "Init scale", "Multiplier on every initial weight.",
          low=1e-4, high=1e4, log=True, widget_low=1e-3, widget_high=1e3, compare="x10"),
    Field("bias_init", "float", 0.0, "Network", "Initial bias",
          "Starting value of every hidden Dense layer's bias. In front of BN (keep_bias) it changes nothing in "
          "training mode; in evaluation mode it shifts the outputs until the running mean catches up.",
          low=-10.0, high=10.0, widget="number", step=0.5, fmt="%.2f", compare="0 or 1"),
    # ---- Batch norm
    Field("bn", "bool", True, "Batch norm", "Batch normalization",
          "Batch normalization after every hidden Dense layer (off: the normalization below is none, or layer "
          "norm when that is chosen).", compare="opposite"),
    Field("norm", "choice", "batch", "Batch norm", "Normalization",
          "batch: each unit normalized over the rows of the mini-batch (running averages for test time); "
          "layer: each row normalized over its own units, the same in training and at test time, whatever the "
          "batch; none: no normalization. Sits where BN sits, with the same ε.", NORMS,
          labels=("batch norm", "layer norm", "none"), widget="radio", compare="next"),
    Field("bn_position", "choice", "before", "Batch norm", "Where the normalization sits",
          "before: Dense -> BN -> activation; after: Dense -> activation -> BN (layer norm sits in the same "
          "place).", BN_POSITIONS,
          labels=("before the activation", "after the activation"), widget="radio", compare="next"),
    Field("keep_bias", "bool", False, "Batch norm", "Keep the bias in front of BN",
          "Keep the Dense bias in front of BN. BN subtracts the batch mean, so this bias gets zero gradient.",
          compare="opposite"),
    Field("bn_momentum", "float", 0.99, "Batch norm", "Running-average momentum m",
          "running = m * running + (1 - m) * batch (Keras convention; PyTorch's momentum is 1 - m).",
          low=0.0, high=0.9999, widget="number", step=0.01, fmt="%.4f", compare="shorter memory",
          presets=(("keras", 0.99), ("pytorch", 0.9))),
    Field("bn_noise", "float", 0.0, "Batch norm", "Noise after BN",
          "Noisy BN (Santurkar et al. 2018): after every BN a random per-unit scale exp(s·n) and shift s·n, drawn "
          "afresh each step from the seed; s is this size, 0 = off.", low=0.0, high=2.0, step=0.1,
          compare="0 or 0.5"),
    Field("running_avg", "choice", "ewma", "Batch norm", "Running average",
          "ewma: exponentially weighted moving average; cumulative: plain average of every mini-batch statistic "
          "over training; population (Ioffe & Szegedy's Algorithm 2): during training as ewma, then after the last "
          "step the trained network's batch statistics averaged over one epoch's mini-batches.",
          ("ewma", "cumulative", "population"), compare="next", presets=(("keras", "ewma"), ("pytorch", "ewma"))),
    Field("running_var", "choice", "biased", "Batch norm", "Running variance",
          "Variance folded into the running average: biased (divide by n, Keras) or unbiased (n - 1, PyTorch).",
          ("biased", "unbiased"), compare="next", presets=(("keras", "biased"), ("pytorch", "unbiased"))),
    Field("eps", "float", 1e-3, "Batch norm", "ε (inside the square root)",
          "Added to the variance inside the square root.", low=1e-12, high=1.0, log=True,
          widget_low=1e-8, widget_high=1e-1, compare="x10", presets=(("keras", 1e-3), ("pytorch", 1e-5))),
    # ---- Training
    Field("optimizer", "choice", "sgd", "Training", "Optimizer", "How each step turns gradients into updates.",
          tuple(OPTIMIZERS), compare="next"),
    Field("lr", "float", 0.1, "Training", "Learning rate", "Learning rate.", low=1e-6, high=100.0, log=True,
          widget_low=1e-4, widget_high=10.0, compare="x10"),
    Field("batch_size", "int", 10, "Training", "Batch size",
          "Rows per mini-batch; at least the number of training rows means full-batch gradient descent.",
          low=1, high=100_000, widget_high="rows", compare="small or large"),
    Field("epochs", "int", 50, "Training", "Epochs", "Passes over the training rows, reshuffled every epoch.",
          low=1, high=500),
    Field("seed", "int", 0, "Training", "Seed", "One seed for the split, the initial weights and every shuffle.",
          low=0, high=2**31 - 1, widget="number", step=1, compare="+1"),
    Field("beta1", "float", 0.9, "Training", "β₁", "Momentum / Adam first-moment decay.", low=0.0, high=0.9999,
          widget="number", step=0.01, fmt="%.4f", fold="Optimizer details"),
    Field("beta2", "float", 0.999, "Training", "β₂", "RMSprop / Adam second-moment decay.", low=0.0, high=0.99999,
          widget="number", step=0.001, fmt="%.5f", fold="Optimizer details"),
    Field("opt_eps", "float", 1e-8, "Training", "Optimizer ε", "Optimizer epsilon, added after the square root.",
          low=1e-12, high=1.0, log=True, widget_low=1e-12, widget_high=1e-4, fold="Optimizer details"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}

# Ready-made BN conventions, gathered from the table's presets: what each framework does by default.
PRESET_NAMES = {"keras": "Keras", "pytorch": "PyTorch"}
PRESETS = {name: {f.name: dict(f.presets)[name] for f in FIELDS if name in dict(f.presets)}
           for name in PRESET_NAMES}

_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}


def _d(name):
    return FIELD_BY_NAME[name].default


@dataclass(frozen=True)
class Config:
    """One experiment. Every field is checked on construction (ValueError on nonsense)."""

    dataset: str = _d("dataset")
    standardize: bool = _d("standardize")
    test_fraction: float = _d("test_fraction")
    data_size: int = _d("data_size")
    data_noise: float = _d("data_noise")
    hidden: tuple = _d("hidden")
    activation: str = _d("activation")
    init: str = _d("init")
    init_scale: float = _d("init_scale")
    bias_init: float = _d("bias_init")
    # bn and norm say one thing two ways (bn=True is norm="batch"; bn=False is "none", or "layer" when
    # norm says so). Left out (None), each follows the other; both given, they must agree.
    bn: bool = None
    norm: str = None
    bn_position: str = _d("bn_position")
    keep_bias: bool = _d("keep_bias")
    bn_momentum: float = _d("bn_momentum")
    bn_noise: float = _d("bn_noise")
    running_avg: str = _d("running_avg")
    running_var: str = _d("running_var")
    eps: float = _d("eps")
    optimizer: str = _d("optimizer")
    lr: float = _d("lr")
    batch_size: int = _d("batch_size")
    epochs: int = _d("epochs")
    seed: int = _d("seed")
    beta1: float = _d("beta1")
    beta2: float = _d("beta2")
    opt_eps: float = _d("opt_eps")

    def __post_init__(self):
        bn, norm = self.bn, self.norm
        if bn is not None:
            bn = _check(FIELD_BY_NAME["bn"], bn)
        if norm is not None:
            norm = _check(FIELD_BY_NAME["norm"], norm)
        if bn is not None and norm is not None and bn != (norm == "batch"):
            raise ValueError(f"bn={bn} and norm={norm!r} ask for different normalizations: give one of them "
                             f"(bn=True is norm='batch', bn=False is norm='none' or 'layer')")
        if norm is None:
            norm = _d("norm") if bn is None else ("batch" if bn else "none")
        object.__setattr__(self, "bn", norm == "batch")
        object.__setattr__(self, "norm", norm)
        for f in FIELDS:
            object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))

    def replace(self, **changes) -> "Config":
        """A copy with some fields changed; changing bn or norm alone lets the other follow it."""
        if "norm" in changes and "bn" not in changes:
            changes["bn"] = None
        elif "bn" in changes and "norm" not in changes:
            changes["norm"] = None
        return replace(self, **changes)

    def to_query(self) -> dict:
        """{field name: text} for the URL; only fields that differ from the default. The normalization is
        written once: nothing for batch norm, bn=0 for none (as links always said), norm=layer for layer norm."""
        implied = "bn" if self.norm == "layer" else "norm"
        return {f.name: format_value(f, getattr(self, f.name)) for f in FIELDS
                if getattr(self, f.name) != f.default and f.name != implied}

    def differences(self, other: "Config") -> list:
        """The names of the fields whose values differ from other's, in table order."""
        return [f.name for f in FIELDS if getattr(self, f.name) != getattr(other, f.name)]

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in FIELDS}

    @classmethod
    def from_query(cls, query) -> tuple["Config", list]:
        """Read a URL query. Never raises: a value that cannot be used is replaced
        (numbers out of range by the nearest allowed value, anything else by the
        default) and a warning sentence says so; unknown keys are ignored with a warning.
        """
        values, warnings = {}, []
        for key, raw in dict(query).items():
            if isinstance(raw, (list, tuple)):
                raw = raw[-1] if raw else ""
            f = FIELD_BY_NAME.get(key)
            if f is None:
                warnings.append(f"Ignored the unknown setting '{plain(key)}'.")
                continue
            try:
                values[key] = _check(f, _parse(f, str(raw)))
            except ValueError:
                nearest = _nearest(f, str(raw))
                values[key] = nearest if nearest is not None else f.default
                warnings.append(f"{key}='{plain(raw)}': {key} {allowed(f)}; using {format_value(f, values[key])}.")
        if "bn" in values and "norm" in values and values["bn"] != (values["norm"] == "batch"):
            warnings.append(f"bn={format_value(FIELD_BY_NAME['bn'], values['bn'])} and norm={values['norm']} ask "
                            f"for different normalizations; using norm={values['norm']}.")
            del values["bn"]
        return cls(**values), warnings


def _parse(f: Field, text: str):
    """Text from a URL -> a value of the field's kind (ValueError if it is not one)."""
    text = text.strip()
    if f.kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError("is not on/off (use 1 or 0)")
    if f.kind == "int":
        return _to_int(text)
    if f.kind == "float":
        return _to_float(text)
    if f.kind == "choice":
        return text.lower()
    if f.kind == "widths":
        parts = [p for p in text.replace(" ", "").split(",") if p]
        return tuple(_to_int(p) for p in parts)
    raise AssertionError(f.kind)


def _to_float(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError("is not a number") from None
    return value


def _to_int(text):
    value = _to_float(text)
    if not math.isfinite(value) or value != int(value):
        raise ValueError("is not a whole number")
    return int(value)


def allowed(f: Field) -> str:
    """What field f accepts, as the end of a sentence that starts with its name."""
    if f.kind == "bool":
        return "must be on or off: true or false, 1 or 0"
    if f.kind == "choice":
        return f"must be one of {', '.join(f.choices)}"
    if f.kind == "widths":
        return f"must be 1 to {MAX_LAYERS} layer widths, each a whole number from 1 to {MAX_UNITS}"
    whole = "a whole number" if f.kind == "int" else "a number"
    return f"must be {whole} between {_shown(f.low)} and {_shown(f.high)}"


def _shown(number) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def _check(f: Field, value):
    """Validate (and normalize) one value; the ValueError names the field, what it
    accepts and what it got, e.g. "lr must be a number between 1e-06 and 100 (got -1.0)"."""
    problem = ValueError(f"{f.name} {allowed(f)} (got {value!r})")
    if f.kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
        raise problem
    if f.kind == "choice":
        if not isinstance(value, str) or value not in f.choices:
            raise problem
        return value
    if f.kind == "widths":
        widths = tuple(value) if isinstance(value, (list, tuple)) else ()
        if (not widths or len(widths) > MAX_LAYERS
                or any(isinstance(w, bool) or not isinstance(w, numbers.Integral) or not 1 <= w <= MAX_UNITS
                       for w in widths)):
            raise problem
        return tuple(int(w) for w in widths)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise problem
    if not math.isfinite(value):
        raise problem
    if f.kind == "int":
        if value != int(value):
            raise problem
        value = int(value)
    else:
        value = float(value)
    if not f.low <= value <= f.high:
        raise problem
    return value


def _nearest(f: Field, text: str):
    """The allowed value nearest to an out-of-range number, else None."""
    if f.kind not in ("int", "float"):
        return None
    try:
        value = _parse(f, text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    value = min(max(value, f.low), f.high)
    return int(value) if f.kind == "int" else float(value)


def format_value(f: Field, value) -> str:
    """A value as it is written in a link: 1/0 for on/off, 3,2 for widths, repr for floats."""
    if f.kind == "bool":
        return "1" if value else "0"
    if f.kind == "widths":
        return ",".join(str(w) for w in value)
    if f.kind == "float":
        return repr(float(value))
    return str(value)


for _preset in PRESETS.values():       # a preset holds only values a Config accepts
    for _name, _value in _preset.items():
        _check(FIELD_BY_NAME[_name], _value)
