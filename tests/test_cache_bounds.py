"""Everything the server process keeps is bounded: fill every cache past its bound, watch the memory.

The filling runs in a fresh Python process with small bounds (so the test is quick),
reading its own resident memory from /proc: it must grow by no more than the bounds
allow, and stop growing once the caches are full.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

from bnviz import limits

ROOT = Path(__file__).resolve().parent.parent
BOUNDS_MB = {"BNVIZ_CACHE_MB": 48, "BNVIZ_FIGURE_MB": 2, "BNVIZ_SWEEP_MB": 8, "BNVIZ_DATA_ENTRIES": 4}

FILL = r"""
import copy, gc, json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from bnviz import Config, figures, limits, load_for, train
from types import SimpleNamespace
from bnviz.ui import runs, tabs

def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

cfg = Config(epochs=150)
data = load_for(cfg)
run = train(cfg, data)
run_cache, sweep_cache = runs.run_cache(), runs.sweep_cache()
start = rss()
report = {"run_mb": run.nbytes / 2**20, "start": start, "marks": []}

def fill(rounds):
    for i in range(rounds):
        copy_of = copy.deepcopy(run)                          # a distinct run of real size
        run_cache.put(("run", len(report["marks"]), i), copy_of)
        tabs.cached(figures.training_curves, copy_of, None)   # its chart, frozen
        loss = {bn: np.random.default_rng(i).standard_normal((4000, 14)) for bn in (True, False)}
        sweep_cache.put(("sweep", len(report["marks"]), i), SimpleNamespace(loss=loss))   # sized by its losses
        runs.builtin_data("moons", i + 100 * len(report["marks"]), 0.2, 5000, 0.2)
    report["marks"].append({"rss": rss(), "runs": run_cache.nbytes, "figures": tabs._CACHED.nbytes,
                            "sweeps": sweep_cache.nbytes})

per_round = 3 * max(limits.CACHE_BYTES // max(run.nbytes, 1), 1)
for _ in range(3):
    fill(per_round)           # each round alone overfills the run cache threefold
report["limits"] = {"runs": limits.CACHE_BYTES, "figures": limits.FIGURE_BYTES, "sweeps": limits.SWEEP_BYTES}
print(json.dumps(report))
"""


def test_every_cache_stays_within_its_bound_and_the_process_stops_growing():
    env = os.environ | {k: str(v) for k, v in BOUNDS_MB.items()}
    out = subprocess.run([sys.executable, "-c", FILL, str(ROOT)], env=env, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    bounds = report["limits"]
    last = report["marks"][-1]
    assert last["runs"] > 0.8 * bounds["runs"] and last["figures"] > 0.5 * bounds["figures"]   # really filled
    for mark in report["marks"]:
        assert mark["runs"] <= bounds["runs"]
        assert mark["figures"] <= bounds["figures"]
        assert mark["sweeps"] <= bounds["sweeps"]
    # what the bounds allow, plus the data sets (2.4 MB at most each) and room for the allocator
    allowed = sum(bounds.values()) + BOUNDS_MB["BNVIZ_DATA_ENTRIES"] * 2.4 * 2**20 + 64 * 2**20
    grown = [mark["rss"] - report["start"] for mark in report["marks"]]
    assert max(grown) <= allowed, (grown, allowed)
    # full caches evict as fast as they fill: later rounds do not add memory
    assert grown[2] - grown[0] <= 0.25 * allowed, grown


def test_the_default_bounds_fit_the_process_budget():
    """Caches at their default bounds, with the page process's own ~0.4 GB, stay under PROCESS_MB."""
    resting = 400 * 2**20       # measured: a warmed replica with its two workers (benchmarks/load.py)
    kept = limits.CACHE_BYTES + limits.FIGURE_BYTES + limits.SWEEP_BYTES
    kept += limits.DATA_ENTRIES * 2.4 * 2**20
    busy = limits.WORKERS * 3 * limits.RUN_BYTES           # each worker: a record being built, and its copy
    assert resting + kept + busy <= limits.PROCESS_BYTES


def test_the_readme_lists_every_limit_with_its_default():
    assert limits.markdown_table() in (ROOT / "README.md").read_text()
