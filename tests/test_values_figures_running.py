"""Running statistics charts by value: the Run's arrays on every trace, ranges recomputed from them,
every name and title written out."""
import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.figures.running import running_gap_figure, running_stats_figure
from bnviz.running import cumulative_running


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


@pytest.fixture(scope="module")
def runs(data):
    return {"ewma": train(Config(epochs=2, hidden=(3, 2)), data),
            "cumulative": train(Config(epochs=2, running_avg="cumulative", running_var="unbiased"), data),
            "population": train(Config(epochs=2, running_avg="population", bn_momentum=0.9), data),
            "settles": train(Config(epochs=5, running_avg="cumulative", lr=1e-4, batch_size=50,
                                    running_var="unbiased"), data),
            "none": train(Config(epochs=1, bn=False), data),
            "wide": train(Config(epochs=1, hidden=(9,)), data)}


def spread(snaps, count):
    """Up to count snapshot states, evenly spread, first and last among them (by hand)."""
    n = len(snaps)
    picks = sorted({int(round(i * (n - 1) / (min(count, n) - 1))) for i in range(min(count, n))})
    return snaps[picks]


@pytest.mark.parametrize("layer, unit", [(1, 0), (1, 2), (2, 1)])
def test_every_trace_is_the_run_s_numbers(runs, layer, unit):
    run = runs["ewma"]
    k = layer - 1
    alt = cumulative_running(run, k)
    fig = running_stats_figure(run, layer, unit, alt)
    steps = np.arange(1, run.n_steps + 1)
    assert len(fig.data) == 10
    for row, (batch, running, exact, other, symbol) in enumerate((
            (run.batch_mean, run.running_mean, run.population_mean, alt.mean, "μ"),
            (run.batch_var, run.running_var, run.population_var, alt.var, "σ²"))):
        b, r, c, e = fig.data[4 * row:4 * row + 4]
        axis = "y" if row == 0 else "y2"
        assert {b.yaxis, r.yaxis, c.yaxis, e.yaxis} == {axis}
        np.testing.assert_array_equal(b.x, steps)
        np.testing.assert_array_equal(b.y, batch[k][:, unit])
        np.testing.assert_array_equal(r.x, steps)
        np.testing.assert_array_equal(r.y, running[k][:, unit])
        np.testing.assert_array_equal(c.x, steps)
        np.testing.assert_array_equal(c.y, other[:, unit])
        np.testing.assert_array_equal(e.x, run.snapshot_steps)
        np.testing.assert_array_equal(e.y, exact[k][:, unit])
        assert (b.mode, b.marker.size, b.marker.color, b.marker.opacity, b.name, b.legendgroup, b.showlegend) == (
            "markers", 3, "#2F8FC8", 0.45, "mini-batch statistic", "batch", row == 0)
        assert b.hovertemplate == f"step %{{x}}<br>{symbol}_B %{{y:.4g}}<extra></extra>"
        assert (r.mode, r.line.color, r.line.width, r.name, r.legendgroup, r.showlegend) == (
            "lines", "#0072B2", 2.5, "running (EWMA, m = 0.99)", "running", row == 0)
        assert r.hovertemplate == f"step %{{x}}<br>running {symbol} %{{y:.4g}}<extra></extra>"
        assert (c.mode, c.line.color, c.line.width, c.line.dash, c.name, c.legendgroup, c.showlegend) == (
            "lines", "#009E73", 2, "dot", "alternative: cumulative average", "cumulative", row == 0)
        assert c.hovertemplate == f"step %{{x}}<br>cumulative {symbol} %{{y:.4g}}<extra></extra>"
        assert (e.mode, e.line.color, e.line.width, e.line.dash, e.name, e.legendgroup, e.showlegend) == (
            "lines", "#000000", 2, "dash", "exact, over all training rows", "exact", row == 0)
        assert e.hovertemplate == f"step %{{x}}<br>exact {symbol} %{{y:.4g}}<extra></extra>"
        values = np.sort(np.r_[running[k][:, unit], exact[k][:, unit], batch[k][:, unit]])
        low, high = np.percentile(values, 1), np.percentile(values, 99)
        pad = (high - low) / 10 + 1e-9
        assert list(getattr(fig.layout, "yaxis" if row == 0 else "yaxis2").range) == pytest.approx(
            [low - pad, high + pad], rel=1e-12)
    mean_now, var_now = fig.data[8], fig.data[9]
    assert (list(mean_now.x), list(mean_now.y)) == ([run.n_steps], [run.running_mean[k][-1, unit]])
    assert (list(var_now.x), list(var_now.y)) == ([run.n_steps], [run.running_var[k][-1, unit]])
    for t in (mean_now, var_now):
        assert (t.mode, t.marker.size, t.marker.color, t.marker.line.color, t.marker.line.width, t.showlegend) == (
            "markers", 12, "#B47B00", "#000000", 1, False)
    assert (mean_now.name, mean_now.yaxis, var_now.yaxis) == ("replay", "y", "y2")
    states = spread(run.snapshot_steps, 60)
    assert [f.name for f in fig.frames] == [str(s) for s in states]
    for frame, s in zip(fig.frames, states):
        assert list(frame.traces) == [8, 9]
        at = max(s, 1)
        assert list(frame.data[0].x) == [at] and list(frame.data[1].x) == [at]
        assert list(frame.data[0].y) == [run.running_mean[k][at - 1, unit]]
        assert list(frame.data[1].y) == [run.running_var[k][at - 1, unit]]
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(s) for s in states]
    assert [a.text for a in fig.layout.annotations][:2] == [
        "mean: μ_B and the running μ", "variance: σ²_B (biased) and the running σ² (biased)"]
    assert (fig.layout.xaxis2.title.text, fig.layout.yaxis.title.text, fig.layout.yaxis2.title.text) == (
        "step", "μ", "σ²")
    assert fig.layout.xaxis.title.text is None                  # "step" only under the bottom panel
    assert list(fig.layout.yaxis.domain) == pytest.approx([0.545, 1.0])       # 0.09 between the panels
    assert list(fig.layout.yaxis2.domain) == pytest.approx([0.0, 0.455])
    assert fig.layout.xaxis.matches == "x2" or fig.layout.xaxis2.matches == "x"      # shared x
    assert fig.layout.title.text == (
        f"BN layer {layer}, unit {unit + 1}: running statistics against the exact ones<br><span style='font-size:"
        "13px'>running averages start at μ = 0, σ² = 1 and lag the statistics they estimate</span>")
    assert fig.layout.height == 640 and fig.layout.legend.orientation == "v"


