"""One seed, several independent random streams.

The experiment's seed is split with NumPy's SeedSequence into a stream per
purpose, so drawing more shuffles never changes the initial weights and a
new data set never changes the shuffles.
"""
from __future__ import annotations

import numpy as np

STREAMS = ("init", "shuffle", "data", "split", "noise")


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """The generator for one purpose (data, split, init, shuffle or noise) of a seed.

    Children of a SeedSequence depend only on their position, so adding a
    stream at the end leaves the others' numbers unchanged."""
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))
    return np.random.default_rng(children[STREAMS.index(purpose)])
