"""Activation charts by value: the histograms and percentiles they are given, drawn where they belong,
with every name, title and range written out."""
import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.activations import LayerHistograms, UnitPercentiles
from bnviz.figures.activations import activation_heatmap, activation_histogram_replay, activation_percentiles
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
    return {"batch": train(Config(epochs=2), data), "none": train(Config(bn=False, epochs=3), data),
            "layer": train(Config(norm="layer", bn=False, epochs=1), data),
            "zero": train(cfg, data, init_params=params)}


def shares_for(run, bins, seed):
    """(K, bins) made-up shares, one row per snapshot, each row summing to 1."""
    raw = np.random.default_rng(seed).random((len(run.snapshot_steps), bins))
    return raw / raw.sum(axis=1, keepdims=True)


def hist(runs_, stage="act_in", unit=None, layer=1, bins=5, missing=()):
    edges = np.linspace(-2.0, 3.0, bins + 1)
    shares = [None if i in missing else shares_for(r, bins, i) for i, r in enumerate(runs_)]
    return LayerHistograms(layer, stage, unit, edges, [r.snapshot_steps for r in runs_], shares)


def test_the_heatmap_of_one_run(runs):
    run = runs["batch"]
    h = hist([run], unit=1, layer=2)
    fig = activation_heatmap(run, h)
    assert len(fig.data) == 1
    t = fig.data[0]
    np.testing.assert_array_equal(t.x, run.snapshot_steps)
    np.testing.assert_allclose(t.y, [-1.5, -0.5, 0.5, 1.5, 2.5])
    np.testing.assert_array_equal(np.asarray(t.z), h.shares[0].T)
    assert (t.zmin, t.colorbar.title.text, t.colorbar.len, t.colorbar.y) == (0, "share<br>of rows", 0.8, 0.5)
    assert t.zmax == pytest.approx(np.percentile(h.shares[0], 99), rel=1e-12)
    assert t.colorscale[-1][1] == "rgb(8,48,107)"                               # Plotly's Blues
    assert t.hovertemplate == "step %{x}<br>value %{y:.3g}<br>share %{z:.3f}<extra></extra>"
    assert list(fig.layout.yaxis.range) == [-2.0, 3.0] and fig.layout.yaxis.title.text == "value"
    assert fig.layout.xaxis.title.text == "step"
    assert [a.text for a in fig.layout.annotations] == ["BN before relu"]
    assert fig.layout.title.text == ("Layer 2: input to the activation over training (unit 2)<br><span style='font-"
                                     "size:13px'>each column is a histogram over all training rows at that step"
                                     "</span>")
    assert fig.layout.height == 300 + 220 + 22


def test_the_heatmaps_of_two_runs_share_the_bins(runs):
    a, b = runs["batch"], runs["none"]
    h = hist([a, b], stage="z", bins=4)
    fig = activation_heatmap(a, h, b)
    assert len(fig.data) == 2
    for i, (t, r, shares) in enumerate(zip(fig.data, (a, b), h.shares)):
        np.testing.assert_array_equal(t.x, r.snapshot_steps)
        np.testing.assert_array_equal(np.asarray(t.z), shares.T)
        assert (t.colorbar.len, t.colorbar.y) == pytest.approx((0.4, 1 - (i + 0.5) / 2))
        assert (t.xaxis, t.yaxis) == (("x", "y") if i == 0 else ("x2", "y2"))
    assert fig.data[1].colorscale[-1][1] == "rgb(127,39,4)"                  # Plotly's Oranges: BN off
    assert list(fig.layout.yaxis.range) == list(fig.layout.yaxis2.range) == [-2.0, 3.0]
    assert fig.layout.yaxis2.title.text == "value" and fig.layout.xaxis2.title.text == "step"
    assert [a_.text for a_ in fig.layout.annotations] == ["A: BN before relu", "B: BN off"]
    assert fig.layout.title.text.startswith("Layer 1: z = a·W (+ b), the Dense output over training (all units)")
    assert fig.layout.height == 300 + 440 + 22
    assert list(fig.layout.yaxis.domain) == pytest.approx([0.57, 1.0])       # 0.14 between the runs
    assert list(fig.layout.yaxis2.domain) == pytest.approx([0.0, 0.43])
    assert fig.layout.xaxis.matches is None and fig.layout.xaxis2.matches is None     # each run its own steps


