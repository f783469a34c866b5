"""How long the lessons' verdicts take: every lesson measured over seeds 0-9 on one thread.

    python benchmarks/lessons.py [repeats]

Prints, per lesson, the wall-clock time and the CPU time of this process (on a
shared machine the wall clock includes waiting for a core; CPU time does not),
then the totals and the table of verdicts with their key numbers. Each repeat
starts from empty caches, as a fresh server process would.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bnviz import overseeds  # noqa: E402
from bnviz.lessons import LESSONS, measure  # noqa: E402

SEEDS = range(10)


def fresh() -> None:
    overseeds._kept.clear()
    overseeds.dataset_for.cache_clear()


def one_pass():
    fresh()
    rows, verdicts = [], {}
    for lesson in LESSONS:
        wall, cpu = time.perf_counter(), time.process_time()
        verdicts[lesson.id] = measure(lesson, SEEDS)
        rows.append((lesson.id, time.perf_counter() - wall, time.process_time() - cpu))
    return rows, verdicts


def main(repeats: int = 3) -> None:
    passes = [one_pass() for _ in range(repeats)]
    best = {lesson.id: min((r for rows, _ in passes for r in rows if r[0] == lesson.id), key=lambda r: r[2])
            for lesson in LESSONS}
    print(f"{'lesson':22s} {'wall s':>8s} {'CPU s':>8s}   (best CPU of {repeats} passes, 10 seeds, one thread)")
    for lesson in LESSONS:
        _, wall, cpu = best[lesson.id]
        print(f"{lesson.id:22s} {wall:8.2f} {cpu:8.2f}")
    totals = [(sum(r[1] for r in rows), sum(r[2] for r in rows)) for rows, _ in passes]
    wall, cpu = min(totals, key=lambda t: t[1])
    print(f"{'all lessons':22s} {wall:8.2f} {cpu:8.2f}   (best whole pass; target: under 10 s)")
    print()
    verdicts = passes[-1][1]
    for lesson in LESSONS:
        v = verdicts[lesson.id]
        print(f"[{v.status}] {lesson.id}: {v.sentence}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
