"""BN's running statistics: buffers trained by an averaging rule, not by backprop."""
from __future__ import annotations

import numpy as np


class RunningAverage:
    """How BN's running statistics follow the batch statistics (buffers, not parameters).

    ewma:        running = m * running + (1 - m) * batch        (Keras' momentum m)
    cumulative:  running = plain average of the batch statistics of steps 1..t
    The variance folded in is the biased batch variance, or with variance="unbiased"
    that times n / (n - 1) (PyTorch); a one-row batch has no unbiased variance and
    contributes its biased one, 0.
    """

    def __init__(self, is_var: np.ndarray, momentum: float, kind: str, variance: str):
        self.is_var, self.m, self.kind, self.variance = is_var, momentum, kind, variance
        self._factors = {}

    def update(self, buffers: np.ndarray, stats: np.ndarray, n: int, t: int) -> None:
        """Fold one step's stats (..., R) from a batch of n rows in place; t counts steps from 1."""
        if self.variance == "unbiased" and n > 1:
            if n not in self._factors:
                self._factors[n] = np.where(self.is_var, n / (n - 1), 1.0)
            stats = stats * self._factors[n]
        if self.kind == "ewma":
            buffers *= self.m
            buffers += (1.0 - self.m) * stats
        else:
            buffers += (stats - buffers) / t
