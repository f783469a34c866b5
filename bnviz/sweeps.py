"""Sweeps: many trainings that differ in one number, run at once as ensembles.

Used for the notes' claims that BN allows higher learning rates and makes
training less sensitive to the initial weights' scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Config
from .train import train_ensemble

SWEEP_FIELDS = {"lr": np.geomspace(1e-3, 30.0, 14), "init_scale": np.geomspace(1e-3, 1e3, 13)}


@dataclass(eq=False)
class Sweep:
    """field: "lr" or "init_scale"; values: (V,); per BN setting (True/False):
    metrics[bn][name]: (V,) final metrics (NaN where that training diverged),
    diverged[bn]: (V,) bool; loss[bn]: (S, V) mini-batch losses."""

    field: str
    values: np.ndarray
    metrics: dict
    diverged: dict
    loss: dict
    config: Config


def sweep(cfg: Config, data, field: str, values=None) -> Sweep:
    """Train cfg at every value of `field`, with BN on and with BN off."""
    if field not in SWEEP_FIELDS:
        raise ValueError(f"can sweep {', '.join(SWEEP_FIELDS)}, not {field!r}")
    values = np.asarray(SWEEP_FIELDS[field] if values is None else values, dtype=float)
    metrics, diverged, loss = {}, {}, {}
    for bn in (True, False):
        base = cfg.replace(bn=bn)
        ensemble = train_ensemble([base.replace(**{field: float(v)}) for v in values], data)
        metrics[bn] = ensemble.final_metrics()
        diverged[bn] = np.array([d is not None for d in ensemble.diverged_at])
        loss[bn] = ensemble.train_loss
    return Sweep(field, values, metrics, diverged, loss, cfg)
