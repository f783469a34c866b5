"""Each lesson's sentence and numbers by value, from made-up measurements.

The measurements a lesson trains for (bnviz.measures) are replaced by small made-up arrays, so every
median and count in the sentence can be worked out by hand; the expected sentences are written out
in full, and each number is recomputed here from the raw arrays."""
from types import SimpleNamespace

import numpy as np
import pytest

from bnviz import Config, lessons, measures

T, F = True, False


def fake(monkeypatch, name, out, seen=None):
    """Replace measures.<name> by a function that records its arguments and returns `out`."""
    def made_up(*args, **kwargs):
        if seen is not None:
            seen.append((args, kwargs))
        return out
    monkeypatch.setattr(measures, name, made_up)


def median(values):
    return float(np.median(np.asarray(values, dtype=float)))


# ------------------------------------------------------------------ claim 1


def test_input_scaling(monkeypatch):
    raw, std = np.array([40.0, 20.0, 8.0, 30.0]), np.array([2.0, 10.0, 4.0, 1.5])
    lr_raw, lr_std = np.array([0.05, 0.1, 0.2, 0.02]), np.array([1.0, 0.1, 0.3, 4.0])
    seen = []
    fake(monkeypatch, "input_scaling", {"elongation_raw": raw, "elongation_std": std, "lr_limit_raw": lr_raw,
                                        "lr_limit_std": lr_std}, seen)
    v = lessons._input_scaling([0, 1, 2, 3], Config(lr=0.5))
    assert seen == [(([0, 1, 2, 3], Config(lr=0.5)), {})]
    # rounder: 20, 2 (exactly twice), 2, 20; larger: 20, 1 (tied), 1.5 (below), 200
    assert v.parts[0].values.tolist() == np.log2(raw / std).tolist()
    assert v.parts[1].values.tolist() == np.log2(lr_std / lr_raw).tolist()
    assert (v.parts[0].count, v.parts[1].count) == (4, 2)
    assert v.numbers == {"seeds": 4, "elongation_raw": 25.0, "elongation_std": 3.0, "lr_limit_raw": median(lr_raw),
                         "lr_limit_std": 0.65, "seeds_rounder": 4, "seeds_larger": 2}
    assert v.status == "partly"
    assert v.sentence == (
        "A logistic unit's loss valley is 25× longer than wide on raw features and 3× on standardized ones (medians "
        "over 4 seeds; at least twice rounder in all 4 seeds); gradient descent stays stable up to lr 0.075 raw and "
        "0.65 standardized (at least twice larger in half the 4 seeds). Not shown: gradient descent may take larger "
        "steps in only half the 4 seeds.")
    assert list(v.spread) == ["raw", "standardized"]
    assert v.spread["raw"].tolist() == lr_raw.tolist() and v.spread["standardized"].tolist() == lr_std.tolist()
    assert v.spread_label == "largest stable learning rate (2 / curvature)" and v.spread_log
    assert v.parts[0].name == "The valley is rounder on standardized inputs"
    assert v.parts[0].effect == "log2 of the raw over the standardized elongation"
    assert v.parts[1].name == "Gradient descent may take larger steps"
    assert v.parts[1].effect == "log2 of the largest stable rate, standardized over raw"
    assert (v.parts[0].threshold, v.parts[1].threshold) == (1.0, 1.0)


def test_input_scaling_on_the_one_seed(monkeypatch):
    fake(monkeypatch, "input_scaling", {"elongation_raw": np.array([9.0]), "elongation_std": np.array([1.5]),
                                        "lr_limit_raw": np.array([0.1]), "lr_limit_std": np.array([0.4])})
    v = lessons._input_scaling([7], Config())
    assert v.status == "holds"
    assert v.sentence.startswith("A logistic unit's loss valley is 9× longer than wide on raw features and 1.5× on "
                                 "standardized ones (medians over the one seed; at least twice rounder in the one "
                                 "seed);")


# ------------------------------------------------------------------ claim 2

GRID = measures.LESSON_LR_GRID       # 0.25 ... 16, one rate per doubling


def higher_lr_measures(best_on, best_off, epochs_on, epochs_off, learned_on=None, learned_off=None):
    n = len(best_on)
    learned_on = np.zeros((n, len(GRID)), bool) if learned_on is None else learned_on
    learned_off = np.zeros((n, len(GRID)), bool) if learned_off is None else learned_off
    sweep = {"grid": GRID, "learned": {T: learned_on, F: learned_off},
             "best_lr": {T: np.array(best_on, float), F: np.array(best_off, float)},
             "acc": {T: np.full((n, len(GRID)), 0.9), F: np.full((n, len(GRID)), 0.4)}}
    speed = {"epochs": {T: np.array(epochs_on, float), F: np.array(epochs_off, float)}, "lr": 0.1}
    return sweep, speed


def test_higher_lr(monkeypatch):
    learned_on = np.array([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0, 0]],
                          bool)
    learned_off = np.array([[1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0], [0] * 7, [1, 1, 1, 1, 0, 0, 0]], bool)
    best_on, best_off = [4.0, 2.0, 8.0, 1.0], [1.0, 0.5, 0.0, 2.0]
    sweep, speed = higher_lr_measures(best_on, best_off, [2.0, 3.0, 4.0, np.nan], [4.0, 3.0, np.nan, 5.0],
                                      learned_on, learned_off)
    seen_sweep, seen_speed = [], []
    fake(monkeypatch, "learning_rate_sweep", sweep, seen_sweep)
    fake(monkeypatch, "epochs_to_learn", speed, seen_speed)
    base = Config(lr=2.0, epochs=30)
    v = lessons._higher_lr([0, 1, 2, 3], base)
    assert seen_sweep == [(([0, 1, 2, 3], base, measures.LESSON_LR_GRID), {})]
    assert seen_speed == [(([0, 1, 2, 3], Config(lr=0.1, epochs=30)), {})]
    # a seed whose plain net learns at no rate counts as learning at half the grid's smallest rate (0.125)
    assert v.parts[0].values.tolist() == [2.0, 2.0, np.log2(8.0 / 0.125), -1.0]
    # a network that never learns counts as 31 epochs, one past the run
    assert v.parts[1].values.tolist() == [1.0, 0.0, np.log2(31.0 / 4.0), np.log2(5.0 / 31.0)]
    assert v.numbers == {"seeds": 4, "probe_lr": 2.0, "learn_at_probe_bn": 3, "learn_at_probe_plain": 1,
                         "median_best_lr_bn": 3.0, "median_best_lr_plain": 0.75, "ratio": 4.0, "seeds_bn_higher": 3,
                         "speed_lr": 0.1, "epochs_bn": 3.5, "epochs_plain": 4.5, "seeds_faster": 2, "never_epochs": 31}
    assert v.status == "partly"
    assert v.sentence == (
        "At lr 2, BN learns in 3 of 4 seeds and the plain network in 1 of 4. The largest rate that still learns is "
        "median 3 with BN and 0.75 without (median 4× per seed; at least twice as high in 3 of 4 seeds). At lr 0.1 BN "
        "learns after 3.5 epochs and the plain network after 4.5 (medians; 31 means not within the run), at least "
        "1.4× sooner in half the 4 seeds. Not shown: BN allows a higher learning rate in only 3 of 4 seeds; BN "
        "learns faster in only half the 4 seeds.")
    assert v.spread["BN on"].tolist() == best_on and v.spread["BN off"].tolist() == best_off
    assert v.spread_label == "largest learning rate that still learns" and v.spread_log
    assert list(v.detail) == ["lr", "learned BN on", "learned BN off", "accuracy BN on", "accuracy BN off"]
    assert v.detail["lr"] is GRID and v.detail["learned BN on"] is learned_on
    assert v.detail["learned BN off"] is learned_off
    assert v.detail["accuracy BN on"] is sweep["acc"][T] and v.detail["accuracy BN off"] is sweep["acc"][F]
    assert v.parts[0].effect == "doublings of the largest rate that learns, BN over plain"
    assert v.parts[1].effect == "log2 of the plain net's epochs to learn over BN's, at lr 0.1"
    assert (v.parts[0].threshold, v.parts[1].threshold) == (1.0, 0.5)


