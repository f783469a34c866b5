"""Reading an uploaded CSV into numeric features and a class label, never crashing.

Features: every numeric column but the label (2 to MAX_FEATURES of them), or the ones named.
Label: a column with 2 to MAX_CLASSES different values; two values become 0 and 1 as
before (a "no"-like value, or the smaller number, is 0), K > 2 values become the class
numbers 0..K-1 in sorted order (numbers by size, text alphabetically).

Accepts a UTF-8 BOM, ',' ';' or tab separators (with ';' a decimal comma is
read too), quoted headers, spaces around cells, Windows line ends, blank lines
and extra text columns. Everything it cannot use raises DataError with a
sentence a student can act on: which column or line, and what was expected.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .visitor_text import plain

MAX_BYTES = 5 * 2**20      # the one upload limit: the page's file box and Streamlit's own cap follow it
MAX_ROWS = 100_000
MIN_ROWS = 8
MAX_FEATURES = 64          # an 8 x 8 image's pixels
MAX_CLASSES = 10           # the digits' classes
LABEL_HINTS = ("placed", "label", "target", "class", "y", "outcome", "digit")
NEGATIVE_WORDS = {"0", "no", "n", "false", "f", "not placed", "negative", "neg", "fail", "failed", "-1"}


class DataError(ValueError):
    """Data bnviz cannot learn from; the message says what to fix."""


@dataclass(frozen=True)
class Table:
    """X: (n, D) features, 2 <= D <= MAX_FEATURES; y: (n,) class numbers 0..K-1 (0/1 for two
    classes); label_values: (K,) the original value of each class number."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple
    label_name: str
    label_values: tuple
    notes: tuple


def read_table(source, features=None, label=None) -> Table:
    """Read `source` (path, bytes or file-like) into a Table, or raise DataError."""
    try:
        header, rows, lines, sep = _parse(_decode(_read_bytes(source)))
        return _to_table(header, rows, lines, sep, features, label)
    except DataError:
        raise
    except Exception as err:  # the promise is DataError or nothing: say what happened
        raise DataError(f"The file could not be read as a table ({type(err).__name__}: {plain(err, 200)}).") from err