def test_the_other_rules_name_themselves_and_draw_no_alternative(runs):
    cumulative = runs["cumulative"]
    fig = running_stats_figure(cumulative, 1, 0, cumulative_running(cumulative, 0))
    assert [t.name for t in fig.data[:3]] == ["mini-batch statistic", "running (cumulative average)",
                                              "exact, over all training rows"]
    assert len(fig.data) == 8
    assert fig.layout.annotations[1].text == "variance: σ²_B (biased) and the running σ² (unbiased)"
    population = running_stats_figure(runs["population"], 1, 0)
    assert population.data[1].name == "running (EWMA, m = 0.9, then population statistics at the end)"
    ewma = running_stats_figure(runs["ewma"], 1, 0)
    assert [t.name for t in ewma.data[:3]] == ["mini-batch statistic", "running (EWMA, m = 0.99)",
                                               "exact, over all training rows"]
    assert len(ewma.data) == 8


def test_the_replay_marker_follows_the_state_s_own_running_statistics(runs):
    run = runs["population"]                   # population statistics replace the EWMA at the very end
    fig = running_stats_figure(run, 1, 1)
    final_mean, final_var = run.running_after_states(0, [run.n_steps])
    assert list(fig.data[-2].y) == [final_mean[0, 1]] and list(fig.data[-1].y) == [final_var[0, 1]]


def test_units_and_layers_out_of_range(runs):
    run = runs["ewma"]
    for unit in (-1, 3):
        with pytest.raises(ValueError, match=f"^unit must be 0 to 2, got {unit}$"):
            running_stats_figure(run, 1, unit)
    with pytest.raises(ValueError, match="^unit must be 0 to 1, got 2$"):
        running_stats_figure(run, 2, 2)
    running_stats_figure(run, 2, 1)
    with pytest.raises(ValueError, match="^layer must be 1 to 2, got 3$"):
        running_stats_figure(run, 3, 0)
    with pytest.raises(ValueError, match="^layer must be 1 to 2, got 3$"):
        running_gap_figure(run, 3)


def test_a_run_without_bn_gets_a_sentence(runs):
    fig = running_stats_figure(runs["none"], 2, 1)
    assert fig.layout.title.text == "BN layer 2, unit 2: running statistics"
    assert fig.layout.annotations[0].text.startswith("This run has no batch norm")
    gap = running_gap_figure(runs["none"], 1)
    assert gap.layout.title.text == "BN layer 1: how far the running statistics are from the exact ones"
    assert gap.layout.annotations[0].text.startswith("This run has no batch norm")