@pytest.mark.parametrize("lr, probe, column", [(0.3, 0.25, 0), (0.4, 0.5, 1), (16.0, 16.0, 6), (100.0, 16.0, 6)])
def test_higher_lr_counts_learners_at_the_grid_rate_nearest_the_links(monkeypatch, lr, probe, column):
    learned_on = np.zeros((3, len(GRID)), bool)
    learned_on[:, column] = [True, True, False]
    learned_off = np.zeros((3, len(GRID)), bool)
    learned_off[0, column] = True
    sweep, speed = higher_lr_measures([1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1], learned_on, learned_off)
    fake(monkeypatch, "learning_rate_sweep", sweep)
    fake(monkeypatch, "epochs_to_learn", speed)
    v = lessons._higher_lr([0, 1, 2], Config(lr=lr, epochs=9))
    assert (v.numbers["probe_lr"], v.numbers["learn_at_probe_bn"], v.numbers["learn_at_probe_plain"]) == (probe, 2, 1)
    assert v.numbers["never_epochs"] == 10
    assert v.sentence.startswith(f"At lr {probe:g}, BN learns in 2 of 3 seeds and the plain network in 1 of 3.")


# ------------------------------------------------------------------ claim 3


def test_init_scale(monkeypatch):
    grid = measures.INIT_GRID
    on = np.array([[0, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 0, 0]], bool)
    off = np.array([[0, 0, 1, 1, 0, 0, 0], [0, 1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 0, 0]], bool)
    seen = []
    fake(monkeypatch, "init_scale_sweep", {"grid": grid, "learned": {T: on, F: off}, "acc": {T: 0.9 * on, F: 0.8 * off}},
         seen)
    v = lessons._init_scale([0, 1, 2], Config(epochs=30))
    assert seen == [(([0, 1, 2], Config(epochs=30)), {})]
    assert v.parts[0].values.tolist() == [2.0, 2.0, 0.0]       # 4 - 2, 6 - 4, 3 - 3
    assert v.numbers == {"seeds": 3, "scales": 7, "scale_low": 0.001, "scale_high": 1000.0, "median_scales_bn": 4.0,
                         "median_scales_plain": 3.0, "seeds_bn_wider": 2,
                         "bn_fails_at": "scale 0.001 in 2 of 3; scale 0.01 in 1 of 3; scale 100 in 2 of 3; "
                                        "scale 1,000 in all 3"}
    assert v.status == "partly"
    assert v.sentence == (
        "Of 7 init scales from 0.001 to 1,000, BN learns at a median of 4 and the plain network at 3 (at least one "
        "more with BN in 2 of 3 seeds). BN too fails at scale 0.001 in 2 of 3; scale 0.01 in 1 of 3; scale 100 in 2 "
        "of 3; scale 1,000 in all 3 seeds. Not shown: BN learns from more init scales in only 2 of 3 seeds.")
    assert v.spread["BN on"].tolist() == [4, 6, 3] and v.spread["BN off"].tolist() == [2, 4, 3]
    assert v.spread_label == "init scales (of the sweep) that learn" and not v.spread_log
    assert list(v.detail) == ["init_scale", "learned BN on", "learned BN off", "accuracy BN on", "accuracy BN off"]
    assert v.detail["learned BN on"] is on and v.detail["learned BN off"] is off
    assert v.detail["accuracy BN on"].tolist() == (0.9 * on).tolist()
    assert v.detail["accuracy BN off"].tolist() == (0.8 * off).tolist()
    assert v.parts[0].effect == "init scales (decades) that learn, BN minus plain" and v.parts[0].threshold == 1.0


def test_init_scale_where_bn_learns_everywhere_says_no_more(monkeypatch):
    grid = np.array([0.1, 1.0, 10.0])
    on = np.ones((2, 3), bool)
    off = np.array([[0, 1, 0], [0, 1, 1]], bool)
    fake(monkeypatch, "init_scale_sweep", {"grid": grid, "learned": {T: on, F: off}, "acc": {T: on, F: off}})
    v = lessons._init_scale([0, 1], Config())
    assert v.numbers["bn_fails_at"] == "none"
    assert v.status == "holds"
    assert v.sentence == ("Of 3 init scales from 0.1 to 10, BN learns at a median of 3 and the plain network at 1.5 "
                          "(at least one more with BN in all 2 seeds).")


# ------------------------------------------------------------------ claim 4


def batch_noise_measures():
    return {"batch_sizes": np.array([4, 64]),
            "mu_spread": np.array([[0.4, 0.1], [0.3, 0.15], [0.2, 0.2], [0.5, 0.0]]),
            "theory": np.array([0.45, 0.11]),
            "mode_gap": np.array([[0.1, 0.01], [0.2, 0.02], [0.3, 0.03], [0.4, 0.04]]),
            "acc_gap": {T: np.array([[0.05, 0.0], [-0.1, 0.0], [0.0, 0.0], [0.2, 0.0]]),
                        F: np.array([[0.1, 0.0], [0.1, 0.0], [0.05, 0.0], [0.1, 0.0]])},
            "test_acc": {T: np.full((4, 2), 0.8), F: np.full((4, 2), 0.7)}, "test_rows": 20, "epochs": 10}


def rows_of(monkeypatch, rows, seen=None):
    def dataset_for(cfg):
        if seen is not None:
            seen.append(cfg)
        return SimpleNamespace(y_train=np.zeros(rows))
    monkeypatch.setattr(measures, "dataset_for", dataset_for)


