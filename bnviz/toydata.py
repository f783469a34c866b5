"""Data that bnviz makes itself: the placement students, the notes' tables, toy sets.

Every maker is seeded and returns (X (n, 2), y (n,) in {0, 1}, feature names).
"""
from __future__ import annotations

import numpy as np

from .nn import sigmoid

PLACEMENT_SEED = 2024
PLACEMENT_ROWS = 400

# The four students of the worked batch-norm example in the notes (GPA, IQ, placed).
NOTES_FOUR = ((7.0, 70.0, 1), (8.0, 80.0, 0), (9.0, 90.0, 1), (6.0, 60.0, 0))

# The notes' numbered batch of four (①-④), whose mu_B and sigma_B they work out by
# hand. Unlike NOTES_FOUR (IQ exactly 10 x GPA) the two features are not collinear.
NOTES_BATCH = ((6.2, 89.0, 0), (9.1, 91.0, 0), (7.7, 76.0, 1), (8.9, 150.0, 1))

# The larger table of students in the same notes.
NOTES_STUDENTS = (
    (8.9, 100.0, 1), (6.2, 89.0, 0), (9.1, 91.0, 0), (7.7, 76.0, 1), (8.9, 150.0, 1), (6.7, 91.0, 0),
    (8.0, 80.0, 1), (7.0, 70.0, 0), (6.0, 60.0, 1), (9.0, 90.0, 1),
)


def make_placement(seed: int = PLACEMENT_SEED, n: int = PLACEMENT_ROWS):
    """Students with a CGPA (about 5 to 10) and an IQ (about 60 to 160), placed or not.

    Placement follows a logistic model in both features plus chance, so the
    classes overlap and no classifier gets every student right. CGPA is kept
    to two decimals and IQ to whole points, as a real record would.
    """
    rng = np.random.default_rng(seed)
    cgpa = np.round(np.clip(rng.normal(7.0, 1.0, n), 4.5, 10.0), 2)
    iq = np.round(np.clip(rng.normal(100.0, 15.0, n), 60.0, 160.0))
    logit = 4.0 * (cgpa - 7.0) + 2.5 * (iq - 100.0) / 15.0 + 0.2
    p_placed = sigmoid(logit)
    placed = (rng.random(n) < p_placed).astype(int)
    return np.column_stack([cgpa, iq]), placed, ("cgpa", "iq")


def placement_csv_text(seed: int = PLACEMENT_SEED, n: int = PLACEMENT_ROWS) -> str:
    """The text of data/placement.csv."""
    X, y, names = make_placement(seed, n)
    lines = [",".join(names) + ",placed"]
    lines += [f"{g:.2f},{int(q)},{int(p)}" for (g, q), p in zip(X, y)]
    return "\n".join(lines) + "\n"


def notes_table(rows):
    table = np.array(rows, dtype=float)
    return table[:, :2], table[:, 2].astype(int), ("cgpa", "iq")


def _halves(n):
    return n // 2, n - n // 2


def make_xor(rng, n, noise):
    """Points in the square [-1, 1]^2, class 1 where x1 and x2 share a sign; jitter noise/2."""
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X + rng.normal(0.0, noise * 0.5, X.shape), y


def make_circles(rng, n, noise):
    """Class 1 on a circle of radius 0.5 inside class 0 on radius 1; radial jitter noise/4."""
    n0, n1 = _halves(n)
    radius = np.r_[np.ones(n0), np.full(n1, 0.5)]
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X + rng.normal(0.0, noise * 0.25, X.shape), np.r_[np.zeros(n0, int), np.ones(n1, int)]


def make_moons(rng, n, noise):
    """Two interleaved half circles of radius 1; jitter noise/2."""
    n0, n1 = _halves(n)
    t0, t1 = rng.uniform(0.0, np.pi, n0), rng.uniform(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower])
    return X + rng.normal(0.0, noise * 0.5, X.shape), np.r_[np.zeros(n0, int), np.ones(n1, int)]


def make_gaussians(rng, n, noise):
    """Two round blobs centred at (-1, -1) and (1, 1), standard deviation 0.4 + noise."""
    n0, n1 = _halves(n)
    centres = np.vstack([np.tile([-1.0, -1.0], (n0, 1)), np.tile([1.0, 1.0], (n1, 1))])
    X = centres + rng.normal(0.0, 0.4 + noise, centres.shape)
    return X, np.r_[np.zeros(n0, int), np.ones(n1, int)]


TOY_MAKERS = {"xor": make_xor, "circles": make_circles, "moons": make_moons, "gaussians": make_gaussians}