def test_the_settled_step_is_marked(runs):
    run = runs["settles"]
    fig = running_stats_figure(run, 1, 0)
    assert [(s.x0, s.line.color, s.line.dash) for s in fig.layout.shapes] == [(9, "#000000", "dot")] * 2
    assert [a.text for a in fig.layout.annotations if a.text.startswith("within")] == ["within 5% from step 9"] * 2
    gap = running_gap_figure(run, 1)
    assert gap.layout.title.text.endswith("dashed line: 5%; every unit stays within 5% from step 9</span>")


def gaps_by_hand(run, k):
    keep = run.snapshot_steps > 0
    states = run.snapshot_steps[keep]
    mean = run.running_mean[k][states - 1]
    var = run.running_var[k][states - 1]
    exact_mean, exact_var = run.population_mean[k][keep], run.population_var[k][keep]
    return states, np.abs(mean - exact_mean) / np.sqrt(exact_var), np.abs(var - exact_var) / exact_var


@pytest.mark.parametrize("which, layer", [("ewma", 1), ("ewma", 2), ("wide", 1)])
def test_the_gap_of_every_unit(runs, which, layer):
    run = runs[which]
    states, mean_gap, var_gap = gaps_by_hand(run, layer - 1)
    units = mean_gap.shape[1]
    fig = running_gap_figure(run, layer)
    assert len(fig.data) == 2 * units
    colours = ["#0072B2", "#B47B00", "#009E73", "#CC79A7", "#2F8FC8", "#D55E00", "#000000", "#9C8600"]
    for col, gap in ((0, mean_gap), (1, var_gap)):
        for u in range(units):
            t = fig.data[col * units + u]
            np.testing.assert_array_equal(t.x, states)
            np.testing.assert_allclose(t.y, np.where(gap[:, u] > 1e-6, gap[:, u], 1e-6), rtol=1e-12)
            assert (t.mode, t.line.color, t.line.width, t.name, t.legendgroup, t.showlegend, t.xaxis) == (
                "lines", colours[u % 8], 2, f"unit {u + 1}", f"u{u}", col == 0, "x" if col == 0 else "x2")
            assert t.hovertemplate == "step %{x}<br>gap %{y:.2%}<extra></extra>"
    lines = fig.layout.shapes
    assert [(s.y0, s.y1, s.line.color, s.line.dash, s.yref) for s in lines] == [
        (0.05, 0.05, "#000000", "dash", "y"), (0.05, 0.05, "#000000", "dash", "y2")]
    assert [a.text for a in fig.layout.annotations] == ["|running μ − exact μ| / exact σ",
                                                        "|running σ² − exact σ²| / exact σ²"]
    for axis in (fig.layout.yaxis, fig.layout.yaxis2):
        assert (axis.type, axis.title.text) == ("log", "relative gap")
        assert list(axis.tickvals) == [1e-4, 1e-3, 1e-2, 0.05, 0.1, 1.0, 10.0, 100.0]
        assert list(axis.ticktext) == ["0.01%", "0.1%", "1%", "5%", "10%", "100%", "1000%", "10⁴%"]
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "step"
    assert fig.layout.title.text == (
        f"BN layer {layer}: how far the running statistics are from the exact ones<br><span style='font-size:"
        "13px'>dashed line: 5%; not within 5% by the end: a biased running σ² settles near (n−1)/n of the exact "
        "one, and<br>later layers see noisier inputs in mini-batches than in the full-data pass</span>")
    assert fig.layout.height == 460 + 22 * (1 + units // 4)
    assert list(fig.layout.yaxis.domain) == [0.0, 1.0]
    assert list(fig.layout.xaxis.domain) == pytest.approx([0.0, 0.45])
    assert list(fig.layout.xaxis2.domain) == pytest.approx([0.55, 1.0])


def test_the_first_layer_and_unit_by_default(runs):
    run = runs["ewma"]
    assert running_stats_figure(run).layout.title.text.startswith(
        "BN layer 1, unit 1: running statistics against the exact ones<br>")
    np.testing.assert_array_equal(running_stats_figure(run).data[0].y, run.batch_mean[0][:, 0])
    assert running_gap_figure(run).layout.title.text.startswith(
        "BN layer 1: how far the running statistics are from the exact ones<br>")
    assert len(running_gap_figure(run).data) == 6

