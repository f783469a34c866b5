"""Sweep charts by value: medians and bands over seeds from made-up sweeps, crosses where every seed
diverged, every title and name written out."""
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from bnviz import Config
from bnviz.figures.sweeps import batch_size_figure, median_and_band, sweep_figure

KEYS = ("test_acc_eval", "train_loss_eval")


def summary(values, shift):
    v = np.asarray(values, dtype=float) + shift
    return {"median": v, "low": v - 0.1, "high": v + 0.2, "finished": np.array([3, 2, 0])[:len(v)]}


def test_one_series_with_a_band():
    fig = make_subplots(rows=1, cols=2)
    x = np.array([0.01, 0.1, 1.0])
    s = summary([0.5, 0.6, 0.7], 0.0)
    median_and_band(fig, x, s, 3, "BN on", "#0072B2", 1, 2, True, "lr")
    band, line = fig.data
    np.testing.assert_array_equal(band.x, [0.01, 0.1, 1.0, 1.0, 0.1, 0.01])
    np.testing.assert_allclose(band.y, [0.7, 0.8, 0.9, 0.6, 0.5, 0.4])
    assert (band.mode, band.fill, band.fillcolor, band.line.width, band.legendgroup, band.name, band.showlegend,
            band.hoverinfo, band.xaxis) == ("lines", "toself", "rgba(0,114,178,0.18)", 0, "BN on",
                                            "BN on: range over 3 seeds", True, "skip", "x2")
    np.testing.assert_array_equal(line.x, x)
    np.testing.assert_array_equal(line.y, s["median"])
    np.testing.assert_allclose(np.asarray(line.customdata, dtype=float), np.c_[s["low"], s["high"], s["finished"]])
    assert (line.mode, line.legendgroup, line.showlegend, line.name, line.line.color, line.line.width,
            line.marker.size, line.marker.color, line.xaxis) == ("lines+markers", "BN on", True, "BN on: median",
                                                                 "#0072B2", 2.5, 8, "#0072B2", "x2")
    assert line.hovertemplate == ("lr %{x:.3g}<br>median %{y:.3g}, range %{customdata[0]:.3g} to "
                                  "%{customdata[1]:.3g}<br>%{customdata[2]} of 3 seeds finished<extra>BN on</extra>")


def test_one_seed_has_no_band_and_a_plain_name():
    fig = make_subplots(rows=1, cols=1)
    median_and_band(fig, np.array([1.0, 2.0]), summary([0.1, 0.2], 0.0), 1, "BN off", "#D55E00", 1, 1, False,
                    "batch size")
    assert len(fig.data) == 1
    assert (fig.data[0].name, fig.data[0].showlegend) == ("BN off", False)
    assert fig.data[0].hovertemplate.endswith("<br>%{customdata[2]} of 1 seeds finished<extra>BN off</extra>")
    two = make_subplots(rows=1, cols=1)
    median_and_band(two, np.array([1.0, 2.0]), summary([0.1, 0.2], 0.0), 2, "BN off", "#D55E00", 1, 1, False, "x")
    assert [t.name for t in two.data] == ["BN off: range over 2 seeds", "BN off: median"]


def sweep(field, dead_on=(0, 0, 0), dead_off=(0, 0, 3), seeds=(0, 1, 2)):
    values = np.array([0.01, 0.1, 1.0])
    metrics, low, high = {}, {}, {}
    for bn, shift in ((True, 0.0), (False, -0.2)):
        metrics[bn] = {k: np.array([0.6, 0.7, 0.8]) + shift + i for i, k in enumerate(KEYS)}
        low[bn] = {k: v - 0.05 for k, v in metrics[bn].items()}
        high[bn] = {k: v + 0.05 for k, v in metrics[bn].items()}
    return SimpleNamespace(field=field, values=values, seeds=seeds, metrics=metrics, low=low, high=high,
                           diverged_count={True: np.array(dead_on), False: np.array(dead_off)},
                           config=Config(lr=0.1, init_scale=2.0))


@pytest.mark.parametrize("field, label, at", [("lr", "learning rate", 0.1),
                                              ("init_scale", "init scale (multiplier on the initial weights)", 2.0)])
def test_a_sweep_of_bn_on_and_off(field, label, at):
    s = sweep(field)
    fig = sweep_figure(s)
    names = [t.name for t in fig.data]
    assert names == ["BN on: range over 3 seeds", "BN on: median", "BN on: range over 3 seeds", "BN on: median",
                     "BN off: range over 3 seeds", "BN off: median", "BN off: every seed diverged",
                     "BN off: range over 3 seeds", "BN off: median", "BN off: every seed diverged"]
    for i, (bn, key, col) in zip((1, 3, 5, 8), ((True, KEYS[0], 1), (True, KEYS[1], 2), (False, KEYS[0], 1),
                                                (False, KEYS[1], 2))):
        t = fig.data[i]
        np.testing.assert_allclose(t.y, s.metrics[bn][key])
        np.testing.assert_allclose(np.asarray(t.customdata, dtype=float)[:, 2], 3 - s.diverged_count[bn])
        assert (t.line.color, t.xaxis, t.showlegend) == (("#D55E00", "#0072B2")[bn], ("x", "x2")[col - 1],
                                                         col == 1)
        assert t.hovertemplate.startswith(f"{field} %{{x:.3g}}<br>")
    acc_cross, loss_cross = fig.data[6], fig.data[9]
    assert (list(acc_cross.x), list(acc_cross.y)) == ([1.0], [0.02])
    assert list(loss_cross.x) == [1.0] and list(loss_cross.y) == [None]
    for t, legend in ((acc_cross, True), (loss_cross, False)):
        assert (t.mode, t.legendgroup, t.showlegend, t.marker.symbol, t.marker.size, t.marker.color) == (
            "markers", "BN off", legend, "x", 12, "#D55E00")
    lay = fig.layout
    assert (lay.xaxis.type, lay.xaxis.title.text, lay.xaxis2.type, lay.xaxis2.title.text) == ("log", label, "log",
                                                                                              label)
    assert list(lay.yaxis.range) == [0.0, 1.0] and lay.yaxis.title.text == "accuracy"
    assert (lay.yaxis2.type, lay.yaxis2.title.text, lay.yaxis2.range) == ("log", "loss", None)
    assert list(lay.yaxis.domain) == list(lay.yaxis2.domain) == [0.0, 1.0]          # one row
    assert lay.height == 480 + 44                                                   # four legend entries
    assert [a.text for a in lay.annotations][:2] == ["test accuracy at the end (evaluation mode)",
                                                    "training loss at the end"]
    vline = lay.shapes[0]
    assert (vline.x0, vline.line.color, vline.line.dash) == (at, "#000000", "dot")
    assert "current setting" in [a.text for a in lay.annotations]
    assert lay.xaxis.domain[1] == pytest.approx(0.45)
    assert lay.title.text == (f"Sweep of the {label}: 3 values × 3 seeds, with BN and without<br><span style='font-"
                              "size:13px'>every training uses the same data and number of epochs; seeds change the "
                              "initial weights and the batch<br>order; only the swept number changes along the "
                              "axis</span>")


