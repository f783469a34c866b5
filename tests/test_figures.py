"""Figure builders: the traces, axes and frames they promise, exact to the engine's numbers."""
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from bnviz import Config, load_for, train
from bnviz import figures as F
from bnviz.activations import layer_histograms, stage_values, unit_percentiles
from bnviz.inference import (accuracy_by_statistics, batch_calculation, boundary_replay, decision_grid,
                             one_row_at_a_time, predict)
from bnviz.landscape import input_scaling, network_plane, plane_losses
from bnviz.nn import batchnorm_forward, bce_with_logits_forward, forward
from bnviz.running import cumulative_running
from bnviz.train import architecture, initial_params


@pytest.fixture(scope="module")
def bn_run(default_run):
    return default_run


def names(fig):
    return [t.name for t in fig.data]


def axis_titles(fig):
    layout = fig.layout.to_plotly_json()
    return [v["title"]["text"] for k, v in layout.items()
            if k.startswith(("xaxis", "yaxis")) and "text" in v.get("title", {})]


def test_training_curves_one_and_two_runs(bn_run, plain_run):
    fig = F.training_curves(bn_run)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 2 + 4
    shown = np.asarray(fig.data[0].x)
    assert len(shown) <= 601 and shown[-1] == bn_run.n_steps - 1
    np.testing.assert_array_equal(fig.data[0].y, bn_run.train_loss[shown])
    assert "step (mini-batch updates)" in axis_titles(fig) and "accuracy" in axis_titles(fig)
    both = F.training_curves(bn_run, plain_run)
    assert len(both.data) == 12
    colours = {t.line.color for t in both.data if t.name.startswith("A")}
    assert colours == {F.BN_ON}
    assert {t.line.color for t in both.data if t.name.startswith("B")} == {F.BN_OFF}


def test_divergence_is_marked(data):
    run = train(Config(lr=10.0, standardize=False, bn=False, activation="linear"), data)
    fig = F.training_curves(run)
    assert any("diverged at step" in (a.text or "") for a in fig.layout.annotations)


def test_input_scaling_contours_equal_a_direct_loop(bn_run, data):
    scaling = input_scaling(data, lr=0.1, steps=20, size=9)
    raw, std = scaling.raw, scaling.standardized
    X = data.standardize(data.X_train)
    for i in (0, 4, 8):
        for j in (0, 3, 8):
            z = X @ np.array([std.a[j], std.b[i]])
            direct = np.mean(np.maximum(z, 0) - z * data.y_train + np.log1p(np.exp(-np.abs(z))))
            assert std.loss[i, j] == pytest.approx(direct, rel=1e-12)
    assert raw.lr_limit < std.lr_limit / 20        # raw features need a far smaller step
    assert len(raw.path) == 21 and np.all(raw.path[0] == 0)
    fig = F.input_scaling_figure(input_scaling(data, 0.12, 100))
    assert [t.type for t in fig.data] == ["contour", "scatter", "scatter"] * 2
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis2.scaleanchor == "x2"


def test_network_plane_equals_a_direct_loop(bn_run, data):
    grid = network_plane(bn_run, data, "random", size=5)
    final = bn_run.params[-1]
    X = data.inputs(data.X_train, True)
    buffers = bn_run.buffers_at(bn_run.n_steps)
    # rebuild one grid point's parameters by the definition and evaluate it alone
    losses = plane_losses(bn_run, data, final[None])
    result = forward(bn_run.arch, bn_run.params_at(bn_run.n_steps), X, buffers)
    assert losses[0] == pytest.approx(bce_with_logits_forward(result.logits, data.y_train)[0], rel=1e-13)
    assert grid.loss.shape == (5, 5) and np.all(np.isfinite(grid.loss))
    pca = network_plane(bn_run, data, "pca", size=7)
    assert pca.path.shape[1] == 2 and np.allclose(pca.path[-1], 0.0, atol=1e-9)
    # the path's last point is the final weights: its loss is the plane's value at the origin
    assert pca.path_loss[-1] == pytest.approx(losses[0], rel=1e-12)


