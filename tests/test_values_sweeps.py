"""Sweeps by value: every summary recomputed from the single trainings it stands for, the seeds, the
budget's seed count and epochs worked out by hand at their edges, and the spread of a measure over
seeds on made-up columns (all finite, some missing, none)."""
import math

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.budget import Budget, cost, n_params
from bnviz.sweeps import (SWEEP_FIELDS, SWEEP_NUMBERS, SWEEP_SEEDS, batch_size_summary, seeds_that_fit, spread_over_seeds,
                          sweep, sweep_plan, sweep_seeds)
from bnviz.train import batch_bounds


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


def test_the_seeds_are_the_configs_and_the_next_ones():
    assert sweep_seeds(Config(seed=5), 3) == (5, 6, 7)
    assert sweep_seeds(Config(seed=0), 1) == (0,)
    assert sweep_seeds(Config(seed=9), 2.0) == (9, 10)
    assert len(sweep_seeds(Config())) == SWEEP_SEEDS == 10


def test_the_swept_values_and_their_defaults():
    assert np.allclose(SWEEP_FIELDS["lr"], 10 ** np.linspace(-3, math.log10(30), 14))
    assert np.allclose(SWEEP_FIELDS["init_scale"], 10.0 ** np.linspace(-3, 3, 13))


@pytest.fixture(scope="module")
def swept(data):
    """init_scale 1 and 1e4 (a scale whose logits go past float64 at once, or train on), 2 seeds."""
    return sweep(Config(epochs=1, seed=4), data, "init_scale", [1.0, 1e4], n_seeds=2)


def test_every_measure_of_every_cell_is_its_single_training(swept, data):
    assert swept.field == "init_scale" and swept.seeds == (4, 5) and swept.values.tolist() == [1.0, 1e4]
    assert swept.config == Config(epochs=1, seed=4)
    for bn in (True, False):
        for r, seed in enumerate(swept.seeds):
            for v, scale in enumerate(swept.values):
                run = train(Config(epochs=1, seed=seed, init_scale=float(scale), bn=bn), data)
                last = {k: run.epoch_metrics[k][-1] for k in swept.per_seed[bn]}
                dead = run.diverged_at is not None or not all(np.isfinite(x) for x in last.values())
                for key, value in last.items():
                    got = swept.per_seed[bn][key][r, v]
                    assert np.isnan(got) if dead else got == value, (bn, seed, scale, key)
            first = train(Config(epochs=1, seed=4, init_scale=float(swept.values[0]), bn=bn), data)
        np.testing.assert_array_equal(swept.loss[bn][:, 0], first.train_loss)
        assert swept.loss[bn].shape == (len(first.train_loss), 2)


def test_median_range_and_diverged_count_over_the_seeds_by_hand(swept):
    for bn in (True, False):
        for key, table in swept.per_seed[bn].items():
            for v in range(2):
                column = [x for x in table[:, v] if x == x]
                if column:
                    middle = sum(column) / 2 if len(column) == 2 else column[0]
                    assert swept.metrics[bn][key][v] == pytest.approx(middle, rel=1e-15)
                    assert (swept.low[bn][key][v], swept.high[bn][key][v]) == (min(column), max(column))
                else:
                    assert np.isnan(swept.metrics[bn][key][v]) and np.isnan(swept.low[bn][key][v])
                    assert np.isnan(swept.high[bn][key][v])
        nan_rows = np.isnan(swept.per_seed[bn]["train_loss_eval"]).sum(axis=0)
        assert swept.diverged_count[bn].tolist() == nan_rows.tolist()


def test_a_value_where_every_seed_diverges_is_counted_whole(data):
    """lr 10 on raw features, linear and without BN: every seed's training blows up; the median and
    range are NaN, the count all."""
    s = sweep(Config(epochs=1, bn=False, activation="linear", standardize=False), data, "lr", [0.001, 10.0],
              n_seeds=2)
    assert s.diverged_count[False].tolist() == [0, 2]
    assert np.isnan(s.metrics[False]["test_acc_eval"][1]) and np.isnan(s.low[False]["test_acc_eval"][1])
    assert np.isfinite(s.metrics[False]["test_acc_eval"][0])


def test_the_default_values_are_the_fields_grid(data):
    s = sweep(Config(epochs=1, hidden=(2,)), data, "lr", n_seeds=1)
    np.testing.assert_array_equal(s.values, SWEEP_FIELDS["lr"])
    assert s.per_seed[True]["test_acc_eval"].shape == (1, 14)


