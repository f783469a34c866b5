"""One seed, several independent random streams.

The experiment's seed is split with NumPy's SeedSequence into a stream per
purpose, so drawing more shuffles never changes the initial weights and a
new data set never changes the shuffles.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

STREAMS = ("init", "shuffle", "data", "split", "noise")


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """The generator for one purpose (data, split, init, shuffle or noise) of a seed.

    Children of a SeedSequence depend only on their position, so adding a
    stream at the end leaves the others' numbers unchanged."""
    return np.random.default_rng(_children(int(seed))[STREAMS.index(purpose)])


@lru_cache(maxsize=4096)
def _children(seed: int) -> tuple:
    """The streams' seed sequences of a seed, split once (an ensemble of 200 asks 400 times a training).
    A generator only reads its sequence, so one sequence may seed any number of them."""
    return tuple(np.random.SeedSequence(seed).spawn(len(STREAMS)))
