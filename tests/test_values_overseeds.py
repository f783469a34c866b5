"""Trainings over seeds by value: each member is the single training its link opens, the kept ensembles
and their memory bound, and the learn bar on made-up data whose best straight boundary is known."""
from collections import OrderedDict

import numpy as np
import pytest

from bnviz import Config, load_dataset, train
from bnviz import overseeds
from bnviz.data import make_dataset
from bnviz.overseeds import dataset_for, datasets, learn_bar, learned, margin, over_seeds

TINY = Config(dataset="xor", data_size=40, hidden=(2,), epochs=2)


@pytest.fixture
def empty_keep(monkeypatch):
    """A fresh store of kept ensembles for one test."""
    monkeypatch.setattr(overseeds, "_kept", OrderedDict())
    return monkeypatch


# ------------------------------------------------------------------ the data of each seed


def test_each_seed_gets_the_split_a_link_with_that_seed_opens():
    cfg = Config(dataset="moons", data_size=60, data_noise=0.45, test_fraction=0.3, seed=4, lr=0.7, epochs=3)
    data = dataset_for(cfg)
    same = load_dataset("moons", seed=4, test_fraction=0.3, size=60, noise=0.45)
    for got, want in ((data.X_train, same.X_train), (data.y_train, same.y_train), (data.X_test, same.X_test),
                      (data.y_test, same.y_test)):
        np.testing.assert_array_equal(got, want)


def test_configs_that_differ_outside_the_data_share_one_data_set():
    a, b, c, d, e, f = datasets([TINY, TINY.replace(lr=3.0, hidden=(5, 5), bn=False), TINY.replace(seed=1),
                                 TINY.replace(data_noise=0.5), TINY.replace(test_fraction=0.3),
                                 TINY.replace(data_size=60)])
    assert a is b and all(a is not other for other in (c, d, e, f))
    for other, same in ((c, load_dataset("xor", seed=1, size=40)), (d, load_dataset("xor", size=40, noise=0.5)),
                        (e, load_dataset("xor", size=40, test_fraction=0.3)), (f, load_dataset("xor", size=60))):
        assert not np.array_equal(a.y_train, other.y_train) or not np.array_equal(a.X_train, other.X_train)
        np.testing.assert_array_equal(other.X_train, same.X_train)
        np.testing.assert_array_equal(other.y_train, same.y_train)


# ------------------------------------------------------------------ the members


def test_members_are_seed_first_then_values_each_the_single_training(empty_keep):
    ensemble, configs = over_seeds(TINY, [3, 1], lr=[0.1, 2])
    assert configs == [TINY.replace(seed=3, lr=0.1), TINY.replace(seed=3, lr=2.0),
                       TINY.replace(seed=1, lr=0.1), TINY.replace(seed=1, lr=2.0)]
    finals = ensemble.final_metrics()
    for m, cfg in enumerate(configs):
        run = train(cfg, load_dataset("xor", seed=cfg.seed, size=40))
        np.testing.assert_array_equal(ensemble.member(m).params[-1], run.params[-1])
        assert finals["train_acc_eval"][m] == run.epoch_metrics["train_acc_eval"][-1]


def test_an_init_scale_sweep_and_no_sweep(empty_keep):
    _, configs = over_seeds(TINY, (0, 2), init_scale=(0.5, 4))
    assert configs == [TINY.replace(init_scale=0.5), TINY.replace(init_scale=4.0),
                       TINY.replace(seed=2, init_scale=0.5), TINY.replace(seed=2, init_scale=4.0)]
    ensemble, configs = over_seeds(TINY, np.array([5, 6]))
    assert configs == [TINY.replace(seed=5), TINY.replace(seed=6)] and len(ensemble) == 2
    assert all(type(c.seed) is int for c in configs)


def test_two_swept_fields_are_refused():
    with pytest.raises(ValueError, match="^sweep one of lr, init_scale at a time$"):
        over_seeds(TINY, [0], lr=[0.1], init_scale=[1.0])