def test_seeds_that_fit_at_the_edges_of_time_and_memory():
    cfg = Config(epochs=2)
    values = len(SWEEP_FIELDS["lr"])
    one = cost(cfg, 320, 2 * values, 2, n_out=1)
    params = max(n_params(cfg.hidden, bn, cfg.keep_bias, cfg.bn_position, 2, 1) for bn in (True, False))
    stored = 2 * (one.updates + 1) * params * values
    free = Budget(float("inf"), float("inf"), float("inf"))
    assert seeds_that_fit(cfg, 320, "lr", free, numbers=4 * stored) == 4              # exactly four seeds' numbers
    assert seeds_that_fit(cfg, 320, "lr", free, numbers=4 * stored - 1) == 3
    assert seeds_that_fit(cfg, 320, "lr", free, numbers=10**12, most=6) == 6
    # time: updates share the budget's steps, each seed adds its work
    steps = one.updates * one.step_weight
    for seeds in (1, 3, 7):
        exact = Budget(2 * steps, seeds * one.priced_work / 0.5, float("inf"))       # steps take half, work the rest
        assert seeds_that_fit(cfg, 320, "lr", exact, numbers=10**12) == seeds
        short = Budget(2 * steps, seeds * one.priced_work / 0.5 * (1 - 1e-9), float("inf"))
        assert seeds_that_fit(cfg, 320, "lr", short, numbers=10**12) == max(seeds - 1, 1)
    assert seeds_that_fit(cfg, 320, "init_scale", free, numbers=10**12) == SWEEP_SEEDS