def test_batch_noise(monkeypatch):
    m = batch_noise_measures()
    seen_data, seen = [], []
    rows_of(monkeypatch, 320, seen_data)
    fake(monkeypatch, "batch_noise", m, seen)
    base = Config(batch_size=4, epochs=10, dataset="xor", test_fraction=0.5)
    v = lessons._batch_noise([3, 4, 5, 6], base)
    assert [(c.dataset, c.seed, c.test_fraction) for c in seen_data] == [("xor", 3, 0.5)]
    assert seen == [(([3, 4, 5, 6],), {"sizes": (4, 64), "epochs": 10, "base": base})]
    spread, on, off = m["mu_spread"], m["acc_gap"][T][:, 0], m["acc_gap"][F][:, 0]
    assert v.parts[0].values[:3].tolist() == np.log2(spread[:3, 0] / spread[:3, 1]).tolist()
    assert v.parts[0].values[3] == np.log2(0.5 / 1e-12)           # a batch mean that never wanders
    assert v.parts[1].values.tolist() == [0.05, 0.0, 0.05, -0.1]
    assert v.parts[1].threshold == 1 / 20
    assert v.numbers == {"seeds": 4, "small_batch": 4, "large_batch": 64, "epochs": 10, "mu_spread_small": 0.35,
                         "mu_spread_large": 0.125, "theory_small": 0.45, "theory_large": 0.11, "loss_gap_small": 0.25,
                         "loss_gap_large": 0.025, "seeds_noisier": 3, "acc_gap_bn": 0.025, "acc_gap_plain": 0.1,
                         "abs_gap_bn": median(np.abs(on)), "abs_gap_plain": 0.1, "seeds_regularized": 2,
                         "test_rows": 20}
    assert v.status == "partly"
    assert v.sentence == (
        "After 10 epochs the first BN layer's batch mean wanders by 0.35 of the full-data spread with batches of 4 "
        "and 0.125 with batches of 64 (random sampling predicts 0.45 and 0.11; at least twice as much in 3 of 4 "
        "seeds). Train minus test accuracy at batches of 4: 0.025 with BN and 0.1 without (medians; its size smaller "
        "with BN by a test row or more in half the 4 seeds). Not shown: small batches make BN's statistics noisier in "
        "only 3 of 4 seeds; BN narrows the train/test gap in only half the 4 seeds.")
    assert v.spread["BN on"].tolist() == on.tolist() and v.spread["BN off"].tolist() == off.tolist()
    assert v.spread_label == "train minus test accuracy, batches of 4" and v.spread_bounds == (-1.0, 1.0)
    assert list(v.detail) == ["batch_size", "mu_spread", "mu_spread_theory", "minibatch_minus_full_loss",
                              "acc_gap BN on", "acc_gap BN off", "test_acc BN on", "test_acc BN off"]
    for key, value in (("batch_size", m["batch_sizes"]), ("mu_spread", spread), ("mu_spread_theory", m["theory"]),
                       ("minibatch_minus_full_loss", m["mode_gap"]), ("acc_gap BN on", m["acc_gap"][T]),
                       ("acc_gap BN off", m["acc_gap"][F]), ("test_acc BN on", m["test_acc"][T]),
                       ("test_acc BN off", m["test_acc"][F])):
        assert v.detail[key] is value
    assert v.parts[0].effect == "log2 of the batch mean's wandering, batches of 4 over 64"
    assert v.parts[1].effect == "|train − test accuracy| without BN minus with BN, batches of 4"


@pytest.mark.parametrize("batch, rows, small, large", [
    (4, 320, 4, 64),          # the large batch is LARGE_BATCH
    (32, 320, 32, 128),       # four times the small batch
    (4, 100, 4, 50),          # but below half the training rows
    (500, 100, 100, 50),      # a batch past the rows is the whole set
    (4, 101, 4, 50),          # half of an odd count of rows is a whole number
])
def test_batch_noise_picks_its_two_batch_sizes(monkeypatch, batch, rows, small, large):
    seen = []
    rows_of(monkeypatch, rows)
    fake(monkeypatch, "batch_noise", batch_noise_measures(), seen)
    v = lessons._batch_noise([0, 1, 2, 3], Config(batch_size=batch))
    assert seen[0][1]["sizes"] == (small, large)
    assert (v.numbers["small_batch"], v.numbers["large_batch"]) == (small, large)
    assert type(v.numbers["small_batch"]) is int and type(v.numbers["large_batch"]) is int


# ------------------------------------------------------------------ claims 5 and 6


def test_bias(monkeypatch):
    shift = np.array([[0.5, 0.2, 0.01], [0.3, 0.1, 0.02], [0.4, 0.3, 0.03]])
    seen = []
    fake(monkeypatch, "bias_before_bn", {"grad_ratio": np.array([1e-13, 1e-12, 1e-11]),
                                         "train_output_diff": np.array([0.0, 1e-14, 2e-16]),
                                         "loss_path_diff": np.zeros(3), "eval_shift": shift, "bias_init": 1.0}, seen)
    v = lessons._bias([0, 1, 2], Config(keep_bias=True))
    assert seen == [(([0, 1, 2], Config(keep_bias=True)), {})]
    assert v.parts[0].values.tolist() == [13.0, 12.0, 11.0]
    assert v.parts[1].values.tolist() == [300.0, 14.0, -np.log10(2e-16)]     # an exact zero: 300 decades
    assert v.numbers == {"seeds": 3, "max_grad_ratio": 1e-11, "max_train_output_diff": 1e-14, "bias_init": 1.0,
                         "eval_shift_first": 0.4, "eval_shift_last": 0.02}
    assert v.status == "partly"
    assert v.sentence == (
        "The bias in front of BN gets a computed gradient at most 1.0e-11 of the weights' gradient, and starting it "
        "at 1 changes training-mode outputs by at most 1.0e-14 (zero up to rounding in 2 of 3 seeds and in all 3 "
        "seeds). In evaluation mode the outputs move by 0.4 after the first epoch and 0.02 at the end, as the running "
        "mean catches up (medians). Not shown: the bias gets no gradient in only 2 of 3 seeds.")
    assert list(v.spread) == ["bias gradient / weight gradient"]
    assert v.spread["bias gradient / weight gradient"].tolist() == [1e-13, 1e-12, 1e-11]
    assert v.spread_label == "largest bias gradient relative to the weights'" and v.spread_log
    assert list(v.detail) == ["eval_shift_by_epoch", "loss_path_diff"] and v.detail["eval_shift_by_epoch"] is shift
    assert v.parts[0].name == "The bias gets no gradient"
    assert v.parts[0].effect == "decades of the bias gradient below the weights'"
    assert v.parts[1].name == "The bias changes no training-mode output"
    assert v.parts[1].effect == "decades of the largest change of the outputs below 1"
    assert (v.parts[0].threshold, v.parts[1].threshold) == (12, 12)


def test_bias_draws_a_zero_gradient_at_the_bottom_of_the_log_axis(monkeypatch):
    fake(monkeypatch, "bias_before_bn", {"grad_ratio": np.array([0.0, 1e-20]), "train_output_diff": np.zeros(2),
                                         "loss_path_diff": np.zeros(2), "eval_shift": np.ones((2, 2)), "bias_init": 2.0})
    v = lessons._bias([0, 1], Config())
    assert v.spread["bias gradient / weight gradient"].tolist() == [1e-300, 1e-20]
    assert v.status == "holds"
    assert "and starting it at 2 changes training-mode outputs by at most 0 (zero up to rounding in all 2 seeds " \
           "and in all 2 seeds)." in v.sentence


def test_gamma_beta(monkeypatch):
    error = np.array([1e-16, 3e-13, 1e-12, 2e-12])
    seen = []
    fake(monkeypatch, "gamma_beta_identity", {"error": error, "batch_size": 10}, seen)
    v = lessons._gamma_beta([0, 1, 2, 3], Config(bn=False, lr=0.5))
    assert seen == [(([0, 1, 2, 3], Config(lr=0.5)), {})]        # measured with BN on
    assert v.parts[0].values.tolist() == (-np.log10(error)).tolist()
    assert v.numbers == {"seeds": 4, "max_error": 2e-12, "batch_size": 10}
    assert v.status == "partly"
    assert v.sentence == (
        "Setting γ = √(σ²_B + ε) and β = μ_B of the first batch of 10 returns every BN layer's input to within "
        "2.0e-12 of its size (zero up to rounding in 3 of 4 seeds). Not shown: γ = √(σ²_B + ε), β = μ_B give back "
        "the input in only 3 of 4 seeds.")
    assert list(v.spread) == ["BN on"] and v.spread["BN on"].tolist() == error.tolist()
    assert v.spread_label == "largest |output − input| / |input|" and v.spread_log
    assert v.parts[0].effect == "decades of |output − input| / |input| below 1" and v.parts[0].threshold == 12
    fake(monkeypatch, "gamma_beta_identity", {"error": np.array([0.0, 1e-13]), "batch_size": 4})
    v = lessons._gamma_beta([0, 1], Config())
    assert v.spread["BN on"].tolist() == [1e-300, 1e-13] and v.status == "holds"