def _read_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"There is no file at {_quoted(path)}.")
        if path.stat().st_size > MAX_BYTES:
            raise DataError(too_big(path.stat().st_size))
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(MAX_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise DataError(f"Expected a path, bytes or an open file, got {type(source).__name__}.")
    if len(data) > MAX_BYTES:
        raise DataError(too_big(len(data)) if isinstance(source, (bytes, bytearray, memoryview)) else too_big())
    return data


def limit_text() -> str:
    """The upload limit as a person reads it, in MB of 2**20 bytes (as file managers count)."""
    return f"{MAX_BYTES / 2**20:g} MB"


def too_big(size: int | None = None) -> str:
    """The sentence for a file over MAX_BYTES, with its size when known (bytes)."""
    was = f"The file is {size / 2**20:.1f} MB ({size:,} bytes)" if size is not None else "The file is larger"
    return (f"{was}; the limit for an upload is {limit_text()} ({MAX_BYTES:,} bytes). "
            f"Upload at most {MAX_ROWS:,} rows, or fewer columns.")


def _quoted(name) -> str:
    """A header name or a cell as a sentence quotes it: on one line and shortened (bnviz.visitor_text)."""
    return f"'{plain(name)}'"


def _columns(header, most: int = 8) -> str:
    """The first `most` header names for a sentence, and how many there are in all."""
    names = ", ".join(plain(h) for h in header[:most])
    return names + (f", … ({len(header)} in all)" if len(header) > most else "")


def _decode(data: bytes) -> str:
    if not data.strip():
        raise DataError("The file is empty.")
    head = data[:4096]
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"\x89PNG", b"%PDF", b"\xd0\xcf\x11\xe0")):
        raise DataError("This is a binary file (a spreadsheet, an image or a PDF?), not CSV text. "
                        "Save it as CSV and upload that.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:4096]
    odd = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\r\n\t") or ch == "\ufffd")
    if odd > max(2, len(sample) // 50):
        raise DataError("This does not look like CSV text: it is full of control characters. Save it as CSV.")
    return text


def _parse(text: str):
    """-> header, data rows (lists of stripped cells), their line numbers in the file, separator."""
    numbered = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not numbered:
        raise DataError("The file is empty.")
    if len(numbered) - 1 > MAX_ROWS:
        raise DataError(f"The file has {len(numbered) - 1:,} rows; the limit is {MAX_ROWS:,}.")
    head = numbered[0][1]
    counts = {sep: head.count(sep) for sep in (",", ";", "\t")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        raise DataError("The header has a single column. Separate the columns with commas (or semicolons), "
                        "e.g. 'cgpa,iq,placed'.")
    table = [[cell.strip() for cell in row]
             for row in csv.reader((ln for _, ln in numbered), delimiter=sep, skipinitialspace=True)]
    header = [h.strip().strip("\"'").strip() or f"column {i + 1}" for i, h in enumerate(table[0])]
    rows, lines = table[1:], [i for i, _ in numbered[1:]]
    if len(rows) != len(lines):  # a quoted cell ran over a line end
        raise DataError("A quoted cell runs over the end of a line; close every opening quote mark.")
    if not rows:
        raise DataError("The file has a header but no data rows.")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise DataError(f"Line {line} has {len(row)} cells but the header has {len(header)} columns "
                            f"({_columns(header)}).")
    if len(rows) < MIN_ROWS:
        raise DataError(f"The file has {len(rows)} data rows; at least {MIN_ROWS} are needed to train and test.")
    seen = set()
    for i, h in enumerate(header):
        if h in seen:
            header[i] = f"{h} ({i + 1})"
        seen.add(header[i])
    return header, rows, lines, sep


def _number(cell: str, sep: str) -> float:
    """float(cell), accepting a decimal comma when columns are split by ';'."""
    if sep == ";" and "," in cell and "." not in cell:
        cell = cell.replace(",", ".")
    return float(cell)


def _is_number(cell: str, sep: str) -> bool:
    try:
        _number(cell, sep)
        return True
    except ValueError:
        return False


def _to_table(header, rows, lines, sep, features, label) -> Table:
    column = {h: [row[j] for row in rows] for j, h in enumerate(header)}
    label = _pick_label(header, column, sep, label)
    y, values, label_note = _label_to_classes(label, column[label], sep)
    features = _pick_features(header, column, sep, label, features)
    X = np.column_stack([_feature(f, column[f], lines, sep) for f in features])
    # Two features must both vary (as ever); among many (an image's pixels) a constant one,
    # a pixel blank in every image, is kept: standardized it is 0 and changes nothing.
    constant = [f for f, values in zip(features, X.T) if np.ptp(values) == 0]
    if constant and (len(features) <= 2 or len(constant) == len(features)):
        raise DataError(f"Column {_quoted(constant[0])} has the same value in every row; "
                        "it cannot tell students apart.")
    if len(features) == 2:
        named = f"{plain(features[0])} and {plain(features[1])}"
    else:
        named = f"{len(features)} columns ({_columns(features, 4)})"
    notes = (f"Features: {named}; label: {plain(label)}.", label_note)
    if constant:
        notes += (f"{len(constant)} of the features ({_columns(constant, 4)}) hold the same value in every row; "
                  "they tell no rows apart.",)
    return Table(X, y, features, label, values, notes)


def _label_cells(cells, sep):
    """Label cells as comparable values: numbers when every cell is one (so 1 and 1.0 agree)."""
    if all(_is_number(c, sep) for c in cells):
        return [_number(c, sep) for c in cells]
    return cells


def _pick_label(header, column, sep, label):
    if label is not None:
        if label not in column:
            raise DataError(f"There is no column called {_quoted(label)}; the columns are {_columns(header)}.")
        return label
    by_lower = {h.lower(): h for h in header}
    for hint in LABEL_HINTS:
        if hint in by_lower:
            return by_lower[hint]
    counts = {h: len(set(_label_cells(column[h], sep))) for h in header}
    for h in reversed(header):                 # two classes first, as ever
        if counts[h] == 2:
            return h
    for h in reversed(header):
        if 2 < counts[h] <= MAX_CLASSES:
            return h
    last = header[-1]
    raise DataError(f"No column has 2 to {MAX_CLASSES} different values to use as the label "
                    f"(for example placed = 0 or 1, or a digit 0 to 9); the last column, {_quoted(last)}, has "
                    f"{counts[last]:,} different values (a label may have 2 to {MAX_CLASSES} classes). "
                    "Add a label column, or name it.")


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return _quoted(value) if value else "an empty cell"


def _label_to_classes(label, cells, sep):
    """(y (n,) class numbers, label_values, a note): two values -> 0 and 1 (a "no"-like value or
    the smaller number first), 3 to MAX_CLASSES values -> 0..K-1 in sorted order."""
    cells = _label_cells(cells, sep)
    values = sorted(set(cells), key=lambda v: (str(v).strip().lower() not in NEGATIVE_WORDS
                                               and not (isinstance(v, float) and v <= 0), _sort_key(v)))
    if len(values) == 1:
        raise DataError(f"The label column {_quoted(label)} has a single value ({_show(values[0])}); "
                        "both classes are needed to learn anything.")
    if len(values) > MAX_CLASSES:
        shown = ", ".join(_show(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
        raise DataError(f"The label column {_quoted(label)} has {len(values)} different values ({shown}); "
                        f"a label may have 2 to {MAX_CLASSES} classes. Pick a column with fewer values as "
                        "the label, or group its values.")
    if len(values) == 2:
        y = np.array([float(c == values[1]) for c in cells])
        return y, tuple(values), f"Label {_quoted(label)}: {_show(values[0])} -> 0, {_show(values[1])} -> 1."
    values = sorted(values, key=_sort_key)
    number = {v: float(i) for i, v in enumerate(values)}
    y = np.array([number[c] for c in cells])
    pairs = ", ".join(f"{_show(v)} -> {i}" for i, v in enumerate(values))
    return y, tuple(values), f"Label {_quoted(label)}: {len(values)} classes, {pairs}."


def _sort_key(v):
    return (0, v, "") if isinstance(v, float) else (1, 0.0, str(v).lower())


def _pick_features(header, column, sep, label, features):
    if features is not None:
        features = tuple(features)
        if not 2 <= len(features) <= MAX_FEATURES:
            raise DataError(f"Name 2 to {MAX_FEATURES} feature columns, got {len(features)}.")
        for f in features:
            if f not in column:
                raise DataError(f"There is no column called {_quoted(f)}; the columns are {_columns(header)}.")
        if label in features:
            raise DataError(f"{_quoted(label)} is the label; it cannot also be a feature.")
        twice = next((f for i, f in enumerate(features) if f in features[:i]), None)
        if twice is not None:
            raise DataError(f"Name different feature columns, not {_quoted(twice)} twice.")
        return features
    # a column meant to hold numbers: at least half its cells, rounded down, are numbers
    # (4 of 8, 4 of 9); a stray word in it is then reported by line, instead of the column vanishing
    numeric = [h for h in header if h != label
               and sum(_is_number(c, sep) for c in column[h]) >= max(1, len(column[h]) // 2)]
    if len(numeric) < 2:
        found = f"only {_quoted(numeric[0])}" if numeric else "none"
        raise DataError(f"Two numeric feature columns are needed (like cgpa and iq); found {found} "
                        f"besides the label {_quoted(label)}.")
    if len(numeric) > MAX_FEATURES:
        raise DataError(f"The file has {len(numeric)} numeric columns besides the label {_quoted(label)}; "
                        f"at most {MAX_FEATURES} can be features (an 8 x 8 image's pixels). "
                        "Leave some columns out, or name the feature columns.")
    return tuple(numeric)


def _feature(name, cells, lines, sep):
    values = np.empty(len(cells))
    for i, (cell, line) in enumerate(zip(cells, lines)):
        try:
            values[i] = _number(cell, sep)
        except ValueError:
            raise DataError(f"Column {_quoted(name)}, line {line}: {_show(cell)} is not a number.") from None
        if not np.isfinite(values[i]):
            raise DataError(f"Column {_quoted(name)}, line {line}: {_quoted(cell)} is not a finite number "
                            "(NaN and infinity cannot be learned from).")
    return values
