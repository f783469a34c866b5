"""The training view's numbers (bnviz.watch), every frame of tiny runs, recomputed plainly from the
Run's stored parameters, batch order and losses (tests/plain.py), and its sentence written out.
"""
from types import SimpleNamespace

import numpy as np
import pytest

import plain
from bnviz import Config, train
from bnviz import watch
from bnviz.compare import shared_start
from bnviz.data import Dataset
from bnviz.train import architecture, initial_params
from bnviz.watch import (final_accuracy, frame_histograms, frame_percentiles, frame_states, frames_for,
                         generalization_gap, median_drift, summary, value_limits, verdict_words, watch_pair,
                         watch_join, watch_prepare, watch_run)


def close(actual, expected, what=""):
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12, err_msg=what)


@pytest.fixture(scope="module")
def runs(data):
    """Two epochs (64 steps) of the default network with BN (A) and without (B), from one start."""
    a_cfg, b_cfg = Config(epochs=2), Config(epochs=2, bn=False)
    a = train(a_cfg, data)
    b = train(b_cfg, data, shared_start(a.initial_params, initial_params(b_cfg, architecture(b_cfg)), a_cfg, b_cfg))
    return a, b


@pytest.fixture
def views(runs, data):
    """The view of both runs with every state a frame (65 frames). Made again for each test (it takes
    milliseconds), so that every test that reads it counts as one that runs the view's code."""
    return watch_pair(runs[0], runs[1], data, labels=("A", "B"))


def watched(run, data, params, rows=None):
    """(shown, bn_in) the watched unit (layer 2, unit 1) over every training row (or `rows` of them):
    its input to the activation and what BN normalizes, BN with all rows' statistics."""
    _, layers = plain.forward(run, params, plain.inputs(run, data, data.X_train))
    layer = layers[-1]
    shown = layer["bn"] if run.arch.bn else layer["z"]
    bn_in = layer["bn_in"] if run.arch.bn else layer["z"]
    if rows is not None:
        shown = shown[rows]
    return shown[:, 0], bn_in[:, 0]


# ----------------------------------------------------------------------------------- frames


def test_frame_states_spread_evenly_with_both_ends():
    assert list(frame_states(7)) == [0, 1, 2, 3, 4, 5, 6, 7] and frame_states(7).dtype.kind == "i"
    assert list(frame_states(10, frames=4)) == [0, 3, 7, 10]          # 0, 3.33, 6.67, 10 rounded
    assert list(frame_states(10, frames=11)) == list(range(11))        # exactly one per state
    assert list(frame_states(10, frames=12)) == list(range(11))
    assert len(frame_states(1600)) == 240 and frame_states(1600)[-1] == 1600


def test_every_state_is_a_frame_of_a_short_run(runs, views):
    for run, view in zip(runs, views):
        assert list(view.states) == list(range(65))
        assert view.n_steps == 64 and view.diverged_at is None
        assert (view.layer, view.unit, view.stage) == (2, 0, "bn" if run.arch.bn else "z")
        assert view.bn == run.arch.bn and view.norm == ("batch" if run.arch.bn else "none")
        assert (view.rows_used, view.n_rows) == (320, 320)
    assert [v.label for v in views] == ["A", "B"]


def test_fewer_frames_are_evenly_spread_states(runs, data):
    view = watch_pair(runs[0], None, data, frames=10)[0]
    expected = np.round(np.linspace(0, 64, 10)).astype(int)
    assert list(view.states) == list(expected) == [0, 7, 14, 21, 28, 36, 43, 50, 57, 64]
    assert view.hist.shape == (10, 30) and view.percentiles.shape == (10, 3) and view.prob.shape == (10, 28, 28)
    assert view.plane.path.shape == (10, 2) and len(view.plane.a) == len(view.plane.b) == 31
    assert len(watch_run(runs[0], data, frames=3).states) == 3


def test_the_loss_marker_is_the_loss_of_the_step_that_made_each_state(runs, views, data):
    for run, view in zip(runs, views):
        X = plain.inputs(run, data, data.X_train)
        assert np.isnan(view.loss_at[0])
        for f in range(1, len(view.states)):
            step = int(view.states[f]) - 1
            rows = plain.batch_rows(run, step)
            logits, _ = plain.forward(run, plain.params_at(run, step), X[rows])
            assert view.loss_at[f] == pytest.approx(plain.bce(logits, data.y_train[rows]), rel=1e-9)


def test_the_histogram_percentiles_and_exact_statistics_of_every_frame(runs, views, data):
    shown = {}
    for i, (run, view) in enumerate(zip(runs, views)):
        shown[i] = []
        for f, state in enumerate(view.states):
            values, bn_in = watched(run, data, plain.params_at(run, int(state)))
            shown[i].append(values)
            close(view.percentiles[f], [plain.percentile(values, q) for q in (15, 50, 85)], f"frame {f}")
            assert view.exact_mean[f] == pytest.approx(bn_in.sum() / len(bn_in), rel=1e-9, abs=1e-12)
            assert view.exact_var[f] == pytest.approx(((bn_in - bn_in.mean()) ** 2).mean(), rel=1e-9, abs=1e-12)
    # one set of 30 bins for both runs: the 0.5th to 99.5th percentile of every value of both
    pooled = np.concatenate([np.ravel(shown[0]), np.ravel(shown[1])])
    low, high = plain.percentile(pooled, 0.5), plain.percentile(pooled, 99.5)
    for view in views:
        assert len(view.edges) == 31
        close(view.edges, low + (high - low) * np.arange(31) / 30)
    for i, view in enumerate(views):
        for f in range(len(view.states)):
            values = np.clip(shown[i][f], view.edges[0], view.edges[-1])    # the edges checked above
            counts = np.zeros(30)
            for x in values:
                counts[min(int(np.searchsorted(view.edges, x, side="right")) - 1, 29)] += 1
            close(view.hist[f], counts / len(values), f"frame {f}")
            assert view.hist[f].sum() == pytest.approx(1.0)


