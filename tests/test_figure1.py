"""Ioffe & Szegedy's Figure 1 on the digits: its numbers recomputed plainly, its verdict from them, its drawing."""
import numpy as np
import pytest

import plain
from bnviz import load_for, train
from bnviz import figures as F
from bnviz.figure1 import FIGURE1, drift, figure1_states, measure_figure1
from bnviz.lessons import FIGURE1_QUERY, _figure1, experiment_config, lesson_by_id
from bnviz.measures import fmt
from bnviz.scenarios import SCENARIOS

SMALL = FIGURE1.replace(hidden=(8, 8), epochs=2)
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def measured():
    return measure_figure1(SEEDS, SMALL, every=12)


def test_the_lesson_and_the_preset_open_the_papers_network():
    cfg = experiment_config(FIGURE1_QUERY)
    assert cfg == FIGURE1
    assert cfg.hidden == (100, 100, 100) and cfg.activation == "sigmoid" and cfg.batch_size == 60
    assert cfg.bn and cfg.bn_position == "before" and cfg.dataset == "digits"
    assert lesson_by_id("figure-1").claim.startswith("Ioffe & Szegedy's Figure 1 on real handwriting")
    by_name = {s.name: experiment_config(s.query) for s in SCENARIOS}
    assert by_name["Figure 1 on digits"] == FIGURE1
    deep = by_name["Deep ReLU on digits"]
    assert deep.hidden == (100,) * 5 and deep.activation == "relu" and deep.dataset == "digits"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_every_preset_runs_as_asked_with_its_pair_in_one_runs_budget(scenario):
    """A preset is a promise: its pair (runs A and B, half a run's budget each, every record's stride
    chosen for half the memory) trains what the link asks, not a smaller network or fewer epochs."""
    from bnviz.budget import Budget, data_shape, fit
    from bnviz.compare import default_value, variant
    from bnviz.ui.page import PAIR_SHARE

    cfg = experiment_config(scenario.query)
    data = load_for(cfg)
    budget = Budget().times(PAIR_SHARE)
    field = dict(p.split("=") for p in scenario.query.split("&"))["compare"]
    b_cfg, warnings = variant(cfg, field, default_value(cfg, field))
    assert not warnings and b_cfg != cfg
    for run_cfg in (cfg, b_cfg):
        plan = fit(run_cfg, len(data.y_train), budget, resizable_data=False, **data_shape(data))
        assert plan.changes == {}, plan.note
        assert plan.cost.share(budget) <= 1.0


def test_states_and_drift():
    np.testing.assert_array_equal(figure1_states(20, 8), [0, 8, 16, 20])
    p = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 3.0], [2.0, 3.0, 4.0]])      # 15th, 50th, 85th over 3 states
    p[2, 2] = 6.0
    # paths |1-0|+|0-1| = 2, 0+2 = 2, 1+3 = 4 -> mean 8/3; final width 6 - 0 = 6
    assert drift(p) == pytest.approx(8 / 18)
    assert drift(np.stack([p, 2 * p])).tolist() == pytest.approx([8 / 18, 8 / 18])


def test_accuracy_and_percentiles_match_a_plain_recomputation(measured):
    steps = measured["steps"]
    np.testing.assert_array_equal(steps, [0, 12, 24, 36, 48])
    for bn in (True, False):
        for i, seed in enumerate(SEEDS[:2]):
            cfg = SMALL.replace(bn=bn, seed=seed)
            data = load_for(cfg)
            run = train(cfg, data)
            for j in (1, len(steps) - 1):
                state = int(steps[j])
                params = plain.params_at(run, state)
                X = plain.inputs(run, data, data.X_train)
                _, layers = plain.forward(run, params, X)
                seen = layers[-1]["bn"][:, 0] if bn else layers[-1]["z"][:, 0]
                np.testing.assert_allclose(measured["pct"][bn][i][:, j], np.percentile(seen, (15, 50, 85)),
                                           rtol=1e-10, atol=1e-12)
                running = None
                if bn:
                    running = {k + 1: (run.running_mean[k][state - 1], run.running_var[k][state - 1])
                               for k in range(run.n_bn)}
                logits, _ = plain.forward(run, params, plain.inputs(run, data, data.X_test), running)
                right = np.mean(np.argmax(logits, axis=1) == data.y_test)
                assert measured["acc"][bn][i, j] == pytest.approx(right, abs=1e-12)
        np.testing.assert_allclose(measured["drift"][bn], drift(measured["pct"][bn]))