def test_a_stride_records_every_kth_step(empty_keep):
    """8 steps (4 a epoch) at stride 3: steps 0, 3 and 6 recorded, with their after-states, the epoch
    ends and the last state."""
    ensemble, _ = over_seeds(TINY, [0], stride=3)
    h = ensemble.history
    assert h.steps.tolist() == [0, 3, 6] and h.states.tolist() == [0, 1, 3, 4, 6, 7, 8]
    full, _ = over_seeds(TINY, [0])
    assert full.history.states.tolist() == list(range(9))
    np.testing.assert_array_equal(h.params[-1], full.history.params[-1])


# ------------------------------------------------------------------ the kept ensembles


def stored_bytes(ensemble):
    h = ensemble.history
    return h.params.nbytes + h.grads.nbytes + h.running.nbytes


def test_a_small_ensemble_is_kept_and_given_again(empty_keep):
    first, _ = over_seeds(TINY, [0, 1])
    assert over_seeds(TINY, [0, 1])[0] is first
    assert over_seeds(TINY, [0, 1], stride=2)[0] is not first           # another stride, another record
    assert over_seeds(TINY, [1, 0])[0] is not first                     # another order, other members


def test_an_ensemble_is_kept_up_to_an_eighth_of_the_store(empty_keep):
    size = stored_bytes(over_seeds(TINY, [0])[0])
    empty_keep.setattr(overseeds, "_kept", OrderedDict())
    empty_keep.setattr(overseeds, "KEEP_BYTES", 8 * size)
    at_bound, _ = over_seeds(TINY, [0])
    assert over_seeds(TINY, [0])[0] is at_bound
    empty_keep.setattr(overseeds, "_kept", OrderedDict())
    empty_keep.setattr(overseeds, "KEEP_BYTES", 8 * size - 1)
    over_bound, _ = over_seeds(TINY, [0])
    assert over_seeds(TINY, [0])[0] is not over_bound


def test_the_store_lets_go_of_the_least_recently_used_when_full(empty_keep):
    """Eight ensembles of one size fill the store exactly; a ninth pushes out the one used longest ago."""
    size = stored_bytes(over_seeds(TINY, [0])[0])
    empty_keep.setattr(overseeds, "_kept", OrderedDict())
    empty_keep.setattr(overseeds, "KEEP_BYTES", 8 * size)
    kept = [over_seeds(TINY, [s])[0] for s in range(8)]
    assert all(stored_bytes(e) == size for e in kept)
    assert all(over_seeds(TINY, [s])[0] is kept[s] for s in (1, 2, 3, 4, 5, 6, 7, 0))    # 1 is now the oldest
    over_seeds(TINY, [8])
    assert over_seeds(TINY, [0])[0] is kept[0]
    assert over_seeds(TINY, [1])[0] is not kept[1]


# ------------------------------------------------------------------ the learn bar


def two_clusters(wrong_ones=2, wrong_zeros=0):
    """Class 0 around (-2, -2), class 1 around (2, 2), 20 rows each, and class-1 rows put deep among the
    zeros (and class-0 rows among the ones): any sensible straight boundary gets exactly those wrong."""
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 0.3, (20, 2)), rng.normal(2, 0.3, (20, 2)), np.full((wrong_ones, 2), -2.5),
              np.full((wrong_zeros, 2), 2.5)] * [1.0, 100.0]               # the second feature in other units
    y = np.r_[np.zeros(20), np.ones(20), np.ones(wrong_ones), np.zeros(wrong_zeros)]
    return make_dataset("made up", X, y, ("a", "b"), test_fraction=0.0)


@pytest.mark.parametrize("ones, zeros", [(2, 0), (0, 3), (1, 1)])
def test_the_bar_is_halfway_from_chance_to_a_straight_boundary(ones, zeros):
    data = two_clusters(ones, zeros)
    n = 40 + ones + zeros
    share_of_ones = (20 + ones) / n
    chance = max(share_of_ones, 1 - share_of_ones)
    logistic = (n - ones - zeros) / n
    assert learn_bar(data) == pytest.approx((chance + logistic) / 2, abs=1e-15)


def test_the_bar_of_three_classes():
    """Three clusters of 10, 12 and 8 rows, one row of class 2 deep in class 0: chance 12 / 31, the
    softmax regression 30 / 31."""
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal((0, 4), 0.3, (10, 2)), rng.normal((4, -2), 0.3, (12, 2)), rng.normal((-4, -2), 0.3, (8, 2)),
              [[0.0, 4.2]]]
    y = np.r_[np.zeros(10), np.ones(12), np.full(9, 2.0)]
    data = make_dataset("three", X, y, ("a", "b"), test_fraction=0.0, label_values=(0, 1, 2))
    assert learn_bar(data) == pytest.approx((12 / 31 + 30 / 31) / 2, abs=1e-15)