# ------------------------------------------------------------------ claim 7


def rule(mean_gap, var_gap, var_error, settled):
    return {"mean_gap": np.array(mean_gap), "var_gap": np.array(var_gap), "var_error": np.array(var_error),
            "settled_epoch": np.array(settled)}


def running_measures(settled=(3.0, 5.0, np.nan)):
    return {"tolerance": 0.1, "var_tolerance": 0.05, "batch_size": 10, "layer": 2, "running_var": "biased",
            "ewma": rule([0.05, 0.1, 0.2], [0.01, 0.02, 0.03], [-0.111, 0.02, 0.01], list(settled)),
            "population": rule([0.01, 0.02, np.nan], [0.01, 0.05, 0.01], [0.001, 0.002, 0.098], [1.0, 1.0, 2.0]),
            "cumulative": rule([0.5, 0.09, 0.3], [0.2, 0.04, 0.1], [-0.3, -0.2, -0.1], [np.nan] * 3)}


def test_running(monkeypatch):
    m = running_measures()
    seen = []
    fake(monkeypatch, "running_averages", m, seen)
    v = lessons._running([0, 1, 2], Config(bn_momentum=0.9))
    assert seen == [(([0, 1, 2], Config(bn_momentum=0.9)), {})]
    # 1 - gap / tolerance, the worse of mean and variance; a NaN gap is infinitely far off
    ewma = np.minimum(1 - np.array([0.05, 0.1, 0.2]) / 0.1, 1 - np.array([0.01, 0.02, 0.03]) / 0.05)
    assert v.parts[0].values.tolist() == ewma.tolist()                   # 0.5, 0 (at the tolerance), -1
    assert v.parts[1].values.tolist() == [1 - 0.01 / 0.05, 0.0, -np.inf]
    assert (v.parts[0].count, v.parts[1].count) == (2, 2)
    assert v.numbers == {"seeds": 3, "tolerance": 0.1, "tolerance_pct": 5.0, "batch_size": 10, "layer": 2,
                         "running_var": "biased", "mean_gap_ewma": 0.1, "mean_gap_population": 0.01,
                         "mean_gap_cumulative": 0.3, "var_error_ewma_pct": 1.0, "var_error_population_pct": 0.2,
                         "var_error_cumulative_pct": -20.0, "settled_epoch": 4.0}
    assert v.status == "partly"
    assert v.sentence == (
        "On BN layer 2, with batches of 10 and the biased variance, the running mean ends median 0.1 std from the "
        "exact full-data mean with the EWMA, 0.01 with Ioffe & Szegedy's population average after training and 0.3 "
        "with the average over all of training (which still carries the early epochs); the running variance ends 1% "
        "high, 0.2% high and 20% low. Within tolerance (three times the EWMA's own noise): the EWMA in 2 of 3 seeds, "
        "the population average in 2 of 3 seeds, the average over training in 1 of 3 seeds. Not shown: the EWMA ends "
        "near the exact statistics in only 2 of 3 seeds; the population average after training ends near them in "
        "only 2 of 3 seeds.")
    assert list(v.spread) == ["EWMA", "population", "all-training average"]
    assert v.spread["all-training average"].tolist() == [0.5, 0.09, 0.3]
    assert v.spread["EWMA"].tolist() == [0.05, 0.1, 0.2]
    assert np.isnan(v.spread["population"][2])
    assert v.spread_label == "running vs exact mean at the end, BN layer 2 (worst unit, in stds)" and v.spread_log
    assert list(v.detail) == ["var_gap ewma", "var_gap population", "var_gap cumulative"]
    assert v.detail["var_gap cumulative"] is m["cumulative"]["var_gap"]
    assert v.parts[0].name == "The EWMA ends near the exact statistics"
    assert v.parts[1].name == "The population average after training ends near them"
    assert v.parts[0].effect == ("1 − the worst gap to the exact statistics over its tolerance (mean 0.1 std, "
                                 "variance 5%)")
    assert v.parts[1].effect == v.parts[0].effect and v.parts[0].threshold == 0.0


def test_running_never_settled_is_not_a_number(monkeypatch):
    fake(monkeypatch, "running_averages", running_measures(settled=(np.nan, np.nan, np.nan)))
    assert np.isnan(lessons._running([0, 1, 2], Config()).numbers["settled_epoch"])
    fake(monkeypatch, "running_averages", running_measures(settled=(np.nan, 7.0, np.nan)))
    assert lessons._running([0, 1, 2], Config()).numbers["settled_epoch"] == 7.0


def test_a_signed_percentage_in_words():
    assert lessons._off(-11.1) == "11.1% low"
    assert lessons._off(9.8) == "9.8% high"
    assert lessons._off(0.0) == "0% high"
    assert lessons._off(-0.004) == "0.004% low"


# ------------------------------------------------------------------ claims 8 and 9


def test_covariate_shift(monkeypatch):
    on, off = np.array([0.3, 0.75, 0.5, 2.0]), np.array([1.0, 1.0, 0.5, 1.0])
    acc_on, acc_off = np.array([0.9, 0.8, 0.85, 0.95]), np.array([0.9, 0.6, np.nan, 0.7])
    seen = []
    fake(monkeypatch, "covariate_shift", {"drift": {T: on, F: off}, "test_acc": {T: acc_on, F: acc_off}}, seen)
    v = lessons._covariate_shift([0, 1, 2, 3], Config(activation="tanh"))
    assert seen == [(([0, 1, 2, 3], Config(activation="tanh")), {})]
    assert v.parts[0].values.tolist() == (1 - on / off).tolist()       # 0.7, 0.25 (at the threshold), 0, -1
    assert v.numbers == {"seeds": 4, "drift_bn": 0.625, "drift_plain": 1.0, "seeds_steadier": 2, "acc_bn": 0.875,
                         "acc_plain": median([0.9, 0.6, 0.0, 0.7]), "max_acc_diff": 0.25}
    assert v.status == "does not show"
    assert v.sentence == (
        "Over training the last hidden layer's input to its activation moves 0.625× its spread with BN and 1× without "
        "(medians; at least a quarter less with BN in half the 4 seeds). Test accuracy: median 0.875 with BN, 0.65 "
        "without. Not shown: each layer's input is steadier with BN in only half the 4 seeds.")
    assert v.spread["BN on"].tolist() == on.tolist() and v.spread["BN off"].tolist() == off.tolist()
    assert v.spread_label == "drift of the activation's input (percentile path / spread)" and v.spread_log
    assert v.parts[0].effect == "1 − BN's drift over the plain net's" and v.parts[0].threshold == 0.25
    fake(monkeypatch, "covariate_shift", {"drift": {T: np.array([0.5]), F: np.array([0.0])},
                                          "test_acc": {T: np.array([0.5]), F: np.array([0.9])}})
    v = lessons._covariate_shift([0], Config())
    assert v.parts[0].values.tolist() == [1 - 0.5 / 1e-12]               # a plain net that never moves
    assert v.numbers["max_acc_diff"] == pytest.approx(0.4)


