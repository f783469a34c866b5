"""How long each chart of a default run takes: the engine's part and the drawing apart.

    python benchmarks/figures.py [repeats]

Prints the median of `repeats` warm calls (default 7) in milliseconds. The
page caches both parts per run and settings, so this is the cost of the
first visitor to open a chart.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bnviz import Config, figures, load_for, train  # noqa: E402
from bnviz.activations import layer_histograms, unit_percentiles  # noqa: E402
from bnviz.inference import accuracy_by_statistics, boundary_replay  # noqa: E402
from bnviz.landscape import input_scaling, network_plane  # noqa: E402
from bnviz.running import cumulative_running  # noqa: E402


def median_ms(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3


def main(repeats: int = 7) -> None:
    cfg = Config()
    data = load_for(cfg)
    run, other = train(cfg, data), train(cfg.replace(bn=False), data)
    charts = {
        "landscape": (lambda: network_plane(run, data), lambda x: figures.landscape_figure(run, x)),
        "input_scaling": (lambda: input_scaling(data, 0.12, 100), figures.input_scaling_figure),
        "decision_boundary": (lambda: boundary_replay(run, data),
                              lambda x: figures.decision_boundary_figure(run, x, data)),
        "test_time": (lambda: accuracy_by_statistics(run, data), lambda x: figures.test_time_figure(run, x)),
        "activation_heatmap": (lambda: layer_histograms([run, other], 1, "act_in"),
                               lambda x: figures.activation_heatmap(run, x, other)),
        "histogram_replay": (lambda: layer_histograms([run, other], 1, "act_in"),
                             lambda x: figures.activation_histogram_replay(run, x, other)),
        "percentiles": (lambda: unit_percentiles([run, other], 2, 0, "act_in"),
                        lambda x: figures.activation_percentiles(run, x, other)),
        "running_stats": (lambda: cumulative_running(run, 1), lambda x: figures.running_stats_figure(run, 2, 0, x)),
    }
    print(f"{'chart':<20} {'engine ms':>10} {'draw ms':>10}   (median of {repeats} warm calls)")
    for name, (compute, draw) in charts.items():
        computed = compute()
        print(f"{name:<20} {median_ms(compute, repeats):10.1f} {median_ms(lambda: draw(computed), repeats):10.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
