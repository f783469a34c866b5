"""Ioffe & Szegedy's Figure 1 preset on the digits, measured over seeds 0-9.

    python benchmarks/figure1.py [seeds]

Prints the seconds the trainings take (BN on and off, all seeds, one thread), the seconds of the
whole measurement (training plus the evaluations every few steps), test accuracy at fixed steps
(median and range over seeds, with and without BN), and how far the watched unit's input to its
sigmoid moves: its 15th, 50th and 85th percentiles at the start and the end, and the drift (path
length over the final 15th-85th width), per seed and as a median.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bnviz.figure1 import FIGURE1, measure_figure1  # noqa: E402

CHECKS = (24, 48, 120, 240)


def main(n_seeds: int = 10) -> None:
    seeds = range(n_seeds)
    started, cpu = time.perf_counter(), time.process_time()
    m = measure_figure1(seeds, FIGURE1)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"Figure 1 preset: {FIGURE1.hidden} {FIGURE1.activation}, batch {FIGURE1.batch_size}, lr {FIGURE1.lr}, "
          f"{FIGURE1.epochs} epochs ({int(m['steps'][-1])} steps), {n_seeds} seeds")
    print(f"training seconds over all seeds: BN on {m['seconds'][True]:.2f}, BN off {m['seconds'][False]:.2f}")
    print(f"whole measurement (training + evaluations every few steps): {wall:.1f} s wall, {cpu:.1f} s CPU")
    print("\ntest accuracy (evaluation mode), median [lowest, highest] over seeds")
    for step in CHECKS:
        where = np.flatnonzero(m["steps"] == step)
        if not len(where):
            continue
        row = [f"step {step:4d}"]
        for bn in (True, False):
            a = m["acc"][bn][:, where[0]]
            row.append(f"BN {'on ' if bn else 'off'} {np.median(a):.3f} [{a.min():.3f}, {a.max():.3f}]")
        print("  " + "   ".join(row))
    print(f"\nlayer {m['layer']}, unit {m['unit'] + 1}: input to its sigmoid, median over seeds of each percentile")
    for bn in (True, False):
        p = np.median(m["pct"][bn], axis=0)                       # (3, T)
        start, end = p[:, 0], p[:, -1]
        print(f"  BN {'on ' if bn else 'off'} 15/50/85th at step 0: {np.round(start, 3).tolist()}  at the end: "
              f"{np.round(end, 3).tolist()}  drift median {np.median(m['drift'][bn]):.3f} "
              f"(seeds: {np.round(m['drift'][bn], 2).tolist()})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