def test_position(monkeypatch):
    seen = []
    fake(monkeypatch, "bn_position", {"acc": {"before": np.array([0.9, 0.8, 0.7]), "after": np.array([0.95, 0.6, 0.75])},
                                      "learned": {"before": np.array([T, T, F]), "after": np.array([T, F, T])},
                                      "margin": {"before": np.array([0.1, 0.0, -0.1]),
                                                 "after": np.array([0.15, -0.2, 0.05])}}, seen)
    v = lessons._position([0, 1, 2], Config(hidden=(4, 4)))
    assert seen == [(([0, 1, 2], Config(hidden=(4, 4))), {})]
    assert v.parts[0].values.tolist() == [0.1, -0.2, -0.1]
    assert v.numbers == {"seeds": 3, "acc_before": 0.8, "acc_after": 0.75, "seeds_before": 2, "seeds_after": 2}
    assert v.status == "does not show"
    assert v.sentence == (
        "BN before the activation learns in 2 of 3 seeds, after it in 2 of 3; median training accuracy 0.8 and 0.75. "
        "Not shown: BN learns before and after the activation in only 1 of 3 seeds.")
    assert list(v.spread) == ["before", "after"] and v.spread["after"].tolist() == [0.95, 0.6, 0.75]
    assert v.spread["before"].tolist() == [0.9, 0.8, 0.7]
    assert v.spread_label == "training accuracy" and v.spread_bounds == (0.0, 1.0)
    assert v.parts[0].name == "BN learns before and after the activation"
    assert v.parts[0].effect == "the smaller margin over the learn bar of the two" and v.parts[0].threshold == 0.0


# ------------------------------------------------------------------ claims 10 and 11


def test_gradients(monkeypatch):
    seen_flow, seen_growth = [], []
    fake(monkeypatch, "gradient_flow", {"ratio": {T: np.array([2.0, 1.0, 5.0]), F: np.array([200.0, 10.0, 40.0])},
                                        "learned": {T: np.array([T, T, T]), F: np.array([T, F, F])}, "depth": 6},
         seen_flow)
    first_on, first_off = np.array([1.0, 3.0, 0.5]), np.array([10.0, 100.0, np.inf])
    fake(monkeypatch, "gradient_growth", {"first": {T: first_on, F: first_off}, "last": {},
                                          "learned": {T: np.array([T, T, F]), F: np.array([F, F, F])}, "scale": 10.0,
                                          "depth": 2}, seen_growth)
    base = Config(activation="sigmoid", hidden=(8,) * 6)
    v = lessons._gradients([0, 1, 2], base)
    assert seen_flow == [(([0, 1, 2], base), {})] and seen_growth == [(([0, 1, 2], base), {})]
    assert v.parts[0].values.tolist() == [2.0, 1.0, np.log10(40.0) - np.log10(5.0)]
    assert v.parts[1].values.tolist() == [1.0, np.log10(100.0) - np.log10(3.0), np.inf]
    assert v.numbers == {"seeds": 3, "depth": 6, "activation": "sigmoid", "ratio_bn": 2.0, "ratio_plain": 40.0,
                         "learn_bn": 3, "learn_plain": 1, "explode_scale": 10.0, "first_grad_bn": 1.0,
                         "first_grad_plain": 100.0, "explode_learn_bn": 2, "explode_learn_plain": 0}
    assert v.status == "partly"
    assert v.sentence == (
        "In 6 sigmoid layers the output layer's gradient is median 40× the first layer's without BN and 2× with it "
        "(ten times more level with BN in 2 of 3 seeds); BN learns in all 3 seeds, the plain network in 1 of 3. With "
        "ReLU and weights started at 10× the usual scale, the first layer's gradient reaches median 100 without BN "
        "and 1 with it (ten times smaller with BN in all 3 seeds). Not shown: BN keeps the gradient from vanishing in "
        "only 2 of 3 seeds.")
    assert v.spread["BN on"].tolist() == [2.0, 1.0, 5.0] and v.spread["BN off"].tolist() == [200.0, 10.0, 40.0]
    assert v.spread_label == "output-layer / first-layer gradient norm" and v.spread_log
    assert list(v.detail) == ["first-layer gradient BN on", "first-layer gradient BN off"]
    assert v.detail["first-layer gradient BN on"] is first_on and v.detail["first-layer gradient BN off"] is first_off
    assert v.parts[0].effect == "decades of (output / first-layer gradient) removed by BN"
    assert v.parts[1].effect == "decades of the largest first-layer gradient removed by BN"
    assert v.parts[1].name == "BN keeps the gradient from exploding"
    assert (v.parts[0].threshold, v.parts[1].threshold) == (1.0, 1.0)


def test_optimizers(monkeypatch):
    acc = {"sgd": np.array([0.9, 0.8]), "momentum": np.array([0.9, 0.9]), "rmsprop": np.array([0.7, 0.95]),
           "adam": np.array([1.0, 0.6])}
    seen = []
    fake(monkeypatch, "optimizers", {
        "acc": acc, "learned": {"sgd": np.array([T, T]), "momentum": np.array([T, T]), "rmsprop": np.array([F, T]),
                                "adam": np.array([T, F])},
        "margin": {"sgd": np.array([0.1, 0.0]), "momentum": np.array([0.1, 0.1]), "rmsprop": np.array([-0.1, 0.15]),
                   "adam": np.array([0.2, -0.2])},
        "lr": {"sgd": 0.1, "momentum": 0.1, "rmsprop": 0.01, "adam": 0.01}}, seen)
    v = lessons._optimizers([0, 1], Config(hidden=(8, 8)))
    assert seen == [(([0, 1], Config(hidden=(8, 8))), {})]
    assert v.parts[0].values.tolist() == [-0.1, -0.2]
    assert v.numbers == {"seeds": 2, "learn_sgd": 2, "learn_momentum": 2, "learn_rmsprop": 1, "learn_adam": 1,
                         "lr_sgd": 0.1, "lr_momentum": 0.1, "lr_rmsprop": 0.01, "lr_adam": 0.01}
    assert v.status == "does not show"
    assert v.sentence == (
        "With BN, SGD (lr 0.1) learns in all 2 seeds, momentum (lr 0.1) learns in all 2 seeds, RMSprop (lr 0.01) "
        "learns in half the 2 seeds, Adam (lr 0.01) learns in half the 2 seeds; all four learn in none of 2 seeds. "
        "Not shown: BN learns with every optimizer in none of 2 seeds (reversed: the interval lies on the other "
        "side).")
    assert list(v.spread) == ["SGD", "momentum", "RMSprop", "Adam"]
    assert all(v.spread[n].tolist() == acc[k].tolist() for k, n in measures.OPTIMIZER_NAMES.items())
    assert v.spread_label == "training accuracy" and v.spread_bounds == (0.0, 1.0)
    assert v.parts[0].effect == "the smallest margin over the learn bar of the four" and v.parts[0].threshold == 0.0


# ------------------------------------------------------------------ Santurkar et al.


def three(bn, noisy, plain):
    return {"bn": np.array(bn, dtype=float if not isinstance(bn[0], bool) else bool),
            "noisy": np.array(noisy, dtype=float if not isinstance(noisy[0], bool) else bool),
            "plain": np.array(plain, dtype=float if not isinstance(plain[0], bool) else bool)}