def test_a_sweep_where_no_value_died_has_no_crosses():
    fig = sweep_figure(sweep("lr", dead_off=(0, 1, 2)))
    assert not any(t.name.endswith("every seed diverged") for t in fig.data)
    assert len(fig.data) == 8


def test_a_sweep_where_bn_on_died_at_two_values():
    fig = sweep_figure(sweep("lr", dead_on=(3, 3, 0), dead_off=(0, 0, 0)))
    crosses = [t for t in fig.data if t.name == "BN on: every seed diverged"]
    assert [list(t.x) for t in crosses] == [[0.01, 0.1], [0.01, 0.1]]
    assert [list(t.y) for t in crosses] == [[0.02, 0.02], [None, None]]
    assert {t.marker.color for t in crosses} == {"#0072B2"}


def spread(values):
    v = np.asarray(values, dtype=float)
    return {"median": v, "low": v - 1, "high": v + 1, "finished": np.full(len(v), 2)}


def test_the_batch_size_sweep():
    summary_ = {"batch_sizes": [2, 16, 320], "seeds": 2, "epochs": 5, "train_rows": 320,
                "mu_spread": spread([0.5, 0.2, 0.0]), "mode_gap": spread([0.3, 0.1, 0.0]),
                "acc_gap": {True: spread([0.1, 0.05, 0.02]), False: spread([0.03, 0.02, 0.01])}}
    fig = batch_size_figure(summary_)
    assert [(t.name, t.line.color if t.fill != "toself" else t.fillcolor, t.xaxis, t.showlegend)
            for t in fig.data] == [
        ("BN on: range over 2 seeds", "rgba(0,114,178,0.18)", "x", True), ("BN on: median", "#0072B2", "x", True),
        ("BN on: range over 2 seeds", "rgba(0,114,178,0.18)", "x2", False), ("BN on: median", "#0072B2", "x2", False),
        ("BN on: range over 2 seeds", "rgba(0,114,178,0.18)", "x3", False), ("BN on: median", "#0072B2", "x3", False),
        ("BN off: range over 2 seeds", "rgba(213,94,0,0.18)", "x3", True), ("BN off: median", "#D55E00", "x3", True)]
    for i, key in ((1, "mu_spread"), (3, "mode_gap")):
        np.testing.assert_array_equal(fig.data[i].y, summary_[key]["median"])
    np.testing.assert_array_equal(fig.data[5].y, [0.1, 0.05, 0.02])
    np.testing.assert_array_equal(fig.data[7].y, [0.03, 0.02, 0.01])
    np.testing.assert_array_equal(fig.data[7].x, [2.0, 16.0, 320.0])
    for t in fig.data[1::2]:
        assert t.hovertemplate.startswith("batch size %{x:.3g}<br>")
    lay = fig.layout
    for axis in (lay.xaxis, lay.xaxis2, lay.xaxis3):
        assert (axis.type, axis.title.text, list(axis.tickvals), list(axis.ticktext)) == (
            "log", "batch size (rows)", [2.0, 16.0, 320.0], ["2", "16", "320"])
    assert (lay.yaxis.title.text, lay.yaxis.rangemode) == ("ratio", "tozero")
    assert (lay.yaxis2.title.text, lay.yaxis3.title.text) == ("loss difference", "accuracy difference")
    assert (lay.yaxis2.rangemode, lay.yaxis3.rangemode) == (None, None)      # differences may be negative
    assert list(lay.yaxis.domain) == list(lay.yaxis3.domain) == [0.0, 1.0]
    assert [(s.y0, s.line.color, s.line.width, s.yref) for s in lay.shapes] == [(0, "#000000", 1, "y2"),
                                                                               (0, "#000000", 1, "y3")]
    assert [a.text for a in lay.annotations] == ["spread of μ_B / spread of the data",
                                                 "training- minus evaluation-mode loss", "train minus test accuracy"]
    assert lay.xaxis.domain[1] == pytest.approx((1 - 2 * 0.08) / 3)
    assert lay.title.text == ("Batch size: 3 sizes × 2 seeds, 5 epochs each<br><span style='font-size:13px'>the "
                              "largest size is the whole training set (320 rows); small batches make μ_B wander "
                              "and training mode<br>differ from evaluation mode</span>")
    assert lay.height == 480 + 44                 # four traces in the legend: two rows