def test_an_all_zero_histogram_keeps_a_colour_range(runs):
    run = runs["layer"]
    h = LayerHistograms(1, "bn", 0, np.linspace(0, 1, 3), [run.snapshot_steps],
                        [np.zeros((len(run.snapshot_steps), 2))])
    fig = activation_heatmap(run, h)
    assert fig.data[0].zmax == 1e-9
    assert fig.data[0].colorscale[-1][1] == "rgb(0,68,27)"                    # Plotly's Greens: layer norm
    assert fig.layout.title.text.startswith(
        "Layer 1: layer-norm output γ·x̂ + β (each row by its own units) over training (unit 1)")


def test_a_run_without_the_stage_is_left_out_and_none_at_all_says_so(runs):
    a, b = runs["batch"], runs["none"]
    fig = activation_heatmap(a, hist([a, b], stage="bn", missing=(1,)), b)
    assert len(fig.data) == 1 and [x.text for x in fig.layout.annotations] == ["A: BN before relu"]
    for builder in (activation_heatmap, activation_histogram_replay):
        blank = builder(b, hist([b], stage="bn", missing=(0,)))
        assert blank.layout.annotations[0].text == ("No run here has a BN output to show: turn batch "
                                                    "normalization on.")
    assert activation_heatmap(b, hist([b], stage="bn", missing=(0,))).layout.title.text == (
        "Layer 1: BN output γ·ẑ + β over training")
    assert activation_histogram_replay(b, hist([b], stage="bn", missing=(0,))).layout.title.text == (
        "Layer 1: the distribution at one step")
    pct = UnitPercentiles(1, 0, "bn", [b.snapshot_steps], [None])
    assert activation_percentiles(b, pct).layout.annotations[0].text.startswith("No run here has a BN output")
    assert activation_percentiles(b, pct).layout.title.text == "Layer 1, unit 1: how its input distribution moves"


def test_a_layer_norm_run_names_its_own_output(runs):
    run = runs["layer"]
    h = hist([run], stage="bn")
    replay = activation_histogram_replay(run, h)
    assert replay.layout.xaxis.title.text == "layer-norm output γ·x̂ + β (each row by its own units)"
    pct = UnitPercentiles(1, 0, "bn", [run.snapshot_steps], [percentiles_for(run, 0)])
    assert activation_percentiles(run, pct).layout.yaxis.title.text == (
        "layer-norm output γ·x̂ + β (each row by its own units)")


def test_a_run_without_steps_says_so_even_with_shares(runs):
    zero = runs["zero"]
    for builder in (activation_heatmap, activation_histogram_replay):
        blank = builder(zero, hist([zero]))
        assert "no steps to show" in blank.layout.annotations[0].text and not blank.data
    assert activation_heatmap(zero, hist([zero])).layout.title.text == (
        "Layer 1: input to the activation over training")
    assert activation_histogram_replay(zero, hist([zero])).layout.title.text == "Layer 1: the distribution at one step"


def percentiles_for(run, seed):
    p = np.sort(np.random.default_rng(seed).normal(size=(3, len(run.snapshot_steps))), axis=0)
    return p


