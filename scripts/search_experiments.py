"""Search the lab's own settings for the experiment where each lesson's claim shows.

    python scripts/search_experiments.py [lesson id ...] [--seeds 100-109]

For each lesson, every candidate setting below (depth, width, activation,
data set, batch size, learning rate) is measured with the lesson's own rule
over tuning seeds that the page never shows (100 to 109 by default), and the
table of statuses, counts, effects and intervals is printed with the time
each took. A candidate is chosen by, in order: its status (holds, then
partly), the fewest seeds any of its parts shows in, how far the first
part's interval clears its threshold, then the lower cost.
docs/experiments.md records the result and the reasons; bnviz/lessons.py
holds the chosen experiment as its "shows" link. The page's seeds (0 to 9)
and any others then check the choice without having tuned it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bnviz.lessons import LESSONS, measure  # noqa: E402

DEEP = "hidden=8,8,8,8,8,8"
CANDIDATES = {
    "input-scaling": ["tab=Loss+landscape"],
    "higher-lr": [f"{DEEP}&activation=sigmoid&lr=2&epochs=30", "hidden=8,8,8,8&activation=sigmoid&lr=2&epochs=30",
                  f"{DEEP}&activation=tanh&lr=2&epochs=30", "hidden=16,16&lr=2&epochs=30"],
    "init-scale": ["init_scale=0.01&epochs=30", "hidden=8,8,8,8&activation=tanh&epochs=30",
                   f"{DEEP}&activation=sigmoid&epochs=30", "hidden=8,8,8,8&epochs=30"],
    "batch-noise": ["dataset=xor&hidden=16,16&batch_size=4&test_fraction=0.5&data_size=80&data_noise=0.4&epochs=150",
                    "dataset=xor&hidden=16,16&batch_size=4&test_fraction=0.5&data_size=100&data_noise=0.5&epochs=100",
                    "dataset=moons&hidden=16,16&batch_size=4&test_fraction=0.5&data_size=80&data_noise=0.5&epochs=150",
                    "dataset=gaussians&hidden=16,16&batch_size=4&test_fraction=0.5&data_size=80&data_noise=1"
                    "&epochs=150",
                    "dataset=xor&hidden=16,16&batch_size=4&test_fraction=0.5&epochs=30",
                    "dataset=xor&hidden=16,16&batch_size=4&test_fraction=0.5&epochs=50",
                    "dataset=moons&hidden=16,16&batch_size=4&test_fraction=0.5&data_size=200&epochs=50",
                    "dataset=circles&hidden=16,16&batch_size=4&test_fraction=0.5&data_size=200&epochs=50",
                    "dataset=xor&hidden=16,16,16&batch_size=2&test_fraction=0.5&data_size=200&epochs=50"],
    "bias-redundant": ["hidden=8,8,8,8&activation=sigmoid&keep_bias=1&bias_init=1",
                       f"{DEEP}&activation=sigmoid&keep_bias=1&bias_init=1"],
    "gamma-beta-undo": [f"{DEEP}&activation=sigmoid"],
    "running-averages": ["running_var=unbiased&batch_size=32&bn_momentum=0.9&epochs=100",
                         "running_var=unbiased&batch_size=32&epochs=100",
                         "running_var=unbiased&bn_momentum=0.9"],
    # not the deep sigmoid net: without BN it never learns, its last layer's spread collapses and the drift,
    # measured in units of that spread, says more about the collapse than about the shift
    "covariate-shift": [f"{DEEP}&activation=tanh", "hidden=4,4,4&activation=sigmoid", "hidden=8,8,8,8&activation=tanh"],
    "bn-position": ["hidden=8,8,8,8", f"{DEEP}&activation=tanh"],
    "vanishing-gradients": [f"{DEEP}&activation=sigmoid&epochs=30", "hidden=8,8,8,8&activation=sigmoid&epochs=30"],
    "optimizers": [f"{DEEP}&activation=sigmoid&optimizer=adam&lr=0.01", "hidden=8,8,8,8&optimizer=adam&lr=0.01"],
    "santurkar": [f"{DEEP}&activation=tanh&lr=0.5&bn_noise=0.5", f"{DEEP}&activation=tanh&lr=1&bn_noise=0.5",
                  f"{DEEP}&activation=sigmoid&lr=0.5&bn_noise=0.5", "hidden=8,8,8,8&activation=tanh&lr=0.5&bn_noise=0.5"],
    "batch-dependence": ["dataset=circles&hidden=8,8&epochs=20", "dataset=circles&hidden=16,16&epochs=20",
                         "hidden=8,8&epochs=20", "hidden=16,16&epochs=20", "hidden=8,8,8&epochs=20",
                         "dataset=moons&hidden=8,8&epochs=20", "dataset=moons&hidden=16,16&epochs=20",
                         "dataset=xor&hidden=8,8&epochs=20", "dataset=gaussians&hidden=8,8&epochs=20"],
    "worked-example": ["dataset=notes_batch&batch_size=4&standardize=0&activation=tanh&lr=0.5&epochs=200"
                       "&bn_momentum=0.9"],
}
# the shorter runs the lessons use (docs/experiments.md): each the fewest epochs that kept its verdict
SHORTER = {
    "higher-lr": [f"{DEEP}&activation=sigmoid&lr=2&epochs={e}" for e in (10, 15)],
    "init-scale": [f"hidden=8,8,8,8&epochs={e}" for e in (10, 15)],
    "covariate-shift": [f"{DEEP}&activation=tanh&epochs={e}" for e in (15, 25)],
    "bn-position": [f"hidden=8,8,8,8&epochs={e}" for e in (15, 25)],
    "vanishing-gradients": [f"{DEEP}&activation=sigmoid&epochs={e}" for e in (10, 15)],
    "optimizers": [f"hidden=8,8,8,8&optimizer=adam&lr=0.01&epochs={e}" for e in (15, 25)],
    "santurkar": [f"hidden=8,8,8,8&activation=tanh&lr=0.5&epochs={e}&bn_noise=0.5" for e in (15, 20, 25)],
}
for _lesson, _queries in SHORTER.items():
    CANDIDATES[_lesson] += _queries
RANK = {"holds": 0, "partly": 1, "does not show": 2}


def seeds_arg(text: str) -> range:
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


def score(verdict, seconds: float) -> tuple:
    """Lower is better: the status, the fewest seeds any part shows in, how far the first part's
    interval clears its threshold, then the cost."""
    first = verdict.parts[0]
    return (RANK[verdict.status], -min(p.count for p in verdict.parts), -(first.ci[0] - first.threshold), seconds)


def search(lesson, seeds) -> list:
    rows = []
    for query in CANDIDATES.get(lesson.id, []):
        trial = replace(lesson, experiments={"notes": query, "shows": query})
        started = time.process_time()
        verdict = measure(trial, seeds, "shows")
        rows.append((score(verdict, time.process_time() - started), query, verdict, time.process_time() - started))
    return sorted(rows, key=lambda r: r[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson ids (default: every lesson)")
    parser.add_argument("--seeds", type=seeds_arg, default=range(100, 110), help="tuning seeds, e.g. 100-109")
    args = parser.parse_args()
    chosen = [l for l in LESSONS if not args.lessons or l.id in args.lessons]
    print(f"tuning seeds {args.seeds.start} to {args.seeds.stop - 1}\n")
    for lesson in chosen:
        print(f"## {lesson.id}")
        for i, (_, query, v, seconds) in enumerate(search(lesson, args.seeds)):
            parts = "; ".join(f"{p.name}: {p.count}/{p.n}, median {p.median:.3g} "
                              f"[{p.ci[0]:.3g}, {p.ci[1]:.3g}]" for p in v.parts)
            mark = "*" if i == 0 else " "
            print(f"{mark} {v.status:14s} {seconds:6.2f}s  {query}\n      {parts}")
        print()


if __name__ == "__main__":
    main()
