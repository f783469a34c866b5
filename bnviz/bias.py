"""The Dense bias just in front of BN: its values and gradients, read from a Run's records.

BN subtracts the batch mean, so a bias added before it cancels: its gradient
is zero up to rounding. Nothing here computes a gradient; it reads the ones
the training loop recorded (``Run.grads``) and sizes them against the weight
gradients of the same layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .run import Run


@dataclass
class BiasRecord:
    """Dense layer `layer` (1-based) whose bias feeds a BN layer, over a run of S steps.

    values: (S + 1, units) the bias at every state; grads: (S, units) each step's
    recorded dL/db; grad_norm, weight_grad_norm: (S,) ||dL/db|| and ||dL/dW||;
    relative: the largest ||dL/db|| / ||dL/dW|| over the steps whose weight
    gradient is not 0 (0.0 when there are none).
    """

    layer: int
    values: np.ndarray
    grads: np.ndarray
    grad_norm: np.ndarray
    weight_grad_norm: np.ndarray
    relative: float


def biases_before_bn(run: Run) -> list:
    """A BiasRecord for every Dense bias directly followed by BN (empty unless keep_bias)."""
    arch = run.arch
    if not (arch.bn and arch.bn_position == "before"):
        return []
    records = []
    for k in range(1, len(arch.hidden) + 1):
        name = f"b{k}"
        if name not in run.param_slices:
            continue
        start, stop, _ = run.param_slices[name]
        w_start, w_stop, _ = run.param_slices[f"W{k}"]
        grads = run.grads[:, start:stop]
        grad_norm = np.linalg.norm(grads, axis=1)
        weight_norm = np.linalg.norm(run.grads[:, w_start:w_stop], axis=1)
        moving = weight_norm > 0
        relative = float(np.max(grad_norm[moving] / weight_norm[moving])) if moving.any() else 0.0
        records.append(BiasRecord(k, run.param_history(name), grads, grad_norm, weight_norm, relative))
    return records
