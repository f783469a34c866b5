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

from .budget import Budget, cost, fit, n_params
from .config import Config
from .train import batch_bounds, train_ensemble

SWEEP_FIELDS = {"lr": np.geomspace(1e-3, 30.0, 14), "init_scale": np.geomspace(1e-3, 1e3, 13)}
SWEEP_SEEDS = 10
# An ensemble keeps every member's parameters and gradients at every step:
# at most this many numbers per BN setting (16M float64 = 128 MB).
SWEEP_NUMBERS = 16_000_000


@dataclass(eq=False)
class Sweep:
    """field: "lr" or "init_scale"; values: (V,); seeds: the seeds trained. Per BN setting (True/False):
    per_seed[bn][name]: (seeds, V) final metrics (NaN where that training diverged);
    metrics[bn][name], low[bn][name], high[bn][name]: (V,) median, smallest and largest over
    the seeds that did not diverge (NaN where all did); diverged_count[bn]: (V,) how many diverged
    (in training, or with final numbers past float64: ``Ensemble.overflowed``);
    loss[bn]: (S, V) mini-batch losses of the first seed."""

    field: str
    values: np.ndarray
    seeds: tuple
    per_seed: dict
    metrics: dict
    low: dict
    high: dict
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
    per_seed, metrics, low, high, count, loss = {}, {}, {}, {}, {}, {}
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
        dead = (np.array([d is not None for d in ensemble.diverged_at]) | ensemble.overflowed).reshape(shape)
        count[bn] = dead.sum(axis=0)
        loss[bn] = ensemble.train_loss[:, :len(values)].copy()
    return Sweep(field, values, seeds, per_seed, metrics, low, high, count, loss, cfg)


def seeds_that_fit(cfg: Config, n_rows: int, field: str, budget: Budget, most: int = SWEEP_SEEDS,
                   numbers: int = SWEEP_NUMBERS, n_in: int = 2, n_out: int = 1) -> int:
    """How many seeds (1 to `most`) a sweep of cfg can train on n_rows rows.

    Time: the members share each update's Python overhead and add arithmetic,
    so updates / max_steps + seeds * work / max_work <= 1, with the work of one
    seed's 2 x V trainings, each at its price (``bnviz.budget.Cost``: a deeper network's update
    weighs more, and a big step is the NumPy loop's). Memory: each BN setting's ensemble stores
    parameters and gradients of its V x seeds members at every step, at most
    `numbers` in all.
    """
    values = len(SWEEP_FIELDS[field])
    one_seed = cost(cfg, n_rows, 2 * values, n_in, n_out=n_out)
    params = max(n_params(cfg.hidden, bn, cfg.keep_bias, cfg.bn_position, n_in, n_out) for bn in (True, False))
    stored = 2 * (one_seed.updates + 1) * params * values

    def fits(seeds: int) -> bool:
        slow = one_seed.updates * one_seed.step_weight / budget.max_steps + seeds * one_seed.priced_work / budget.max_work
        return slow <= 1.0 and seeds * stored <= numbers

    return next((s for s in range(most, 0, -1) if fits(s)), 1)


def sweep_plan(cfg: Config, n_rows: int, budget: Budget, numbers: int = SWEEP_NUMBERS, n_in: int = 2,
               n_out: int = 1) -> Config:
    """The Config every training of a sweep around cfg uses: within `budget`'s time for one seed's
    trainings (``bnviz.budget.fit``: fewer epochs first), and with one seed's stored history within
    `numbers`. A sweep keeps no Run records, so the budget's record bytes do not apply to it."""
    values = max(len(v) for v in SWEEP_FIELDS.values())
    timed = fit(cfg, n_rows, Budget(budget.max_steps, budget.max_work, float("inf")), members=2 * values,
                resizable_data=False, n_in=n_in, n_out=n_out).config
    params = max(n_params(timed.hidden, bn, timed.keep_bias, timed.bn_position, n_in, n_out) for bn in (True, False))
    per_epoch = len(batch_bounds(max(int(n_rows), 2), timed.batch_size))
    epochs = int((numbers / (2 * params * values) - 1) // per_epoch)
    return timed.replace(epochs=max(1, min(timed.epochs, epochs)))


def spread_over_seeds(values: np.ndarray) -> dict:
    """values: (R, V), one row per seed (NaN: that training has no value). Returns {"median",
    "low", "high": (V,) over the finite entries of each column (NaN where none), "finished": (V,)}."""
    values = np.asarray(values, dtype=float)
    finished = np.isfinite(values).sum(axis=0)
    out = {"finished": finished}
    for key, f in (("median", np.median), ("low", np.min), ("high", np.max)):
        out[key] = np.array([f(col[np.isfinite(col)]) if n else np.nan for col, n in zip(values.T, finished)])
    return out


def batch_size_summary(noise: dict) -> dict:
    """The batch-size sweep (``bnviz.measures.batch_noise``) as its chart draws it: batch_sizes,
    epochs, train_rows and seeds as given, and a ``spread_over_seeds`` summary of each measure:
    mu_spread and mode_gap (BN on), acc_gap {True, False}."""
    return {"batch_sizes": np.asarray(noise["batch_sizes"]), "epochs": noise["epochs"],
            "train_rows": noise["train_rows"], "seeds": len(noise["mu_spread"]),
            "mu_spread": spread_over_seeds(noise["mu_spread"]), "mode_gap": spread_over_seeds(noise["mode_gap"]),
            "acc_gap": {bn: spread_over_seeds(noise["acc_gap"][bn]) for bn in (True, False)}}