def test_santurkar(monkeypatch):
    m = {"noise": 0.5, "learned": three([T, T, T], [T, F, T], [F, F, T]),
         "margin": three([0.1, 0.1, 0.1], [0.0, -0.1, 0.2], [-0.1, -0.1, 0.1]),
         "drift": three([0.1, 0.2, 0.3], [0.2, 0.3, 1.2], [1, 1, 1]),
         "loss_variation": three([0.1, 0.2, 0.3], [1, 2, 3], [0.4, 0.5, 0.6]),
         "grad_change": three([0.01, 0.02, 0.03], [1, 1, 1], [0.04, 0.05, 0.06]),
         "beta_smoothness": three([1.0, 2.0, 4.0], [5, 5, 5], [1.5, 2.0, 16.0])}
    seen = []
    fake(monkeypatch, "noisy_bn", m, seen)
    v = lessons._santurkar([0, 1, 2], Config(activation="tanh"))
    assert seen == [(([0, 1, 2],), {"base": Config(activation="tanh")})]
    assert v.parts[0].values.tolist() == [0.0, -0.1, 0.2]
    assert v.parts[1].values.tolist() == [1.0, np.log2(0.3 / 0.2), 2.0]
    assert v.parts[2].values.tolist() == [np.log2(1.5), 0.0, 2.0]
    assert v.numbers == {"seeds": 3, "noise": 0.5, "learn_bn": 3, "learn_noisy": 2, "learn_plain": 1,
                         "drift_bn": 0.2, "drift_noisy": 0.3, "drift_plain": 1.0, "loss_variation_bn": 0.2,
                         "loss_variation_noisy": 2.0, "loss_variation_plain": 0.5, "grad_change_bn": 0.02,
                         "grad_change_noisy": 1.0, "grad_change_plain": 0.05, "beta_smoothness_bn": 2.0,
                         "beta_smoothness_noisy": 5.0, "beta_smoothness_plain": 2.0}
    assert v.status == "partly"
    assert v.sentence == (
        "BN with noise of size 0.5 learns in 2 of 3 seeds (plain BN all 3, no BN 1 of 3) while the last layer's "
        "input moves 0.3× its spread over training, against 0.2× with plain BN (at least twice as much in 2 of 3 "
        "seeds). Along the gradient, per unit of step: the loss departs from its linear forecast by 0.2 with BN and "
        "0.5 without, the gradient changes by 0.02 and 0.05 of itself, and the effective β-smoothness is 2 and 2 "
        "(medians; smoother with BN by 1.4× or more in 2 of 3 seeds). Not shown: noisy BN still learns in only 2 of 3 "
        "seeds; its layer inputs move more than with plain BN in only 2 of 3 seeds; BN's loss landscape is smoother "
        "in only 2 of 3 seeds.")
    assert list(v.spread) == ["BN on", "noisy BN", "BN off"]
    assert v.spread["BN on"].tolist() == [1.0, 2.0, 4.0] and v.spread["noisy BN"].tolist() == [5.0] * 3
    assert v.spread["BN off"].tolist() == [1.5, 2.0, 16.0]
    assert v.spread_label == "effective β-smoothness (gradient change per unit step)" and v.spread_log
    assert dict(v.detail) == {}     # nothing draws the per-seed arrays: the spread and parts carry them
    assert [p.effect for p in v.parts] == ["noisy BN's margin over the learn bar",
                                           "log2 of noisy BN's drift over plain BN's",
                                           "log2 of the plain net's effective β-smoothness over BN's"]
    assert [p.threshold for p in v.parts] == [0.0, 1.0, 0.5]
    m["drift"]["bn"] = np.zeros(3)
    assert lessons._santurkar([0, 1, 2], Config()).parts[1].values.tolist() == np.log2(
        m["drift"]["noisy"] / 1e-12).tolist()                                 # plain BN's input never moved


# ------------------------------------------------------------------ batch dependence


def norms(batch, layer, none):
    return {"batch": np.array(batch, float), "layer": np.array(layer, float), "none": np.array(none, float)}


def dependence_measures(sizes=(2, 64)):
    return {"batch_sizes": np.array(sizes),
            "test_acc": norms([[0.7, 0.9], [0.8, 0.85], [0.9, 0.9]], [[0.85, 0.9], [0.8, 0.8], [0.75, 0.85]],
                              [[0.8, 0.8], [0.7, 0.9], [0.9, 0.95]]),
            "loss_noise": norms([[0.2, 0.01], [0.1, 0.02], [0.3, 0.03]], [[0.1, 0.01], [0.1, 0.01], [0.05, 0.01]],
                                [[0.01, 0.0], [0.02, 0.01], [0.03, 0.02]]),
            "row_change": {"batch": np.array([0.3, 0.1, 0.2]), "layer": np.array([1e-13, 1e-12, 1e-11]),
                           "none": np.zeros(3)},
            "epochs": 20, "test_rows": 20, "train_rows": 80}


def test_batch_dependence(monkeypatch):
    m = dependence_measures()
    seen = []
    fake(monkeypatch, "batch_dependence", m, seen)
    v = lessons._batch_dependence([0, 1, 2], Config(hidden=(3, 2), batch_size=2))
    assert seen == [(([0, 1, 2], Config(hidden=(3, 2), batch_size=2)), {})]
    # accuracy lost from 64 to 2: batch norm 0.2, 0.05, 0; layer norm 0.05, 0, 0.1; the second seed loses
    # exactly one test row (1/20) more with batch norm
    assert v.parts[0].values.tolist() == [0.15, 0.05, -0.1]
    assert v.parts[0].threshold == 1 / 20 and v.parts[0].count == 2
    assert v.parts[1].values.tolist() == [1.0, 0.0, np.log2(0.3 / 0.05)]
    assert v.parts[2].values.tolist() == [13.0, 12.0, 11.0]
    assert v.numbers == {"seeds": 3, "small_batch": 2, "large_batch": 64, "epochs": 20,
                         "acc_batch_2": 0.8, "acc_batch_64": 0.9, "acc_layer_2": 0.8, "acc_layer_64": 0.85,
                         "acc_none_2": 0.8, "acc_none_64": 0.9, "noise_batch_2": 0.2, "noise_batch_64": 0.02,
                         "noise_layer_2": 0.1, "noise_layer_64": 0.01, "noise_none_2": 0.02, "noise_none_64": 0.01,
                         "row_change_batch": 0.2, "max_row_change_layer": 1e-11, "seeds_falls": 2, "seeds_noisier": 2}
    assert v.status == "partly"
    assert v.sentence == (
        "From batches of 64 to batches of 2, median test accuracy goes from 0.9 to 0.8 with batch norm, 0.85 to 0.8 "
        "with layer norm and 0.9 to 0.8 with neither (BN loses at least a test row more than layer norm in 2 of 3 "
        "seeds). The evaluation-mode loss jitters from epoch to epoch by batch norm 0.02 to 0.2, layer norm 0.01 to "
        "0.1, no normalization 0.01 to 0.02 (medians; at batches of 2 at least 1.4× noisier with batch norm than with "
        "layer norm in 2 of 3 seeds). In the networks trained on batches of 2, a training row's output in training "
        "mode moves by 0.2 of the logits' size with batch norm (median) between the whole training set as its batch "
        "and a batch of its own, and by at most 1.0e-11 with layer norm (zero up to rounding in 2 of 3 seeds). Layer "
        "norm here normalizes a layer of 2 units, where each row's normalized values carry little more than the "
        "order of its units: with batches of 2 it ends at 0.8, against 0.8 without normalization. Not shown: small "
        "batches cost batch norm accuracy, and layer norm less in only 2 of 3 seeds; at the smallest batch the loss "
        "is noisier with batch norm than with layer norm in only 2 of 3 seeds; a row's output under layer norm "
        "ignores the rest of its batch in only 2 of 3 seeds.")
    assert list(v.spread) == ["batch norm", "layer norm", "no normalization"]
    assert v.spread["batch norm"].tolist() == [0.7, 0.8, 0.9]
    assert v.spread["layer norm"].tolist() == [0.85, 0.8, 0.75]
    assert v.spread["no normalization"].tolist() == [0.8, 0.7, 0.9]
    assert v.spread_label == "test accuracy, batches of 2" and v.spread_bounds == (0.0, 1.0)
    assert list(v.detail) == ["batch_size", "test_acc batch norm", "loss_noise batch norm", "test_acc layer norm",
                              "loss_noise layer norm", "test_acc no normalization", "loss_noise no normalization"]
    assert v.detail["batch_size"] is m["batch_sizes"]
    assert v.detail["test_acc layer norm"] is m["test_acc"]["layer"]
    assert v.detail["loss_noise no normalization"] is m["loss_noise"]["none"]
    assert [p.name for p in v.parts] == ["Small batches cost batch norm accuracy, and layer norm less",
                                         "At the smallest batch the loss is noisier with batch norm than with layer "
                                         "norm", "A row's output under layer norm ignores the rest of its batch"]
    assert [p.effect for p in v.parts] == [
        "test accuracy lost from batches of 64 to 2, batch norm's minus layer norm's",
        "log2 of batch norm's loss noise over layer norm's, batches of 2",
        "decades below 1 of the largest change of a row's output, alone against inside the whole training set"]
    assert [p.threshold for p in v.parts] == [0.05, 0.5, 12]


