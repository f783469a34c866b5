"""Write bnviz/datasets/placement.csv, the data file that ships inside the package,
from its seeded generator (bnviz.toydata.make_placement).

Run from the repository root:  python data/make_placement.py
The test suite checks that the shipped file is exactly what this writes.
"""
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bnviz.toydata import placement_csv_text  # noqa: E402

if __name__ == "__main__":
    out = ROOT / "bnviz" / "datasets" / "placement.csv"
    out.write_text(placement_csv_text(), encoding="utf-8", newline="\n")
    print(f"wrote {out}")