def test_a_boundary_worse_than_chance_counts_as_chance():
    """Class 1 in the middle, class 0 on both sides: no straight boundary beats always answering 0
    (two thirds), so the bar is chance itself."""
    X = np.c_[np.r_[-np.arange(1.0, 11.0), np.arange(1.0, 11.0), np.linspace(-0.5, 0.5, 10)], np.zeros(30)]
    y = np.r_[np.zeros(20), np.ones(10)]
    data = make_dataset("middle", X, y, ("a", "b"), test_fraction=0.0)
    assert learn_bar(data) == pytest.approx(2 / 3, abs=1e-15)


def test_learned_at_the_bar_and_margin_over_it():
    """Each member against its own split's bar: at it (and up to 1e-12 below it) learned, further below
    not; NaN never learned and a margin of -1 minus the bar."""
    configs = [TINY, TINY.replace(seed=1), TINY, TINY.replace(seed=1), TINY, TINY.replace(lr=2.0),
               TINY.replace(seed=1)]
    bars = [learn_bar(datasets([c])[0]) for c in configs]
    assert bars[0] != bars[1]
    accuracy = np.array([bars[0], bars[1] - 0.9e-12, bars[2] - 1.1e-12, np.nan, 1.0, bars[5] + 0.25,
                         bars[6] - 1e-11])
    assert learned(accuracy, configs).tolist() == [True, True, False, False, True, True, False]
    assert learned([bars[0] - 2.0], configs[:1]).tolist() == [False]
    expected = [(-1.0 if a != a else a) - bar for a, bar in zip(accuracy, bars)]
    np.testing.assert_array_equal(margin(accuracy, configs), expected)
    assert expected[0] == 0.0 and expected[3] == -1.0 - bars[3]


def plain_logistic_accuracy(X, y, iterations=30, ridge=1e-6):
    """Newton's method on the standardized features with an intercept, one row at a time."""
    mean = [sum(col) / len(col) for col in X.T]
    std = [max((sum((v - m) ** 2 for v in col) / len(col)) ** 0.5, 0.0) or 1.0 for col, m in zip(X.T, mean)]
    Z = np.array([[1.0] + [(v - m) / s for v, m, s in zip(row, mean, std)] for row in X])
    w = np.zeros(Z.shape[1])
    for _ in range(iterations):
        grad, hess = ridge * w, ridge * np.eye(len(w))
        for z, t in zip(Z, y):
            p = 1 / (1 + np.exp(-(z @ w)))
            grad = grad + (p - t) * z / len(y)
            hess = hess + p * (1 - p) * np.outer(z, z) / len(y)
        w = w - np.linalg.solve(hess, grad)
    return sum((z @ w > 0) == (t == 1) for z, t in zip(Z, y)) / len(y)


def test_the_straight_boundary_on_overlapping_classes_and_a_constant_feature():
    """Two overlapping clouds in other units and away from 0, a third feature that never changes: the bar
    rests on where the fitted boundary falls among many overlapping rows (plain Newton's method, the
    constant feature left as 0)."""
    rng = np.random.default_rng(3)
    X = np.c_[np.r_[rng.normal(0, 1, (90, 2)), rng.normal(0.4, 1, (60, 2))] * [1.0, 50.0] + [10.0, -300.0],
              np.full(150, 7.0)]
    y = np.r_[np.zeros(90), np.ones(60)]
    data = make_dataset("overlap", X, y, ("a", "b", "c"), test_fraction=0.0)
    logistic = plain_logistic_accuracy(X, y)
    assert 0.6 < logistic < 1.0
    assert learn_bar(data) == pytest.approx((0.6 + logistic) / 2, abs=1e-15)


