"""A long run recorded at a stride: the same numbers as a full record, at the steps and states it keeps."""
import dataclasses
import tracemalloc

import numpy as np
import pytest

import plain
from bnviz import Config, load_for, train
from bnviz.budget import WORKING_BYTES, cost, fit, n_params, record_bytes, record_stride, snapshot_numbers
from bnviz.limits import RUN_BYTES
from bnviz.recording import RECORDED
from bnviz.striding import FEWEST_RECORDED_STEPS, MIN_RECORDED_STEPS, kept_states, max_stride, recorded_steps
from bnviz.train import batch_bounds, run_loop
from bnviz.run import SNAPSHOT_BUDGET, assemble_run
from test_values_run import PLAIN, assert_same, step_passes

STRIDED = {
    "default-5": (Config(epochs=4), 5),
    "after-tanh-momentum-3": (Config(epochs=3, bn_position="after", activation="tanh", optimizer="momentum",
                                     hidden=(4, 3, 2), running_var="unbiased"), 3),
    "cumulative-odd-batches-7": (Config(epochs=3, running_avg="cumulative", keep_bias=True, batch_size=29,
                                        bn_momentum=0.9, standardize=False, lr=0.01), 7),
    "noisy-adam-4": (Config(epochs=3, optimizer="adam", lr=0.01, bn_noise=0.3), 4),
    "no-bn-sigmoid-6": (Config(epochs=3, bn=False, activation="sigmoid", optimizer="adam", lr=0.01), 6),
}


@pytest.fixture(scope="module", params=sorted(STRIDED))
def pair(request):
    """(strided run, the same experiment with every step recorded, data)."""
    cfg, k = STRIDED[request.param]
    data = load_for(cfg)
    return train(cfg, data, stride=k), train(cfg, data, stride=1), data


def column(value, rows):
    """The rows of a per-step value (array, or list of per-layer arrays)."""
    return [v[rows] for v in value] if isinstance(value, list) else value[rows]