def test_the_running_statistics_of_every_frame_start_at_zero_and_one(runs, views, data):
    run, view = runs[0], views[0]
    running = plain.running_statistics(run, data)[2]
    assert view.running_mean[0] == 0.0 and view.running_var[0] == 1.0
    for f in range(1, len(view.states)):
        mean, var = running[int(view.states[f]) - 1]
        assert view.running_mean[f] == pytest.approx(mean[0], rel=1e-9, abs=1e-12)
        assert view.running_var[f] == pytest.approx(var[0], rel=1e-9, abs=1e-12)
    assert views[1].running_mean is None and views[1].running_var is None


def test_fewer_frames_keep_the_running_statistics_of_their_states(runs, data):
    run = runs[0]
    view = watch_pair(run, None, data, frames=10)[0]
    running = plain.running_statistics(run, data)[2]
    assert view.running_mean[0] == 0.0 and view.running_var[0] == 1.0
    for f, state in enumerate(view.states[1:], start=1):
        assert view.running_mean[f] == pytest.approx(running[state - 1][0][0], rel=1e-9, abs=1e-12)
        assert view.running_var[f] == pytest.approx(running[state - 1][1][0], rel=1e-9, abs=1e-12)


def test_probabilities_over_the_plane_in_evaluation_mode(runs, views, data):
    run, view = runs[0], views[0]
    running = plain.running_statistics(run, data)
    X_all = np.vstack([data.X_train, data.X_test])
    pad = (X_all.max(axis=0) - X_all.min(axis=0)) * 0.08
    close(view.grid_x, np.linspace(X_all[:, 0].min() - pad[0], X_all[:, 0].max() + pad[0], 28))
    close(view.grid_y, np.linspace(X_all[:, 1].min() - pad[1], X_all[:, 1].max() + pad[1], 28))
    for f in (0, 1, 40, 64):
        state = int(view.states[f])
        for i, j in ((0, 0), (5, 17), (27, 3)):
            point = plain.standardized(data, [[view.grid_x[j], view.grid_y[i]]])
            logit, _ = plain.forward(run, plain.params_at(run, state), point, plain.buffers_after(run, running, state))
            assert view.prob[f, i, j] == pytest.approx(1 / (1 + np.exp(-logit[0])), rel=1e-7)   # float32
    assert view.prob.dtype == np.float32
    assert view.grid_note == "" and view.accuracy is None and view.accuracy_split == "test"


def test_the_curve_and_the_last_epochs_loss(runs, views):
    for run, view in zip(runs, views):
        loss = run.train_loss
        close(view.curve_step, np.arange(1, 65))
        close(view.curve_loss, loss)
        for i in range(64):
            window = loss[max(0, i - 31):i + 1]
            assert view.curve_smooth[i] == pytest.approx(window.mean(), rel=1e-12)
        assert view.final_loss == pytest.approx(loss[32:].mean(), rel=1e-12)


def test_the_path_ends_at_the_final_weights(views):
    for view in views:
        assert view.plane is not None and view.plane.path.shape == (65, 2)
        close(view.plane.path[-1], [0.0, 0.0])


def test_a_path_at_the_distance_limit_is_not_drawn(runs, views, data, monkeypatch):
    far = float(np.abs(views[0].plane.path).max())
    monkeypatch.setattr(watch, "MAX_PATH", far)
    assert watch_pair(runs[0], None, data)[0].plane is None              # at the limit: not drawn
    monkeypatch.setattr(watch, "MAX_PATH", np.nextafter(far, np.inf))
    assert watch_pair(runs[0], None, data)[0].plane is not None          # just inside: drawn


def test_the_numbers_of_one_frame_by_name(runs, views):
    a, b = views
    got = a.at(10)
    assert got == {"state": 10, "loss": a.loss_at[10], "p15": a.percentiles[10, 0], "median": a.percentiles[10, 1],
                   "p85": a.percentiles[10, 2], "exact_mean": a.exact_mean[10], "exact_var": a.exact_var[10],
                   "running_mean": a.running_mean[10], "running_var": a.running_var[10]}
    assert set(b.at(3)) == {"state", "loss", "p15", "median", "p85", "exact_mean", "exact_var"}
    assert b.at(3)["p85"] == b.percentiles[3, 2] and isinstance(b.at(3)["state"], int)


# ------------------------------------------------------------------- strided record, big data, other data