def test_landscape_figure_frames(bn_run, data):
    fig = F.landscape_figure(bn_run, network_plane(bn_run, data))
    assert [t.type for t in fig.data] == ["contour", "scatter", "scatter", "scatter"]
    assert 2 <= len(fig.frames) <= F.MAX_FRAMES
    assert fig.frames[-1].name == str(bn_run.n_steps)
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    assert "evaluation mode" in fig.layout.title.text


@pytest.mark.parametrize("stage", ["z", "act", "act_in", "bn"])
def test_activation_heatmap(bn_run, plain_run, stage):
    hist = layer_histograms([bn_run, plain_run], 1, stage)
    fig = F.activation_heatmap(bn_run, hist, plain_run)
    expected = 2 if stage != "bn" else 1      # the BN-off run has no BN output
    assert [t.type for t in fig.data] == ["heatmap"] * expected
    heat = fig.data[0]
    np.testing.assert_array_equal(heat.x, bn_run.snapshot_steps)
    np.testing.assert_allclose(np.asarray(heat.z).sum(axis=0), 1.0)   # each column a histogram
    # every column counted again by hand: the share of values in each bin, the end bins taking the overflow
    values = stage_values(bn_run, 1, stage)
    edges = hist.edges
    for k in (0, len(values) // 2, len(values) - 1):
        flat = values[k].ravel()
        for j in range(len(edges) - 1):
            inside = [v for v in flat if (v >= edges[j] or j == 0) and (v < edges[j + 1] or j == len(edges) - 2)]
            assert np.asarray(heat.z)[j, k] == pytest.approx(len(inside) / len(flat), abs=1e-15)


def test_histogram_bins_span_the_pooled_values(bn_run, plain_run):
    hist = layer_histograms([bn_run, plain_run], 2, "z")
    pooled = np.sort(np.concatenate([stage_values(r, 2, "z").ravel() for r in (bn_run, plain_run)]))
    # the 0.5th and 99.5th percentiles by their definition: linear interpolation between order statistics
    for q, edge in ((0.5, hist.edges[0]), (99.5, hist.edges[-1])):
        pos = q / 100 * (len(pooled) - 1)
        lo = int(np.floor(pos))
        assert edge == pytest.approx(pooled[lo] + (pos - lo) * (pooled[lo + 1] - pooled[lo]), rel=1e-12)


def test_percentiles_are_the_snapshot_percentiles(bn_run, plain_run):
    fig = F.activation_percentiles(bn_run, unit_percentiles([bn_run, plain_run], 2, 1, "act_in"), plain_run)
    assert len(fig.data) == 8
    values = bn_run.snapshots["bn"][1][..., 1]        # BN before relu: the activation's input is BN's output
    for label, q in (("15th", 15), ("median", 50), ("85th", 85)):
        line = [t for t in fig.data if t.name == f"A: BN before relu: {label}"][0]
        for k in (0, 7, len(values) - 1):
            ordered = sorted(values[k])
            pos = q / 100 * (len(ordered) - 1)
            lo = int(pos)
            expected = ordered[lo] + (pos - lo) * (ordered[min(lo + 1, len(ordered) - 1)] - ordered[lo])
            assert line.y[k] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_histogram_replay_frames(bn_run, plain_run):
    fig = F.activation_histogram_replay(bn_run, layer_histograms([bn_run, plain_run], 1, "act_in"), plain_run)
    assert len(fig.data) == 2 and len(fig.frames) == min(F.LIGHT_FRAMES, len(bn_run.snapshot_steps))
    for frame in fig.frames:
        for bars in frame.data:
            assert sum(bars.y) == pytest.approx(1.0)


def test_running_stats_figure(bn_run):
    fig = F.running_stats_figure(bn_run, 2, 0, cumulative_running(bn_run, 1))
    running = [t for t in fig.data if (t.name or "").startswith("running")][0]
    np.testing.assert_array_equal(running.y, bn_run.running_mean[1][:, 0])
    exact = [t for t in fig.data if t.name == "exact, over all training rows"][0]
    np.testing.assert_array_equal(exact.y, bn_run.population_mean[1][:, 0])
    cumulative = [t for t in fig.data if t.name == "alternative: cumulative average"][0]
    np.testing.assert_allclose(cumulative.y, np.cumsum(bn_run.batch_mean[1][:, 0]) / np.arange(1, bn_run.n_steps + 1))
    assert len(fig.frames) >= 2


def test_running_gap_and_settled_step(bn_run):
    fig = F.running_gap_figure(bn_run, 1)
    assert fig.layout.yaxis.type == "log"
    states, mean_gap, var_gap = bn_run.running_gap(1)
    assert mean_gap.shape == (len(states), 2)
    first_states, first_gap, _ = bn_run.running_gap(0)
    np.testing.assert_array_equal(fig.data[0].x, first_states)
    np.testing.assert_array_equal(fig.data[0].y, np.maximum(first_gap[:, 0], 1e-6))
    # the subtitle names the settled step, or says that the statistics never settled
    for layer in (1, 2):
        settled = bn_run.settled_step(layer - 1)
        text = F.running_gap_figure(bn_run, layer).layout.title.text
        expected = "not within 5% by the end" if settled is None else f"within 5% from step {settled}"
        assert expected in text, (layer, settled)


def sentence(fig) -> str:
    """The text of a figure that stands in for a chart."""
    assert not fig.data
    return " ".join(a.text for a in fig.layout.annotations if a.text)


def test_bn_figures_of_a_run_without_bn_say_so(plain_run):
    for fig in (F.running_stats_figure(plain_run, 1, 0), F.running_gap_figure(plain_run, 1),
                F.gamma_beta_figure(plain_run, 1),
                F.activation_heatmap(plain_run, layer_histograms([plain_run], 1, "bn")),
                F.activation_histogram_replay(plain_run, layer_histograms([plain_run], 1, "bn")),
                F.activation_percentiles(plain_run, unit_percentiles([plain_run], 1, 0, "bn"))):
        assert "batch norm" in sentence(fig) and fig.layout.title.text


def test_test_time_three_ways(bn_run, data):
    fig = F.test_time_figure(bn_run, accuracy_by_statistics(bn_run, data))
    assert len(fig.data) == 3
    np.testing.assert_array_equal(fig.data[0].y, bn_run.epoch_metrics["test_acc_eval"])
    np.testing.assert_array_equal(fig.data[2].y, one_row_at_a_time(bn_run, data, bn_run.epoch_steps))
    single = one_row_at_a_time(bn_run, data, [bn_run.n_steps])[0]
    # alone, every student gets the same answer, so accuracy is one class's share
    shares = {np.mean(data.y_test == 1), np.mean(data.y_test == 0)}
    assert min(abs(single - s) for s in shares) < 1e-12


def test_predictions_in_both_modes(bn_run, data):
    p = predict(bn_run, data, [[8.5, 120], [5.5, 80]])
    assert p[0] > 0.8 and p[1] < 0.2
    one, other = predict(bn_run, data, [[8.5, 120]], mode="batch"), predict(bn_run, data, [[5.5, 80]], mode="batch")
    assert one[0] == other[0]                  # a lone row in batch mode: the same output for anyone


def test_decision_boundary_frames_and_grid(bn_run, data):
    fig = F.decision_boundary_figure(bn_run, boundary_replay(bn_run, data), data)
    assert fig.data[0].type == "contour" and len(fig.frames) >= 2
    assert fig.frames[-1].name == str(bn_run.n_steps)
    grid = decision_grid(bn_run, data, [bn_run.n_steps], size=7)
    point = np.array([[grid.x[3], grid.y[5]]])
    assert grid.prob[0, 5, 3] == pytest.approx(predict(bn_run, data, point)[0], rel=1e-12)


def test_parameter_figures(bn_run, plain_run):
    gb = F.gamma_beta_figure(bn_run, 2)
    np.testing.assert_array_equal(gb.data[0].y, bn_run.gamma[1][:, 0])
    gn = F.gradient_norm_figure(bn_run, plain_run)
    assert gn.layout.yaxis.type == "log" and len(gn.data) == 6
    ur = F.update_ratio_figure(bn_run)
    assert len(ur.data) == 3


def test_model_summary_counts_four_numbers_per_bn_unit(bn_run, plain_run):
    table = F.model_summary(bn_run)
    assert isinstance(table, pd.DataFrame)
    total = table.iloc[-1]
    assert total["trainable"] == 25 and total["non_trainable"] == 10
    bn1 = table[table.layer == "batch_norm_1"].iloc[0]
    assert bn1.trainable == 6 and bn1.non_trainable == 6            # 3 units x (γ, β) and (μ, σ²)
    assert F.model_summary(plain_run).iloc[-1]["non_trainable"] == 0
    kept = F.model_summary(train(Config(keep_bias=True, epochs=1), load_for(Config())))
    assert kept.iloc[-1]["trainable"] == 30


def test_network_diagram(bn_run, plain_run):
    texts = [a.text for a in F.network_diagram(bn_run).layout.annotations if a.text]
    assert texts[0].startswith("input") and any(t.startswith("BN 3") for t in texts)
    assert not any(t.startswith("BN") for t in (a.text for a in F.network_diagram(plain_run).layout.annotations) if t)


@pytest.mark.parametrize("step, layer", [(0, 1), (5, 2), (1599, 1)])
def test_batch_table_equals_batchnorm_forward(bn_run, data, step, layer):
    table = F.batch_table(bn_run, data, step, layer)
    calc = batch_calculation(bn_run, data, step, layer)
    rows = bn_run.step_rows(step)
    assert list(table["row"].unique()) == list(rows)
    X = data.inputs(data.X_train[rows], True)
    z = forward(bn_run.arch, bn_run.params_at(step), X).traces[layer - 1].z
    params = bn_run.params_at(step)
    y, cache = batchnorm_forward(z, params[f"gamma{layer}"], params[f"beta{layer}"], bn_run.arch.eps)
    units = z.shape[1]
    np.testing.assert_array_equal(table["z"].to_numpy().reshape(-1, units), z)
    np.testing.assert_array_equal(table["γ·ẑ + β"].to_numpy().reshape(-1, units), y)
    np.testing.assert_array_equal(table["μ_B"].to_numpy().reshape(-1, units)[0], cache.mean)
    np.testing.assert_array_equal(table["σ²_B"].to_numpy().reshape(-1, units)[0], cache.var)
    np.testing.assert_array_equal(table["cgpa"].to_numpy()[::units], data.X_train[rows, 0])
    # and these are the statistics the run recorded for that step
    np.testing.assert_allclose(cache.mean, bn_run.batch_mean[layer - 1][step], rtol=1e-13, atol=1e-15)
    assert calc.mean.shape == (units,)


def test_batch_table_with_bn_after(data):
    run = train(Config(bn_position="after", epochs=1), data)
    table = F.batch_table(run, data, 3, 1)
    assert "g(z)" in table.columns
    np.testing.assert_allclose(table["g(z)"], np.maximum(table["z"], 0))


def test_builders_refuse_wrong_input(bn_run):
    with pytest.raises(TypeError):
        F.training_curves("not a run")
    with pytest.raises(ValueError, match="layer"):
        layer_histograms([bn_run], 3)


def test_all_figures_of_a_default_run_fit_the_payload_budget(bn_run, data):
    figs = F.all_figures(bn_run, data)
    total = sum(len(fig.to_json()) for fig in figs.values())
    assert total < 3_000_000, f"{total / 1e6:.2f} MB"
    for fig in figs.values():
        json.loads(fig.to_json())          # valid JSON, nothing NaN-poisoned in the layout


def test_figures_of_a_bn_off_run(plain_run, data):
    figs = F.all_figures(plain_run, data)
    assert "batch norm" in sentence(figs["running_stats"]) and figs["activations"].data
    assert len(figs["test_time"].data) == 3


def zero_step_run(data, bn: bool):
    """A run whose first loss is not finite: an infinite output bias."""
    cfg = Config(bn=bn, epochs=2)
    arch = architecture(cfg, data.n_features)
    params = initial_params(cfg, arch)
    params[f"b{arch.n_dense}"] = np.full(1, np.inf)
    return train(cfg, data, init_params=params)


@pytest.mark.parametrize("bn", [True, False])
def test_every_figure_of_a_run_without_steps_says_so(data, bn):
    run = zero_step_run(data, bn)
    assert run.n_steps == 0 and run.diverged_at == 0
    for name, fig in F.all_figures(run, data).items():
        if name in ("input_scaling", "network"):      # these do not depend on training
            assert fig.data or fig.layout.shapes, name
            continue
        assert "no steps" in sentence(fig), name


def test_figures_of_a_diverged_run(data):
    run = train(Config(lr=10.0, standardize=False, bn=False, activation="linear"), data)
    assert run.diverged_at is not None
    figs = F.all_figures(run, data)
    curves = " ".join(a.text or "" for a in figs["training_curves"].layout.annotations)
    assert f"diverged at step {run.diverged_at}" in curves
    for name in ("landscape", "decision_boundary"):        # pictures that need finite final weights
        texts = [a.text for a in figs[name].layout.annotations]
        assert any(f"This run diverged at step {run.diverged_at}" in t for t in texts), name


@pytest.fixture(scope="module")
def layer_run(data):
    return train(Config(norm="layer", hidden=(6, 4), epochs=4), data)


@pytest.mark.parametrize("which", ["bn", "plain", "layer"])
def test_every_chart_titles_its_axes(which, default_run, plain_run, layer_run, data):
    run = {"bn": default_run, "plain": plain_run, "layer": layer_run}[which]
    for name, fig in F.all_figures(run, data).items():
        if name == "network" or not fig.data:       # the diagram, and sentences standing in for charts
            continue
        layout = fig.layout.to_plotly_json()
        axes = [k for k in layout if k.startswith(("xaxis", "yaxis")) and layout[k].get("visible", True)]
        assert axes, name
        # a shared axis hides its tick labels above the bottom row, which carries the title
        untitled = [k for k in axes if not layout[k].get("title", {}).get("text")
                    and layout[k].get("showticklabels", True)]
        assert not untitled, (name, untitled)
        assert fig.layout.title.text, name


def test_builders_only_draw():
    """Figure modules take the engine's results as arguments: from the engine they
    import types to name them, never a function that computes (the replay's choice
    of frames aside)."""
    import ast
    import importlib
    from pathlib import Path

    allowed = {"spread_states"}
    folder = Path(F.__file__).parent
    for path in folder.glob("*.py"):
        if path.name in ("__init__.py", "calculator.py"):     # the gallery's composer; the tables
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            # bnviz.visitor_text is no engine: it makes an upload's names plain text for the charts
            not_engine = (None, "run", "visitor_text")
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module not in not_engine:
                engine = importlib.import_module(f"bnviz.{node.module}")
                for alias in node.names:
                    assert isinstance(getattr(engine, alias.name), type) or alias.name in allowed, \
                        (path.name, alias.name)


def test_figures_of_a_layer_norm_run_say_what_they_show(layer_run, data):
    figs = F.all_figures(layer_run, data)
    for name in ("running_stats", "running_gap"):          # BN's statistics: a sentence, not an empty panel
        text = sentence(figs[name])
        assert "layer norm" in text and "no running averages" in text and "one mean and variance per row" in text
    gamma = figs["gamma_beta"]                               # layer norm's γ and β, read from the parameters
    assert gamma.layout.title.text.startswith("Layer-norm layer 1") and len(gamma.data) == 2 * 6
    np.testing.assert_array_equal(gamma.data[0].y, layer_run.param_history("gamma1")[1:, 0])
    assert "LN 6" in " ".join(a.text for a in figs["network"].layout.annotations)
    assert "no running statistics" in " ".join(figs["test_time"].data[0].name.split("(")[1:])
    dependence = figs["batch_dependence"]
    assert dependence.data[0].name.endswith("(spread 1e-16)") or dependence.data[0].name.endswith("(spread 0)")
    heat = F.activation_heatmap(layer_run, layer_histograms([layer_run], 1, "bn"))
    assert "layer-norm output" in heat.layout.title.text and heat.data[0].colorscale[0][1] != "rgb(247,251,255)"
    # the layer-norm output is recorded: what enters the activation when layer norm comes before it
    np.testing.assert_array_equal(stage_values(layer_run, 1, "act_in"), layer_run.snapshots["bn"][0])
    summary = F.model_summary(layer_run)
    assert list(summary["layer"][:2]) == ["dense_1 (relu)", "layer_norm_1"]
    assert summary["non_trainable"].sum() == 0 and summary["trainable"].iloc[-1] == layer_run.arch.param_layout().size