def test_batch_dependence_on_wider_layers_and_more_batch_sizes(monkeypatch):
    m = dependence_measures()
    for what in ("test_acc", "loss_noise"):            # a middle batch size of 8 between 2 and 64
        for norm, v in m[what].items():
            m[what][norm] = np.stack([v[:, 0], np.full(3, 0.5), v[:, 1]], axis=1)
    m["batch_sizes"] = np.array([2, 8, 64])
    m["loss_noise"]["layer"][:, 0] = 0.0               # a layer norm loss that never jitters
    fake(monkeypatch, "batch_dependence", m)
    v = lessons._batch_dependence([0, 1, 2], Config(hidden=(8, 4)))
    assert v.numbers["acc_batch_8"] == 0.5 and v.numbers["noise_none_8"] == 0.5
    assert (v.numbers["small_batch"], v.numbers["large_batch"]) == (2, 64)
    assert v.parts[0].values.tolist() == [0.15, 0.05, -0.1]
    assert v.parts[1].values.tolist() == [np.inf] * 3
    assert "Layer norm here" not in v.sentence
    assert "(zero up to rounding in 2 of 3 seeds). Not shown: small batches" in v.sentence
    v = lessons._batch_dependence([0, 1, 2], Config(hidden=(8, 3)))
    assert "Layer norm here normalizes a layer of 3 units," in v.sentence


# ------------------------------------------------------------------ the worked example and Figure 1


def test_worked_example(monkeypatch):
    seen = []
    acc_batch, acc_eval = np.array([1.0, 0.75, 1.0]), np.array([1.0, 1.0, 0.5])
    fake(monkeypatch, "worked_example", {"correlation": 0.5, "acc_batch": acc_batch, "acc_eval": acc_eval,
                                         "learned": None, "momentum": 0.9, "mu_B": 1.25, "var_B": 0.5,
                                         "seed_shown": 4}, seen)
    v = lessons._worked_example([4, 5, 6], Config(lr=0.5))
    assert seen == [(([4, 5, 6], Config(lr=0.5)), {})]
    assert v.parts[0].values.tolist() == [0.0, -0.25, -0.5]
    assert v.numbers == {"seeds": 3, "correlation": 0.5, "seeds_learned": 1, "mu_B": 1.25, "var_B": 0.5,
                         "seed_shown": 4, "momentum": 0.9, "acc_batch": 1.0, "acc_eval": 1.0}
    assert v.status == "does not show"
    assert v.sentence == (
        "The notes' batch of four students has GPA and IQ correlated at 0.5, not collinear. Its first step (seed 4) "
        "gives unit 1 μ_B = 1.25 and σ²_B = 0.5; with running averages of momentum 0.9 the network classifies all "
        "four right in training and in evaluation mode in 1 of 3 seeds. Not shown: all four are classified right in "
        "both modes in only 1 of 3 seeds.")
    assert list(v.spread) == ["BN on"] and v.spread["BN on"].tolist() == acc_batch.tolist()
    assert v.spread_label == "training-mode accuracy on the four" and v.spread_bounds == (0.0, 1.0)
    assert v.parts[0].effect == "the lower of the two accuracies, minus 1" and v.parts[0].threshold == 0.0
    assert v.parts[0].name == "All four are classified right in both modes"


def figure1_measures(steps=(24, 48, 120, 240)):
    return {"steps": np.array(steps),
            "acc": {T: np.array([[0.5, 0.6, 0.8, 0.9], [0.4, 0.7, 0.9, 0.95], [0.3, np.nan, 0.85, 0.9]]),
                    F: np.array([[0.1, 0.2, 0.3, 0.4], [0.2, 0.3, 0.4, 0.5], [0.1, 0.1, 0.1, 0.9]])},
            "pct": {T: "percentiles on", F: "percentiles off"},
            "drift": {T: np.array([0.5, 0.75, 1.0]), F: np.array([1.0, 1.0, 1.0])},
            "seconds": {T: 1.5, F: 2.5}, "diverged": None, "unit": 0, "layer": 3}


def test_figure1(monkeypatch):
    import bnviz.figure1

    m = figure1_measures()
    seen = []
    monkeypatch.setattr(bnviz.figure1, "measure_figure1", lambda seeds, base: seen.append((seeds, base)) or m)
    v = lessons._figure1([0, 1, 2], Config(dataset="digits"))
    assert seen == [([0, 1, 2], Config(dataset="digits"))]
    on, off = m["acc"][T], m["acc"][F]
    assert v.parts[0].values.tolist() == pytest.approx((np.nanmean(on, axis=1) - np.nanmean(off, axis=1)).tolist(),
                                                       abs=1e-15)
    assert v.parts[1].values.tolist() == [0.5, 0.25, 0.0]
    assert v.numbers == {
        "seeds": 3, "steps": 240, "checks": "48, 120, 240", "min_gain": 0.02, "drift_bn": 0.75, "drift_plain": 1.0,
        "seeds_higher": 3, "seeds_steadier": 2, "layer": 3, "seconds_bn": 1.5, "seconds_plain": 2.5,
        "acc_bn_48": 0.6, "acc_bn_120": 0.85, "acc_bn_240": 0.9, "acc_plain_48": 0.2, "acc_plain_120": 0.3,
        "acc_plain_240": 0.5, "acc_low_bn_48": 0.6, "acc_low_bn_120": 0.8, "acc_low_bn_240": 0.9,
        "acc_high_bn_48": 0.7, "acc_high_bn_120": 0.9, "acc_high_bn_240": 0.95, "acc_low_plain_48": 0.1,
        "acc_low_plain_120": 0.1, "acc_low_plain_240": 0.4, "acc_high_plain_48": 0.3, "acc_high_plain_120": 0.4,
        "acc_high_plain_240": 0.9}
    assert v.status == "partly"
    assert v.sentence == (
        "Test accuracy, medians over 3 seeds: after 48 steps 0.6 with BN and 0.2 without; after 120 steps 0.85 with "
        "BN and 0.3 without; after 240 steps 0.9 with BN and 0.5 without (higher over training by 0.02 or more in all "
        "3 seeds). Unit 1 of hidden layer 3: its input to the sigmoid moves 0.75× its final spread over training with "
        "BN and 1× without (medians; at least a quarter less with BN in 2 of 3 seeds). Not shown: the sigmoid's input "
        "moves less with BN in only 2 of 3 seeds.")
    assert v.spread["BN on"].tolist()[:2] == [0.6, 0.7] and np.isnan(v.spread["BN on"][2])
    assert v.spread["BN off"].tolist() == [0.2, 0.3, 0.1]
    assert v.spread_label == "test accuracy after 48 steps" and v.spread_bounds == (0.0, 1.0)
    assert list(v.detail) == ["figure1_steps", "figure1_acc BN on", "figure1_acc BN off", "figure1_pct BN on",
                              "figure1_pct BN off", "figure1_layer"]
    assert v.detail["figure1_steps"] is m["steps"] and v.detail["figure1_acc BN on"] is on
    assert v.detail["figure1_acc BN off"] is off and v.detail["figure1_pct BN on"] == "percentiles on"
    assert v.detail["figure1_pct BN off"] == "percentiles off" and v.detail["figure1_layer"] == 3
    assert [p.name for p in v.parts] == ["BN's test accuracy is higher over training",
                                         "The sigmoid's input moves less with BN"]
    assert [p.effect for p in v.parts] == ["mean test accuracy over the evaluated steps, BN minus plain",
                                           "1 − BN's drift over the plain net's"]
    assert [p.threshold for p in v.parts] == [0.02, 0.25]