def test_a_strided_record_marks_the_last_recorded_step_before_each_state(data):
    run = train(Config(epochs=2), data, stride=3)
    view = watch_run(run, data)
    recorded = np.arange(0, 64, 3)
    assert list(run.axis_states("step")) == list(recorded)
    assert view.states[0] == 0 and view.states[-1] == 64 and np.isnan(view.loss_at[0])
    for f in range(1, len(view.states)):
        before = recorded[recorded < view.states[f]].max()
        assert view.loss_at[f] == run.train_loss[before // 3]
    close(view.curve_step, recorded + 1)
    # the last epoch is 32 steps: 11 recorded ones (33, 36, ..., 63)
    assert view.final_loss == pytest.approx(run.train_loss[-11:].mean(), rel=1e-12)


def test_more_rows_than_the_snapshots_keep(monkeypatch):
    """1,120 training rows: the histogram over the 1,000 kept rows (normalized with every row's
    statistics), the exact statistics over all."""
    from bnviz import load_for

    cfg = Config(dataset="moons", data_size=1400, epochs=1, batch_size=200)
    big = load_for(cfg)
    run = train(cfg, big)
    view = watch_run(run, big)
    assert (view.rows_used, view.n_rows) == (1000, 1120) and list(view.states) == list(range(7))
    running = plain.running_statistics(run, big)[2]
    for f, state in enumerate(view.states):
        shown, bn_in = watched(run, big, plain.params_at(run, int(state)), run.snapshot_rows)
        close(view.percentiles[f], [plain.percentile(shown, q) for q in (15, 50, 85)])
        assert view.exact_mean[f] == pytest.approx(bn_in.mean(), rel=1e-9, abs=1e-12)
        assert view.exact_var[f] == pytest.approx(bn_in.var(), rel=1e-9, abs=1e-12)
        if state:
            assert view.running_mean[f] == pytest.approx(running[state - 1][0][0], rel=1e-9)


def test_more_rows_without_bn():
    from bnviz import load_for

    cfg = Config(dataset="moons", data_size=1400, epochs=1, batch_size=200, bn=False, bn_position="after")
    big = load_for(cfg)
    run = train(cfg, big)
    view = watch_run(run, big)
    assert view.stage == "z" and view.running_mean is None
    for f, state in enumerate(view.states):
        shown, z = watched(run, big, plain.params_at(run, int(state)), run.snapshot_rows)
        close(view.percentiles[f], [plain.percentile(shown, q) for q in (15, 50, 85)])
        assert view.exact_mean[f] == pytest.approx(z.mean(), rel=1e-9, abs=1e-12)
        assert view.exact_var[f] == pytest.approx(z.var(), rel=1e-9, abs=1e-12)


def test_bn_after_the_activation_shows_the_dense_output_and_normalizes_the_activation(data):
    run = train(Config(epochs=1, bn_position="after", activation="tanh"), data)
    view = watch_run(run, data)
    assert view.stage == "z"
    X = plain.inputs(run, data, data.X_train)
    for f, state in enumerate(view.states):
        _, layers = plain.forward(run, plain.params_at(run, int(state)), X)
        z, act = layers[1]["z"][:, 0], np.tanh(layers[1]["z"][:, 0])
        close(view.percentiles[f], [plain.percentile(z, q) for q in (15, 50, 85)])
        assert view.exact_mean[f] == pytest.approx(act.mean(), rel=1e-9, abs=1e-12)
        assert view.exact_var[f] == pytest.approx(act.var(), rel=1e-9, abs=1e-12)


def test_layer_norm_before_the_activation_shows_its_output():
    from bnviz import load_for

    cfg = Config(epochs=1, norm="layer")
    small = load_for(cfg)
    run = train(cfg, small)
    view = watch_run(run, small)
    assert view.stage == "bn" and view.norm == "layer" and view.running_mean is None and not view.bn
    X = plain.standardized(small, small.X_train)
    for f, state in enumerate(view.states):
        p = plain.params_at(run, int(state))
        z1 = X @ p["W1"] + p.get("b1", 0.0)
        h = np.maximum(p["gamma1"] * (z1 - z1.mean(1, keepdims=True)) / np.sqrt(z1.var(1, keepdims=True) + 1e-3)
                       + p["beta1"], 0)
        z2 = h @ p["W2"] + p.get("b2", 0.0)
        out = p["gamma2"] * (z2 - z2.mean(1, keepdims=True)) / np.sqrt(z2.var(1, keepdims=True) + 1e-3) + p["beta2"]
        close(view.percentiles[f], [plain.percentile(out[:, 0], q) for q in (15, 50, 85)])
        assert view.exact_mean[f] == pytest.approx(z2[:, 0].mean(), rel=1e-9, abs=1e-12)


def three_features(n_test, n_train=24):
    """A made-up table of 3 features and 2 classes (n_train training rows, n_test held out)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n_train + n_test, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    return Dataset("three", X[:n_train], y[:n_train], X[n_train:], y[n_train:], ("a", "b", "c"))


@pytest.mark.parametrize("n_test", [6, 0], ids=["test rows", "no test rows"])
def test_three_features_follow_the_accuracy_in_evaluation_mode(n_test):
    table = three_features(n_test)
    run = train(Config(epochs=2, batch_size=8, hidden=(3, 2)), table)
    view = watch_run(run, table)
    assert view.prob is None and view.grid_x is None and view.grid_y is None
    assert view.grid_note == "The decision boundary is drawn over two input features; this data has 3."
    split = "test" if n_test else "training"
    assert view.accuracy_split == split
    X, y = (table.X_test, table.y_test) if n_test else (table.X_train, table.y_train)
    running = plain.running_statistics(run, table)
    assert list(view.states) == list(range(7))
    for f, state in enumerate(view.states):
        logits, _ = plain.forward(run, plain.params_at(run, int(state)), plain.standardized(table, X),
                                  plain.buffers_after(run, running, int(state)))
        assert view.accuracy[f] == plain.accuracy(logits, y)
    assert view.at(2)["accuracy"] == view.accuracy[2]


def test_frames_for_follows_the_work_per_frame(runs, monkeypatch):
    a = runs[0]
    params = sum(v.size for v in a.final_params.values())
    per_frame = params * (320 + 28 * 28)
    assert frames_for(a) == 240
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 50)
    assert frames_for(a) == 50 and frames_for(a, frames=49) == 49
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 50 - 1)
    assert frames_for(a) == 49
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 24 - 1)
    assert frames_for(a) == 24                                      # never fewer than 24
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 25)
    assert frames_for(a) == 25


def test_frames_for_off_the_plane_counts_a_quarter_of_the_rows(monkeypatch):
    table = three_features(6, n_train=26)
    run = train(Config(epochs=1, batch_size=8), table)
    params = sum(v.size for v in run.final_params.values())
    per_frame = params * (26 + 6)                      # a quarter of 26 rows, in whole rows
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 30)
    assert frames_for(run) == 30
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 30 - 1)
    assert frames_for(run) == 29


def test_frames_for_a_sample_adds_passes_over_every_row(monkeypatch):
    from bnviz import load_for

    cfg = Config(dataset="moons", data_size=1400, epochs=1, batch_size=200)
    big = load_for(cfg)
    run = train(cfg, big)
    params = sum(v.size for v in run.final_params.values())
    # numbers one row of the default network leaves in a forward pass: 6 per hidden unit (5 units), the 2
    # inputs and 3 for the logit, less 2
    width = 6 * 5 + 2 + 3 - 2
    one_pass = params * (1000 + 28 * 28 + 1120)
    monkeypatch.setattr(watch, "CHUNK_NUMBERS", 1120 * width)         # fits one pass
    monkeypatch.setattr(watch, "VIEW_WORK", one_pass * 30)
    assert frames_for(run) == 30
    monkeypatch.setattr(watch, "CHUNK_NUMBERS", 1120 * width - 1)     # in chunks: one pass per BN layer
    monkeypatch.setattr(watch, "VIEW_WORK", (one_pass + params * 1120) * 30)
    assert frames_for(run) == 30
    monkeypatch.setattr(watch, "VIEW_WORK", (one_pass + params * 1120) * 30 - 1)
    assert frames_for(run) == 29


def test_runs_without_a_step_are_left_out(runs, data):
    empty = SimpleNamespace(n_steps=0)
    assert [v.label for v in watch_pair(runs[0], empty, data, labels=("A", "B"))] == ["A"]
    assert [v.label for v in watch_pair(empty, runs[0], data, labels=("A", "B"))] == ["B"]
    with pytest.raises(ValueError, match=r"^this run has no steps to show \(it diverged at its first step\)$"):
        watch_run(empty, data)
    assert watch_run(runs[1], data, label="B").label == "B"
    assert watch_run(runs[1], data).label == "A"


def test_a_run_of_one_step_has_two_frames(data):
    run = train(Config(epochs=1, batch_size=320), data)
    assert run.n_steps == 1
    views = watch_pair(run, run, data, labels=("A", "B"))
    assert [v.label for v in views] == ["A", "B"] and list(views[0].states) == [0, 1]
    running = plain.running_statistics(run, data)[2]
    assert views[0].running_var[1] == pytest.approx(running[0][1][0], rel=1e-9)
    assert views[0].running_var[0] == 1.0
    assert views[0].final_loss == run.train_loss[0]                  # the last epoch is its one step


def test_the_surface_takes_the_size_asked_for(runs, data):
    view = watch_pair(runs[0], None, data, frames=10, plane_size=5)[0]
    assert len(view.plane.a) == len(view.plane.b) == 5 and view.plane.path.shape == (10, 2)
    prepared = watch_prepare(runs[0], data, frames=10, plane_size=5)
    assert (prepared.frames, prepared.plane_size) == (10, 5)
    assert prepared.shown.shape == (10, 320)


def test_a_last_epoch_without_a_finite_loss_has_no_final_loss(runs, data):
    import copy

    run = copy.copy(runs[1])
    run.train_loss = np.where(np.arange(64) < 32, runs[1].train_loss, np.nan)
    assert np.isnan(watch_run(run, data).final_loss)
    run.train_loss = np.where(np.arange(64) == 63, 0.25, np.nan)
    assert watch_run(run, data).final_loss == 0.25


def test_a_diverged_run_keeps_its_step_and_a_nan_loss():
    from bnviz import load_for

    cfg = Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=3)
    small = load_for(cfg)
    run = train(cfg, small)
    view = watch_run(run, small)
    assert view.diverged_at == run.diverged_at is not None and view.states[-1] == run.n_steps
    assert view.plane is None


def test_weights_past_the_finite_range_leave_no_surface(runs, data):
    run = runs[1]
    states = np.arange(65)
    assert watch._plane(run, data, states) is not None
    broken = SimpleNamespace(params_of=lambda s: np.array([[1.0, np.inf]]))
    assert watch._plane(broken, data, states) is None


# --------------------------------------------------------------------- whole-array helpers


def test_percentiles_of_each_row_over_its_finite_values():
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0],
                       [np.nan, 10.0, 20.0, np.inf, 30.0],
                       [np.nan, np.nan, np.nan, np.nan, np.nan],
                       [7.0, 7.0, 7.0, 7.0, 7.0]])
    out = frame_percentiles(values)
    close(out[0], [1.6, 3.0, 4.4])                   # positions 0.6, 2, 3.4 of 1..5
    close(out[1], [13.0, 20.0, 27.0])                # 10, 20, 30: positions 0.3, 1, 1.7
    assert np.isnan(out[2]).all()
    close(out[3], [7.0, 7.0, 7.0])
    close(frame_percentiles(values[1:2]), [[13.0, 20.0, 27.0]])


def test_histograms_clip_into_the_end_bins_and_count_finite_values():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    values = np.array([[-5.0, 0.0, 0.5, 1.0, 2.999, 3.0, 9.0, np.nan],
                       [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.inf],
                       [1.5, 1.5, 1.5, 1.5, 2.0, 2.0, 1.0, 1.0]])
    out = frame_histograms(values, edges)
    close(out[0], np.array([3, 1, 3]) / 7)           # -5, 0, 0.5 | 1 | 2.999, 3 (closed last bin), 9
    close(out[1], [0.0, 0.0, 0.0])                  # no finite value: empty, not NaN
    close(out[2], np.array([0, 6, 2]) / 8)
    one = frame_histograms(np.array([[np.nan, 2.5, np.inf]]), edges)
    close(one, [[0.0, 0.0, 1.0]])                   # one finite value: all of the row in its bin


def test_value_limits_are_the_half_percent_tails_of_every_finite_value():
    a = np.arange(0.0, 101.0)                         # 0..100
    b = np.array([[np.nan, np.inf], [-np.inf, 200.0]])
    pooled = np.r_[a, 200.0]                          # 102 values
    low, high = value_limits([a, b])
    assert low == pytest.approx(plain.percentile(pooled, 0.5)) and high == pytest.approx(plain.percentile(pooled, 99.5))
    assert low == pytest.approx(0.505) and high == pytest.approx(100.0 + 0.495 * 100)
    assert value_limits([np.array([np.nan])]) == (0.0, 1.0)
    assert value_limits([np.full(4, 2.0)]) == (1.5, 2.5)              # all equal: one unit wide around it
    assert isinstance(value_limits([a])[0], float)


def test_frame_histograms_and_percentiles_equal_numpys_row_by_row():
    """All frames at once give exactly np.histogram's and np.percentile's numbers, row by row,
    with NaN and infinite values (left out), values past the edges (clipped in) and empty rows."""
    from bnviz.watch import PERCENTILES

    rng = np.random.default_rng(3)
    for trial in range(150):
        values = rng.normal(size=(rng.integers(1, 6), rng.integers(1, 40))) * rng.choice([1e-3, 1.0, 1e3])
        values[rng.random(values.shape) < 0.1] = rng.choice([np.nan, np.inf, -np.inf])
        if trial % 5 == 0:
            values[0] = np.nan
        low, high = np.sort(rng.normal(size=2))
        edges = np.linspace(low, high, 31)
        for row, hist, pct in zip(values, frame_histograms(values, edges), frame_percentiles(values)):
            kept = row[np.isfinite(row)]
            counts = np.histogram(np.clip(kept, low, high), edges)[0]
            np.testing.assert_array_equal(hist, counts / max(counts.sum(), 1))
            np.testing.assert_array_equal(pct, np.percentile(kept, PERCENTILES) if len(kept) else np.full(3, np.nan))



def test_a_percentile_at_a_midpoint_takes_numpys_rounding():
    """Halfway between two values (11 values, the 15th percentile sits at 1.5) NumPy interpolates
    back from the upper one; the two ways can differ in the last bit, and the frame's number is NumPy's."""
    rng = np.random.default_rng(8)
    for _ in range(200):
        a, b = np.sort(rng.random(2))
        if a + (b - a) * 0.5 != b - (b - a) * 0.5:
            break
    row = np.r_[0.0, a, b, np.linspace(2.0, 9.0, 8)]
    assert frame_percentiles(row[None, :])[0, 0] == np.percentile(row, 15) == b - (b - a) * 0.5


def test_a_row_with_one_finite_value_has_it_for_every_percentile_and_bin():
    values = np.array([[np.nan, 4.0, np.nan, np.inf], [-np.inf, -np.inf, 2.0, np.nan]])
    np.testing.assert_array_equal(frame_percentiles(values), [[4.0] * 3, [2.0] * 3])
    np.testing.assert_array_equal(frame_histograms(values, np.array([0.0, 1.0, 3.0, 5.0])),
                                  [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


def test_histograms_of_presorted_rows_leave_minus_infinity_out():
    ordered = np.array([[-np.inf, -np.inf, 0.5, 1.5, 2.5, np.inf, np.nan],
                        [-np.inf, 0.2, 0.4, 0.6, 2.9, 3.5, np.nan]])
    counts = frame_histograms(ordered, np.array([0.0, 1.0, 2.0, 3.0]), ordered=True) * [[3], [5]]
    np.testing.assert_allclose(counts, [[1, 1, 1], [3, 0, 2]])


def test_the_pairs_histogram_range_from_each_runs_tails_equals_numpys_over_all_values():
    """The 0.5th and 99.5th percentile of two runs' values pooled, found from each run's 1 % tails,
    are np.percentile's numbers over every finite value, bit for bit; with a set far bigger than the
    other the tails cannot reach them, and the whole values are used."""
    from bnviz.watch import pooled_limits, tails, value_limits

    rng = np.random.default_rng(11)
    reached = 0
    for trial in range(200):
        sets = [rng.normal(size=(rng.integers(1, 30), rng.integers(1, 60))) * rng.choice([1e-3, 1.0, 1e3])
                for _ in range(rng.integers(1, 3))]
        for v in sets:
            v[rng.random(v.shape) < 0.05] = rng.choice([np.nan, np.inf, -np.inf])
            if trial % 7 == 0:
                v[:, ::3] = 1.5                                     # ties
        pooled = np.concatenate([v.ravel() for v in sets])
        pooled = pooled[np.isfinite(pooled)]
        if len(pooled) == 0:
            continue
        low, high = np.percentile(pooled, [0.5, 99.5])
        if high <= low:
            low, high = low - 0.5, high + 0.5
        expected = (float(low), float(high))
        assert value_limits(sets) == expected
        found = pooled_limits([tails(v) for v in sets])
        if found is not None:
            reached += 1
            assert found == expected
    assert reached > 100


def test_tails_keep_a_share_of_each_end_in_order():
    from bnviz.watch import tails

    values = np.r_[np.arange(1000.0)[::-1], np.nan, np.inf, -np.inf]
    t = tails(values)
    assert t.count == 1000
    np.testing.assert_array_equal(t.low, np.arange(12.0))           # ceil(1 % of 1000) + 2
    np.testing.assert_array_equal(t.high, np.arange(988.0, 1000.0))
    whole = tails(np.array([3.0, 1.0, 2.0]))
    np.testing.assert_array_equal(whole.low, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(whole.high, [1.0, 2.0, 3.0])
    assert whole.count == 3
    five = tails(np.array([5.0, 4.0, 3.0, 2.0, 1.0]), share=0.01)   # 3 kept at each end of 5: all of them sorted
    np.testing.assert_array_equal(five.low, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(five.high, [3.0, 4.0, 5.0])


def test_a_run_far_bigger_than_the_other_falls_back_to_every_value():
    from bnviz.watch import pooled_limits, tails

    small, big = np.arange(10.0), np.arange(100000.0) + 0.25
    assert pooled_limits([tails(small), tails(big)]) is None
    two = np.array([0.5, 7.5])                                              # kept whole: no limit on the reach
    pooled = np.r_[two, big[:300]]
    expected = tuple(float(x) for x in np.percentile(pooled, [0.5, 99.5]))
    assert len(tails(two).low) == tails(two).count and len(tails(big[:300]).low) < 300
    assert pooled_limits([tails(two), tails(big[:300])]) == expected
    # the 4th smallest (index 3) of these 401 is past the small set's 3 kept lowest: out of reach,
    # though the top's (the 2nd and 3rd largest) are in it
    assert pooled_limits([tails(np.arange(100.0)), tails(1000.0 + np.arange(301.0))]) is None
    assert pooled_limits([tails(1000.0 + np.arange(100.0)), tails(np.arange(301.0))]) is None


def test_one_value_is_its_own_range_a_unit_wide():
    assert value_limits([np.array([5.0])]) == (4.5, 5.5)
    assert value_limits([np.array([np.nan, -np.inf]), np.array([[5.0]])]) == (4.5, 5.5)


def test_a_short_run_beside_a_long_one_shares_bins_over_both_runs_values(data):
    """Ten times more values in one run than the other: the tails cannot reach the pooled
    percentiles, so the bins come from every value of both."""
    from bnviz.watch import pooled_limits

    long, short = train(Config(epochs=12), data), train(Config(epochs=1, batch_size=64, bn=False), data)
    prepared = [watch_prepare(r, data) for r in (long, short)]
    assert len(prepared[0].shown) >= 10 * len(prepared[1].shown)
    assert pooled_limits([p.tails for p in prepared]) is None
    views = watch_join(prepared, ("A", "B"))
    np.testing.assert_array_equal(views[0].edges, np.linspace(*value_limits([p.shown for p in prepared]), 31))
    np.testing.assert_array_equal(views[1].edges, views[0].edges)


def test_presorted_rows_give_the_same_histograms_and_percentiles():
    from bnviz.watch import frame_histograms, frame_percentiles

    rng = np.random.default_rng(5)
    values = rng.normal(size=(6, 50))
    values[0, :5] = [np.nan, np.inf, -np.inf, -np.inf, np.nan]
    values[1] = np.nan
    edges = np.linspace(-1.0, 1.0, 11)
    ordered = np.sort(values, axis=1)
    np.testing.assert_array_equal(frame_percentiles(ordered, ordered=True), frame_percentiles(values))
    np.testing.assert_array_equal(frame_histograms(ordered, edges, ordered=True), frame_histograms(values, edges))


def test_the_curve_of_a_long_run_is_bin_means():
    loss = np.arange(1.0, 11.0)
    loss[3] = np.nan
    steps, values, smooth = watch._curve(loss, window=3, points=4)
    # bins start at 0, 2, 5, 7: steps 1-2, 3-5, 6-7, 8-10
    close(steps, [1.5, 4.0, 6.5, 9.0])
    close(values, [1.5, 4.0, 6.5, 9.0])              # loss 4 (step 4) is NaN: bin 2 is (3 + 5) / 2
    trailing = [np.nanmean(loss[max(0, i - 2):i + 1]) for i in range(10)]
    close(smooth, [np.mean(trailing[0:2]), np.mean(trailing[2:5]), np.mean(trailing[5:7]), np.mean(trailing[7:10])])
    short = watch._curve(loss, window=3, points=10)
    close(short[0], np.arange(1, 11))
    close(short[2], trailing)
    close(short[1][~np.isnan(loss)], loss[~np.isnan(loss)])
    # a window of 0 counts as 1: the value itself
    close(watch._curve(np.array([2.0, 4.0]), window=0)[2], [2.0, 4.0])


def test_a_bin_with_no_finite_loss_is_a_gap():
    loss = np.array([1.0, np.nan, np.nan, 4.0])
    steps, values, smooth = watch._curve(loss, window=1, points=2)
    close(steps, [1.5, 3.5])
    assert list(values) == [1.0, 4.0]
    empty = watch._curve(np.array([np.nan, np.nan, 3.0]), window=1, points=2)
    assert np.isnan(empty[1][0]) and empty[1][1] == 3.0


def test_strided_steps_start_at_one():
    steps, _, _ = watch._curve(np.array([1.0, 2.0, 3.0]), window=2, steps=np.array([0, 4, 8]))
    close(steps, [1.0, 5.0, 9.0])


# ------------------------------------------------------------------------------- the sentence


def test_median_drift_is_largest_minus_smallest_finite_median():
    view = SimpleNamespace(percentiles=np.array([[0, 0.5, 1], [0, -0.25, 1], [0, np.nan, 1], [0, 1.25, 2]]))
    assert median_drift(view) == 1.5
    assert np.isnan(median_drift(SimpleNamespace(percentiles=np.full((2, 3), np.nan))))


def test_median_drift_of_a_real_run(views):
    medians = views[0].percentiles[:, 1]
    assert median_drift(views[0]) == medians.max() - medians.min() > 0


def test_numbers_in_the_sentence():
    number = watch._number
    assert number(0.37) == "0.370" and number(-0.0754) == "-0.075" and number(999.5) == "999.500"
    assert number(1000.0) == "1e+03" and number(-1000.0) == "-1e+03" and number(2.6e247) == "2.6e+247"
    assert number(1.5, 2) == "1.5" and number(0.123456, 2) == "0.12" and number(1234.0, 2) == "1.2e+03"


def fake(bn, final_loss, diverged_at=None, medians=(0.0, 1.5), norm=None, layer=2, unit=0):
    view = SimpleNamespace(bn=bn, final_loss=final_loss, diverged_at=diverged_at, layer=layer, unit=unit,
                           percentiles=np.array([[-1.0, m, 9.0] for m in medians]))
    if norm is not None:
        view.norm = norm
    return view


NAMES = ["with BN (A)", "without BN (B)"]


def test_the_sentence_without_accuracies_is_two_clauses():
    text = summary([fake(True, 0.5, medians=(0.25, -0.5, 1.0), layer=3, unit=1), fake(False, 0.0625)], NAMES)
    assert text == ("Watch the histogram: the median input to the activation in layer 3, unit 2 moved over a range "
                    "of 1.5 with BN (A) and 1.5 without BN (B); the mini-batch loss averaged 0.500 with BN (A) and "
                    "0.062 without BN (B) over the last epoch.")
    one = summary([fake(False, 0.25, medians=(2.0, 2.0))], ["in A"])
    assert one == ("Watch the histogram: the median input to the activation in layer 2, unit 1 moved over a range "
                   "of 0 in A; the mini-batch loss averaged 0.250 in A over the last epoch.")
    assert summary([], NAMES) == "Neither run made a single step, so there is nothing to watch yet."


def test_the_sentence_quotes_the_split_and_no_verdict_for_two_runs_alike():
    text = summary([fake(True, 0.5), fake(True, 0.75)], ["A", "B"], [(0.75, "training"), (0.5, "training")])
    assert text == ("Watch the histogram: the median input to the activation in layer 2, unit 1 moved over a range "
                    "of 1.5 A and 1.5 B; the mini-batch loss averaged 0.500 A and 0.750 B over the last epoch; "
                    "training accuracy at the end: 0.750 A and 0.500 B.")


def test_the_sentence_names_each_diverged_run_with_its_step():
    text = summary([fake(True, 0.5, diverged_at=1234), fake(True, 0.5, diverged_at=7)], ["in A", "in B"])
    assert text.endswith(" over the last epoch. The run in A diverged at step 1,234: the view shows the steps before "
                         "it. The run in B diverged at step 7: the view shows the steps before it.")


def verdict(acc_on, acc_off, loss_on=0.5, loss_off=0.5, on_diverged=None, off_diverged=None, off_norm=None):
    return verdict_words([fake(True, loss_on, on_diverged), fake(False, loss_off, off_diverged, norm=off_norm)],
                         [acc_on, acc_off], ["with BN (A)", "without BN (B)"])


HELPS = "Here BN helps clearly: compare the two loss curves and where each boundary ends."
WORSE = "Here the network without BN does better: BN is no guarantee."
LITTLE = ("On this network BN changes little: both runs learn about equally well; the scenarios show where it "
          "matters.")
CLOSE = "The two runs end close, but not the same."


def test_the_verdict_on_divergence_names_the_runs():
    assert verdict(0.9, np.nan, off_diverged=3) == ("Here BN makes the difference: the run without BN (B) diverged "
                                                   "and the run with BN (A) trained.")
    assert verdict(np.nan, 0.9, on_diverged=3) == "Here the run with BN (A) diverged and the run without BN (B) trained."
    assert verdict(0.9, 0.9, on_diverged=3, off_diverged=4) == LITTLE          # both diverged: the numbers decide
    assert verdict(np.nan, 0.9, on_diverged=3, off_diverged=4) == ""


@pytest.mark.parametrize("which", range(4))
def test_no_verdict_from_a_missing_number(which):
    numbers = [0.9, 0.9, 0.5, 0.5]
    numbers[which] = np.nan
    assert verdict(*numbers) == ""
    numbers[which] = np.inf
    assert verdict(*numbers) == ""


def test_the_verdict_at_the_clear_accuracy_margin():
    assert verdict(0.05, 0.0) == HELPS                                  # exactly 0.05 ahead
    assert verdict(np.nextafter(0.05, 0), 0.0) == CLOSE                 # just under
    assert verdict(0.0, 0.05) == WORSE                                  # reversed
    assert verdict(0.0, np.nextafter(0.05, 0)) == CLOSE
    assert verdict(0.0, 0.05, off_norm="layer") == "Here the network with layer norm does better: BN is no guarantee."
    assert verdict(0.0, 0.05, off_norm="none") == WORSE


def test_the_verdict_at_the_loss_ratio():
    assert verdict(0.5, 0.5, loss_on=0.5, loss_off=0.75) == HELPS        # 1.5 times the loss, accuracies tied
    assert verdict(0.5, 0.5, loss_on=0.5, loss_off=np.nextafter(0.75, 0)) == CLOSE
    assert verdict(0.5, 0.51, loss_on=0.5, loss_off=0.75) == CLOSE       # the loss says A, the accuracy B
    assert verdict(0.5, 0.5, loss_on=0.75, loss_off=0.5) == WORSE        # reversed
    assert verdict(0.5, 0.5, loss_on=np.nextafter(0.75, 0), loss_off=0.5) == CLOSE
    assert verdict(0.51, 0.5, loss_on=0.75, loss_off=0.5) == CLOSE


def test_the_verdict_at_the_little_margins():
    assert verdict(0.02, 0.0) == LITTLE                                   # exactly 0.02 apart
    assert verdict(0.0, 0.02) == LITTLE
    assert verdict(np.nextafter(0.02, 1), 0.0) == CLOSE
    assert verdict(0.0, np.nextafter(0.02, 1)) == CLOSE
    assert verdict(0.5, 0.5, loss_on=0.5, loss_off=0.625) == LITTLE       # 0.125 = 0.2 x 0.625
    assert verdict(0.5, 0.5, loss_on=0.625, loss_off=0.5) == LITTLE
    assert verdict(0.5, 0.5, loss_on=0.5, loss_off=np.nextafter(0.625, 1)) == CLOSE
    assert verdict(0.5, 0.5, loss_on=np.nextafter(0.625, 1), loss_off=0.5) == CLOSE


def test_the_sentence_adds_the_verdict_in_bn_order_and_the_gap_at_its_margin():
    views = [fake(False, 0.75), fake(True, 0.5)]
    names = ["without BN (A)", "with BN (B)"]
    head = ("Watch the histogram: the median input to the activation in layer 2, unit 1 moved over a range of 1.5 "
            "without BN (A) and 1.5 with BN (B); the mini-batch loss averaged 0.750 without BN (A) and 0.500 with "
            "BN (B) over the last epoch; test accuracy at the end: 0.500 without BN (A) and 0.500 with BN (B). ")
    accuracies = [(0.5, "test"), (0.5, "test")]
    assert summary(views, names, accuracies) == head + HELPS
    assert summary(views, names, accuracies, [-0.05, 0.0]) == (
        head + HELPS + " Train minus test accuracy: 0.000 with BN (B) and -0.050 without BN (A).")
    assert summary(views, names, accuracies, [0.0, 0.05]) == (
        head + HELPS + " Train minus test accuracy: 0.050 with BN (B) and 0.000 without BN (A).")
    assert summary(views, names, accuracies, [np.nextafter(0.05, 0), 0.0]) == head + HELPS
    assert summary(views, names, accuracies, [0.05, -0.05]) == head + HELPS        # sizes alike
    assert summary(views, names, accuracies, [np.nan, 0.3]) == head + HELPS
    assert summary(views, names, accuracies, [0.3, np.nan]) == head + HELPS
    # no verdict words (a number missing): nothing added, not even a space
    views[0].final_loss = np.nan
    assert summary(views, names, accuracies).endswith("0.500 with BN (B).")


def test_final_accuracy_and_gap_read_the_last_epoch():
    run = SimpleNamespace(epoch_metrics={"test_acc_eval": np.array([0.0, 0.5, 0.75]),
                                         "train_acc_eval": np.array([1.0, 0.25, 0.875])})
    assert final_accuracy(run) == (0.75, "test")
    assert generalization_gap(run) == 0.125
    run.epoch_metrics["test_acc_eval"] = np.array([0.5, 0.5, np.nan])
    assert final_accuracy(run) == (0.875, "training")
    run.epoch_metrics = {"test_acc_eval": np.array([]), "train_acc_eval": np.array([0.5])}
    assert final_accuracy(run) == (0.5, "training")
    assert np.isnan(generalization_gap(run))
    run.epoch_metrics = {"train_acc_eval": np.array([np.nan])}
    acc, split = final_accuracy(run)
    assert np.isnan(acc) and split == "test"
    assert np.isnan(generalization_gap(run))
    run.epoch_metrics = {"test_acc_eval": np.array([0.5])}
    assert np.isnan(generalization_gap(run))
    run.epoch_metrics = {"test_acc_eval": np.array([0.5]), "train_acc_eval": np.array([])}
    assert np.isnan(generalization_gap(run))


def test_the_sentence_with_bn_first_and_the_other_run_diverged():
    views = [fake(True, 0.5), fake(False, np.nan, diverged_at=40)]
    text = summary(views, NAMES, [(0.75, "test"), (np.nan, "test")], [0.0, np.nan])
    assert text == ("Watch the histogram: the median input to the activation in layer 2, unit 1 moved over a range "
                    "of 1.5 with BN (A) and 1.5 without BN (B); the mini-batch loss averaged 0.500 with BN (A) and "
                    "nan without BN (B) over the last epoch; test accuracy at the end: 0.750 with BN (A) and nan "
                    "without BN (B). The run without BN (B) diverged at step 40: the view shows the steps before "
                    "it. Here BN makes the difference: the run without BN (B) diverged and the run with BN (A) "
                    "trained.")
    views = [fake(True, 0.5), fake(False, 0.75)]
    assert summary(views, NAMES, [(0.5, "test"), (0.5, "test")], [0.0, 0.05]).endswith(
        HELPS + " Train minus test accuracy: 0.000 with BN (A) and 0.050 without BN (B).")
    assert summary([fake(True, 0.75), fake(False, 0.5)], NAMES, [(0.5, "test"), (0.5, "test")]).endswith(WORSE)


def test_final_accuracy_of_a_trained_run(runs):
    a = runs[0]
    assert final_accuracy(a) == (a.epoch_metrics["test_acc_eval"][-1], "test")
