"""The experiment: one frozen, validated Config, driven by one table of fields.

FIELDS lists every setting once: its type, default, allowed values and help.
The same table checks a Config, reads and writes the URL query (keys are the
field names, so ``?lr=0.5&bn=0&hidden=3,2`` can be typed by hand) and gives
the page its widget ranges.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .nn import ACTIVATIONS, BN_POSITIONS, INITS
from .optim import OPTIMIZERS

DATASETS = ("placement", "notes4", "notes_batch", "notes_students", "xor", "circles", "moons", "gaussians")
MAX_LAYERS = 8
MAX_UNITS = 16


@dataclass(frozen=True)
class Field:
    """One setting. kind: bool, int, float, choice or widths (a tuple of ints)."""

    name: str
    kind: str
    default: Any
    group: str
    help: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False


FIELDS = (
    Field("dataset", "choice", "placement", "Data", "Which students (or toy points) to learn from.", DATASETS),
    Field("standardize", "bool", True, "Data",
          "Z-score GPA and IQ with the training rows' mean and standard deviation before the first layer."),
    Field("test_fraction", "float", 0.2, "Data", "Share of rows held out for testing (stratified by class).",
          low=0.05, high=0.5),
    Field("data_size", "int", 400, "Data", "Number of points in a toy data set (xor, circles, moons, gaussians).",
          low=40, high=5000),
    Field("data_noise", "float", 0.2, "Data", "Noise of a toy data set, in units of its natural scale.",
          low=0.0, high=2.0),
    Field("hidden", "widths", (3, 2), "Network",
          f"Widths of the hidden Dense layers, e.g. 3,2 (1 to {MAX_LAYERS} layers of 1 to {MAX_UNITS} units)."),
    Field("activation", "choice", "relu", "Network", "Activation of the hidden layers; the output is one sigmoid unit.",
          ACTIVATIONS),
    Field("init", "choice", "he", "Network", "How the weights start (biases start at 0, gamma at 1, beta at 0).",
          INITS),
    Field("init_scale", "float", 1.0, "Network", "Multiplier on every initial weight.", low=1e-4, high=1e4, log=True),
    Field("bias_init", "float", 0.0, "Network",
          "Starting value of every hidden Dense layer's bias. In front of BN (keep_bias) it changes nothing in "
          "training mode; in evaluation mode it shifts the outputs until the running mean catches up.",
          low=-10.0, high=10.0),
    Field("bn", "bool", True, "Batch norm", "Batch normalization after every hidden Dense layer."),
    Field("bn_position", "choice", "before", "Batch norm",
          "before: Dense -> BN -> activation; after: Dense -> activation -> BN.", BN_POSITIONS),
    Field("keep_bias", "bool", False, "Batch norm",
          "Keep the Dense bias in front of BN. BN subtracts the batch mean, so this bias gets zero gradient."),
    Field("bn_momentum", "float", 0.99, "Batch norm",
          "running = m * running + (1 - m) * batch (Keras convention; PyTorch's momentum is 1 - m).",
          low=0.0, high=0.9999),
    Field("bn_noise", "float", 0.0, "Batch norm",
          "Noisy BN (Santurkar et al. 2018): after every BN a random per-unit scale exp(s·n) and shift s·n, drawn "
          "afresh each step from the seed; s is this size, 0 = off.", low=0.0, high=2.0),
    Field("running_avg", "choice", "ewma", "Batch norm",
          "ewma: exponentially weighted moving average; cumulative: plain average of every mini-batch statistic.",
          ("ewma", "cumulative")),
    Field("running_var", "choice", "biased", "Batch norm",
          "Variance folded into the running average: biased (divide by n, Keras) or unbiased (n - 1, PyTorch).",
          ("biased", "unbiased")),
    Field("eps", "float", 1e-3, "Batch norm", "Added to the variance inside the square root.",
          low=1e-12, high=1.0, log=True),
    Field("optimizer", "choice", "sgd", "Training", "How each step turns gradients into updates.", tuple(OPTIMIZERS)),
    Field("lr", "float", 0.1, "Training", "Learning rate.", low=1e-6, high=100.0, log=True),
    Field("beta1", "float", 0.9, "Training", "Momentum / Adam first-moment decay.", low=0.0, high=0.9999),
    Field("beta2", "float", 0.999, "Training", "RMSprop / Adam second-moment decay.", low=0.0, high=0.99999),
    Field("opt_eps", "float", 1e-8, "Training", "Optimizer epsilon, added after the square root.",
          low=1e-12, high=1.0, log=True),
    Field("batch_size", "int", 10, "Training",
          "Rows per mini-batch; at least the number of training rows means full-batch gradient descent.",
          low=1, high=100_000),
    Field("epochs", "int", 50, "Training", "Passes over the training rows, reshuffled every epoch.", low=1, high=500),
    Field("seed", "int", 0, "Training", "One seed for the split, the initial weights and every shuffle.",
          low=0, high=2**31 - 1),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}

# Ready-made BN conventions: what each framework does by default.
PRESETS = {
    "keras": {"bn_momentum": 0.99, "eps": 1e-3, "running_var": "biased", "running_avg": "ewma"},
    "pytorch": {"bn_momentum": 0.9, "eps": 1e-5, "running_var": "unbiased", "running_avg": "ewma"},
}

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
    bn: bool = _d("bn")
    bn_position: str = _d("bn_position")
    keep_bias: bool = _d("keep_bias")
    bn_momentum: float = _d("bn_momentum")
    bn_noise: float = _d("bn_noise")
    running_avg: str = _d("running_avg")
    running_var: str = _d("running_var")
    eps: float = _d("eps")
    optimizer: str = _d("optimizer")
    lr: float = _d("lr")
    beta1: float = _d("beta1")
    beta2: float = _d("beta2")
    opt_eps: float = _d("opt_eps")
    batch_size: int = _d("batch_size")
    epochs: int = _d("epochs")
    seed: int = _d("seed")

    def __post_init__(self):
        for f in FIELDS:
            object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))

    def replace(self, **changes) -> "Config":
        return replace(self, **changes)

    def to_query(self) -> dict:
        """{field name: text} for the URL; only fields that differ from the default."""
        return {f.name: _format(f, getattr(self, f.name)) for f in FIELDS if getattr(self, f.name) != f.default}

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
                warnings.append(f"Ignored the unknown setting '{_clip(key)}'.")
                continue
            try:
                values[key] = _check(f, _parse(f, str(raw)))
            except ValueError as err:
                nearest = _nearest(f, str(raw))
                values[key] = nearest if nearest is not None else f.default
                warnings.append(f"{key}='{_clip(str(raw))}' {err}; using {_format(f, values[key])}.")
        return cls(**values), warnings


def _clip(text, n=40):
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= n else text[: n - 1] + "…"


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


def _check(f: Field, value):
    """Validate (and normalize) one value; ValueError names what is wrong."""
    if f.kind == "bool":
        if isinstance(value, bool):
            return value
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        raise ValueError(f"{f.name} must be true or false, got {value!r}")
    if f.kind == "choice":
        if value not in f.choices:
            raise ValueError(f"is not one of {', '.join(f.choices)}" if isinstance(value, str)
                             else f"{f.name} must be one of {f.choices}, got {value!r}")
        return value
    if f.kind == "widths":
        widths = tuple(value) if isinstance(value, (list, tuple)) else None
        if (not widths or len(widths) > MAX_LAYERS
                or any(isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_UNITS for w in widths)):
            raise ValueError(f"needs 1 to {MAX_LAYERS} layer widths, each a whole number from 1 to {MAX_UNITS}")
        return widths
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{f.name} must be a number, got {value!r}")
    if f.kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("is not a whole number")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError("is not a finite number")
    if not f.low <= value <= f.high:
        raise ValueError(f"is outside {_format(f, f.low)} to {_format(f, f.high)}")
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


def _format(f: Field, value) -> str:
    if f.kind == "bool":
        return "1" if value else "0"
    if f.kind == "widths":
        return ",".join(str(w) for w in value)
    if f.kind == "float":
        return repr(float(value))
    return str(value)

