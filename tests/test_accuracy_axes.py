"""Every Plotly chart's accuracy axis stays within [0, 1]: its range and any ticks it sets.

An accuracy cannot pass 1, so an axis that runs to 1.02 or a tick at 1.05 shows a
value no run can have. The charts are read as they leave their builders.
"""
import numpy as np
import pytest

from bnviz import Config, figures, train
from bnviz.sweeps import sweep


def accuracy_axes(fig):
    """[(axis name, axis)] of every axis whose title names an accuracy (not a difference of two)."""
    out = []
    for name in dir(fig.layout):
        if not (name.startswith("xaxis") or name.startswith("yaxis")):
            continue
        axis = fig.layout[name]
        title = (axis.title.text or "") if axis.title else ""
        if "accuracy" in title and "difference" not in title:
            out.append((name, axis))
    return out


def check_accuracy_axes(fig, what):
    axes = accuracy_axes(fig)
    for name, axis in axes:
        assert axis.range is not None, f"{what}: {name} left to autorange, which pads past 1"
        low, high = axis.range
        assert 0.0 <= low < high <= 1.0, f"{what}: {name} runs from {low} to {high}"
        for tick in axis.tickvals or ():
            assert 0.0 <= tick <= 1.0, f"{what}: {name} has a tick at {tick}"
        for trace in fig.data:
            on_axis = name.startswith("yaxis") and "yaxis" + (trace.yaxis or "y")[1:] == name
            if on_axis and trace.type == "scatter" and trace.y is not None:
                assert trace.cliponaxis is False, f"{what}: markers at 1 on {name} would be cut in half"
    return len(axes)


@pytest.fixture(scope="module")
def perfect_runs(data):
    """Two short runs, one of which classifies every row right: accuracies of exactly 1 included."""
    a = train(Config(epochs=4, lr=0.5), data)
    b = train(Config(epochs=4, lr=0.5, bn=False), data)
    return a, b


def test_every_run_chart_keeps_accuracy_within_0_and_1(data, perfect_runs):
    a, b = perfect_runs
    seen = 0
    for other in (None, b):
        for name, fig in figures.all_figures(a, data, other).items():
            seen += check_accuracy_axes(fig, name)
    assert seen >= 4          # training curves and test time, alone and compared


def test_the_sweep_chart_keeps_accuracy_within_0_and_1(data):
    result = sweep(Config(epochs=2), data, "lr", [0.1, 1.0], n_seeds=1)
    fig = figures.sweep_figure(result)
    assert check_accuracy_axes(fig, "sweep") == 1


def test_an_accuracy_of_exactly_1_is_drawn_on_an_axis_that_ends_at_1():
    from bnviz.figures.lessons import axis

    lo, hi, ticks = axis(np.array([1.0, 1.0, 1.0]), bounds=(0.0, 1.0))
    assert 0.0 <= lo < hi == 1.0 and ticks[-1] == 1.0 and all(lo <= t <= hi for t in ticks)
    lo, hi, ticks = axis(np.array([0.0]), bounds=(0.0, 1.0))
    assert lo == 0.0 < hi <= 1.0 and ticks[0] == 0.0 and all(lo <= t <= hi for t in ticks)
    lo, hi, ticks = axis(np.array([0.43, 0.97]), bounds=(0.0, 1.0))
    assert 0.0 <= lo <= 0.43 and 0.97 <= hi <= 1.0 and all(lo <= t <= hi for t in ticks)