def test_percentile_bands_and_lines(runs):
    a, b = runs["batch"], runs["none"]
    pct = UnitPercentiles(2, 1, "act_in", [a.snapshot_steps, b.snapshot_steps],
                          [percentiles_for(a, 0), percentiles_for(b, 1)])
    fig = activation_percentiles(a, pct, b)
    assert len(fig.data) == 8
    for r, name, colour, fill, dash, (band, p15, p50, p85), (lo, mid, hi) in (
            (a, "A: BN before relu", "#0072B2", "rgba(0,114,178,0.18)", "solid", fig.data[:4], pct.values[0]),
            (b, "B: BN off", "#D55E00", "rgba(213,94,0,0.18)", "solid", fig.data[4:], pct.values[1])):
        x = r.snapshot_steps
        np.testing.assert_array_equal(band.x, np.concatenate([x, x[::-1]]))
        np.testing.assert_array_equal(band.y, np.concatenate([hi, lo[::-1]]))
        assert (band.fill, band.line.width, band.fillcolor, band.name, band.legendgroup, band.hoverinfo) == (
            "toself", 0, fill, f"{name}: 15th–85th percentile", name, "skip")
        for t, values, label, width in ((p15, lo, "15th", 1), (p50, mid, "median", 2.5), (p85, hi, "85th", 1)):
            np.testing.assert_array_equal(t.x, x)
            np.testing.assert_array_equal(t.y, values)
            assert (t.mode, t.line.color, t.line.width, t.line.dash, t.name, t.legendgroup, t.showlegend) == (
                "lines", colour, width, dash, f"{name}: {label}", name, label == "median")
            assert t.hovertemplate == f"step %{{x}}<br>{label} percentile %{{y:.3g}}<extra></extra>"
    assert fig.layout.xaxis.title.text == "step"
    assert fig.layout.yaxis.title.text == "input to the activation"
    assert fig.layout.title.text == (
        "Layer 2, unit 2: how its input distribution moves<br><span style='font-size:13px'>15th, 50th and 85th "
        "percentiles over all training rows (Ioffe & Szegedy 2015, Figure 1)</span>")
    assert fig.layout.height == 440 + 22 * 2


def test_one_colour_pair_of_percentiles_dashes_run_b(runs, data):
    a = runs["batch"]
    b = train(Config(epochs=1, lr=0.5), data)
    pct = UnitPercentiles(1, 0, "z", [a.snapshot_steps, b.snapshot_steps],
                          [percentiles_for(a, 0), percentiles_for(b, 1)])
    fig = activation_percentiles(a, pct, b)
    assert [t.line.dash for t in fig.data[5:]] == ["dash"] * 3
    assert fig.data[5].name == "B: lr=0.5, epochs=1: 15th"
    assert fig.layout.yaxis.title.text == "z = a·W (+ b), the Dense output"


def nearest(steps, state):
    return int(np.argmin([abs(s - state) for s in steps]))


def test_the_replay_shows_each_run_at_its_nearest_snapshot(runs):
    a, b = runs["batch"], runs["none"]
    h = hist([a, b], stage="act_in", bins=4)
    fig = activation_histogram_replay(a, h, b)
    assert len(fig.data) == 2
    snaps = a.snapshot_steps
    n = len(snaps)
    picks = sorted({int(round(i * (n - 1) / (min(60, n) - 1))) for i in range(min(60, n))})
    states = snaps[picks]
    for t, r, shares, name, colour in ((fig.data[0], a, h.shares[0], "A: BN before relu", "#0072B2"),
                                       (fig.data[1], b, h.shares[1], "B: BN off", "#D55E00")):
        np.testing.assert_allclose(t.x, [-1.375, -0.125, 1.125, 2.375])
        np.testing.assert_array_equal(t.y, shares[nearest(r.snapshot_steps, states[-1])])
        assert (t.type, t.width, t.name, t.marker.color, t.opacity) == ("bar", 1.25, name, colour, 0.6)
        assert t.hovertemplate == "value %{x:.3g}<br>share %{y:.3f}<extra></extra>"
    assert [f.name for f in fig.frames] == [str(s) for s in states]
    for frame, s in zip(fig.frames, states):
        assert list(frame.traces) == [0, 1]
        np.testing.assert_array_equal(frame.data[0].y, h.shares[0][nearest(a.snapshot_steps, s)])
        np.testing.assert_array_equal(frame.data[1].y, h.shares[1][nearest(b.snapshot_steps, s)])
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(s) for s in states]
    assert fig.layout.barmode == "overlay"
    assert fig.layout.xaxis.title.text == "input to the activation"
    assert list(fig.layout.xaxis.range) == [-2.0, 3.0]
    assert fig.layout.yaxis.title.text == "share of training rows"
    assert fig.layout.title.text == ("Layer 1: the distribution at one step<br><span style='font-size:13px'>drag "
                                     "the slider to replay training</span>")
    assert (fig.layout.height, fig.layout.legend.orientation) == (460, "v")
