"""Training curves by value: every trace's numbers recomputed from the Run's arrays, the axes' ranges
recomputed from the data, every name and title written out."""
import dataclasses
import warnings

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.figures.curves import X_AXES, state_axis, thin, training_curves
from bnviz.train import architecture, initial_params


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


@pytest.fixture(scope="module")
def runs(data):
    cfg = Config(epochs=2)
    arch = architecture(cfg, data.n_features)
    params = initial_params(cfg, arch)
    params[f"b{arch.n_dense}"] = np.full(1, np.inf)
    return {"a": train(Config(epochs=3, batch_size=60), data), "b": train(Config(bn=False, epochs=2), data),
            "zero": train(cfg, data, init_params=params),
            "diverged": train(Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=3), data)}


def seen_by_hand(run):
    """(S + 1,) rows seen after t updates, batch by batch."""
    out = [0.0]
    for start, stop in run.bounds * (run.n_steps // len(run.bounds) + 1):
        if len(out) > run.n_steps:
            break
        out.append(out[-1] + stop - start)
    return np.array(out)


def trailing_mean(values, window):
    return np.array([np.mean(values[max(0, i + 1 - window):i + 1]) for i in range(len(values))])


def test_thin_keeps_every_step_up_to_the_most_then_spreads_them():
    np.testing.assert_array_equal(thin(3, 3), [0, 1, 2])
    np.testing.assert_array_equal(thin(4, 3), [0, 2, 3])              # every 2nd (4 / 3 rounded up) and the last
    np.testing.assert_array_equal(thin(7, 3), [0, 3, 6])
    np.testing.assert_array_equal(thin(8, 3), [0, 3, 6, 7])
    np.testing.assert_array_equal(thin(600), np.arange(600))
    np.testing.assert_array_equal(thin(601), np.r_[np.arange(0, 601, 2), 600][:-1])
    np.testing.assert_array_equal(thin(1201), np.arange(0, 1201, 3))             # the last is among them
    np.testing.assert_array_equal(thin(0), [])


def test_state_axis_on_every_unit(runs, data):
    run = runs["a"]                                    # 320 rows in batches of 60: the last batch has 20
    assert len(data.y_train) == 320
    assert [stop - start for start, stop in run.bounds] == [60, 60, 60, 60, 60, 20]
    np.testing.assert_array_equal(state_axis(run), np.arange(run.n_steps + 1))
    np.testing.assert_array_equal(state_axis(run, "steps", upto=run.n_steps + 3), np.arange(run.n_steps + 4))
    np.testing.assert_array_equal(state_axis(run, "steps", upto=2), np.arange(run.n_steps + 1))
    seen = seen_by_hand(run)
    np.testing.assert_array_equal(state_axis(run, "examples"), seen)
    np.testing.assert_allclose(state_axis(run, "epochs"), seen / 320, rtol=1e-15)
    assert state_axis(run, "epochs")[6] == 1.0 and state_axis(run, "examples")[7] == 380.0
    assert len(state_axis(run, "examples", upto=run.n_steps + 2)) == run.n_steps + 3
    assert state_axis(run, "examples", upto=run.n_steps + 2)[-1] == 3 * 320 + 120
    for unit in ("minutes", "step"):
        with pytest.raises(ValueError, match=f"^x axis must be one of steps, epochs, examples, got '{unit}'$"):
            state_axis(run, unit)


def test_unknown_x_is_refused_with_its_words(runs):
    with pytest.raises(ValueError, match="^x axis must be one of steps, epochs, examples, got 'hours'$"):
        training_curves(runs["a"], None, "hours")
    assert X_AXES == {"steps": "step (mini-batch updates)", "epochs": "epoch (passes over the training rows)",
                      "examples": "training examples seen"}


@pytest.mark.parametrize("x, unit, fmt", [("steps", "step", "%{x:,}"), ("epochs", "epoch", "%{x:.3g}"),
                                          ("examples", "examples", "%{x:,}")])
def test_one_run_s_traces(runs, x, unit, fmt):
    run = runs["a"]
    fig = training_curves(run, x=x)
    where = {"steps": np.arange(run.n_steps + 1.0), "examples": seen_by_hand(run),
             "epochs": seen_by_hand(run) / 320}[x]
    name = "BN before relu"
    assert len(fig.data) == 6
    faint, mean = fig.data[0], fig.data[1]
    np.testing.assert_allclose(faint.x, where[:run.n_steps])
    np.testing.assert_array_equal(faint.y, run.train_loss)
    assert (faint.mode, faint.line.color, faint.line.width, faint.opacity, faint.name, faint.legendgroup,
            faint.showlegend) == ("lines", "#0072B2", 1, 0.25, f"{name}: mini-batch loss", name, False)
    assert faint.hovertemplate == f"{unit} {fmt}<br>batch loss %{{y:.4f}}"
    np.testing.assert_allclose(mean.x, where[:run.n_steps])
    assert run.epoch_window == 6
    np.testing.assert_allclose(mean.y, trailing_mean(run.train_loss, 6), rtol=1e-12)
    assert (faint.xaxis, faint.yaxis, mean.xaxis, mean.yaxis) == ("x", "y", "x", "y")
    assert (mean.mode, mean.line.color, mean.line.width, mean.line.dash, mean.name, mean.legendgroup,
            mean.showlegend) == ("lines", "#0072B2", 2.5, "solid", f"{name}: batch loss, 1-epoch mean", name, None)
    assert mean.hovertemplate == f"{unit} {fmt}<br>mean batch loss %{{y:.4f}}"
    ends = where[run.epoch_steps]
    expected = [("train", "loss", "circle", 1.5, "dot", False, "x", "y"),
                ("train", "acc", "circle", 1.5, "dot", True, "x2", "y2"),
                ("test", "loss", "diamond", 2.5, "solid", False, "x", "y"),
                ("test", "acc", "diamond", 2.5, "solid", True, "x2", "y2")]
    for trace, (split, what, symbol, width, dash, legend, xaxis, yaxis) in zip(fig.data[2:], expected):
        np.testing.assert_allclose(trace.x, ends)
        np.testing.assert_array_equal(trace.y, run.epoch_metrics[f"{split}_{what}_eval"])
        assert (trace.mode, trace.marker.symbol, trace.marker.size, trace.marker.color, trace.line.color,
                trace.line.width, trace.line.dash, trace.name, trace.legendgroup, trace.showlegend,
                trace.xaxis, trace.yaxis) == ("lines+markers", symbol, 5, "#0072B2", "#0072B2", width, dash,
                                              f"{name}: {split} (eval mode)", name, legend, xaxis, yaxis)
        assert trace.hovertemplate == f"{unit} {fmt}<br>{split} {what} %{{y:.4f}}"
    assert [a.text for a in fig.layout.annotations] == ["loss (binary cross-entropy)", "accuracy"]
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == X_AXES[x]
    assert (fig.layout.yaxis.title.text, fig.layout.yaxis.rangemode) == ("loss", "tozero")
    assert (fig.layout.yaxis2.title.text, fig.layout.yaxis2.rangemode) == ("accuracy", None)
    assert list(fig.layout.yaxis.domain) == list(fig.layout.yaxis2.domain) == [0.0, 1.0]     # one row
    assert fig.layout.title.text == ("Training curves<br><span style='font-size:13px'>faint: each mini-batch's "
                                     "loss before its update; markers: all train and test rows at epoch ends (BN "
                                     "in<br>evaluation mode)</span>")
    assert fig.layout.height == 460 + 22 * 1            # three traces in the legend: one row
    assert fig.layout.xaxis.domain[1] == pytest.approx(0.45) and fig.layout.xaxis2.domain[0] == pytest.approx(0.55)


def test_the_axes_ranges_come_from_the_data(runs):
    a, b = runs["a"], runs["b"]
    fig = training_curves(a, b)
    losses = np.r_[a.train_loss, b.train_loss]
    top = np.sort(losses)[int(np.floor(0.99 * (len(losses) - 1)))]                   # near the 99th percentile
    assert fig.layout.yaxis.range[0] == 0
    assert fig.layout.yaxis.range[1] == pytest.approx(np.percentile(losses, 99) * 1.15, rel=1e-12)
    assert np.percentile(losses, 99) >= top
    accs = np.r_[a.epoch_metrics["train_acc_eval"], a.epoch_metrics["test_acc_eval"],
                 b.epoch_metrics["train_acc_eval"], b.epoch_metrics["test_acc_eval"]]
    low = min(accs.min(), 0.9) - 0.05
    assert list(fig.layout.yaxis2.range) == pytest.approx([max(low, 0.0), 1.0])
    assert all(t.cliponaxis is False for t in fig.data if t.xaxis == "x2")
    names = [t.name for t in fig.data]
    assert names[:6] == ["A: BN before relu: mini-batch loss", "A: BN before relu: batch loss, 1-epoch mean"] + [
        f"A: BN before relu: {s} (eval mode)" for s in ("train", "train", "test", "test")]
    assert names[6:] == ["B: BN off: mini-batch loss", "B: BN off: batch loss, 1-epoch mean"] + [
        f"B: BN off: {s} (eval mode)" for s in ("train", "train", "test", "test")]
    assert {t.line.color for t in fig.data[6:]} == {"#D55E00"}
    assert [t.line.dash for t in fig.data[6:]] == [None, "solid", "dot", "dot", "solid", "solid"]


def test_a_high_accuracy_keeps_a_view_from_0_85(runs):
    run = runs["a"]
    high = dataclasses.replace(run, recorded={**run.recorded, "epoch_metrics": {
        **run.epoch_metrics, "train_acc_eval": np.full(len(run.epoch_steps), 0.95),
        "test_acc_eval": np.r_[np.full(len(run.epoch_steps) - 1, 0.99), np.nan]}})
    assert list(training_curves(high).layout.yaxis2.range) == pytest.approx([0.85, 1.0])
    exact = dataclasses.replace(run, recorded={**run.recorded, "epoch_metrics": {
        **run.epoch_metrics, "train_acc_eval": np.full(len(run.epoch_steps), 0.6),
        "test_acc_eval": np.full(len(run.epoch_steps), 0.9)}})
    assert list(training_curves(exact).layout.yaxis2.range) == pytest.approx([0.55, 1.0])
    blank = dataclasses.replace(run, recorded={**run.recorded, "epoch_metrics": {
        **run.epoch_metrics, "train_acc_eval": np.full(len(run.epoch_steps), np.nan),
        "test_acc_eval": np.full(len(run.epoch_steps), np.nan)}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no minimum is taken over no number at all
        assert list(training_curves(blank).layout.yaxis2.range) == [0.0, 1.0]


def test_a_blown_up_loss_is_capped_at_10(runs):
    run = runs["a"]
    huge = dataclasses.replace(run, recorded={**run.recorded, "train_loss": run.train_loss * 1000})
    assert list(training_curves(huge).layout.yaxis.range) == [0, 10.0]
    top = 10.0 / 1.15                                   # exactly at the cap
    flat = dataclasses.replace(run, recorded={**run.recorded, "train_loss": np.full(run.n_steps, top)})
    assert training_curves(flat).layout.yaxis.range[1] == pytest.approx(10.0)
    half = dataclasses.replace(run, recorded={**run.recorded, "train_loss": np.full(run.n_steps, 0.5)})
    assert list(training_curves(half).layout.yaxis.range) == pytest.approx([0, 0.575])
    zero = dataclasses.replace(run, recorded={**run.recorded, "train_loss": np.zeros(run.n_steps)})
    assert training_curves(zero).layout.yaxis.range is None
    nan = dataclasses.replace(run, recorded={**run.recorded, "train_loss": np.full(run.n_steps, np.nan)})
    with pytest.warns(RuntimeWarning):
        assert training_curves(nan).layout.yaxis.range is None


def test_a_diverged_run_is_marked_where_it_stopped(runs):
    run = runs["diverged"]
    fig = training_curves(run, x="examples")
    assert [(s.x0, s.line.color, s.xref) for s in fig.layout.shapes] == [(60.0, "#D55E00", "x")]   # 6 batches of 10
    assert "diverged at step 6" in [a.text for a in fig.layout.annotations]


def test_a_strided_run_is_marked_at_its_divergence_past_its_last_kept_state(data):
    run = train(Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=3), data, stride=4)
    assert (run.n_steps, run.diverged_at) == (5, 6)
    fig = training_curves(run, x="examples")
    assert [s.x0 for s in fig.layout.shapes] == [60.0]


def test_runs_without_steps(runs):
    blank = training_curves(runs["zero"])
    assert blank.layout.title.text == "Training curves" and "no steps to show" in blank.layout.annotations[0].text
    fig = training_curves(runs["a"], runs["zero"])
    assert len(fig.data) == 6 and fig.data[1].name == "BN before relu: batch loss, 1-epoch mean"
    assert fig.layout.title.text.endswith("(BN in<br>evaluation mode); run B has no steps to show (it diverged at "
                                          "its first step)</span>")
