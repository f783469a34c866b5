"""The training loop's speed, compiled (numba) beside NumPy and PyTorch CPU eager, in one run.

    python benchmarks/engine.py

Prints, side by side: the default training step with its recording (compiled loop, NumPy loop,
PyTorch eager when torch is installed); an ensemble of 200 members x 1,024 steps (compiled, NumPy);
the batch-norm paper's Figure 1 network on the digits (64-100-100-100-10 sigmoid, batch 60, BN on and
off): a step in each loop and in PyTorch eager, and the whole training of 50 epochs at its record's
stride, recording included;
the compiled loop's cold compile (a fresh disk cache, in a new process) and a new process's first
call with a warm cache; the install size of numba and llvmlite. Figures are the best of a few
repeats of wall time (a shared machine only ever adds time), one thread.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402

from bnviz import Config, load_for  # noqa: E402
from bnviz.compiled import ENGINE_ENV, engine  # noqa: E402
from bnviz.train import run_loop  # noqa: E402
from speed import ENSEMBLE, ENSEMBLE_EPOCHS, best, torch, torch_step_seconds  # noqa: E402

FIGURE_1 = Config(dataset="digits", hidden=(100, 100, 100), activation="sigmoid", batch_size=60, epochs=50, lr=0.5)

GOAL_STEP = 5e-6            # seconds a default step may take, compiled
GOAL_TORCH = 70.0           # times faster than PyTorch eager, at least
GOAL_ENSEMBLE = 4.0         # times faster than the NumPy ensemble, at least

FIRST_CALL = """
import sys, time
t = time.perf_counter()
from bnviz import Config, load_for
from bnviz.compiled import kernel
from bnviz.train import run_loop
cfg = Config(); data = load_for(cfg)
imported = time.perf_counter()
kernel()
run_loop([cfg], data)
first = time.perf_counter()
run_loop([cfg], data)
print(first - imported - (time.perf_counter() - first))
"""


def with_engine(name: str, fn, repeats: int) -> float:
    os.environ[ENGINE_ENV] = name
    try:
        fn()                            # the compiled loop loads (or compiles) here
        return best(fn, repeats)
    finally:
        os.environ.pop(ENGINE_ENV, None)


def first_call_seconds(cache_dir: str) -> float:
    """Seconds a new process's first training pays beyond its second, with this numba cache folder."""
    env = os.environ | {"NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def torch_digits_step_seconds(cfg, data, steps: int, dtype) -> float:
    """Seconds per step of cfg's digits network trained plainly in PyTorch eager: Linear, BatchNorm1d
    before the activation (when cfg.bn), a 10-way Linear and torch.nn.CrossEntropyLoss, SGD."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    act = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[cfg.activation]
    layers, width = [], data.n_features
    for units in cfg.hidden:
        layers.append(torch.nn.Linear(width, units, bias=not cfg.bn))
        if cfg.bn:
            layers.append(torch.nn.BatchNorm1d(units, eps=cfg.eps, momentum=1.0 - cfg.bn_momentum))
        layers.append(act())
        width = units
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, data.n_classes)).to(dtype)
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.tensor(data.inputs(data.X_train, True), dtype=dtype)
    y = torch.tensor(data.y_train).long()
    n, b = len(y), cfg.batch_size
    order = torch.randperm(n)

    def run(k):
        for i in range(k):
            start = (i * b) % (n - n % b)
            idx = order[start:start + b]
            opt.zero_grad()
            loss = loss_fn(net(X[idx]), y[idx])
            loss.backward()
            opt.step()

    run(50)  # warm up
    return best(lambda: run(steps), 3) / steps


def digits_rows() -> list:
    """[(what, BN on, BN off)] for the Figure 1 network: seconds a step in each loop (recording by the
    loop included, as in the default's row) and PyTorch eager; seconds of the whole 50-epoch training
    at its record's stride (train(), every derived array included); its final test accuracy."""
    from bnviz import train
    from bnviz.budget import data_shape, fit, record_stride

    data = load_for(FIGURE_1)
    short = FIGURE_1.replace(epochs=2)
    steps = run_loop([short], data).steps_done
    out = {}
    for bn in (True, False):
        cfg = short.replace(bn=bn)
        whole = FIGURE_1.replace(bn=bn)
        k = record_stride(whole, len(data.y_train), **data_shape(data))
        row = {"numpy": with_engine("numpy", lambda: run_loop([cfg], data), 3) / steps,
               "compiled": with_engine("compiled", lambda: run_loop([cfg], data), 2) / steps}
        if torch is not None:
            row["torch"] = min(torch_digits_step_seconds(cfg, data, 100, torch.float32),
                               torch_digits_step_seconds(cfg, data, 100, torch.float64))
        run = None

        def whole_run():
            nonlocal run
            run = train(whole, data, stride=k)

        row["whole"] = best(whole_run, 2)
        row["stride"], row["accuracy"] = k, float(run.epoch_metrics["test_acc_eval"][-1])
        row["fits"] = not fit(whole, len(data.y_train), **data_shape(data)).changes
        out[bn] = row
    return out


def install_mib(*names: str) -> float:
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        total += sum(Path(dist.locate_file(f)).stat().st_size for f in dist.files or ()
                     if Path(dist.locate_file(f)).is_file())
    return total / 2**20


def main():
    if engine() != "compiled":
        sys.exit("the compiled loop cannot be had here (is numba installed?)")
    cfg = Config()
    data = load_for(cfg)
    steps = run_loop([cfg], data).steps_done
    compiled_step = with_engine("compiled", lambda: run_loop([cfg], data), 20) / steps
    numpy_step = with_engine("numpy", lambda: run_loop([cfg], data), 5) / steps
    torch_step = None
    if torch is not None:
        torch_step = min(torch_step_seconds(cfg, data, 1000, torch.float32),
                         torch_step_seconds(cfg, data, 1000, torch.float64))

    configs = [cfg.replace(epochs=ENSEMBLE_EPOCHS, seed=i, lr=float(np.geomspace(1e-3, 3.0, ENSEMBLE)[i]))
               for i in range(ENSEMBLE)]
    member_steps = run_loop(configs[:1], data).steps_done
    compiled_ens = with_engine("compiled", lambda: run_loop(configs, data), 3)
    numpy_ens = with_engine("numpy", lambda: run_loop(configs, data), 2)

    digits = digits_rows()

    with tempfile.TemporaryDirectory(prefix="bnviz-numba-") as fresh:
        cold = first_call_seconds(fresh)            # compiles and fills the fresh cache
        warm = min(first_call_seconds(fresh) for _ in range(3))

    def us(seconds):
        return f"{seconds * 1e6:9.1f} us" if seconds else "  not installed"

    print(f"bnviz training loop (numpy {np.__version__}, numba {metadata.version('numba')}"
          f"{', torch ' + torch.__version__ if torch else ', torch not installed'}; one thread, best wall time)")
    print(f"default network {' | '.join(run_loop([cfg], data).arch.summary().splitlines())}; "
          f"batch {cfg.batch_size}, {steps} steps")
    print()
    print(f"| {'default training step, recording included':44s} | {'time':>15s} | {'vs compiled':>11s} |")
    print(f"|{'-' * 46}|{'-' * 17}|{'-' * 13}|")
    for name, value in (("compiled loop (numba)", compiled_step), ("NumPy loop", numpy_step),
                        ("PyTorch CPU eager", torch_step)):
        ratio = f"{value / compiled_step:10.1f}x" if value else "          -"
        print(f"| {name:44s} | {us(value):>15s} | {ratio:>11s} |")
    print()
    label = f"ensemble {ENSEMBLE} members x {member_steps:,} steps"
    print(f"| {label:44s} | {'time':>15s} | {'vs compiled':>11s} |")
    print(f"|{'-' * 46}|{'-' * 17}|{'-' * 13}|")
    for name, value in (("compiled loop (numba)", compiled_ens), ("NumPy loop", numpy_ens)):
        print(f"| {name:44s} | {value:13.2f} s | {value / compiled_ens:10.1f}x |")
    print()
    print("the paper's Figure 1 network on the digits: 64-100-100-100-10 sigmoid, batch 60 (24 steps an epoch)")
    print(f"| {'a step (loop records included)':44s} | {'BN on':>15s} | {'BN off':>15s} |")
    print(f"|{'-' * 46}|{'-' * 17}|{'-' * 17}|")
    for key, name in (("numpy", "NumPy loop (what bnviz runs for it)"), ("compiled", "compiled loop (numba)"),
                      ("torch", "PyTorch CPU eager")):
        if key in digits[True]:
            print(f"| {name:44s} | {us(digits[True][key]):>15s} | {us(digits[False][key]):>15s} |")
    if "torch" in digits[True]:
        print(f"| {'NumPy loop vs PyTorch eager':44s} | {digits[True]['torch'] / digits[True]['numpy']:14.1f}x "
              f"| {digits[False]['torch'] / digits[False]['numpy']:14.1f}x |")
    print(f"| {'whole training, 50 epochs = 1,200 steps':44s} | {digits[True]['whole']:13.2f} s "
          f"| {digits[False]['whole']:13.2f} s |")
    print(f"| {'  recorded at a stride of':44s} | {digits[True]['stride']:15d} | {digits[False]['stride']:15d} |")
    print(f"| {'  final test accuracy':44s} | {digits[True]['accuracy']:15.3f} | {digits[False]['accuracy']:15.3f} |")
    print(f"| {'  fits one run of the budget as asked':44s} | {str(digits[True]['fits']):>15s} "
          f"| {str(digits[False]['fits']):>15s} |")
    print()
    print(f"cold compile (fresh disk cache, new process): {cold:.1f} s")
    print(f"first call of a new process with a warm cache: {warm:.2f} s")
    print(f"install size of numba + llvmlite: {install_mib('numba', 'llvmlite'):.0f} MiB")
    print()
    goals = [(f"default step <= {GOAL_STEP * 1e6:.0f} us", compiled_step <= GOAL_STEP),
             (f"ensemble >= {GOAL_ENSEMBLE:.0f}x the NumPy loop", numpy_ens / compiled_ens >= GOAL_ENSEMBLE)]
    if torch_step:
        goals.append((f">= {GOAL_TORCH:.0f}x PyTorch eager", torch_step / compiled_step >= GOAL_TORCH))
    print("goals: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in goals))


if __name__ == "__main__":
    main()
