"""Measure every lesson's verdicts over the page's seeds and ship them: bnviz/datasets/verdicts.json.gz.

    python scripts/make_verdicts.py        # or: make verdicts

Run it after changing anything a verdict depends on (bnviz.shipped_verdicts says what that is); the
tests say when the shipped file no longer matches the code.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bnviz.lessons import EXPERIMENTS, LESSONS, measure  # noqa: E402
from bnviz.shipped_verdicts import NAME, to_json  # noqa: E402
from bnviz.ui.lessons import SEEDS  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "bnviz" / "datasets" / NAME


def main() -> None:
    started = time.perf_counter()
    verdicts = {}
    for lesson in LESSONS:
        for experiment in EXPERIMENTS:
            if lesson.same_experiment and verdicts.get((lesson.id, EXPERIMENTS[0])):
                verdicts[(lesson.id, experiment)] = verdicts[(lesson.id, EXPERIMENTS[0])]    # as the page's Board
                continue
            verdict = verdicts[(lesson.id, experiment)] = measure(lesson, SEEDS, experiment)
            print(f"{lesson.id:22s} {experiment:5s} {verdict.status:15s} {verdict.seconds:6.2f} s", flush=True)
    OUT.write_bytes(to_json(verdicts, SEEDS))
    print(f"{len(verdicts)} verdicts in {time.perf_counter() - started:.1f} s -> {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
