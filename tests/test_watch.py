"""The training view's numbers, checked by value against a plain, slow recomputation.

`plain_forward` below is a loop over layers written from the formulas, not
the engine's batched forward pass; every number the view shows for a frame is
recomputed from the Run's stored parameters and batch order with it.
"""
import base64
import json

import numpy as np
import pytest

from bnviz import Config, train
from bnviz.compare import shared_start
from bnviz.figures.watch import watch_spec
from bnviz.train import architecture, initial_params
from bnviz import watch
from bnviz.watch import MAX_FRAMES, MIN_FRAMES, frame_states, frames_for, median_drift, summary, watch_pair, watch_run

ACT = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "linear": lambda z: z,
       "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}


def plain_forward(run, params, X, running=None):
    """Logits and, per hidden layer, (z, bn_out or None, act, bn_input) for rows X (N, 2).

    BN uses the batch's own mean and biased variance, or `running` = {k: (mean, var)} (1-based k).
    """
    cfg = run.config
    g = ACT[cfg.activation]
    a, layers = X, []
    for k in range(1, len(cfg.hidden) + 1):
        z = a @ params[f"W{k}"] + params.get(f"b{k}", 0.0)
        bn_out, bn_in = None, None
        if cfg.bn:
            bn_in = z if cfg.bn_position == "before" else g(z)
            if running is None:
                mean, var = bn_in.mean(axis=0), ((bn_in - bn_in.mean(axis=0)) ** 2).mean(axis=0)
            else:
                mean, var = running[k]
            bn_out = params[f"gamma{k}"] * (bn_in - mean) / np.sqrt(var + cfg.eps) + params[f"beta{k}"]
            act = g(bn_out) if cfg.bn_position == "before" else bn_out
        else:
            act = g(z)
        layers.append((z, bn_out, act, bn_in))
        a = act
    L = len(cfg.hidden) + 1
    return a @ params[f"W{L}"] + params[f"b{L}"], layers


def plain_bce(logits, y):
    p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def plain_running(run, data, layer, upto):
    """The running mean and variance of BN layer `layer` after `upto` steps, by a loop over the steps."""
    cfg = run.config
    X = data.standardize(data.X_train) if cfg.standardize else data.X_train
    units = cfg.hidden[layer - 1]
    mean, var = np.zeros(units), np.ones(units)
    for s in range(upto):
        rows = run.step_rows(s)
        _, layers = plain_forward(run, run.params_at(s), X[rows])
        bn_in = layers[layer - 1][3]
        m = cfg.bn_momentum
        mean = m * mean + (1 - m) * bn_in.mean(axis=0)
        var = m * var + (1 - m) * bn_in.var(axis=0)
    return mean, var


@pytest.fixture(scope="module")
def pair(data):
    a_cfg, b_cfg = Config(), Config(bn=False)
    a = train(a_cfg, data)
    b = train(b_cfg, data, shared_start(a.initial_params, initial_params(b_cfg, architecture(b_cfg)), a_cfg, b_cfg))
    return a, b, watch_pair(a, b, data)


def test_frames_are_evenly_spread_states_with_both_ends():
    states = frame_states(1600)
    assert len(states) == MAX_FRAMES and states[0] == 0 and states[-1] == 1600
    assert np.all(np.diff(states) > 0) and np.diff(states).max() - np.diff(states).min() <= 1
    np.testing.assert_array_equal(frame_states(7), np.arange(8))


def test_a_big_network_gets_fewer_frames_within_the_work_bound(pair, data, monkeypatch):
    a = pair[0]
    per_frame = a.arch.param_layout().size * (len(a.snapshot_rows) + watch.GRID_SIZE ** 2)
    assert frames_for(a) == MAX_FRAMES                       # the default run is cheap
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 50.5)
    assert frames_for(a) == 50
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame)
    assert frames_for(a) == MIN_FRAMES
    assert len(watch_run(a, data).states) == MIN_FRAMES