def test_verdict_and_sentence_come_from_the_numbers(monkeypatch, measured):
    import bnviz.figure1 as figure1

    monkeypatch.setattr(figure1, "measure_figure1", lambda seeds, base: measured)
    monkeypatch.setattr("bnviz.lessons.FIGURE1_CHECKS", (24, 48))
    v = _figure1(SEEDS, SMALL)
    acc_on, acc_off = measured["acc"][True], measured["acc"][False]
    gain = acc_on.mean(axis=1) - acc_off.mean(axis=1)
    higher, steadier = v.parts
    np.testing.assert_allclose(higher.values, gain)
    assert higher.count == int((gain >= 0.02).sum())
    ratio = 1 - measured["drift"][True] / measured["drift"][False]
    np.testing.assert_allclose(steadier.values, ratio)
    assert v.numbers["acc_bn_24"] == pytest.approx(np.median(acc_on[:, 2]))
    assert v.numbers["acc_plain_48"] == pytest.approx(np.median(acc_off[:, 4]))
    assert f"after 24 steps {fmt(np.median(acc_on[:, 2]))} with BN and {fmt(np.median(acc_off[:, 2]))} without" \
        in v.sentence
    assert f"{fmt(np.median(measured['drift'][False]))}× without" in v.sentence
    np.testing.assert_array_equal(v.spread["BN on"], acc_on[:, 2])
    assert v.spread_label == "test accuracy after 24 steps"


def test_figure1_drawing_holds_every_curve(measured):
    detail = {"figure1_steps": measured["steps"], "figure1_layer": 2,
              **{f"figure1_acc {n}": measured["acc"][b] for n, b in (("BN on", True), ("BN off", False))},
              **{f"figure1_pct {n}": measured["pct"][b] for n, b in (("BN on", True), ("BN off", False))}}
    svg = F.figure1_svg(detail)
    assert svg.count("data-median=") == 2 and svg.count("data-band=") == 2
    assert svg.count('data-percentile="50th"') == 2 and svg.count("data-percentile=") == 6
    assert "(b) BN off · layer 2, unit 1" in svg and "(c) BN on · layer 2, unit 1" in svg


def test_a_unit_that_overflows_over_the_rows_ends_its_run_there(monkeypatch):
    """Every batch finite, but the watched unit's input past float64 over all training rows at one
    state: from that state on nothing is drawn, and the run counts as diverged (as a Run is cut)."""
    import bnviz.figure1 as figure1

    real = figure1.sigmoid_input_percentiles

    def overflowing(arch, X, params, unit=figure1.UNIT):
        out = real(arch, X, params, unit)
        if arch.bn:
            out[:, 2:] = np.inf                 # the BN runs' third state (step 24) overflows
        return out

    monkeypatch.setattr(figure1, "sigmoid_input_percentiles", overflowing)
    m = measure_figure1(SEEDS[:2], SMALL, every=12)
    assert m["diverged"][True].tolist() == [True, True] and m["diverged"][False].tolist() == [False, False]
    assert np.isnan(m["acc"][True][:, 2:]).all() and np.isfinite(m["acc"][True][:, :2]).all()
    assert np.isnan(m["pct"][True][:, :, 2:]).all() and np.isfinite(m["pct"][True][:, :, :2]).all()
    assert np.isfinite(m["acc"][False]).all() and np.isfinite(m["pct"][False]).all()