def test_the_plans_epochs_by_hand():
    """A roomy budget keeps the network; the stored numbers bound the epochs: (N / (2 P V) - 1) // batches."""
    cfg = Config(hidden=(16,) * 4, epochs=400, batch_size=4)
    plan = sweep_plan(cfg, 320, Budget(float("inf"), float("inf"), float("inf")))
    params = max(n_params(cfg.hidden, bn, cfg.keep_bias, cfg.bn_position, 2, 1) for bn in (True, False))
    values = max(len(v) for v in SWEEP_FIELDS.values())
    per_epoch = len(batch_bounds(320, 4))
    assert plan.epochs == int((SWEEP_NUMBERS / (2 * params * values) - 1) // per_epoch)
    assert plan.replace(epochs=400) == cfg
    roomy = sweep_plan(cfg, 320, Budget(float("inf"), float("inf"), float("inf")), numbers=10**12)
    assert roomy == cfg
    tiny = sweep_plan(cfg, 320, Budget(float("inf"), float("inf"), float("inf")), numbers=10)
    assert tiny.epochs == 1                                        # never fewer than one epoch
    assert sweep_plan(cfg, 1, Budget(float("inf"), float("inf"), float("inf")), numbers=10**12) == cfg


def test_spread_over_seeds_on_made_up_columns():
    values = np.array([[1.0, np.nan, np.nan, 5.0],
                       [3.0, 2.0, np.nan, np.inf],
                       [2.0, 4.0, np.nan, -1.0],
                       [10.0, np.nan, np.nan, 7.0]])
    out = spread_over_seeds(values)
    assert out["finished"].tolist() == [4, 2, 0, 3]
    np.testing.assert_array_equal(out["median"], [2.5, 3.0, np.nan, 5.0])
    np.testing.assert_array_equal(out["low"], [1.0, 2.0, np.nan, -1.0])
    np.testing.assert_array_equal(out["high"], [10.0, 4.0, np.nan, 7.0])
    one = spread_over_seeds([[7]])
    assert (one["median"].tolist(), one["low"].tolist(), one["high"].tolist(), one["finished"].tolist()) == (
        [7.0], [7.0], [7.0], [1])


def test_the_batch_size_summary_keeps_its_settings_and_spreads_each_measure():
    noise = {"batch_sizes": [2, 8], "epochs": 5, "train_rows": 64,
             "mu_spread": np.array([[0.3, 0.25], [0.5, np.nan], [0.4, 0.75]]),
             "mode_gap": np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
             "acc_gap": {True: np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
                         False: np.array([[-0.1, 0.0], [np.nan, np.nan], [0.1, 0.2]])}}
    s = batch_size_summary(noise)
    assert s["batch_sizes"].tolist() == [2, 8] and (s["epochs"], s["train_rows"], s["seeds"]) == (5, 64, 3)
    np.testing.assert_array_equal(s["mu_spread"]["median"], [0.4, 0.5])
    assert s["mu_spread"]["finished"].tolist() == [3, 2]
    np.testing.assert_array_equal(s["mode_gap"]["high"], [4.0, 5.0])
    np.testing.assert_array_equal(s["acc_gap"][True]["low"], [0.1, 0.2])
    np.testing.assert_array_equal(s["acc_gap"][False]["median"], [0.0, 0.1])
    assert s["acc_gap"][False]["finished"].tolist() == [2, 2]


class FakeEnsemble:
    """What ``sweep`` reads of an ensemble, made up: members in the order of the configs given."""

    def __init__(self, configs, table, dead, overflowed):
        self.configs, self.table = configs, table
        self.diverged_at = [3 if d else None for d in dead]
        self.overflowed = np.array(overflowed)
        self.train_loss = np.arange(5 * len(configs), dtype=float).reshape(5, len(configs))

    def final_metrics(self):
        return {"test_acc_eval": self.table.copy(), "train_loss_eval": -self.table.copy()}


def test_a_sweeps_bookkeeping_on_a_made_up_ensemble(monkeypatch, data):
    """Members come seed by seed, each seed over every value: the table is (seeds, values); a member
    that diverged or whose final numbers overflowed counts as diverged; the losses are the first
    seed's, one column a value."""
    import bnviz.sweeps as S

    made = {}

    def fake(configs, data):
        bn = configs[0].bn
        acc = {True: [0.9, np.nan, 0.5, 0.7, 0.8, np.nan], False: [0.1, 0.2, np.nan, 0.3, 0.6, np.nan]}[bn]
        dead = {True: [0, 1, 0, 0, 0, 1], False: [0, 0, 0, 0, 0, 0]}[bn]
        over = {True: [0, 0, 0, 0, 0, 0], False: [0, 0, 1, 0, 0, 1]}[bn]
        made[bn] = configs
        return FakeEnsemble(configs, np.array(acc), dead, over)

    monkeypatch.setattr(S, "train_ensemble", fake)
    s = S.sweep(Config(seed=7, epochs=1), data, "lr", [0.01, 0.1, 1.0], n_seeds=2)
    assert [(c.seed, c.lr, c.bn) for c in made[True]] == [(7, 0.01, True), (7, 0.1, True), (7, 1.0, True),
                                                          (8, 0.01, True), (8, 0.1, True), (8, 1.0, True)]
    np.testing.assert_array_equal(s.per_seed[True]["test_acc_eval"], [[0.9, np.nan, 0.5], [0.7, 0.8, np.nan]])
    np.testing.assert_array_equal(s.metrics[True]["test_acc_eval"], [0.8, 0.8, 0.5])
    np.testing.assert_array_equal(s.low[True]["test_acc_eval"], [0.7, 0.8, 0.5])
    np.testing.assert_array_equal(s.high[True]["train_loss_eval"], [-0.7, -0.8, -0.5])
    assert s.diverged_count[True].tolist() == [0, 1, 1]
    assert s.diverged_count[False].tolist() == [0, 0, 2]
    np.testing.assert_array_equal(s.metrics[False]["test_acc_eval"], [0.2, 0.4, np.nan])
    np.testing.assert_array_equal(s.loss[False], np.arange(30.0).reshape(5, 6)[:, :3])


def test_a_sweep_names_its_fields_and_keeps_values_as_floats(data):
    with pytest.raises(ValueError) as err:
        sweep(Config(epochs=1), data, "batch_size")
    assert str(err.value) == "can sweep lr, init_scale, not 'batch_size'"
    s = sweep(Config(epochs=1, hidden=(2,)), data, "init_scale", [1, 2], n_seeds=1)
    assert s.values.dtype == np.float64 and s.values.tolist() == [1.0, 2.0]


def test_spread_over_seeds_gives_floats_for_whole_numbers():
    out = spread_over_seeds([[7, 2], [9, 4]])
    assert all(out[k].dtype == np.float64 for k in ("median", "low", "high"))
    assert out["low"].tolist() == [7.0, 2.0] and out["median"].tolist() == [8.0, 3.0]


def _stored_epochs(numbers, cfg, n_in=2, n_out=1):
    """The plan's epochs for one batch an epoch, worked out by hand: numbers / (2 P V) - 1, floored."""
    params = max(n_params(cfg.hidden, bn, cfg.keep_bias, cfg.bn_position, n_in, n_out) for bn in (True, False))
    return math.floor(numbers / (2 * params * 14) - 1)


@pytest.mark.parametrize("cfg", [Config(hidden=(4, 4), batch_size=320, epochs=500),
                                 Config(hidden=(4, 4), batch_size=320, epochs=500, keep_bias=True),
                                 Config(hidden=(4, 4), batch_size=320, epochs=500, bn_position="after")],
                         ids=["before", "keep-bias", "after"])
def test_the_plan_stores_whole_epochs_of_one_batch_exactly(cfg):
    """One batch an epoch (320 rows, batches of 320): the epochs are exactly what the stored numbers
    allow, for the network's own parameter count (its biases kept or not), inputs and outputs."""
    free = Budget(float("inf"), float("inf"), float("inf"))
    params = max(n_params(cfg.hidden, bn, cfg.keep_bias, cfg.bn_position, 2, 1) for bn in (True, False))
    numbers = 2 * params * 14 * 51 + 5                           # 51 numbers-worth: 50 epochs and the start
    assert sweep_plan(cfg, 320, free, numbers=numbers).epochs == _stored_epochs(numbers, cfg) == 50
    wide = 2 * n_params(cfg.hidden, True, cfg.keep_bias, cfg.bn_position, 64, 10) * 14 * 51 + 5
    assert sweep_plan(cfg, 320, free, numbers=wide, n_in=64, n_out=10).epochs == 50
    assert sweep_plan(cfg, 320, free, numbers=wide).epochs > 50            # the default 2 inputs, 1 output: smaller


def test_the_plan_prices_both_settings_at_every_value_against_the_time_budget():
    """Work for 2 x 14 trainings: a budget of exactly that keeps the epochs; a hair less cuts them."""
    cfg = Config(epochs=40)
    work = cost(cfg, 320, 2 * 14).priced_work
    exact = Budget(float("inf"), work, float("inf"))
    assert sweep_plan(cfg, 320, exact, numbers=10**12).epochs == 40
    short = Budget(float("inf"), work * (1 - 1e-9), float("inf"))
    assert sweep_plan(cfg, 320, short, numbers=10**12).epochs < 40


def test_seeds_that_fit_price_the_networks_own_inputs_outputs_and_biases():
    """A network of 64 inputs and 10 outputs, biases kept, stores more numbers a seed than the default."""
    for cfg, n_in, n_out in ((Config(epochs=2), 64, 10), (Config(epochs=2, keep_bias=True), 2, 1)):
        values = len(SWEEP_FIELDS["lr"])
        one = cost(cfg, 320, 2 * values, n_in, n_out=n_out)
        params = max(n_params(cfg.hidden, bn, cfg.keep_bias, cfg.bn_position, n_in, n_out) for bn in (True, False))
        stored = 2 * (one.updates + 1) * params * values
        free = Budget(float("inf"), float("inf"), float("inf"))
        assert seeds_that_fit(cfg, 320, "lr", free, numbers=3 * stored, n_in=n_in, n_out=n_out) == 3
        steps = one.updates * one.step_weight
        timed = Budget(2 * steps, 2 * one.priced_work / 0.5, float("inf"))
        assert seeds_that_fit(cfg, 320, "lr", timed, numbers=10**12, n_in=n_in, n_out=n_out) == 2


def test_a_plan_past_its_epochs_never_shrinks_the_data():
    """A sweep's data is what the page loaded: past MIN_EPOCHS the plan narrows the network, it never
    asks for fewer rows (data_size stays)."""
    cfg = Config(epochs=5)
    half = Budget(float("inf"), cost(cfg, 320, 2 * 14).priced_work * 0.5, float("inf"))
    plan = sweep_plan(cfg, 320, half, numbers=10**12)
    assert plan.data_size == cfg.data_size and plan.hidden != cfg.hidden


def test_seeds_that_fit_just_below_each_bound():
    """One number short of three seeds' memory fits two; a hair short of two seeds' time fits one;
    for a network of 64 inputs and 10 outputs and for one that keeps its biases."""
    free = Budget(float("inf"), float("inf"), float("inf"))
    for cfg, n_in, n_out in ((Config(epochs=2), 64, 10), (Config(epochs=2, keep_bias=True), 2, 1)):
        one = cost(cfg, 320, 28, n_in, n_out=n_out)
        params = max(n_params(cfg.hidden, bn, cfg.keep_bias, cfg.bn_position, n_in, n_out) for bn in (True, False))
        stored = 2 * (one.updates + 1) * params * 14
        assert seeds_that_fit(cfg, 320, "lr", free, numbers=3 * stored - 1, n_in=n_in, n_out=n_out) == 2
        steps = one.updates * one.step_weight
        short = Budget(2 * steps, 2 * one.priced_work / 0.5 * (1 - 1e-9), float("inf"))
        assert seeds_that_fit(cfg, 320, "lr", short, numbers=10**12, n_in=n_in, n_out=n_out) == 1


@pytest.mark.parametrize("n_in, n_out", [(64, 1), (2, 10)])
def test_the_plan_prices_the_networks_own_inputs_and_outputs(n_in, n_out):
    cfg = Config(epochs=40)
    work = cost(cfg, 320, 28, n_in, n_out=n_out).priced_work
    exact = Budget(float("inf"), work, float("inf"))
    assert sweep_plan(cfg, 320, exact, numbers=10**12, n_in=n_in, n_out=n_out).epochs == 40
    short = Budget(float("inf"), work * (1 - 1e-9), float("inf"))
    assert sweep_plan(cfg, 320, short, numbers=10**12, n_in=n_in, n_out=n_out).epochs < 40


def test_a_toy_sets_plan_keeps_its_data_size_too():
    cfg = Config(dataset="moons", epochs=5)
    half = Budget(float("inf"), cost(cfg, 320, 28).priced_work * 0.5, float("inf"))
    assert sweep_plan(cfg, 320, half, numbers=10**12).data_size == cfg.data_size
