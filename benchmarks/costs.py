"""The budget's prices, measured: CPU seconds of trainings (the compiled loop, recording and the
Run's derived numbers included) against their updates and work, fitted as bnviz.budget counts them.

    python benchmarks/costs.py

Trains a few experiments chosen so that either updates (batches of one) or work (wide networks on
many rows) dominate, at several depths, takes the best CPU time of a few repeats (a shared machine
only adds time), and fits  seconds = (1 + DEPTH_COST * (depth - 2)+) * updates * a + work * b  by
least squares. Prints each experiment's measured and predicted seconds, the fitted prices and the
bounds (MAX_STEPS = 1 s / a, MAX_WORK = 1 s / b) they give; nothing here is a test.
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

from bnviz import Config, load_for, train  # noqa: E402
from bnviz.budget import DEPTH_COST, cost, record_stride  # noqa: E402
from bnviz.compiled import engine, warm  # noqa: E402

EXPERIMENTS = (
    Config(batch_size=1, epochs=20),
    Config(batch_size=1, epochs=60),
    Config(batch_size=1, epochs=20, hidden=(8,) * 4),
    Config(batch_size=1, epochs=20, hidden=(8,) * 8),
    Config(batch_size=2, epochs=40, hidden=(16,) * 8),
    Config(dataset="moons", data_size=5000, batch_size=250, epochs=40, hidden=(16,) * 4),
    Config(dataset="moons", data_size=5000, batch_size=500, epochs=60, hidden=(16,) * 8),
    Config(dataset="moons", data_size=2500, batch_size=64, epochs=50, hidden=(16, 16)),
    Config(epochs=400),
)


def cpu_seconds(cfg: Config, data, stride: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        train(cfg, data, stride=stride)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    warm()
    load = os.getloadavg()
    print(f"engine: {engine()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rows, seconds = [], []
    for cfg in EXPERIMENTS:
        data = load_for(cfg)
        n = len(data.y_train)
        c = cost(cfg, n)
        s = cpu_seconds(cfg, data, record_stride(cfg, n))
        weight = 1.0 + DEPTH_COST * max(len(cfg.hidden) - 2, 0)
        rows.append((cfg, c, weight))
        seconds.append(s)
    A = np.array([[c.updates * w, c.work] for _, c, w in rows])
    y = np.array(seconds)
    # relative errors matter, not absolute ones: weight each experiment by 1 / its time
    (a, b), *_ = np.linalg.lstsq(A / y[:, None], np.ones(len(y)), rcond=None)
    print(f"{'experiment':<62} {'updates':>8} {'work':>9} {'stride':>6} {'CPU s':>7} {'model s':>7}")
    for (cfg, c, w), s in zip(rows, seconds):
        name = f"{cfg.dataset} n={cfg.data_size} batch {cfg.batch_size} x {cfg.epochs} ep, hidden {cfg.hidden}"
        print(f"{name:<62} {c.updates:>8,} {c.work:>9.2g} {c.stride:>6} {s:7.3f} {a * c.updates * w + b * c.work:7.3f}")
    print(f"price of an update {a * 1e6:.2f} us, of a row x parameter x update {b * 1e9:.3f} ns")
    print(f"for 1 s of one core: MAX_STEPS about {1 / a:,.0f}, MAX_WORK about {1 / b:.3g}")


if __name__ == "__main__":
    main()