@pytest.mark.parametrize("which", [0, 1])
def test_every_panel_matches_a_plain_recomputation(pair, data, which):
    run, view = pair[which], pair[2][which]
    X = data.standardize(data.X_train)
    assert view.bn == bool(run.n_bn) and view.layer == 2 and view.unit == 0
    for f in (1, 57, len(view.states) - 1):
        t = int(view.states[f])
        params = run.params_at(t)
        # the loss marker: the mini-batch loss of the step that made state t
        logits, _ = plain_forward(run, run.params_at(t - 1), X[run.step_rows(t - 1)])
        assert view.loss_at[f] == pytest.approx(plain_bce(logits, data.y_train[run.step_rows(t - 1)]), rel=1e-9)
        # the histogram: unit 1 of layer 2's input to its activation, over all training rows
        _, layers = plain_forward(run, params, X)
        z, bn_out, _, bn_in = layers[1]
        shown = (bn_out if run.n_bn else z)[:, 0]
        np.testing.assert_allclose(view.percentiles[f], np.percentile(shown, [15, 50, 85]), rtol=1e-9, atol=1e-12)
        counts = np.histogram(np.clip(shown, view.edges[0], view.edges[-1]), view.edges)[0]
        np.testing.assert_allclose(view.hist[f], counts / len(shown), atol=1e-12)
        # exact statistics of what BN normalizes (z without BN), over all rows
        exact = bn_in if run.n_bn else z
        assert view.exact_mean[f] == pytest.approx(exact[:, 0].mean(), rel=1e-9, abs=1e-12)
        assert view.exact_var[f] == pytest.approx(exact[:, 0].var(), rel=1e-9, abs=1e-12)
        # the decision boundary: evaluation mode with the running statistics of state t
        running = None
        if run.n_bn:
            running = {k: plain_running(run, data, k, t) for k in (1, 2)}
            assert view.running_mean[f] == pytest.approx(running[2][0][0], rel=1e-9, abs=1e-12)
            assert view.running_var[f] == pytest.approx(running[2][1][0], rel=1e-9, abs=1e-12)
        else:
            assert view.running_mean is None
        i, j = 5, 17
        point = data.standardize(np.array([[view.grid_x[j], view.grid_y[i]]]))
        logit, _ = plain_forward(run, params, point, running)
        assert view.prob.dtype == np.float32          # kept to float32's 7 digits: drawn in 256 shades
        assert view.prob[f, i, j] == pytest.approx(1 / (1 + np.exp(-logit[0, 0])), rel=1e-7)


def test_the_path_ends_at_the_final_weights_and_both_runs_share_bins(pair):
    a_view, b_view = pair[2]
    for v in (a_view, b_view):
        assert v.plane is not None and v.plane.path.shape == (len(v.states), 2)
        np.testing.assert_allclose(v.plane.path[-1], 0.0, atol=1e-9)
    np.testing.assert_array_equal(a_view.edges, b_view.edges)
    np.testing.assert_array_equal(a_view.states, b_view.states)


def test_the_sentence_says_what_the_runs_did(pair):
    a, b, views = pair
    text = summary(views, ["with BN", "without BN"])
    for v, name in zip(views, ["with BN", "without BN"]):
        assert f"{median_drift(v):.2g} {name}" in text
        run = pair[views.index(v)]
        last = run.train_loss[-run.steps_per_epoch:]
        assert f"{last.mean():.3f} {name}" in text
    assert "diverged" not in text


def test_a_diverged_run_shows_the_steps_before_it(data):
    run = train(Config(lr=10.0, standardize=False, bn=False, activation="linear"), data)
    assert run.diverged_at is not None
    view = watch_run(run, data)
    assert view.states[-1] == run.n_steps <= run.diverged_at
    assert "diverged at step" in summary([view], ["in A"])


def test_spec_carries_the_engine_numbers_and_stays_small(pair, data):
    a, b, views = pair
    spec = watch_spec(views, ["A · BN on", "B · BN off"], data, autoplay=True)
    text = json.dumps(spec)
    assert len(text) < 2_000_000
    for run_spec, v in zip(spec["runs"], views):
        frames = run_spec["frames"]
        loss = np.frombuffer(base64.b64decode(frames["loss"]), "<f4")
        np.testing.assert_allclose(loss, v.loss_at.astype(np.float32))
        prob = np.frombuffer(base64.b64decode(frames["prob"]), np.uint8).reshape(v.prob.shape)
        assert np.abs(prob / 255 - v.prob).max() <= 0.5 / 255 + 1e-7      # v.prob is float32
        assert len(run_spec["panels"]) == 5 and ("running_mean" in frames) == v.bn
    with pytest.raises(TypeError):
        watch_spec([a], ["A"], data)


