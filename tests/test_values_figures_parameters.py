"""Parameter charts by value: γ and β, gradient norms, update ratios, the bias in front of BN and the
evaluation-mode lag, each trace against the Run's arrays (smoothing and logs recomputed by hand)."""
import dataclasses
import warnings

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.bias import BiasRecord
from bnviz.figures.parameters import (_log_ratio, bias_figure, eval_lag_figure, gamma_beta_figure,
                                      gradient_norm_figure, update_ratio_figure)
from bnviz.train import architecture, initial_params

UNIT_COLOURS = ["#0072B2", "#B47B00", "#009E73", "#CC79A7", "#2F8FC8", "#D55E00", "#000000", "#9C8600"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash"]


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


@pytest.fixture(scope="module")
def runs(data):
    cfg = Config(epochs=2)
    arch = architecture(cfg, data.n_features)
    params = initial_params(cfg, arch)
    params[f"b{arch.n_dense}"] = np.full(1, np.inf)
    return {"batch": train(Config(epochs=2, hidden=(9, 2)), data), "none": train(Config(bn=False, epochs=2), data),
            "layer": train(Config(norm="layer", bn=False, epochs=2, hidden=(3, 2)), data),
            "deep": train(Config(bn=False, epochs=1, hidden=(2, 2, 2, 2, 2)), data),
            "lr": train(Config(epochs=1, lr=0.5), data),
            "zero": train(cfg, data, init_params=params)}


def trailing_mean(values, window):
    return np.array([np.mean(values[max(0, i + 1 - window):i + 1]) for i in range(len(values))])


@pytest.mark.parametrize("layer", [1, 2])
def test_gamma_and_beta_of_a_bn_layer(runs, layer):
    run = runs["batch"]
    fig = gamma_beta_figure(run, layer)
    units = (9, 2)[layer - 1]
    assert len(fig.data) == 2 * units
    steps = np.arange(1, run.n_steps + 1)
    for col, values, symbol in ((0, run.gamma[layer - 1], "γ"), (1, run.beta[layer - 1], "β")):
        for u in range(units):
            t = fig.data[col * units + u]
            np.testing.assert_array_equal(t.x, steps)
            np.testing.assert_array_equal(t.y, values[:, u])
            assert (t.mode, t.name, t.line.color, t.line.width, t.legendgroup, t.showlegend, t.xaxis) == (
                "lines", f"unit {u + 1}", UNIT_COLOURS[u % 8], 2, f"u{u}", col == 0, ("x", "x2")[col])
            assert t.hovertemplate == f"step %{{x}}<br>{symbol} %{{y:.4g}}<extra></extra>"
    assert [a.text for a in fig.layout.annotations] == ["γ (scale)", "β (shift)"]
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "step"
    assert (fig.layout.yaxis.title.text, fig.layout.yaxis2.title.text) == ("γ", "β")
    assert fig.layout.title.text == (f"BN layer {layer}: the learned scale and shift<br><span style='font-size:"
                                     "13px'>γ = √(σ² + ε), β = μ would undo the normalization; training finds its "
                                     "own values</span>")
    assert fig.layout.height == 420 + 22 * (1 + units // 4)
    assert fig.layout.xaxis.domain[1] == pytest.approx(0.45)
    assert list(fig.layout.yaxis.domain) == [0.0, 1.0]


def test_gamma_and_beta_of_a_layer_norm_layer_come_from_the_kept_states(runs):
    run = runs["layer"]
    fig = gamma_beta_figure(run, 2)
    start, stop, _ = run.param_slices["gamma2"]
    gamma = run.params[1:, start:stop]
    start, stop, _ = run.param_slices["beta2"]
    beta = run.params[1:, start:stop]
    states = np.arange(1, run.n_steps + 1)                       # every state kept: stride 1
    assert len(fig.data) == 4
    for t, values in zip(fig.data, (gamma[:, 0], gamma[:, 1], beta[:, 0], beta[:, 1])):
        np.testing.assert_array_equal(t.x, states)
        np.testing.assert_array_equal(t.y, values)
    assert fig.layout.title.text == (
        "Layer-norm layer 2: the learned scale and shift<br><span style='font-size:13px'>per unit, shared by every "
        "row: each row's own statistics change from row to row, so no γ and β can undo<br>layer norm for every "
        "row</span>")


def test_gamma_and_beta_refuse_or_explain(runs):
    blank = gamma_beta_figure(runs["none"], 1)
    assert blank.layout.title.text == "BN layer 1: the learned scale and shift"
    assert blank.layout.annotations[0].text.startswith("This run has no batch norm")
    with pytest.raises(ValueError, match="^layer must be 1 to 2, got 3$"):
        gamma_beta_figure(runs["batch"], 3)
    with pytest.raises(ValueError, match="^layer must be 1 to 2, got 0$"):
        gamma_beta_figure(runs["layer"], 0)
    gamma_beta_figure(runs["layer"], 2)
    assert gamma_beta_figure(runs["batch"]).layout.title.text.startswith("BN layer 1: the learned scale and shift")
    assert len(gamma_beta_figure(runs["batch"]).data) == 18                  # layer 1's nine units, γ and β


def test_gradient_norms_of_one_run_in_unit_colours(runs):
    run = runs["deep"]
    fig = gradient_norm_figure(run)
    assert len(fig.data) == 6
    for l, t in enumerate(fig.data):
        np.testing.assert_array_equal(t.x, np.arange(run.n_steps))
        np.testing.assert_allclose(t.y, trailing_mean(run.grad_norm[:, l], run.epoch_window), rtol=1e-12)
        assert (t.mode, t.name, t.line.color, t.line.width, t.line.dash) == (
            "lines", f"BN off: W{l + 1}", UNIT_COLOURS[l], 2, DASHES[l % 5])
        assert t.hovertemplate == "step %{x}<br>‖dW‖ %{y:.3g}<extra></extra>"
    assert run.epoch_window == 32
    assert (fig.layout.yaxis.type, fig.layout.yaxis.title.text, fig.layout.xaxis.title.text) == (
        "log", "‖∂L/∂W‖ (1-epoch mean)", "step")
    assert fig.layout.title.text == ("Gradient norm per layer<br><span style='font-size:13px'>when gradients vanish, "
                                     "the first layers' norms fall orders of magnitude below the last layer's</span>")
    assert fig.layout.height == 440 + 22 * 2


def test_gradient_norms_of_a_pair_in_run_colours(runs):
    a, b = runs["batch"], runs["none"]
    fig = gradient_norm_figure(a, b)
    assert [t.name for t in fig.data] == [f"A: BN before relu: W{l}" for l in (1, 2, 3)] + [
        f"B: BN off: W{l}" for l in (1, 2, 3)]
    assert [t.line.color for t in fig.data] == ["#0072B2"] * 3 + ["#D55E00"] * 3
    assert [t.line.dash for t in fig.data] == DASHES[:3] * 2
    np.testing.assert_allclose(fig.data[4].y, trailing_mean(b.grad_norm[:, 1], b.epoch_window), rtol=1e-12)


def test_a_run_b_without_steps_is_left_out_and_a_run_a_without_says_so(runs):
    fig = gradient_norm_figure(runs["batch"], runs["zero"])
    assert [t.name for t in fig.data] == [f"A: hidden=[9, 2]: W{l}" for l in (1, 2, 3)]
    for builder in (gradient_norm_figure, update_ratio_figure):
        blank = builder(runs["zero"])
        assert "no steps to show" in blank.layout.annotations[0].text
    assert gradient_norm_figure(runs["zero"]).layout.title.text == "Gradient norm per layer"
    assert update_ratio_figure(runs["zero"]).layout.title.text == "How much each step changes the weights"


def test_the_log_ratio_draws_an_update_of_zero_at_minus_12(runs):
    run = runs["none"]
    ratios = np.array([[1e-3, 0.0], [np.nan, 10.0]])
    fake = dataclasses.replace(run, recorded={**run.recorded, "update_ratio": ratios})
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # an update of 0 is drawn at -12, without a warning
        np.testing.assert_allclose(_log_ratio(fake), [[-3.0, -12.0], [0.0, 1.0]])


def test_update_ratios(runs):
    a, b = runs["batch"], runs["lr"]
    fig = update_ratio_figure(a, b)
    assert [t.name for t in fig.data] == [f"A: hidden=[9, 2], lr=0.1: W{l}" for l in (1, 2, 3)] + [
        f"B: hidden=[3, 2], lr=0.5: W{l}" for l in (1, 2, 3)]
    for t, r, l in zip(fig.data, (a, a, a, b, b, b), (0, 1, 2, 0, 1, 2)):
        np.testing.assert_allclose(t.y, trailing_mean(np.log10(r.update_ratio[:, l]), r.epoch_window), rtol=1e-12)
        assert t.hovertemplate == "step %{x}<br>log₁₀ ratio %{y:.2f}<extra></extra>"
        assert t.line.color == "#0072B2"
    line = fig.layout.shapes[0]
    assert (line.y0, line.y1, line.line.color, line.line.dash) == (-3, -3, "#000000", "dash")
    assert [x.text for x in fig.layout.annotations] == ["10⁻³"]
    assert fig.layout.yaxis.title.text == "log₁₀ ‖ΔW‖ / ‖W‖ (1-epoch mean)"
    assert fig.layout.title.text == ("How much each step changes the weights<br><span style='font-size:13px'>"
                                     "update-to-weight ratio, per Dense layer</span>")
    assert fig.layout.height == 440 + 22 * 2


def records_for(run):
    """Two made-up bias records over the run's states and steps: one with a gradient of 0 at some steps."""
    s = run.n_steps
    rng = np.random.default_rng(0)
    first = BiasRecord(1, rng.normal(size=(s + 1, 2)), np.zeros((s, 2)), np.where(np.arange(s) % 3 == 0, 0.0,
                       rng.random(s)), rng.random(s) + 1.0, 0.5)
    second = BiasRecord(2, rng.normal(size=(s + 1, 1)), np.zeros((s, 1)), np.zeros(s),
                        np.where(np.arange(s) == 2, 0.0, rng.random(s)), 0.0)
    return [first, second]


def test_the_bias_in_front_of_bn(runs):
    run = runs["batch"]
    records = records_for(run)
    fig = bias_figure(run, records)
    states = np.arange(run.n_steps + 1)
    steps = np.arange(run.n_steps)
    expected = []
    for i, rec in enumerate(records):
        colour = UNIT_COLOURS[i]
        for u in range(rec.values.shape[1]):
            expected.append((states, rec.values[:, u], f"b{rec.layer}, unit {u + 1}", colour,
                             ["solid", "dash", "dot", "dashdot"][u], "x"))
        for norm, label, dash in ((rec.weight_grad_norm, f"‖∂L/∂W{rec.layer}‖", "solid"),
                                  (rec.grad_norm, f"‖∂L/∂b{rec.layer}‖", "dot")):
            keep = norm > 0
            expected.append((steps[keep], norm[keep], label, colour if dash == "solid" else "#000000", dash, "x2"))
    assert len(fig.data) == len(expected) == 7
    for t, (x, y, name, colour, dash, axis) in zip(fig.data, expected):
        np.testing.assert_array_equal(t.x, x)
        np.testing.assert_array_equal(t.y, y)
        assert (t.name, t.line.color, t.line.dash, t.xaxis, t.mode) == (name, colour, dash, axis, "lines")
        assert t.line.width == (2 if axis == "x" else 1.5)
    assert fig.data[0].hovertemplate == "state %{x}<br>b1[1] %{y:.6g}<extra></extra>"
    assert fig.data[1].hovertemplate == "state %{x}<br>b1[2] %{y:.6g}<extra></extra>"
    assert fig.data[2].hovertemplate == "step %{x}<br>‖∂L/∂W1‖ %{y:.3g}<extra></extra>"
    assert fig.data[3].hovertemplate == "step %{x}<br>‖∂L/∂b1‖ %{y:.3g}<extra></extra>"
    assert len(fig.data[6].x) == 0                                     # b2's gradient is 0 at every step
    notes = [a for a in fig.layout.annotations if a.text.startswith("‖∂L/∂b")]
    assert [(a.text, a.x, a.y, a.xref, a.yref, a.showarrow, a.font.size) for a in notes] == [
        ("‖∂L/∂b2‖ = 0 at every step", 0.5, pytest.approx(0.16), "x2 domain", "y2 domain", False, 13)]
    assert [a.text for a in fig.layout.annotations][:2] == ["the bias b over training", "gradient size per step"]
    lay = fig.layout
    assert (lay.xaxis.title.text, lay.xaxis2.title.text, lay.yaxis.title.text) == ("state (updates done)", "step",
                                                                                   "b")
    assert (lay.yaxis2.type, lay.yaxis2.title.text, lay.yaxis2.exponentformat) == ("log", "gradient norm", "power")
    assert lay.xaxis.domain[1] == pytest.approx(0.44)
    assert list(lay.yaxis.domain) == [0.0, 1.0]
    assert lay.height == 440 + 22 * 2                  # seven traces in the legend: two rows
    assert lay.title.text == ("The bias in front of BN<br><span style='font-size:13px'>BN subtracts the batch mean, "
                              "so a constant added before it cancels: its gradient is rounding noise, many<br>"
                              "orders of magnitude below the weights'</span>")


def test_the_bias_lines_are_thinned_past_600_points(runs):
    n = 1300                                             # a long record, faked by its arrays' lengths
    many = dataclasses.replace(runs["batch"], n_steps=n)
    rec = BiasRecord(1, np.arange(n + 1.0)[:, None], np.zeros((n, 1)), np.arange(1.0, n + 1),
                     np.arange(1.0, n + 1), 1.0)
    fig = bias_figure(many, [rec])
    states = np.arange(0, n + 1, 3)                      # every 3rd of 1301 states (1301 / 600 rounded up)...
    states = np.r_[states, n] if states[-1] != n else states          # ...and the last
    np.testing.assert_array_equal(fig.data[0].x, states)
    np.testing.assert_array_equal(fig.data[0].y, states.astype(float))
    steps = np.r_[np.arange(0, n, 3), n - 1]             # every 3rd of 1300 steps and the last (1299 is one)
    steps = np.unique(steps)
    np.testing.assert_array_equal(fig.data[1].x, steps)
    np.testing.assert_array_equal(fig.data[1].y, steps + 1.0)


def test_a_run_without_a_bias_before_bn_or_without_bn(runs):
    fig = bias_figure(runs["batch"], [])
    assert fig.layout.title.text == "The bias in front of BN"
    assert fig.layout.annotations[0].text == ("This run has no bias in front of a BN layer: BN before the "
                                              "activation drops it.<br>Turn on keep_bias to keep it and watch its "
                                              "gradient.")
    blank = bias_figure(runs["none"], records_for(runs["none"]))
    assert blank.layout.annotations[0].text.startswith("This run has no batch norm")
    assert blank.layout.title.text == "The bias in front of BN"


def test_the_first_record_s_zero_gradient_note_sits_lowest_and_units_take_four_dashes(runs):
    run = runs["batch"]
    s = run.n_steps
    first = BiasRecord(1, np.zeros((s + 1, 5)), np.zeros((s, 5)), np.zeros(s), np.ones(s), 0.0)
    fig = bias_figure(run, [first])
    notes = [a for a in fig.layout.annotations if a.text.startswith("‖∂L/∂b")]
    assert [(a.text, a.y) for a in notes] == [("‖∂L/∂b1‖ = 0 at every step", 0.08)]
    assert [t.line.dash for t in fig.data[:5]] == ["solid", "dash", "dot", "dashdot", "solid"]
    assert [t.name for t in fig.data[:5]] == [f"b1, unit {u}" for u in range(1, 6)]


def test_evaluation_mode_against_batch_mode(runs):
    a, b = runs["batch"], runs["lr"]
    one = eval_lag_figure(a)
    epochs = np.arange(len(a.epoch_steps))
    assert [(t.name, t.line.color, t.line.width, t.line.dash, t.mode, t.marker.size) for t in one.data] == [
        ("BN before relu: batch mode (exact statistics)", "#0072B2", 1.5, "dot", "lines+markers", 4),
        ("BN before relu: evaluation mode (running statistics)", "#0072B2", 2.5, "solid", "lines+markers", 4)]
    for t, key in zip(one.data, ("train_loss_batch", "train_loss_eval")):
        np.testing.assert_array_equal(t.x, epochs)
        np.testing.assert_array_equal(t.y, a.epoch_metrics[key])
        assert t.hovertemplate == "epoch %{x}<br>loss %{y:.4f}<extra>BN before relu</extra>"
    assert (one.layout.xaxis.title.text, one.layout.yaxis.title.text, one.layout.yaxis.rangemode) == (
        "epoch", "training-set loss", "tozero")
    assert one.layout.title.text == ("Evaluation mode against batch mode, per epoch<br><span style='font-size:13px'>"
                                     "the gap closes as the running averages catch up with the statistics of the "
                                     "layers' inputs</span>")
    assert one.layout.height == 420 + 22
    pair = eval_lag_figure(a, b)
    assert [(t.name, t.line.color, t.line.dash) for t in pair.data] == [
        ("A: hidden=[9, 2], lr=0.1: batch mode (exact statistics)", "#0072B2", "dot"),
        ("A: hidden=[9, 2], lr=0.1: evaluation mode (running statistics)", "#0072B2", "solid"),
        ("B: hidden=[3, 2], lr=0.5: batch mode (exact statistics)", "#0072B2", "dashdot"),
        ("B: hidden=[3, 2], lr=0.5: evaluation mode (running statistics)", "#0072B2", "dash")]
    apart = eval_lag_figure(a, runs["layer"])              # B in layer norm's green: its own colour tells it apart
    assert [(t.line.color, t.line.dash) for t in apart.data] == [
        ("#0072B2", "dot"), ("#0072B2", "solid"), ("#009E73", "dot"), ("#009E73", "solid")]
    np.testing.assert_array_equal(pair.data[3].x, np.arange(len(b.epoch_steps)))
    np.testing.assert_array_equal(pair.data[3].y, b.epoch_metrics["train_loss_eval"])
    blank = eval_lag_figure(runs["none"])
    assert blank.layout.title.text == "Evaluation mode against batch mode, per epoch"
    assert blank.layout.annotations[0].text.startswith("This run has no batch norm")
