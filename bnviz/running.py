"""BN's running statistics: buffers trained by an averaging rule, not by backprop."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class RunningAverage:
    """How BN's running statistics follow the batch statistics.

    ewma:        running_t = m * running_(t-1) + (1 - m) * batch_t   (Keras' momentum m;
                 PyTorch's momentum is 1 - m), starting from mean 0 and variance 1
    cumulative:  running_t = the plain average of batch_1 .. batch_t
    population:  as ewma while training; the training loop then replaces the final
                 buffers with the trained network's statistics (train.population_buffers)
    The variance folded in is the biased batch variance, or with
    variance="unbiased" that times n / (n - 1) (PyTorch); a one-row batch has no
    unbiased variance and contributes its biased one, 0.

    is_var: (R,) which entries of the buffer layout (mean1, var1, ...) are variances.
    """

    def __init__(self, is_var: np.ndarray, momentum: float, kind: str, variance: str):
        self.is_var, self.m, self.kind, self.variance = np.asarray(is_var, bool), momentum, kind, variance

    def folded(self, stats: np.ndarray, n: int) -> np.ndarray:
        """Batch statistics (..., R) of a batch of n rows as they enter the average (Bessel's factor applied)."""
        if self.variance != "unbiased" or n < 2:
            return stats
        return np.where(self.is_var, stats * (n / (n - 1)), stats)

    def update(self, running: np.ndarray, stats: np.ndarray, n: int, t: int) -> None:
        """Fold the batch statistics (..., R) of step t (1-based), a batch of n rows, into running (..., R), in place."""
        stats = self.folded(stats, n)
        if self.kind == "cumulative":
            running += (stats - running) / t
        else:
            running *= self.m
            running += (1.0 - self.m) * stats

    def series(self, stats: np.ndarray, sizes, initial: np.ndarray) -> np.ndarray:
        """Running statistics after each of S steps, by ``update``.

        stats: (S, ..., R) biased batch statistics per step; sizes: (S,) rows per
        batch; initial: (..., R) the buffers before step 1. Returns (S, ..., R).
        """
        running = np.array(np.broadcast_to(initial, stats.shape[1:]), dtype=float)
        out = np.empty(stats.shape)
        for t in range(len(stats)):
            self.update(running, stats[t], int(sizes[t]), t + 1)
            out[t] = running
        return out

    @classmethod
    def for_config(cls, cfg, buffer_layout) -> "RunningAverage":
        """The rule a Config asks for, over a buffer layout (mean1, var1, ...)."""
        is_var = np.zeros(buffer_layout.size, dtype=bool)
        for slot in buffer_layout.slots:
            is_var[slot.start:slot.stop] = slot.name.startswith("var")
        return cls(is_var, cfg.bn_momentum, cfg.running_avg, cfg.running_var)


@dataclass(eq=False)
class RunningSeries:
    """Running statistics of one BN layer after each step: mean, var (S, units)."""

    mean: np.ndarray
    var: np.ndarray


def cumulative_running(run, k: int) -> RunningSeries | None:
    """What BN layer k (0-based) of a finished run would have kept with the cumulative
    rule instead, from the same mini-batch statistics.

    run: a bnviz.run.Run with BN; shown beside the EWMA as the notes' alternative.
    None for a record kept at a stride: the rule averages every step's batch
    statistics, and such a record holds only every k-th step's.
    """
    if run.stride > 1:
        return None
    units = run.batch_mean[k].shape[1]
    is_var = np.r_[np.zeros(units, bool), np.ones(units, bool)]
    rule = RunningAverage(is_var, run.config.bn_momentum, "cumulative", run.config.running_var)
    stats = np.concatenate([run.batch_mean[k], run.batch_var[k]], axis=1)
    initial = np.r_[np.zeros(units), np.ones(units)]
    series = rule.series(stats, [len(rows) for rows in run.batch_indices], initial)
    return RunningSeries(series[:, :units], series[:, units:])