def plain_softmax_accuracy(X, y, classes, iterations=300, lr=1.0, ridge=1e-4):
    """Full-batch gradient descent on the cross-entropy of a softmax regression (standardized features,
    intercepts), each row's softmax written out."""
    mean, std = X.mean(axis=0), X.std(axis=0)
    Z = np.c_[np.ones(len(X)), (X - mean) / np.where(std > 0, std, 1.0)]
    W = np.zeros((Z.shape[1], classes))
    for _ in range(iterations):
        grad = ridge * W
        for z, t in zip(Z, y):
            e = np.exp(z @ W - max(z @ W))
            grad = grad + np.outer(z, e / e.sum() - (np.arange(classes) == t)) / len(y)
        W = W - lr * grad
    return sum(int(np.argmax(z @ W)) == t for z, t in zip(Z, y)) / len(y)


def test_the_softmax_boundary_on_overlapping_classes_and_a_constant_feature():
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal((0, 1), 1, (40, 2)), rng.normal((1, -1), 1, (35, 2)), rng.normal((-1, -1), 1, (30, 2))]
    X = np.c_[X * [1.0, 50.0] + [10.0, -300.0], np.full(105, -2.0)]
    y = np.r_[np.zeros(40), np.ones(35), np.full(30, 2.0)]
    data = make_dataset("three", X, y, ("a", "b", "c"), test_fraction=0.0, label_values=(0, 1, 2))
    softmax = plain_softmax_accuracy(X, y, 3)
    assert 40 / 105 < softmax < 1.0
    assert learn_bar(data) == pytest.approx((40 / 105 + softmax) / 2, abs=1e-15)


def overlapping(n=300):
    """Two correlated features in other units and a noisy label, most rows near the boundary: any change
    in the fit's direction moves some."""
    rng = np.random.default_rng(0)
    A = rng.normal(0, 1, (n, 2))
    A[:, 1] = A[:, 0] + 0.3 * A[:, 1]
    y = (A @ [1.0, -0.5] + rng.normal(0, 0.7, n) > 0).astype(float)
    return A * [2.0, 0.01], y


@pytest.mark.parametrize("iterations", [1, 2, 3, 30])
def test_each_newton_step_of_the_straight_boundary(iterations):
    """The reference after a few of its steps, on rows that crowd the boundary: each step's Hessian and
    gradient, not only where they end."""
    X, y = overlapping()
    assert overseeds._logistic_accuracy(X, y, iterations) == plain_logistic_accuracy(X, y, iterations)


@pytest.mark.parametrize("iterations, lr", [(1, 1.0), (3, 1.0), (3, 2.0), (300, 1.0)])
def test_each_step_of_the_softmax_boundary(iterations, lr):
    """Three overlapping classes, the informative feature in small units (std 0.03): standardized, it
    is learned at once; left as it is, hardly at all."""
    rng = np.random.default_rng(6)
    X = np.r_[rng.normal((0, 1), 1, (60, 2)), rng.normal((1, -1), 1, (50, 2)), rng.normal((-1, -1), 1, (40, 2))]
    X = X * [0.03, 0.03] + [0.5, -0.2]
    y = np.r_[np.zeros(60), np.ones(50), np.full(40, 2.0)]
    want = plain_softmax_accuracy(X, y, 3, iterations, lr)
    assert overseeds._softmax_accuracy(X, y, 3, iterations, lr) == want
    assert overseeds._softmax_accuracy(X, y, 3, iterations, lr) > 0.5


def test_the_bar_of_the_digits():
    """Ten classes of 1,438 training rows: the softmax regression's 300 steps at rate 1, written with whole
    matrices (a row-by-row loop would take minutes); a rate of 2 would classify one more row."""
    data = dataset_for(Config(dataset="digits"))
    X, y = data.X_train, data.y_train.astype(int)
    std = X.std(axis=0)
    Z = np.c_[np.ones(len(X)), (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)]
    target = np.eye(10)[y]
    W = np.zeros((Z.shape[1], 10))
    for _ in range(300):
        e = np.exp(Z @ W - (Z @ W).max(axis=1, keepdims=True))
        W = W - (Z.T @ (e / e.sum(axis=1, keepdims=True) - target) / len(y) + 1e-4 * W)
    softmax = np.mean((Z @ W).argmax(axis=1) == y)
    chance = np.bincount(y).max() / len(y)
    assert overseeds._softmax_accuracy(data.X_train, data.y_train, 10) == softmax
    assert learn_bar(data) == pytest.approx((chance + softmax) / 2, abs=1e-15)
    assert 0.99 < softmax < 1.0