def test_figure1_without_the_quoted_steps_draws_the_last(monkeypatch):
    import bnviz.figure1

    m = figure1_measures(steps=(10, 20, 30, 40))
    m["drift"][F] = np.zeros(3)
    monkeypatch.setattr(bnviz.figure1, "measure_figure1", lambda seeds, base: m)
    v = lessons._figure1([0, 1, 2], Config())
    assert v.numbers["checks"] == "" and v.numbers["steps"] == 40
    assert v.sentence.startswith("Test accuracy, medians over 3 seeds:  (higher over training by 0.02 or more")
    assert v.spread_label == "test accuracy after 40 steps"
    assert v.spread["BN on"].tolist() == [0.9, 0.95, 0.9]
    assert v.parts[1].values.tolist() == (1 - m["drift"][T] / 1e-12).tolist()
    m = figure1_measures(steps=(48, 100, 240, 300))
    monkeypatch.setattr(bnviz.figure1, "measure_figure1", lambda seeds, base: m)
    v = lessons._figure1([0, 1, 2], Config())
    assert v.numbers["checks"] == "48, 240" and "acc_bn_120" not in v.numbers
    assert v.numbers["acc_bn_240"] == 0.85 and v.numbers["steps"] == 300
    assert v.sentence.startswith("Test accuracy, medians over 3 seeds: after 48 steps 0.4 with BN and 0.1 "
                                 "without; after 240 steps 0.85 with BN and 0.3 without (")


# ------------------------------------------------------------------ one seed: "the one seed", never "seed seeds"


def test_one_seed_higher_lr(monkeypatch):
    learned = np.zeros((1, len(GRID)), bool)
    learned[0, 3] = True
    sweep, speed = higher_lr_measures([2.0], [0.5], [2.0], [np.nan], learned, np.zeros((1, len(GRID)), bool))
    fake(monkeypatch, "learning_rate_sweep", sweep)
    fake(monkeypatch, "epochs_to_learn", speed)
    v = lessons._higher_lr([5], Config(lr=2.0, epochs=30))
    assert v.sentence == (
        "At lr 2, BN learns in the one seed and the plain network in no seed. The largest rate that still learns is "
        "median 2 with BN and 0.5 without (median 4× per seed; at least twice as high in the one seed). At lr 0.1 BN "
        "learns after 2 epochs and the plain network after 31 (medians; 31 means not within the run), at least 1.4× "
        "sooner in the one seed.")


def test_one_seed_init_scale(monkeypatch):
    grid = np.array([0.1, 1.0, 10.0])
    on, off = np.array([[0, 1, 1]], bool), np.array([[0, 1, 0]], bool)
    fake(monkeypatch, "init_scale_sweep", {"grid": grid, "learned": {T: on, F: off}, "acc": {T: on, F: off}})
    v = lessons._init_scale([0], Config())
    assert v.sentence == ("Of 3 init scales from 0.1 to 10, BN learns at a median of 2 and the plain network at 1 (at "
                          "least one more with BN in the one seed). BN too fails at scale 0.1 in the one seed.")


def test_one_seed_running(monkeypatch):
    m = running_measures()
    for r in ("ewma", "population", "cumulative"):
        m[r] = {k: v[:1] for k, v in m[r].items()}
    fake(monkeypatch, "running_averages", m)
    v = lessons._running([0], Config())
    assert ("Within tolerance (three times the EWMA's own noise): the EWMA in the one seed, the population average in "
            "the one seed, the average over training in no seed.") in v.sentence


def test_one_seed_position_gradients_optimizers_santurkar(monkeypatch):
    fake(monkeypatch, "bn_position", {"acc": {"before": np.array([0.9]), "after": np.array([0.6])},
                                      "learned": {"before": np.array([T]), "after": np.array([F])},
                                      "margin": {"before": np.array([0.1]), "after": np.array([-0.2])}})
    assert lessons._position([0], Config()).sentence.startswith(
        "BN before the activation learns in the one seed, after it in no seed; median training accuracy 0.9 and 0.6.")
    fake(monkeypatch, "gradient_flow", {"ratio": {T: np.array([2.0]), F: np.array([200.0])},
                                        "learned": {T: np.array([T]), F: np.array([F])}, "depth": 6})
    fake(monkeypatch, "gradient_growth", {"first": {T: np.array([1.0]), F: np.array([100.0])}, "last": {},
                                          "learned": {T: np.array([T]), F: np.array([F])}, "scale": 10.0, "depth": 2})
    assert ("(ten times more level with BN in the one seed); BN learns in the one seed, the plain network in no "
            "seed.") in lessons._gradients([0], Config(activation="sigmoid")).sentence
    names = ("sgd", "momentum", "rmsprop", "adam")
    fake(monkeypatch, "optimizers", {"acc": {k: np.array([0.9]) for k in names},
                                     "learned": {k: np.array([k != "adam"]) for k in names},
                                     "margin": {k: np.array([0.1]) for k in names}, "lr": dict(measures.OPTIMIZER_LR)})
    assert lessons._optimizers([0], Config()).sentence == (
        "With BN, SGD (lr 0.1) learns in the one seed, momentum (lr 0.1) learns in the one seed, RMSprop (lr 0.01) "
        "learns in the one seed, Adam (lr 0.01) learns in no seed; all four learn in the one seed.")
    one = {"bn": np.array([1.0]), "noisy": np.array([2.0]), "plain": np.array([4.0])}
    fake(monkeypatch, "noisy_bn", {"noise": 0.5, "learned": {"bn": np.array([T]), "noisy": np.array([T]),
                                                             "plain": np.array([F])},
                                   "margin": {"bn": np.array([0.1]), "noisy": np.array([0.1]), "plain": np.array([-0.1])},
                                   "drift": one, "loss_variation": one, "grad_change": one, "beta_smoothness": one})
    assert lessons._santurkar([0], Config()).sentence.startswith(
        "BN with noise of size 0.5 learns in the one seed (plain BN the one seed, no BN no seed) while")