def test_a_diverging_run_travels_as_finite_numbers(data):
    run = train(Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=3), data)
    views = watch_pair(run, None, data)
    spec = watch_spec(views, ["A"], data)
    json.dumps(spec, allow_nan=False)                       # the page's JSON has no NaN or infinity
    for name, text in spec["runs"][0]["frames"].items():
        if isinstance(text, str):
            values = np.frombuffer(base64.b64decode(text), np.uint8 if name == "prob" else "<f4")
            assert not np.isinf(values).any(), name
    assert views[0].plane is None                          # a path thrown far away is not drawn
    assert spec["runs"][0]["panels"][1]["message"]


@pytest.mark.parametrize("bn", [True, False], ids=["bn", "no-bn"])
def test_more_rows_than_the_view_draws(bn, monkeypatch):
    """1,120 training rows: the histogram is over the 1,000 sampled rows, each with its values in the
    pass over every row; the exact statistics are over every row."""
    from bnviz import load_for

    cfg = Config(dataset="moons", data_size=1400, epochs=2, batch_size=100, bn=bn)
    big = load_for(cfg)
    run = train(cfg, big)
    view = watch_run(run, big, frames=MIN_FRAMES)
    assert (view.rows_used, view.n_rows) == (1000, len(big.y_train)) and len(big.y_train) > 1000
    X = big.standardize(big.X_train)
    for f in (0, len(view.states) // 2, len(view.states) - 1):
        _, layers = plain_forward(run, run.params_at(int(view.states[f])), X)
        z, bn_out, _, bn_in = layers[1]
        shown = (bn_out if run.n_bn else z)[run.snapshot_rows, 0]
        np.testing.assert_allclose(view.percentiles[f], np.percentile(shown, [15, 50, 85]), rtol=1e-9, atol=1e-12)
        exact = (bn_in if run.n_bn else z)[:, 0]
        assert view.exact_mean[f] == pytest.approx(exact.mean(), rel=1e-9, abs=1e-12)
        assert view.exact_var[f] == pytest.approx(exact.var(), rel=1e-9, abs=1e-12)
    note = watch_spec([view], ["A"], big)["runs"][0]["note"]
    assert f"histogram over 1,000 of {len(big.y_train):,} rows, exact statistics over all" in note
    # each frame also passes every training row once (they fit one pass) for the exact statistics
    per_frame = run.arch.param_layout().size * (1000 + watch.GRID_SIZE ** 2 + len(big.y_train))
    monkeypatch.setattr(watch, "VIEW_WORK", per_frame * 40.5)
    assert frames_for(run) == 40


# ------------------------------------------------------------------ what the first screen says


def _view(bn, final_loss, diverged_at=None):
    """A stand-in WatchRun with only what the sentence reads."""
    from types import SimpleNamespace
    return SimpleNamespace(bn=bn, final_loss=final_loss, diverged_at=diverged_at, layer=2, unit=0,
                           percentiles=np.array([[0.0, 0.0, 1.0], [0.0, 1.5, 2.0]]))


NAMES = ["with BN (A)", "without BN (B)"]


def test_the_sentence_says_bn_changes_little_when_the_runs_agree():
    text = summary([_view(True, 0.370), _view(False, 0.304)], NAMES, [(0.8875, "test"), (0.8875, "test")])
    assert text == ("Watch the histogram: the median input to the activation in layer 2, unit 1 moved over a range of "
                    "1.5 with BN (A) and 1.5 without BN (B); the mini-batch loss averaged 0.370 with BN (A) and 0.304 "
                    "without BN (B) over the last epoch; test accuracy at the end: 0.887 with BN (A) and 0.887 "
                    "without BN (B). On this network BN changes little: both runs learn about equally well; the "
                    "scenarios show where it matters.")


def test_the_sentence_credits_the_run_that_is_ahead_whichever_it_is():
    helps = summary([_view(True, 0.40), _view(False, 0.69)], NAMES, [(0.925, "test"), (0.525, "test")])
    assert helps.endswith("Here BN helps clearly: compare the two loss curves and where each boundary ends.")
    # B with BN, A without: the words follow the BN setting, not the order
    swapped = summary([_view(False, 0.69), _view(True, 0.40)], ["without BN (A)", "with BN (B)"],
                      [(0.525, "test"), (0.925, "test")])
    assert swapped.endswith("Here BN helps clearly: compare the two loss curves and where each boundary ends.")
    worse = summary([_view(True, 0.69), _view(False, 0.40)], NAMES, [(0.525, "test"), (0.925, "test")])
    assert worse.endswith("Here the network without BN does better: BN is no guarantee.")
    # an accuracy just under the clear margin, losses far apart: not "changes little"
    close = summary([_view(True, 0.30), _view(False, 0.40)], NAMES, [(0.90, "test"), (0.88, "test")])
    assert close.endswith("The two runs end close, but not the same.")


def test_the_sentence_names_the_run_that_diverged():
    text = summary([_view(True, 0.3), _view(False, float("nan"), diverged_at=120)], NAMES,
                   [(0.9, "test"), (float("nan"), "test")])
    assert "The run without BN (B) diverged at step 120" in text
    assert text.endswith("Here BN makes the difference: the run without BN (B) diverged and the run with BN (A) "
                         "trained.")


def test_the_sentence_quotes_a_clearly_different_train_test_gap_with_signs():
    text = summary([_view(True, 0.3), _view(False, 0.3)], NAMES, [(0.80, "test"), (0.81, "test")], [0.075, -0.2])
    assert text.endswith("Train minus test accuracy: 0.075 with BN (A) and -0.200 without BN (B).")
    same = summary([_view(True, 0.3), _view(False, 0.3)], NAMES, [(0.80, "test"), (0.81, "test")], [0.075, -0.1])
    assert "Train minus test" not in same               # sizes 0.075 and 0.1 differ by less than 0.05


def test_final_accuracy_and_gap_come_from_the_last_epoch(pair):
    a = pair[0]
    acc, split = watch.final_accuracy(a)
    assert split == "test" and acc == a.epoch_metrics["test_acc_eval"][-1]
    assert watch.generalization_gap(a) == a.epoch_metrics["train_acc_eval"][-1] - a.epoch_metrics["test_acc_eval"][-1]


def test_runs_a_and_b_share_every_comparable_y_range_and_keep_their_colours(pair, data):
    a, b, views = pair
    spec = watch_spec(views, ["A · BN on", "B · BN off"], data)
    ra, rb = spec["runs"]
    assert (ra["colour"], rb["colour"]) == ("#0072B2", "#D55E00")         # BN on blue, BN off vermillion
    for i in (0, 2, 3):                                                     # loss, activation input, running
        for axis_a, axis_b in zip(ra["panels"][i]["axes"], rb["panels"][i]["axes"]):
            assert axis_a["y"] == axis_b["y"]
    # each shared range holds both runs' own: the loss curves of both fit under the top
    top = ra["panels"][0]["axes"][0]["y"][1]
    for v in views:
        start = v.curve_loss[:3][np.isfinite(v.curve_loss[:3])]
        assert top >= min(np.nanpercentile(v.curve_loss, 99), 10 * max(np.median(start), 0.7)) - 1e-9
    # swapped order: colours follow the BN setting, not the position
    swapped = watch_spec(views[::-1], ["A · BN off", "B · BN on"], data)
    assert [r["colour"] for r in swapped["runs"]] == ["#D55E00", "#0072B2"]


def test_the_sentence_names_layer_norm_when_it_does_better_than_bn():
    layer = _view(False, 0.40)
    layer.norm = "layer"
    text = summary([layer, _view(True, 0.69)], ["with layer norm (A)", "with BN (B)"],
                   [(0.925, "test"), (0.525, "test")])
    assert text.endswith("Here the network with layer norm does better: BN is no guarantee.")
