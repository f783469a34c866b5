"""Data sets: the built-in ones, CSV uploads, the stratified split, scaling.

A Dataset keeps features in raw units (GPA, IQ); standardization statistics
come from the training rows only and travel with it, so a chart can map the
network's z-scored inputs back onto the raw GPA/IQ plane.
"""
from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib.resources import files

import numpy as np

from .csvread import DataError, read_table
from .seeding import rng_for
from .toydata import NOTES_BATCH, NOTES_FOUR, NOTES_STUDENTS, TOY_MAKERS, notes_table

NOTES_TABLES = {"notes4": NOTES_FOUR, "notes_batch": NOTES_BATCH, "notes_students": NOTES_STUDENTS}
SHIPPED = "datasets"        # the package folder of the data files that ship with bnviz
__all__ = ["DataError", "Dataset", "load_csv", "load_dataset", "make_dataset", "stratified_split"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """D numeric features and a class label, split into training and test rows.

    X_train: (n_train, D), y_train: (n_train,) float class numbers 0..K-1 (0/1 for
    the two-class sets), likewise X_test, y_test (n_test may be 0 for the notes'
    tiny tables). label_values: (K,) what each class number stands for in the
    source. feature_mean, feature_std: (D,) from the training rows (biased std).
    test_rows: the held-out rows' positions in the source. notes: sentences about
    how the source was read.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple
    label_name: str = "placed"
    label_values: tuple = (0, 1)
    test_rows: np.ndarray = field(default=None)
    notes: tuple = ()

    # The statistics are computed once per data set (its rows never change) and kept read-only:
    # a run's assembly and its view standardize rows a dozen times.
    @cached_property
    def feature_mean(self) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            mean = self.X_train.mean(axis=0)
        if not np.isfinite(mean).all():
            mean = (self.X_train / self._scale).mean(axis=0) * self._scale   # sums near 1e308 overflow
        return _frozen(mean)

    @cached_property
    def feature_std(self) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            std = self.X_train.std(axis=0)
        if not np.isfinite(std).all():
            std = (self.X_train / self._scale).std(axis=0) * self._scale
        return _frozen(np.where(std > 0, std, 1.0))

    @cached_property
    def _scale(self) -> np.ndarray:
        """(D,) the largest magnitude in each training column (1 for an all-zero column)."""
        scale = np.abs(self.X_train).max(axis=0) if len(self.X_train) else np.ones(self.X_train.shape[1])
        return _frozen(np.where(scale > 0, scale, 1.0))

    def standardize(self, X: np.ndarray) -> np.ndarray:
        """Raw features (n, D) -> z-scores with the training rows' statistics."""
        with np.errstate(over="ignore", invalid="ignore"):
            z = (X - self.feature_mean) / self.feature_std
        if np.isfinite(z).all() or not np.isfinite(X).all():
            return z
        scale = self._scale          # values near the float64 limit: differences overflow unless scaled first
        return (X / scale - self.feature_mean / scale) / (self.feature_std / scale)

    def inputs(self, X: np.ndarray, standardize: bool) -> np.ndarray:
        """What the network's first layer sees for raw rows X: z-scores or the raw values."""
        return self.standardize(X) if standardize else np.asarray(X, dtype=float)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        """K, the classes the labels tell apart (2 for the 0/1 sets): len(label_values)."""
        return max(2, len(self.label_values))

    def __repr__(self):
        features = self.feature_names if self.n_features <= 4 else f"{self.n_features} ({self.feature_names[0]}..)"
        return (f"Dataset({self.name!r}, train={len(self.y_train)}, test={len(self.y_test)}, "
                f"features={features}, label={self.label_name!r}, classes={self.n_classes})")


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    values.flags.writeable = False
    return values


def stratified_split(y: np.ndarray, test_fraction: float, seed: int):
    """Row positions (train, test), each class split in the same proportion.

    y: (n,) class numbers (0/1, or 0..K-1). A class of n rows sends
    round(n * test_fraction) of them to the test set, always keeping at least
    one in training; classes are drawn in order 0, 1, 2, ... from one generator.
    Both index arrays are sorted.
    """
    rng = rng_for(seed, "split")
    test = []
    for cls in np.union1d([0, 1], y):
        rows = np.flatnonzero(y == cls)
        n_test = min(int(round(len(rows) * test_fraction)), len(rows) - 1)
        test.append(rng.permutation(rows)[:max(n_test, 0)])
    test = np.sort(np.concatenate(test)).astype(int)
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


def make_dataset(name, X, y, feature_names, *, seed=0, test_fraction=0.2, label_name="placed",
                 label_values=(0, 1), notes=()) -> Dataset:
    """Split X (n, D), y (n,) class numbers into a Dataset."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    train, test = stratified_split(y, test_fraction, seed)
    return Dataset(name, X[train], y[train], X[test], y[test], tuple(feature_names), label_name,
                   tuple(label_values), test, tuple(notes))


def shipped_file(name: str) -> bytes:
    """The bytes of a data file shipped inside the package, read through importlib.resources,
    so it is found wherever bnviz is installed (a wheel, a zip, a source checkout)."""
    return files("bnviz").joinpath(SHIPPED, name).read_bytes()


@lru_cache(maxsize=1)
def digits_table() -> tuple:
    """(pixels (1797, 64), digits (1797,)) of the shipped handwritten digits, read once, read-only.

    bnviz/datasets/digits.csv.gz (data/make_digits.py): 8 x 8 images row by row, each
    pixel a count 0..16 as the UCI source gives it, and the digit 0..9 each shows."""
    text = gzip.decompress(shipped_file("digits.csv.gz")).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.int64)
    pixels, digits = table[:, :-1].astype(float), table[:, -1].astype(float)
    pixels.flags.writeable = digits.flags.writeable = False
    return pixels, digits


DIGIT_FEATURES = tuple(f"p{i}" for i in range(64))     # pixel (row r, column c) of the 8 x 8 image is p{8r + c}


@lru_cache(maxsize=8)
def _shipped_table(name: str, features: tuple, label: str):
    """A shipped file's table, read once per process (every seed splits the same rows)."""
    return read_table(shipped_file(name), features, label)


def load_dataset(name: str = "placement", *, seed: int = 0, test_fraction: float = 0.2,
                 size: int = 400, noise: float = 0.2) -> Dataset:
    """A built-in data set by name, split by `seed`.

    placement: the shipped bnviz/datasets/placement.csv (see data/README.md).
    digits: the shipped 1,797 handwritten digits of 8 x 8 pixels (64 features p0..p63, each
    0..16; labels 0..9; data/README.md), split like the others. notes4, notes_batch,
    notes_students: the notes' tables, used whole for training (too small to
    hold rows out); notes_batch is their numbered batch of four students.
    xor, circles, moons, gaussians: `size` points made from `seed` with `noise`.
    """
    if name == "placement":
        table = _shipped_table("placement.csv", ("cgpa", "iq"), "placed")
        return make_dataset("placement", table.X, table.y, table.feature_names, seed=seed,
                            test_fraction=test_fraction, label_name=table.label_name,
                            label_values=table.label_values, notes=table.notes)
    if name == "digits":
        X, y = digits_table()
        return make_dataset(name, X, y, DIGIT_FEATURES, seed=seed, test_fraction=test_fraction,
                            label_name="digit", label_values=tuple(range(10)))
    if name in NOTES_TABLES:
        X, y, names = notes_table(NOTES_TABLES[name])
        return make_dataset(name, X, y, names, seed=seed, test_fraction=0.0)
    if name in TOY_MAKERS:
        X, y = TOY_MAKERS[name](rng_for(seed, "data"), int(size), float(noise))
        return make_dataset(name, X, y, ("x1", "x2"), seed=seed, test_fraction=test_fraction, label_name="class")
    raise ValueError(f"unknown data set {name!r}: use placement, digits, {', '.join(NOTES_TABLES)}, "
                     f"{', '.join(TOY_MAKERS)}")


def load_csv(source, features=None, label=None, *, seed: int = 0, test_fraction: float = 0.2,
             name: str = "upload") -> Dataset:
    """Read an uploaded CSV into a Dataset, or raise DataError saying what to fix.

    source: a path, bytes, or a file-like object (text or binary). Picks every
    numeric column but the label as a feature (2 to 64 of them) and a label with
    2 to 10 distinct values (two mapped to 0 and 1, more to 0..K-1; Dataset.notes
    say how), unless `features` (2 to 64 column names) or `label` are given. See
    bnviz.csvread for what it accepts and refuses.
    """
    table = read_table(source, features, label)
    return make_dataset(name, table.X, table.y, table.feature_names, seed=seed, test_fraction=test_fraction,
                        label_name=table.label_name, label_values=table.label_values, notes=table.notes)
