"""Speed of the bnviz engine, side by side with PyTorch CPU eager (one thread).

    python benchmarks/speed.py            (or: make bench)

Prints a table. PyTorch is optional (pip install torch==2.13.0); without it
its columns say "skipped". Figures are the best of a few repeats, because a
shared machine only ever adds time.
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

from bnviz import Config, load_for, train, train_ensemble  # noqa: E402
from bnviz.figures import all_figures  # noqa: E402
from bnviz.train import run_loop  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None

REPEATS = 5
ENSEMBLE = 200
ENSEMBLE_EPOCHS = 32          # 32 batches an epoch: 1024 steps
TORCH_SUBSET = 10             # PyTorch models timed one after another, then scaled to ENSEMBLE


def best(fn, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def torch_step_seconds(cfg, data, steps, dtype):
    """Seconds per step of the same network trained plainly in PyTorch eager."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    m = 1.0 - cfg.bn_momentum
    layers, width = [], 2
    for units in cfg.hidden:
        layers += [torch.nn.Linear(width, units, bias=False), torch.nn.BatchNorm1d(units, eps=cfg.eps, momentum=m),
                   torch.nn.ReLU()]
        width = units
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1)).to(dtype)
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    X = torch.tensor(data.inputs(data.X_train, True), dtype=dtype)
    y = torch.tensor(data.y_train, dtype=dtype)
    n, b = len(y), cfg.batch_size
    order = torch.randperm(n)

    def run(k):
        for i in range(k):
            start = (i * b) % (n - n % b)
            idx = order[start:start + b]
            opt.zero_grad()
            loss = loss_fn(net(X[idx]).squeeze(1), y[idx])
            loss.backward()
            opt.step()

    run(200)  # warm up
    return best(lambda: run(steps)) / steps


def main():
    cfg = Config()
    data = load_for(cfg)
    rows = []

    run = train(cfg, data)
    steps = run.n_steps
    loop_step = best(lambda: run_loop([cfg], data)) / steps
    full_run = best(lambda: train(cfg, data))
    full_step = full_run / steps
    torch_step = None
    if torch is not None:
        torch_step = min(torch_step_seconds(cfg, data, 1000, torch.float32),
                         torch_step_seconds(cfg, data, 1000, torch.float64))

    def ratio(ours, theirs):
        return f"{theirs / ours:6.1f}x" if theirs else "skipped"

    def us(seconds):
        return f"{seconds * 1e6:8.1f} us" if seconds else "skipped"

    rows.append(("training step, loop only", us(loop_step), us(torch_step), ratio(loop_step, torch_step)))
    rows.append(("training step, with full recording", us(full_step), us(torch_step), ratio(full_step, torch_step)))

    configs = [cfg.replace(epochs=ENSEMBLE_EPOCHS, seed=i, lr=float(np.geomspace(1e-3, 3.0, ENSEMBLE)[i]))
               for i in range(ENSEMBLE)]
    ens_steps = ENSEMBLE_EPOCHS * run.steps_per_epoch

    def ensemble_with_losses():
        ensemble = train_ensemble(configs, data)
        ensemble.train_loss  # every member's per-step loss, recomputed
        return ensemble

    ens_loop = best(lambda: run_loop(configs, data), repeats=3)
    ens_full = best(ensemble_with_losses, repeats=3)
    torch_ens = None
    if torch is not None:
        torch_ens = torch_step * ens_steps * ENSEMBLE  # the subset below checks this scaling
        subset = torch_step_seconds(cfg, data, ens_steps, torch.float64) * ens_steps * TORCH_SUBSET
        torch_ens = max(torch_ens, subset * ENSEMBLE / TORCH_SUBSET)

    def sec(seconds):
        return f"{seconds:8.2f} s" if seconds else "skipped"

    label = f"ensemble {ENSEMBLE} x {ens_steps} steps"
    rows.append((f"{label}, loop only", sec(ens_loop), sec(torch_ens), ratio(ens_loop, torch_ens)))
    rows.append((f"{label}, with every loss", sec(ens_full), sec(torch_ens), ratio(ens_full, torch_ens)))

    print(f"bnviz engine speed (numpy {np.__version__}"
          f"{', torch ' + torch.__version__ if torch else ', torch not installed'}; one thread)")
    print(f"default network {run.arch.summary().replace(chr(10), ' | ')}; batch {cfg.batch_size}")
    print()
    print(f"| {'measure':46s} | {'bnviz':>11s} | {'PyTorch eager':>13s} | {'speed-up':>8s} |")
    print(f"|{'-' * 48}|{'-' * 13}|{'-' * 15}|{'-' * 10}|")
    for name, ours, theirs, r in rows:
        print(f"| {name:46s} | {ours:>11s} | {theirs:>13s} | {r:>8s} |")
    figure_seconds = best(lambda: all_figures(run, data), repeats=3)
    payload = sum(len(f.to_json()) for f in all_figures(run, data).values())
    print()
    print(f"default run ({steps} steps, everything recorded): {full_run * 1e3:.0f} ms wall, "
          f"Run size {run.nbytes / 1e6:.1f} MB")
    print(f"all {len(all_figures(run, data))} figures of the default run: built in {figure_seconds * 1e3:.0f} ms, "
          f"{payload / 1e6:.2f} MB of JSON")
    if torch is not None:
        print(f"PyTorch ensemble time = {TORCH_SUBSET} models trained one after another, scaled to {ENSEMBLE}")


if __name__ == "__main__":
    main()
