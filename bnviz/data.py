"""Data sets: the built-in ones, CSV uploads, the stratified split, scaling.

A Dataset keeps features in raw units (GPA, IQ); standardization statistics
come from the training rows only and travel with it, so a chart can map the
network's z-scored inputs back onto the raw GPA/IQ plane.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .seeding import rng_for
from .toydata import NOTES_FOUR, NOTES_STUDENTS, TOY_MAKERS, notes_table

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
MIN_ROWS = 8
LABEL_HINTS = ("placed", "label", "target", "class", "y", "outcome")
NEGATIVE_WORDS = ("0", "no", "n", "false", "f", "not placed", "negative", "neg", "fail", "failed")


class DataError(ValueError):
    """Data bnviz cannot learn from; the message says what to fix."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Two numeric features and a 0/1 label, split into training and test rows.

    X_train: (n_train, 2), y_train: (n_train,) float 0/1, likewise X_test, y_test
    (n_test may be 0 for the notes' tiny tables). feature_mean, feature_std: (2,)
    from the training rows (biased std). train_rows, test_rows: the rows' positions
    in the source. notes: sentences about how the source was read.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple
    label_name: str = "placed"
    label_values: tuple = (0, 1)
    train_rows: np.ndarray = field(default=None)
    test_rows: np.ndarray = field(default=None)
    notes: tuple = ()

    @property
    def feature_mean(self) -> np.ndarray:
        return self.X_train.mean(axis=0)

    @property
    def feature_std(self) -> np.ndarray:
        std = self.X_train.std(axis=0)
        return np.where(std > 0, std, 1.0)

    def standardize(self, X: np.ndarray) -> np.ndarray:
        """Raw features (n, 2) -> z-scores with the training rows' statistics."""
        return (X - self.feature_mean) / self.feature_std

    def inputs(self, X: np.ndarray, standardize: bool) -> np.ndarray:
        """What the network's first layer sees for raw rows X: z-scores or the raw values."""
        return self.standardize(X) if standardize else np.asarray(X, dtype=float)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    def __repr__(self):
        return (f"Dataset({self.name!r}, train={len(self.y_train)}, test={len(self.y_test)}, "
                f"features={self.feature_names}, label={self.label_name!r})")


def stratified_split(y: np.ndarray, test_fraction: float, seed: int):
    """Row positions (train, test), each class split in the same proportion.

    A class of n rows sends round(n * test_fraction) of them to the test set,
    always keeping at least one in training. Both index arrays are sorted.
    """
    rng = rng_for(seed, "split")
    test = []
    for cls in (0, 1):
        rows = np.flatnonzero(y == cls)
        n_test = min(int(round(len(rows) * test_fraction)), len(rows) - 1)
        test.append(rng.permutation(rows)[:max(n_test, 0)])
    test = np.sort(np.concatenate(test)).astype(int)
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


def make_dataset(name, X, y, feature_names, *, seed=0, test_fraction=0.2, label_name="placed",
                 label_values=(0, 1), notes=()) -> Dataset:
    """Split X (n, 2), y (n,) into a Dataset."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    train, test = stratified_split(y, test_fraction, seed)
    return Dataset(name, X[train], y[train], X[test], y[test], tuple(feature_names), label_name,
                   tuple(label_values), train, test, tuple(notes))


def load_dataset(name: str = "placement", *, seed: int = 0, test_fraction: float = 0.2,
                 size: int = 400, noise: float = 0.2) -> Dataset:
    """A built-in data set by name, split by `seed`.

    placement: data/placement.csv (see data/README.md). notes4, notes_students:
    the notes' tables, used whole for training (too small to hold rows out).
    xor, circles, moons, gaussians: `size` points made from `seed` with `noise`.
    """
    if name == "placement":
        return load_csv(DATA_DIR / "placement.csv", features=("cgpa", "iq"), label="placed",
                        seed=seed, test_fraction=test_fraction, name="placement")
    if name in ("notes4", "notes_students"):
        X, y, names = notes_table(NOTES_FOUR if name == "notes4" else NOTES_STUDENTS)
        return make_dataset(name, X, y, names, seed=seed, test_fraction=0.0)
    if name in TOY_MAKERS:
        X, y = TOY_MAKERS[name](rng_for(seed, "data"), int(size), float(noise))
        return make_dataset(name, X, y, ("x1", "x2"), seed=seed, test_fraction=test_fraction, label_name="class")
    raise ValueError(f"unknown data set {name!r}: use placement, notes4, notes_students, "
                     f"{', '.join(TOY_MAKERS)}")


# --------------------------------------------------------------------------- CSV


def load_csv(source, features=None, label=None, *, seed: int = 0, test_fraction: float = 0.2,
             name: str = "upload") -> Dataset:
    """Read an uploaded CSV into a Dataset, or raise DataError saying what to fix.

    source: a path, bytes, or a file-like object (text or binary). Picks two
    numeric feature columns and a label with exactly two distinct values (mapped
    to 0 and 1; notes say how), unless `features` (two column names) or `label`
    are given. Accepts a UTF-8 BOM, ',' ';' or tab separators, quoted headers,
    spaces around cells, Windows line ends and extra text columns.
    """
    try:
        text = _decode(_read_bytes(source))
        header, rows = _parse_table(text)
        return _to_dataset(header, rows, features, label, seed, test_fraction, name)
    except DataError:
        raise
    except Exception as err:  # the promise is DataError or nothing: say what happened
        raise DataError(f"The file could not be read as a table ({type(err).__name__}: {err}).") from err


def _read_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"There is no file at {str(path)!r}.")
        if path.stat().st_size > MAX_BYTES:
            raise DataError(f"The file is {path.stat().st_size / 2**20:.1f} MB; the limit is 5 MB.")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(MAX_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise DataError(f"Expected a path, bytes or an open file, got {type(source).__name__}.")
    if len(data) > MAX_BYTES:
        raise DataError("The file is larger than 5 MB; upload at most 100,000 rows of GPA and IQ.")
    return data


def _decode(data: bytes) -> str:
    if not data.strip():
        raise DataError("The file is empty.")
    if b"\x00" in data[:4096]:
        raise DataError("This looks like a binary file (a spreadsheet or an image?). Save it as CSV text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t" or ch == "\ufffd")
    if controls > max(2, len(text[:4096]) // 50):
        raise DataError("This does not look like CSV text: it is full of control characters. Save it as CSV.")
    return text


def _parse_table(text: str):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DataError("The file is empty.")
    if len(lines) - 1 > MAX_ROWS:
        raise DataError(f"The file has {len(lines) - 1:,} rows; the limit is {MAX_ROWS:,}.")
    head = lines[0]
    counts = {sep: head.count(sep) for sep in (",", ";", "\t")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        raise DataError("The header has a single column. Separate the columns with commas (or semicolons), "
                        "e.g. 'cgpa,iq,placed'.")
    table = [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=sep, skipinitialspace=True)]
    header = [h.strip().strip('"').strip("'").strip() or f"column {i + 1}" for i, h in enumerate(table[0])]
    rows = table[1:]
    if not rows:
        raise DataError("The file has a header but no data rows.")
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise DataError(f"Row {i} has {len(row)} cells but the header has {len(header)} columns "
                            f"({', '.join(header)}).")
    if len(rows) < MIN_ROWS:
        raise DataError(f"The file has {len(rows)} data rows; at least {MIN_ROWS} are needed to train and test.")
    seen = set()
    for i, h in enumerate(header):
        if h in seen:
            header[i] = f"{h} ({i + 1})"
        seen.add(header[i])
    return header, (rows, sep)


def _number(cell: str, sep: str):
    """float(cell), accepting a decimal comma when columns are split by ';'."""
    if sep == ";" and "," in cell and "." not in cell:
        cell = cell.replace(",", ".")
    return float(cell)


def _numeric_columns(header, rows, sep):
    numeric = {}
    for j, name in enumerate(header):
        try:
            numeric[name] = np.array([_number(row[j], sep) for row in rows])
        except ValueError:
            continue
    return numeric


def _to_dataset(header, table, features, label, seed, test_fraction, name) -> Dataset:
    rows, sep = table
    column = {h: [row[j] for row in rows] for j, h in enumerate(header)}
    label = _pick_label(header, column, label)
    y, label_values, label_note = _label_to_binary(label, column[label])
    features = _pick_features(header, rows, sep, label, features)
    X = np.column_stack([_feature(name_, column[name_], sep) for name_ in features])
    notes = (f"Features: {features[0]} and {features[1]}; label: {label}.", label_note)
    return make_dataset(name, X, y, features, seed=seed, test_fraction=test_fraction, label_name=label,
                        label_values=label_values, notes=notes)


def _pick_label(header, column, label):
    if label is not None:
        if label not in column:
            raise DataError(f"There is no column called {label!r}; the columns are {', '.join(header)}.")
        return label
    by_lower = {h.lower(): h for h in header}
    for hint in LABEL_HINTS:
        if hint in by_lower and len(set(column[by_lower[hint]])) == 2:
            return by_lower[hint]
    for h in reversed(header):
        if len(set(column[h])) == 2:
            return h
    raise DataError("No column has exactly two different values to use as the label "
                    "(for example placed = 0 or 1). Add one, or name the label column.")


def _label_to_binary(label, cells):
    values = sorted(set(cells), key=lambda v: (v.lower() not in NEGATIVE_WORDS, _sort_key(v)))
    if len(values) == 1:
        raise DataError(f"The label column {label!r} has a single value ({values[0]!r}); "
                        "both classes are needed to learn anything.")
    if len(values) > 2:
        shown = ", ".join(repr(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
        raise DataError(f"The label column {label!r} has {len(values)} different values ({shown}); "
                        "it must have exactly two.")
    y = np.array([float(c == values[1]) for c in cells])
    return y, tuple(values), f"Label {label!r}: {values[0]!r} -> 0, {values[1]!r} -> 1."


def _sort_key(v):
    try:
        return (0, float(v), v)
    except ValueError:
        return (1, 0.0, v.lower())


def _pick_features(header, rows, sep, label, features):
    if features is not None:
        features = tuple(features)
        if len(features) != 2:
            raise DataError(f"Name exactly two feature columns, got {len(features)}.")
        for f in features:
            if f not in header:
                raise DataError(f"There is no column called {f!r}; the columns are {', '.join(header)}.")
        if label in features:
            raise DataError(f"{label!r} is the label; it cannot also be a feature.")
        return features
    numeric = [h for h in _numeric_columns(header, rows, sep) if h != label]
    if len(numeric) < 2:
        found = f"only {numeric[0]!r}" if numeric else "none"
        raise DataError(f"Two numeric feature columns are needed (like cgpa and iq); found {found} "
                        f"besides the label {label!r}.")
    return tuple(numeric[:2])


def _feature(name, cells, sep):
    values = np.empty(len(cells))
    for i, cell in enumerate(cells):
        try:
            values[i] = _number(cell, sep)
        except ValueError:
            shown = cell if cell else "an empty cell"
            raise DataError(f"Column {name!r}, row {i + 2}: {shown!r} is not a number.") from None
        if not np.isfinite(values[i]):
            raise DataError(f"Column {name!r}, row {i + 2}: {cell!r} is not a finite number.")
    if np.ptp(values) == 0:
        raise DataError(f"Column {name!r} has the same value in every row; it cannot tell students apart.")
    return values
