"""Weight initializers. Biases (unless told otherwise) and beta start at 0, gamma at 1.

The weights are drawn layer by layer from one generator, whatever the BN
setting, so runs with and without BN (same seed) start from the same W's.
"""
from __future__ import annotations

import numpy as np

from .mlp import Architecture

INITS = ("zeros", "normal", "uniform", "xavier", "he")

# Keras' RandomNormal / RandomUniform defaults
SMALL_SCALE = 0.05


def init_weight(rng: np.random.Generator, fan_in: int, fan_out: int, kind: str) -> np.ndarray:
    """One (fan_in, fan_out) weight matrix.

    zeros: 0;  normal: N(0, 0.05^2);  uniform: U(-0.05, 0.05);
    xavier: U(-l, l) with l = sqrt(6 / (fan_in + fan_out))  (Glorot uniform);
    he: N(0, 2 / fan_in)  (He normal, untruncated).
    """
    shape = (fan_in, fan_out)
    if kind == "zeros":
        return np.zeros(shape)
    if kind == "normal":
        return rng.normal(0.0, SMALL_SCALE, shape)
    if kind == "uniform":
        return rng.uniform(-SMALL_SCALE, SMALL_SCALE, shape)
    if kind == "xavier":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)
    if kind == "he":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    raise ValueError(f"unknown init {kind!r}: use one of {INITS}")


def init_params(arch: Architecture, rng: np.random.Generator, kind: str = "he", scale: float = 1.0,
                bias: float = 0.0) -> dict:
    """A parameter dict {W1, b1?, gamma1, beta1, ..., WL, bL} for `arch`; W's times `scale`,
    hidden layers' biases at `bias` (the output bias at 0)."""
    params = {}
    for k in range(1, arch.n_dense + 1):
        params[f"W{k}"] = init_weight(rng, arch.widths[k - 1], arch.widths[k], kind) * scale
    for slot in arch.param_layout().slots:
        if slot.name.startswith("b") and not slot.name.startswith("beta"):
            hidden = slot.name != f"b{arch.n_dense}"
            params[slot.name] = np.full(slot.shape, float(bias) if hidden else 0.0)
        elif slot.name.startswith("beta"):
            params[slot.name] = np.zeros(slot.shape)
        elif slot.name.startswith("gamma"):
            params[slot.name] = np.ones(slot.shape)
    return {name: params[name] for name in arch.param_layout().names}
