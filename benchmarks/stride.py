"""Long runs recorded at a stride: what the costly links keep, with and without it.

    python benchmarks/stride.py

For each costly link: the experiment the server runs when every step must be
kept (before) and when a long record is kept at a stride (after): epochs,
updates, the stride, the Run's bytes (measured: Run.nbytes) and the training
time (wall and CPU, best of two; a shared machine only ever adds time), plus the
peak memory Python allocated while training (tracemalloc, one extra run).
"""
from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bnviz import Config, load_for, train  # noqa: E402
from bnviz.budget import fit  # noqa: E402
from bnviz.limits import RUN_BYTES  # noqa: E402

LINKS = (
    "batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&hidden=16,16,16,16,16,16,16,16",
    "hidden=16,16,16,16,16,16,16,16&epochs=500",
)


def measure(cfg: Config, stride: int | None):
    """(run, best wall seconds and best CPU seconds of two trainings, tracemalloc peak bytes of a third)."""
    data = load_for(cfg)
    wall, cpu = [], []
    for _ in range(2):
        started, started_cpu = time.perf_counter(), time.process_time()
        run = train(cfg, data, stride=stride)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    tracemalloc.start()
    try:
        train(cfg, data, stride=stride)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return run, min(wall), min(cpu), peak


def main() -> None:
    print(f"record budget BNVIZ_RUN_MB = {RUN_BYTES / 2**20:.0f} MB")
    print(f"{'link':<86} {'':6} {'epochs':>6} {'hidden':>10} {'rows':>5} {'updates':>8} {'stride':>6} "
          f"{'Run MB':>7} {'peak MB':>7} {'wall s':>7} {'CPU s':>6}")
    for link in LINKS:
        asked = Config.from_query(dict(part.split("=") for part in link.split("&")))[0]
        rows = len(load_for(asked).y_train)
        for label, strided in (("before", False), ("after", True)):
            cfg = fit(asked, rows, strided=strided).config
            # before: every step kept (train() would now choose a stride by itself, so force 1)
            run, wall, cpu, peak = measure(cfg, None if strided else 1)
            hidden = ",".join(map(str, cfg.hidden)) if len(set(cfg.hidden)) > 1 else f"{cfg.hidden[0]}x{len(cfg.hidden)}"
            print(f"{link if not strided else '':<86} {label:6} {cfg.epochs:>6} {hidden:>10} "
                  f"{len(run.orders[0]):>5} {run.n_steps:>8,} {run.stride:>6} {run.nbytes / 2**20:>7.1f} "
                  f"{peak / 2**20:>7.1f} {wall:>7.2f} {cpu:>6.2f}")

if __name__ == "__main__":
    main()
