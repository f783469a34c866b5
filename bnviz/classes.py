"""What a network says about held-out rows of many classes: a confusion matrix and a sheet of test images.

For data off the two-feature plane (the handwritten digits, an upload of many columns)
the decision boundary cannot be drawn; these numbers stand in for it. Every prediction
is in evaluation mode (BN with the running statistics, each row on its own), as a
deployed network would make it. NumPy only; ``bnviz.figures.classes`` draws them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .inference import predict_proba
from .run import Run

SHEET_PER_CLASS = 5       # test images per class on the sheet: ten classes make a 10 x 5 sheet


def image_side(n_features: int) -> int | None:
    """The side s of an s x s image the features can be drawn as (8 for the digits' 64 pixels), or None
    when they are not a square of at least 4 x 4 (a table of measurements, not a picture)."""
    side = math.isqrt(int(n_features))
    return side if side * side == n_features and side >= 4 else None


def held_out(data) -> tuple:
    """(X (n, D) raw rows, y (n,) int classes, split name): the test rows, or the training rows when
    none are held out."""
    if len(data.y_test):
        return data.X_test, np.asarray(data.y_test, dtype=int), "test"
    return data.X_train, np.asarray(data.y_train, dtype=int), "training"


@dataclass
class Confusion:
    """counts[i, j]: rows of class i the network put in class j, (K, K) int; split: "test" or
    "training"; the diagonal is what it got right. A row whose outputs are not finite counts in
    no column (its class's row then sums to fewer than its rows)."""

    counts: np.ndarray
    split: str

    @property
    def accuracy(self) -> float:
        total = self.counts.sum()
        return float(np.trace(self.counts) / total) if total else float("nan")


def confusion(run: Run, data, state: int | None = None) -> Confusion:
    """The confusion matrix of a run at `state` (default: the final one) over the held-out rows."""
    X, y, split = held_out(data)
    k = data.n_classes
    counts = np.zeros((k, k), dtype=int)
    if len(y):
        proba = predict_proba(run, data, X, state)                # (n, K)
        finite = np.isfinite(proba).all(axis=1)
        np.add.at(counts, (y[finite], proba[finite].argmax(axis=1)), 1)
    return Confusion(counts, split)


@dataclass
class Sheet:
    """Held-out rows laid out for viewing: rows (n,) their positions in X_test (or X_train, see
    split); images (n, D) raw features; labels, predicted (n,) int classes; probability (n,) the
    probability the network gives its predicted class (NaN where its outputs are not finite);
    per_row: columns of the sheet (images of one class per sheet row, classes in order)."""

    rows: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    probability: np.ndarray
    per_row: int
    split: str

    @property
    def wrong(self) -> np.ndarray:
        return self.predicted != self.labels


def sheet_rows(y: np.ndarray, n_classes: int, per_class: int = SHEET_PER_CLASS) -> np.ndarray:
    """Positions of the first `per_class` rows of each class, class 0's first: (<= K * per_class,)."""
    return np.concatenate([np.flatnonzero(y == k)[:per_class] for k in range(n_classes)]).astype(int)


def held_out_sheet(run: Run, data, per_class: int = SHEET_PER_CLASS, state: int | None = None) -> Sheet:
    """The first `per_class` held-out rows of every class with what the network predicts for each."""
    X, y, split = held_out(data)
    rows = sheet_rows(y, data.n_classes, per_class)
    if len(rows):
        proba = predict_proba(run, data, X[rows], state)
    else:
        proba = np.zeros((0, data.n_classes))
    finite = np.isfinite(proba).all(axis=1)
    predicted = np.where(finite, np.nan_to_num(proba, nan=-1.0).argmax(axis=1), -1)
    probability = np.where(finite, proba[np.arange(len(rows)), np.maximum(predicted, 0)], np.nan)
    return Sheet(rows, X[rows], y[rows], predicted.astype(int), probability, per_class, split)
