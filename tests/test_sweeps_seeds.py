"""Sweeps over seeds: each point a single training, the chart's median and range recomputed by hand."""
import numpy as np
import pytest

from bnviz import Config, train
from bnviz import figures as F
from bnviz.budget import Budget
from bnviz.sweeps import SWEEP_FIELDS, SWEEP_SEEDS, batch_size_summary, seeds_that_fit, sweep


@pytest.fixture(scope="module")
def swept(data):
    return sweep(Config(epochs=2, seed=3), data, "lr", [0.01, 0.5, 40.0], n_seeds=3)


def test_each_cell_is_the_training_of_that_seed_and_value(swept, data):
    assert swept.seeds == (3, 4, 5) and swept.per_seed[True]["test_acc_eval"].shape == (3, 3)
    for r, seed in enumerate([3, 4, 5]):
        for v, lr in enumerate([0.01, 0.5]):
            run = train(Config(epochs=2, seed=seed, lr=lr, bn=False), data)
            assert np.isnan(swept.per_seed[False]["test_acc_eval"][r, v]) == (run.diverged_at is not None)
            assert swept.per_seed[False]["test_acc_eval"][r, v] == run.epoch_metrics["test_acc_eval"][-1]


def slow_summary(column):
    finite = sorted(x for x in column if x == x)
    if not finite:
        return float("nan"), float("nan"), float("nan"), 0
    n = len(finite)
    median = finite[n // 2] if n % 2 else (finite[n // 2 - 1] + finite[n // 2]) / 2
    return median, finite[0], finite[-1], n


def test_chart_draws_median_and_range_over_seeds(swept):
    fig = F.sweep_figure(swept)
    for bn, name in ((True, "BN on"), (False, "BN off")):
        for key, axis in (("test_acc_eval", "x"), ("train_loss_eval", "x2")):
            values = swept.per_seed[bn][key]
            expected = [slow_summary(values[:, v]) for v in range(values.shape[1])]
            median = [t for t in fig.data if t.name == f"{name}: median" and t.xaxis == axis][0]
            band = [t for t in fig.data if t.name.startswith(f"{name}: range") and t.xaxis == axis][0]
            np.testing.assert_array_equal(median.x, swept.values)
            np.testing.assert_allclose(median.y, [e[0] for e in expected], equal_nan=True)
            high, low = np.asarray(band.y[:3], float), np.asarray(band.y[3:][::-1], float)
            np.testing.assert_allclose(low, [e[1] for e in expected], equal_nan=True)
            np.testing.assert_allclose(high, [e[2] for e in expected], equal_nan=True)
            np.testing.assert_array_equal(np.asarray(median.customdata)[:, 2].astype(float), [e[3] for e in expected])


def test_seeds_fit_the_time_and_memory_budget():
    cfg = Config()
    stored = 2 * (cfg.epochs * 32 + 1) * 25 * len(SWEEP_FIELDS["lr"])       # 320 rows, batches of 10; 25 parameters
    roomy = Budget(1e9, 1e15, 1e12)
    assert seeds_that_fit(cfg, 320, "lr", roomy, numbers=3 * stored) == 3
    assert seeds_that_fit(cfg, 320, "lr", roomy, numbers=stored - 1) == 1    # never fewer than one
    work = 50 * 320 * 25 * 28                                                 # one seed: 28 trainings
    slow = Budget(1e9, 4 * work / (1 - 1600 / 1e9), 1e12)
    assert seeds_that_fit(cfg, 320, "lr", slow) == 4
    assert seeds_that_fit(cfg, 320, "lr", Budget().times(3)) == SWEEP_SEEDS
    big = Config(hidden=(16,) * 8, epochs=500, batch_size=1)
    assert seeds_that_fit(big, 320, "lr", Budget().times(3)) == 1


def test_sweep_plan_keeps_the_experiment_when_it_fits():
    from bnviz.sweeps import sweep_plan

    assert sweep_plan(Config(), 320, Budget().times(3)) == Config()
    big = sweep_plan(Config(hidden=(16,) * 8, epochs=500, batch_size=1), 320, Budget().times(3))
    assert big.hidden == (16,) * 8 and big.epochs < 500          # fewer epochs, the same network
    params = 8 * 16 * 2 + 16 * 2 + 7 * 16 * 16 + 16 + 1
    assert 2 * (big.epochs * 320 + 1) * params * 14 <= 16_000_000 or big.epochs == 1


def test_batch_size_chart_draws_median_and_range_of_each_measure():
    rng = np.random.default_rng(1)
    sizes = np.array([2, 4, 8, 256])
    noise = {"batch_sizes": sizes, "mu_spread": rng.uniform(0.01, 1, (5, 4)),
             "mode_gap": rng.normal(0, 0.1, (5, 4)), "acc_gap": {True: rng.normal(0, 0.05, (5, 4)),
                                                                 False: rng.normal(0, 0.05, (5, 4))},
             "epochs": 10, "train_rows": 256}
    noise["acc_gap"][False][2, 1] = np.nan                                      # a seed that diverged
    fig = F.batch_size_figure(batch_size_summary(noise))
    drawn = [(t.xaxis, t.name, t) for t in fig.data if t.name.endswith("median")]
    expected = [("x", "BN on: median", noise["mu_spread"]), ("x2", "BN on: median", noise["mode_gap"]),
                ("x3", "BN on: median", noise["acc_gap"][True]), ("x3", "BN off: median", noise["acc_gap"][False])]
    assert [(a, n) for a, n, _ in drawn] == [(a, n) for a, n, _ in expected]
    for (_, _, trace), (_, _, values) in zip(drawn, expected):
        np.testing.assert_array_equal(trace.x, sizes)
        slow = [slow_summary(values[:, j]) for j in range(4)]
        np.testing.assert_allclose(trace.y, [m for m, _, _, _ in slow])
        np.testing.assert_allclose(np.asarray(trace.customdata)[:, :2].astype(float),
                                   [[lo, hi] for _, lo, hi, _ in slow])
    assert np.asarray(drawn[3][2].customdata)[1, 2] == 4                        # 4 of 5 seeds finished there


def test_a_deeper_networks_updates_weigh_more_in_a_sweeps_seed_count():
    """Updates are priced with their weight (1 + DEPTH_COST per hidden layer past two): a budget of 1.5
    times the updates takes every seed of a two-layer sweep and only one of an eight-layer one."""
    from bnviz.budget import Budget, cost
    from bnviz.sweeps import SWEEP_FIELDS, SWEEP_SEEDS, seeds_that_fit

    for hidden, want in (((3, 2), SWEEP_SEEDS), ((8,) * 8, 1)):
        cfg = Config(hidden=hidden, epochs=2)
        updates = cost(cfg, 320, 2 * len(SWEEP_FIELDS["lr"])).updates
        budget = Budget(1.5 * updates, float("inf"), float("inf"))
        assert seeds_that_fit(cfg, 320, "lr", budget, numbers=10**12) == want, hidden
