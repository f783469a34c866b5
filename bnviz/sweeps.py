"""Sweeps: many trainings that differ in one number, repeated over seeds, run at once as ensembles.

Used for the notes' claims that BN allows higher learning rates and makes
training less sensitive to the initial weights' scale. One seed can be lucky
or unlucky, so every value is trained with several seeds (the Config's seed
and the next ones: different initial weights and batch orders, the same data)
and the sweep reports the median and the range over them.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .config import Config
from .train import train_ensemble

SWEEP_FIELDS = {"lr": np.geomspace(1e-3, 30.0, 14), "init_scale": np.geomspace(1e-3, 1e3, 13)}
SWEEP_SEEDS = 5


@dataclass(eq=False)
class Sweep:
    """field: "lr" or "init_scale"; values: (V,); seeds: the seeds trained. Per BN setting (True/False):
    per_seed[bn][name]: (seeds, V) final metrics (NaN where that training diverged);
    metrics[bn][name], low[bn][name], high[bn][name]: (V,) median, smallest and largest over
    the seeds that did not diverge (NaN where all did); diverged[bn]: (V,) bool, diverged in
    more than half the seeds; diverged_count[bn]: (V,) how many diverged;
    loss[bn]: (S, V) mini-batch losses of the first seed."""

    field: str
    values: np.ndarray
    seeds: tuple
    per_seed: dict
    metrics: dict
    low: dict
    high: dict
    diverged: dict
    diverged_count: dict
    loss: dict
    config: Config


def sweep_seeds(cfg: Config, n_seeds: int = SWEEP_SEEDS) -> tuple:
    """The Config's seed and the next ones."""
    return tuple(cfg.seed + i for i in range(int(n_seeds)))


def sweep(cfg: Config, data, field: str, values=None, n_seeds: int = SWEEP_SEEDS) -> Sweep:
    """Train cfg at every value of `field` and every seed of sweep_seeds, with BN on and off."""
    if field not in SWEEP_FIELDS:
        raise ValueError(f"can sweep {', '.join(SWEEP_FIELDS)}, not {field!r}")
    values = np.asarray(SWEEP_FIELDS[field] if values is None else values, dtype=float)
    seeds = sweep_seeds(cfg, n_seeds)
    per_seed, metrics, low, high, diverged, count, loss = {}, {}, {}, {}, {}, {}, {}
    for bn in (True, False):
        base = cfg.replace(bn=bn)
        configs = [base.replace(seed=s, **{field: float(v)}) for s in seeds for v in values]
        ensemble = train_ensemble(configs, data)
        shape = (len(seeds), len(values))
        per_seed[bn] = {k: v.reshape(shape) for k, v in ensemble.final_metrics().items()}
        with warnings.catch_warnings():           # a value where every seed diverged is all NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            metrics[bn] = {k: np.nanmedian(v, axis=0) for k, v in per_seed[bn].items()}
            low[bn] = {k: np.nanmin(v, axis=0) for k, v in per_seed[bn].items()}
            high[bn] = {k: np.nanmax(v, axis=0) for k, v in per_seed[bn].items()}
        dead = np.array([d is not None for d in ensemble.diverged_at]).reshape(shape)
        count[bn] = dead.sum(axis=0)
        diverged[bn] = count[bn] * 2 > len(seeds)
        loss[bn] = ensemble.train_loss[:, :len(values)].copy()
    return Sweep(field, values, seeds, per_seed, metrics, low, high, diverged, count, loss, cfg)
