"""How long the lessons' verdicts take: every lesson's two experiments over seeds 0-9 on one thread.

    python benchmarks/lessons.py [repeats]

Prints, per lesson and experiment, the wall-clock time and the CPU time of
this process (on a shared machine the wall clock includes waiting for a core;
CPU time does not), each also as a multiple of one default training run's CPU
time measured in the same process, then the totals and the table of verdicts:
status, effect, interval and sentence. Each repeat starts from empty caches,
as a fresh server process would.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bnviz import Config, load_for, overseeds, train  # noqa: E402
from bnviz.lessons import EXPERIMENTS, LESSONS, measure  # noqa: E402

SEEDS = range(10)


def fresh() -> None:
    overseeds._kept.clear()
    overseeds.dataset_for.cache_clear()


def default_run_seconds(repeats: int = 5) -> float:
    """CPU seconds of one default training (the best of a few)."""
    cfg = Config()
    data = load_for(cfg)
    best = float("inf")
    for _ in range(repeats):
        cpu = time.process_time()
        train(cfg, data)
        best = min(best, time.process_time() - cpu)
    return best


def one_pass():
    fresh()
    rows, verdicts = [], {}
    for lesson in LESSONS:
        for experiment in EXPERIMENTS:
            if experiment == "shows" and lesson.same_experiment:
                continue
            wall, cpu = time.perf_counter(), time.process_time()
            verdicts[(lesson.id, experiment)] = measure(lesson, SEEDS, experiment)
            rows.append(((lesson.id, experiment), time.perf_counter() - wall, time.process_time() - cpu))
    return rows, verdicts


def main(repeats: int = 3) -> None:
    unit = default_run_seconds()
    passes = [one_pass() for _ in range(repeats)]
    keys = [key for key, _, _ in passes[0][0]]
    best = {key: min((r for rows, _ in passes for r in rows if r[0] == key), key=lambda r: r[2]) for key in keys}
    print(f"one default training: {unit * 1000:.0f} ms of CPU")
    print(f"{'lesson':22s} {'experiment':10s} {'wall s':>8s} {'CPU s':>8s} {'runs':>6s}   "
          f"(best CPU of {repeats} passes, 10 seeds, one thread; runs: CPU in default trainings)")
    for key in keys:
        _, wall, cpu = best[key]
        print(f"{key[0]:22s} {key[1]:10s} {wall:8.2f} {cpu:8.2f} {cpu / unit:6.1f}")
    totals = [(sum(r[1] for r in rows), sum(r[2] for r in rows)) for rows, _ in passes]
    wall, cpu = min(totals, key=lambda t: t[1])
    print(f"{'all lessons':33s} {wall:8.2f} {cpu:8.2f} {cpu / unit:6.1f}   (goal: under 60 default trainings)")
    print()
    verdicts = passes[-1][1]
    for (lesson_id, experiment), v in verdicts.items():
        print(f"[{v.status}] {lesson_id} ({experiment}): effect {v.effect:.3g}, {v.level:.0%} interval "
              f"{v.ci[0]:.3g} to {v.ci[1]:.3g}; " + "; ".join(f"{p.name}: {p.count}/{p.n}" for p in v.parts))
        print(f"    {v.sentence}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
