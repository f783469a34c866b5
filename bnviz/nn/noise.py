"""Noisy BN (Santurkar et al. 2018): a random shift and scale after every BN layer.

Each training step draws, for every BN unit, a scale exp(size * n1) and a
shift size * n2 with n1, n2 standard normal; the BN output y becomes
y * scale + shift for every row of that step's batch. The layer after BN then
sees a distribution that jumps around from step to step, which is exactly
what BN was said to prevent. Evaluation mode adds no noise.
"""
from __future__ import annotations

import numpy as np


def draw_bn_noise(rng: np.random.Generator, steps: int, hidden, size: float) -> np.ndarray:
    """(steps, 2 * sum(hidden)) flat noise: per BN layer its scales, then its shifts."""
    width = 2 * int(sum(hidden))
    normal = rng.standard_normal((int(steps), width))
    flat = np.empty_like(normal)
    start = 0
    for units in hidden:
        flat[:, start:start + units] = np.exp(size * normal[:, start:start + units])
        flat[:, start + units:start + 2 * units] = size * normal[:, start + units:start + 2 * units]
        start += 2 * units
    return flat


def noise_pairs(flat: np.ndarray, hidden) -> list:
    """flat (..., 2 * sum(hidden)) -> [(scale (..., units), shift (..., units))] one pair per BN layer."""
    pairs, start = [], 0
    for units in hidden:
        pairs.append((flat[..., start:start + units], flat[..., start + units:start + 2 * units]))
        start += 2 * units
    return pairs