def test_kept_states_and_steps_are_bitwise_those_of_the_full_record(pair):
    strided, full, _ = pair
    k = strided.stride
    assert k > 1 and full.stride == 1 and strided.n_steps == full.n_steps
    steps, states = strided.axis_states("step"), strided.axis_states("state")
    np.testing.assert_array_equal(steps, np.arange(0, full.n_steps, k))
    # the state before and after every recorded step, every epoch end and the last state
    expected = set(steps) | set(steps + 1) | set(range(0, full.n_steps + 1, full.steps_per_epoch)) | {full.n_steps}
    np.testing.assert_array_equal(states, sorted(expected))
    assert strided.params.shape == (len(states), full.params.shape[1])
    np.testing.assert_array_equal(strided.params, full.params[states])
    np.testing.assert_array_equal(strided.grads, full.grads[steps])
    assert len(strided.batch_indices) == len(steps)
    for s, rows in zip(steps, strided.batch_indices):
        np.testing.assert_array_equal(rows, full.step_rows(s))
    for state in states[[0, 1, len(states) // 2, -1]]:
        for name, value in strided.buffers_at(state).items():
            np.testing.assert_array_equal(value, full.buffers_at(state)[name])
    np.testing.assert_array_equal(strided.epoch_steps, full.epoch_steps)
    assert set(strided.snapshot_steps) <= set(states)


def test_every_recorded_quantity_equals_its_plain_recomputation_at_the_kept_steps(pair):
    strided, full, data = pair
    running = plain.running_statistics(full, data)          # needs every step: taken from the full record
    passes = step_passes(full, data)
    rows = strided.axis_states("step")
    noisy = strided.config.bn_noise > 0                     # the plain pass has no noisy BN
    for quantity in RECORDED:
        if quantity.axis == "step":
            # bitwise the full record's value at those steps
            for got, want in zip(*(([v] if not isinstance(v, list) else v)
                                   for v in (strided.recorded[quantity.name],
                                             column(full.recorded[quantity.name], rows)))):
                np.testing.assert_array_equal(got, want, err_msg=quantity.name)
            if not noisy:
                expected = column(PLAIN[quantity.name](full, data, running, passes), rows)
                assert_same(strided.recorded[quantity.name], expected, quantity.name)
        else:
            if quantity.axis == "epoch":                     # the same states as the full record's
                for key, value in full.recorded[quantity.name].items():
                    np.testing.assert_array_equal(strided.recorded[quantity.name][key], value, err_msg=key)
            # snapshots and epoch metrics at the strided run's own states, recomputed from its kept parameters
            if not noisy:
                assert_same(strided.recorded[quantity.name], PLAIN[quantity.name](strided, data, running, None),
                            quantity.name)


def test_a_state_that_was_not_kept_is_refused_with_a_sentence():
    cfg = Config(epochs=3)
    run = train(cfg, load_for(cfg), stride=5)
    with pytest.raises(ValueError, match="was not kept"):
        run.params_at(3)
    with pytest.raises(ValueError, match="was not kept"):
        run.step_index(3)
    assert run.params_at(5) and run.params_at(6)


def test_a_strided_run_that_diverges_names_the_same_step():
    cfg = Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=6)
    data = load_for(cfg)
    full, strided = train(cfg, data, stride=1), train(cfg, data, stride=4)
    assert full.diverged_at is not None
    assert strided.diverged_at == full.diverged_at
    assert strided.n_steps <= full.n_steps
    states = strided.axis_states("state")
    np.testing.assert_array_equal(strided.params, full.params[states])


def test_a_partial_run_ends_on_a_kept_state():
    cfg = Config(epochs=6)
    data = load_for(cfg)
    history = run_loop([cfg], data, stride=7)
    full = train(cfg, data, stride=1)
    for upto in (0, 1, 13, 50, 96, history.steps_done):
        part = assemble_run(history, 0, upto=upto)
        assert part.n_steps <= upto and part.n_steps in set(history.states)
        np.testing.assert_array_equal(part.params, full.params[part.axis_states("state")])
        np.testing.assert_array_equal(part.train_loss, full.train_loss[part.axis_states("step")])


def test_the_stride_is_one_whenever_the_full_record_fits():
    for cfg in (Config(), Config(hidden=(16, 16, 16), epochs=200), Config(batch_size=1, epochs=20)):
        data = load_for(cfg)
        P = n_params(cfg.hidden, cfg.bn, cfg.keep_bias, cfg.bn_position)
        steps = cfg.epochs * len(batch_bounds(len(data.y_train), cfg.batch_size))
        if record_bytes(cfg, steps, len(data.y_train), P) <= RUN_BYTES:
            assert record_stride(cfg, len(data.y_train)) == 1
            assert train(cfg, data, stride=record_stride(cfg, len(data.y_train))).stride == 1


def test_the_stride_is_the_smallest_that_fits_within_the_largest_allowed():
    cfg = Config(hidden=(16,) * 8, batch_size=1, epochs=30)
    n = len(load_for(cfg).y_train)
    P = n_params(cfg.hidden)
    steps = cfg.epochs * n
    k = record_stride(cfg, n)
    assert 1 < k <= max_stride(steps)
    # it leaves the forward passes' working memory free within the budget
    assert record_bytes(cfg, steps, n, P, k) <= RUN_BYTES - WORKING_BYTES < record_bytes(cfg, steps, n, P, k - 1)
    assert len(recorded_steps(steps, max_stride(steps))) >= MIN_RECORDED_STEPS
    # a record that 200 recorded steps cannot fit gets down to 10 recorded steps, the smallest stride that fits;
    # a smaller memory share also keeps proportionally fewer snapshot numbers (bnviz.budget.snapshot_numbers)
    small = RUN_BYTES
    for _ in range(20):                     # a share between the two bounds, each at that share's snapshots
        kept = snapshot_numbers(small)
        small = WORKING_BYTES + (record_bytes(cfg, steps, n, P, max_stride(steps), kept)
                                 + record_bytes(cfg, steps, n, P, max_stride(steps, fewest=True), kept)) // 2
    kept = snapshot_numbers(small)
    assert kept == int(SNAPSHOT_BUDGET * small / RUN_BYTES) < SNAPSHOT_BUDGET
    k = record_stride(cfg, n, max_bytes=small)
    assert max_stride(steps) < k <= max_stride(steps, fewest=True)
    assert len(recorded_steps(steps, k)) >= FEWEST_RECORDED_STEPS
    assert record_bytes(cfg, steps, n, P, k, kept) <= small - WORKING_BYTES < record_bytes(cfg, steps, n, P, k - 1,
                                                                                           kept)
    # one that even that cannot fit gets the largest stride, and fit cuts the run
    assert record_stride(cfg, n, max_bytes=2**20) == max_stride(steps, fewest=True) == steps // 10
    assert record_bytes(cfg, steps, n, P, max_stride(steps, fewest=True)) > 2**20


def test_record_bytes_of_a_strided_run_is_within_the_budget_and_close_to_what_it_holds():
    cfg = Config(hidden=(16,) * 8, batch_size=1, epochs=30)
    data = load_for(cfg)
    run = train(cfg, data, stride=record_stride(cfg, len(data.y_train)))
    assert run.stride > 1
    estimate = record_bytes(cfg, run.n_steps, len(data.y_train), n_params(cfg.hidden), run.stride)
    assert estimate <= RUN_BYTES
    # the estimate counts the snapshot budget in full; the run holds within 15 % of it, never more
    assert 0.85 * estimate <= run.nbytes <= estimate, (run.nbytes, estimate)
    assert run.thinning == (f"This run took {run.n_steps:,} updates; its record keeps every "
                            f"{run.stride}th step ({len(run.params):,} states) so it fits the server's memory.")


def test_training_a_strided_heavy_run_stays_within_the_budget():
    cfg = Config(hidden=(16,) * 8, batch_size=1, epochs=30)
    data = load_for(cfg)
    assert record_stride(cfg, len(data.y_train)) > 1
    tracemalloc.start()
    try:
        run = train(cfg, data, stride=record_stride(cfg, len(data.y_train)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.nbytes <= RUN_BYTES
    assert peak <= RUN_BYTES, f"peak {peak / 2**20:.1f} MB over the {RUN_BYTES / 2**20:.0f} MB budget"


def test_kept_states_of_stride_one_are_every_state():
    np.testing.assert_array_equal(kept_states(17, 5, 1), np.arange(18))
    np.testing.assert_array_equal(recorded_steps(17, 1), np.arange(17))
    assert cost(Config(), 320).bytes == record_bytes(Config(), 1600, 320, n_params((3, 2)))


HEAVY_LINKS = (
    "batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&hidden=16,16,16,16,16,16,16,16",
)


@pytest.mark.parametrize("link", HEAVY_LINKS)
def test_fit_keeps_more_of_a_heavy_link_and_still_fits_work_and_bytes(link):
    asked = Config.from_query(dict(part.split("=") for part in link.split("&")))[0]
    rows = len(load_for(asked).y_train)
    before, after = fit(asked, rows, strided=False), fit(asked, rows)
    # more training (updates and rows x parameters x updates), never a narrower network or fewer rows
    assert after.cost.updates > before.cost.updates and after.cost.work > 1.5 * before.cost.work
    assert after.config.hidden == asked.hidden and after.config.data_size >= before.config.data_size
    assert after.config.epochs >= before.config.epochs
    assert after.cost.share(after.budget) <= 1 and after.cost.stride > 1
    # one more epoch would break the work budget, not the bytes
    if after.config.epochs < asked.epochs and "data_size" not in after.changes:
        more = cost(after.config.replace(epochs=after.config.epochs + 1), rows)
        assert dataclasses.replace(more, bytes=0.0).share(after.budget) > 1
        assert more.bytes <= after.budget.max_bytes


def test_the_heavy_link_trains_within_its_record_budget():
    asked = Config.from_query(dict(part.split("=") for part in HEAVY_LINKS[0].split("&")))[0]
    plan = fit(asked, len(load_for(asked).y_train))
    before = fit(asked, len(load_for(asked).y_train), strided=False)
    assert plan.config.epochs > before.config.epochs or plan.config.hidden != before.config.hidden
    run = train(plan.config, load_for(plan.config), stride=plan.cost.stride)
    assert run.stride == plan.cost.stride and run.n_steps == plan.cost.updates
    assert run.nbytes <= plan.cost.bytes <= RUN_BYTES


def test_each_of_a_pair_holds_its_half_of_the_memory_snapshots_included():
    """A page's runs A and B each train with half a run's memory: the stride and the snapshots both
    follow the share, and what the run holds stays within the record the budget priced."""
    from bnviz.budget import Budget, data_shape

    cfg = Config(dataset="digits", hidden=(100,) * 5, activation="relu", batch_size=60, lr=0.1, epochs=10)
    data = load_for(cfg)
    half = Budget().times(0.5).max_bytes
    priced = cost(cfg, len(data.y_train), max_bytes=half, **data_shape(data))
    alone = cost(cfg, len(data.y_train), **data_shape(data))
    assert priced.bytes <= half < alone.bytes
    run = train(cfg, data, stride=priced.stride, snapshot_numbers=snapshot_numbers(half))
    kept = sum(a.nbytes for stage in run.snapshots.values() for a in stage)
    assert kept <= 8 * snapshot_numbers(half) == 8 * (SNAPSHOT_BUDGET // 2)
    assert run.nbytes <= priced.bytes


def test_a_stride_is_written_as_an_english_ordinal():
    from bnviz.visitor_text import ordinal

    assert [ordinal(n) for n in (1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 23, 101, 111, 112, 1002)] == [
        "1st", "2nd", "3rd", "4th", "10th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th",
        "112th", "1,002nd"]
