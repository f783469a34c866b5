"""Write bnviz/datasets/digits.csv.gz, the handwritten digits that ship inside the package,
from scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten Digits" data.

scikit-learn is needed only here, never by bnviz: run this with an environment that has it,
from the repository root:  python data/make_digits.py

The file is a gzipped CSV: a header p0..p63,digit, then one row per image of 8 x 8 pixels
(row by row, each a count 0..16 as the source gives it) and its digit 0..9. The gzip header
carries no time stamp, so the same data always gives the same bytes.
"""
import gzip
import io
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bnviz" / "datasets" / "digits.csv.gz"


def digits_csv_text() -> str:
    digits = load_digits()
    pixels = np.asarray(digits.data)
    labels = np.asarray(digits.target)
    assert pixels.shape == (1797, 64) and np.array_equal(pixels, np.round(pixels))
    assert pixels.min() == 0 and pixels.max() == 16 and set(labels) == set(range(10))
    out = io.StringIO()
    out.write(",".join([f"p{i}" for i in range(64)] + ["digit"]) + "\n")
    for row, label in zip(pixels.astype(int), labels.astype(int)):
        out.write(",".join(str(v) for v in row) + f",{label}\n")
    return out.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(gzip.compress(digits_csv_text().encode("ascii"), compresslevel=9, mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
