"""BN's running statistics: buffers trained by an averaging rule, not by backprop."""
from __future__ import annotations

import numpy as np


class RunningAverage:
    """How BN's running statistics follow the batch statistics.

    ewma:        running_t = m * running_(t-1) + (1 - m) * batch_t   (Keras' momentum m;
                 PyTorch's momentum is 1 - m), starting from mean 0 and variance 1
    cumulative:  running_t = the plain average of batch_1 .. batch_t
    The variance folded in is the biased batch variance, or with
    variance="unbiased" that times n / (n - 1) (PyTorch); a one-row batch has no
    unbiased variance and contributes its biased one, 0.

    is_var: (R,) which entries of the buffer layout (mean1, var1, ...) are variances.
    """

    def __init__(self, is_var: np.ndarray, momentum: float, kind: str, variance: str):
        self.is_var, self.m, self.kind, self.variance = np.asarray(is_var, bool), momentum, kind, variance

    def _folded(self, stats: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """Batch statistics (S, ..., R) as they enter the average (Bessel's factor applied)."""
        if self.variance != "unbiased":
            return stats
        sizes = np.asarray(sizes, dtype=float)
        factor = np.where(sizes > 1, sizes / np.maximum(sizes - 1, 1), 1.0)
        factor = factor.reshape((-1,) + (1,) * (stats.ndim - 1))
        return np.where(self.is_var, stats * factor, stats)

    def series(self, stats: np.ndarray, sizes, initial: np.ndarray) -> np.ndarray:
        """Running statistics after each of S steps.

        stats: (S, ..., R) biased batch statistics per step; sizes: (S,) rows per
        batch; initial: (..., R) the buffers before step 1. Returns (S, ..., R).
        """
        folded = self._folded(stats, sizes)
        if self.kind == "cumulative":
            counts = np.arange(1, len(stats) + 1).reshape((-1,) + (1,) * (stats.ndim - 1))
            return np.cumsum(folded, axis=0) / counts
        running = (1.0 - self.m) * folded
        if len(running):
            running[0] += self.m * initial
        for t in range(1, len(running)):      # the recursion itself: two small operations a step
            running[t] += self.m * running[t - 1]
        return running
