"""The Run at its edges, by value: partial runs, replays from a later step, the snapshot
cap and budget, the input scaling and timing a Run reports, a member that diverges at
its first step, and a test split of one row."""
import dataclasses
import time

import numpy as np
import pytest

import plain
import test_values_run as values
from bnviz import Config, train
from bnviz.recording import BY_NAME, RECORDED
from bnviz.run import SNAPSHOT_BUDGET, SNAPSHOT_CAP, SNAPSHOT_ROWS, assemble_run, replay, snapshot_states
from bnviz.train import run_loop, train_ensemble

PARTIAL = Config(epochs=3, batch_size=29, hidden=(4, 3), bn_momentum=0.9)     # 11 steps an epoch, the last of 30 rows


@pytest.fixture(scope="module")
def history(data):
    return run_loop([PARTIAL], data)


@pytest.mark.parametrize("upto", [0, 1, 13, 22])
def test_a_partial_run_is_the_run_of_its_first_steps(history, data, upto):
    """assemble_run(..., upto=k): k steps, epochs cut where they end (and at k), every recorded
    quantity equal to its plain recomputation from those k steps alone."""
    run = assemble_run(history, 0, upto=upto)
    full = assemble_run(history, 0)
    spe = len(run.bounds)
    assert (spe, full.n_steps) == (11, 33) and run.n_steps == upto and run.diverged_at is None
    np.testing.assert_array_equal(run.params, full.params[:upto + 1])
    np.testing.assert_array_equal(run.grads, full.grads[:upto])
    np.testing.assert_array_equal(run.orders, full.orders[:-(-upto // spe)])
    for name, value in run.final_params.items():
        np.testing.assert_array_equal(value, full.params_at(upto)[name])
    expected_epochs = list(range(0, upto + 1, spe)) + ([upto] if upto % spe else [])
    np.testing.assert_array_equal(run.epoch_steps, expected_epochs)
    assert run.snapshot_steps[0] == 0 and run.snapshot_steps[-1] == upto
    np.testing.assert_array_equal(run.snapshot_steps, np.arange(upto + 1))          # few steps: every state
    case = (run, data, plain.running_statistics(run, data))
    for name in BY_NAME:
        values.check_recorded_quantity_equals_its_plain_recomputation(case, name)
    for quantity in RECORDED:
        values.check_each_quantity_runs_along_its_declared_axis(case, quantity)
    assert run.seconds == history.seconds


def test_progress_hands_out_the_run_so_far(data):
    seen = []

    def progress(p):
        run = p.run()
        seen.append((p.step, p.total_steps, run.n_steps, run.params[-1].copy()))

    full = train(Config(epochs=2), data, progress=progress, progress_seconds=0.0)
    assert [s for s, *_ in seen] == list(range(1, full.n_steps + 1)) + [full.n_steps]
    for step, total, n_steps, last in seen:
        assert total == full.n_steps and n_steps == step
        np.testing.assert_array_equal(last, full.params[step])


@pytest.mark.parametrize("first", [0, 1, 10, 11, 30, 33])
def test_a_replay_from_a_later_step_is_that_slice_of_the_whole(history, first):
    whole = replay(history, [0], history.steps_done)
    later = replay(history, [0], history.steps_done, first=first)
    assert set(later) == set(whole)
    for name, value in later.items():
        parts = value if isinstance(value, list) else [value]
        expected = whole[name] if isinstance(whole[name], list) else [whole[name]]
        for got, want in zip(parts, expected):
            assert got.shape == (history.steps_done - first, 1) + want.shape[2:]
            np.testing.assert_array_equal(got, want[first:], err_msg=name)
    ends = replay(history, [0], 20, first=15)
    np.testing.assert_array_equal(ends["train_loss"], whole["train_loss"][15:20])


def plain_snapshot_count(n_steps, n_rows, units, cap=SNAPSHOT_CAP):
    """How many states a Run keeps in full: every state, at most `cap`, and at most what the budget
    of numbers holds (rows x units each), but never fewer than the first and the last."""
    count = n_steps + 1
    count = min(count, cap)
    fits = SNAPSHOT_BUDGET // max(1, n_rows * units)
    return min(count, max(2, fits))


@pytest.mark.parametrize("n_steps, n_rows, units", [(0, 10, 5), (5, 320, 15), (119, 320, 15), (120, 320, 15),
                                                    (500, 320, 15), (500, 1000, 48), (500, 1000, 3000),
                                                    (7, 1000, 3000), (500, 0, 0)])
def test_snapshot_states_keep_to_the_cap_and_the_budget(n_steps, n_rows, units):
    states = snapshot_states(n_steps, n_rows, units)
    count = plain_snapshot_count(n_steps, n_rows, units)
    assert len(states) == min(count, n_steps + 1)
    assert states[0] == 0 and states[-1] == n_steps
    gaps = np.diff(states)
    if len(gaps):
        assert gaps.min() >= 1 and gaps.max() - gaps.min() <= 1                   # evenly spread
    if len(states) > 2:
        assert len(states) <= SNAPSHOT_CAP and len(states) * n_rows * units <= SNAPSHOT_BUDGET
    assert len(snapshot_states(500, 320, 15, cap=7)) == 7


def test_a_runs_snapshots_fit_the_budget(data):
    cfg = Config(epochs=40, hidden=(16, 16, 16))
    run = train(cfg, data)
    kept = sum(v.size for stage in run.snapshots.values() for v in stage)
    rows, units = len(data.y_train), sum(cfg.hidden) * 3
    assert len(run.snapshot_rows) == rows <= SNAPSHOT_ROWS
    assert len(run.snapshot_steps) == SNAPSHOT_BUDGET // (rows * units) < SNAPSHOT_CAP
    assert kept == len(run.snapshot_steps) * rows * units <= SNAPSHOT_BUDGET


@pytest.mark.parametrize("standardize", [True, False])
def test_the_input_scaling_and_the_time_a_run_reports(data, standardize):
    started = time.perf_counter()
    run = train(Config(epochs=2, standardize=standardize), data)
    elapsed = time.perf_counter() - started
    X = np.asarray(data.X_train, dtype=float)
    mean = X.sum(axis=0) / len(X)
    std = np.sqrt(((X - mean) ** 2).sum(axis=0) / len(X))
    if standardize:
        np.testing.assert_allclose(run.feature_mean, mean, rtol=1e-13)
        np.testing.assert_allclose(run.feature_std, std, rtol=1e-13)
    else:
        np.testing.assert_array_equal(run.feature_mean, [0.0, 0.0])
        np.testing.assert_array_equal(run.feature_std, [1.0, 1.0])
    np.testing.assert_allclose((X - run.feature_mean) / run.feature_std, plain.inputs(run, data, X), rtol=1e-13)
    assert 0.0 < run.seconds <= elapsed


def test_a_member_that_diverges_at_its_first_step(data):
    """One member starts with first-layer weights so large that its first batch variance overflows
    (BN still outputs finite numbers, so its first loss is finite): it records no step, reads as
    diverged at step 0 everywhere, and the other member is the Run it would be alone."""
    cfg = Config(epochs=2)
    alone = train(cfg, data)
    huge = {name: value * (1e200 if name == "W1" else 1.0)
            for name, value in train(cfg.replace(seed=1, epochs=1), data).initial_params.items()}
    mixed = train_ensemble([cfg, cfg.replace(seed=1)], data, init_params=[alone.initial_params, huge])
    assert mixed.diverged_at == [None, 0]
    first = replay(mixed.history, [1], 1)
    assert np.isfinite(first["train_loss"]).all() and not np.isfinite(first["batch_var"][0]).all()
    dead = mixed.member(1)
    assert dead.n_steps == 0 and dead.diverged_at == 0 and len(dead.train_loss) == 0
    assert dead.params.shape == (1, alone.params.shape[1]) and dead.epoch_steps.tolist() == [0]
    assert np.isnan(mixed.train_loss[:, 1]).all() and np.isfinite(mixed.train_loss[:, 0]).all()
    for name, metric in mixed.final_metrics().items():
        assert np.isnan(metric[1]) and np.isfinite(metric[0]), name
    kept = mixed.member(0)
    np.testing.assert_array_equal(kept.params, alone.params)
    np.testing.assert_array_equal(kept.train_loss, alone.train_loss)
    assert kept.diverged_at is None and repr(dead).startswith("Run(0 steps, diverged at step 0, last batch loss n/a")


@pytest.mark.parametrize("bn", [True, False])
def test_a_test_split_of_one_row(data, bn):
    """Evaluation mode scores the lone row with the running statistics; batch mode normalizes it by
    itself, so BN outputs beta. Both equal a plain pass over that one row."""
    one = dataclasses.replace(data, X_test=data.X_test[:1], y_test=data.y_test[:1])
    run = train(Config(epochs=2, bn=bn), one)
    running = plain.running_statistics(run, one)
    expected = values.epoch_values(run, one, running)
    for name, value in expected.items():
        values.close(run.epoch_metrics[name], value, what=name)
        if "acc" in name and name.startswith("test"):
            assert set(np.unique(run.epoch_metrics[name])) <= {0.0, 1.0}
    final = train_ensemble([run.config], one).final_metrics()
    for name, value in final.items():
        values.close(value[0], expected[name][-1], what=name)
