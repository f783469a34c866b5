"""Each lesson's verdict rule at its edges, on made-up measurements over ten seeds.

For every part of every claim: both sides' numbers set so that the effect lands exactly on the
threshold, just below it, above it, the other way round (reversed) and on no difference at all
(tied), and, where a side can diverge, a seed with no number. The effect is worked out here from
the made-up numbers; the status, the count and the words that name a failing part are checked
against it."""
from types import SimpleNamespace

import numpy as np
import pytest

from bnviz import Config, lessons, measures

T, F = True, False
N = 10
SQRT2 = float(np.sqrt(2.0))                         # log2 of it is the first float past 0.5
BELOW_SQRT2 = float(np.nextafter(SQRT2, 0.0))       # log2 of it is the last float below 0.5


def fake(monkeypatch, name, out):
    monkeypatch.setattr(measures, name, lambda *args, **kwargs: out)


def full(x):
    return np.full(N, x, dtype=float)


def fails(v):
    """The sentence's closing clause that names what did not show ("" when all holds)."""
    return v.sentence.split(" Not shown: ")[1] if " Not shown: " in v.sentence else ""


REVERSED = " (reversed: the interval lies on the other side)"

# (effect per seed relative to the threshold) -> (count, status, reversed) for ten equal seeds
EDGE = {"at": (N, "holds", False), "above": (N, "holds", False), "below": (0, "does not show", False),
        "tied": (0, "does not show", False), "reversed": (0, "does not show", True)}


def check(part, effect, case):
    count, status, rev = EDGE[case]
    assert part.values.tolist() == effect.tolist()
    assert (part.count, part.status, part.reversed) == (count, status, rev)


# ------------------------------------------------------------------ claim 1: two ratios, each at least 2


def input_scaling(monkeypatch, raw, std, lr_raw, lr_std):
    fake(monkeypatch, "input_scaling", {"elongation_raw": raw, "elongation_std": std, "lr_limit_raw": lr_raw,
                                        "lr_limit_std": lr_std})
    return lessons._input_scaling(list(range(N)), Config())


@pytest.mark.parametrize("case, ratio", [("at", 2.0), ("above", 3.0), ("below", 1.99), ("tied", 1.0),
                                         ("reversed", 0.25)])
def test_input_scaling_edges(monkeypatch, case, ratio):
    v = input_scaling(monkeypatch, full(10.0 * ratio), full(10.0), full(0.1), full(0.1 * ratio))
    check(v.parts[0], np.log2(full(10.0 * ratio) / 10.0), case)
    check(v.parts[1], np.log2(full(0.1 * ratio) / 0.1), case)
    if case in ("at", "above"):
        assert v.status == "holds" and fails(v) == ""
    else:
        assert v.status == "does not show"
        assert fails(v) == ("the valley is rounder on standardized inputs in none of 10 seeds"
                            + (REVERSED if case == "reversed" else "") + "; gradient descent may take larger steps "
                            "in none of 10 seeds" + (REVERSED if case == "reversed" else "") + ".")


def test_input_scaling_names_the_part_that_fails(monkeypatch):
    v = input_scaling(monkeypatch, full(20.0), full(10.0), full(0.1), full(0.15))
    assert v.status == "partly"
    assert fails(v) == "gradient descent may take larger steps in none of 10 seeds."
    v = input_scaling(monkeypatch, full(15.0), full(10.0), full(0.1), full(0.2))
    assert fails(v) == "the valley is rounder on standardized inputs in none of 10 seeds."


# ------------------------------------------------------------------ claim 2


def higher_lr(monkeypatch, best_on, best_off, epochs_on, epochs_off, epochs=30):
    grid = measures.LESSON_LR_GRID
    fake(monkeypatch, "learning_rate_sweep", {"grid": grid, "learned": {T: np.zeros((N, 7), bool),
                                                                        F: np.zeros((N, 7), bool)},
                                              "best_lr": {T: best_on, F: best_off},
                                              "acc": {T: np.zeros((N, 7)), F: np.zeros((N, 7))}})
    fake(monkeypatch, "epochs_to_learn", {"epochs": {T: epochs_on, F: epochs_off}, "lr": 0.1})
    return lessons._higher_lr(list(range(N)), Config(lr=2.0, epochs=epochs))


@pytest.mark.parametrize("case, on, off", [("at", 2.0, 1.0), ("above", 16.0, 0.25), ("below", 1.9, 1.0),
                                           ("tied", 4.0, 4.0), ("reversed", 1.0, 4.0)])
def test_higher_lr_doublings_edges(monkeypatch, case, on, off):
    v = higher_lr(monkeypatch, full(on), full(off), full(2.0), full(4.0))
    check(v.parts[0], np.log2(full(on) / off), case)
    assert v.numbers["ratio"] == 2 ** np.log2(on / off)
    if case in ("at", "above"):
        assert v.status == "holds"
    else:
        assert v.status == "partly"
        assert fails(v) == "BN allows a higher learning rate in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


@pytest.mark.parametrize("on, off, doublings", [
    (0.5, 0.0, 2.0),          # the plain net learns at no rate: it counts as 0.125, half of 0.25
    (0.0, 0.0, 0.0),          # neither learns: tied
    (0.0, 0.25, -1.0),        # only the plain net learns
    (0.1, 0.05, 0.0),         # rates below the floor count as the floor
])
def test_higher_lr_counts_no_learning_rate_as_half_the_smallest(monkeypatch, on, off, doublings):
    v = higher_lr(monkeypatch, full(on), full(off), full(2.0), full(4.0))
    assert v.parts[0].values.tolist() == [doublings] * N
    assert lessons._doublings(np.array([on]), np.array([off]), np.array([0.25, 0.5])).tolist() == [doublings]
    assert lessons._doublings(np.array([on]), np.array([off]), np.array([0.5, 1.0])).tolist() == [
        np.log2(max(on, 0.25) / max(off, 0.25))]


@pytest.mark.parametrize("case, on, off", [("at", 1.0, SQRT2), ("above", 1.0, 4.0), ("below", 1.0, BELOW_SQRT2),
                                           ("tied", 3.0, 3.0), ("reversed", 4.0, 1.0)])
def test_higher_lr_speed_edges(monkeypatch, case, on, off):
    v = higher_lr(monkeypatch, full(4.0), full(1.0), full(on), full(off))
    check(v.parts[1], np.log2(full(off) / on), case)
    if case in ("at", "above"):
        assert v.status == "holds"
    else:
        assert v.status == "partly"
        assert fails(v) == "BN learns faster in none of 10 seeds" + (REVERSED if case == "reversed" else "") + "."


def test_higher_lr_a_net_that_never_learns_counts_one_epoch_past_the_run(monkeypatch):
    on = np.array([2.0] * 5 + [np.nan] * 5)
    off = np.array([np.nan] * 5 + [3.0] * 5)
    v = higher_lr(monkeypatch, full(4.0), full(1.0), on, off, epochs=15)
    assert v.parts[1].values.tolist() == [np.log2(16 / 2.0)] * 5 + [np.log2(3 / 16.0)] * 5
    assert (v.numbers["epochs_bn"], v.numbers["epochs_plain"], v.numbers["never_epochs"]) == (9.0, 9.5, 16)
    assert v.parts[1].count == 5 and v.parts[1].status == "does not show"
    assert fails(v) == "BN learns faster in only half the 10 seeds."
    assert "(medians; 16 means not within the run), at least 1.4× sooner in half the 10 seeds." in v.sentence


# ------------------------------------------------------------------ claim 3


def init_scale(monkeypatch, on_counts, off_counts):
    grid = measures.INIT_GRID
    on = np.array([[j < k for j in range(7)] for k in on_counts])
    off = np.array([[j < k for j in range(7)] for k in off_counts])
    fake(monkeypatch, "init_scale_sweep", {"grid": grid, "learned": {T: on, F: off}, "acc": {T: on, F: off}})
    return lessons._init_scale(list(range(N)), Config())


@pytest.mark.parametrize("case, on, off", [("at", 4, 3), ("above", 7, 1), ("tied", 5, 5), ("reversed", 2, 6)])
def test_init_scale_edges(monkeypatch, case, on, off):
    v = init_scale(monkeypatch, [on] * N, [off] * N)
    check(v.parts[0], full(on - off), case)
    assert v.status == EDGE[case][1]
    if case == "reversed":
        assert fails(v) == "BN learns from more init scales in none of 10 seeds" + REVERSED + "."


@pytest.mark.parametrize("wider, status, words", [(9, "holds", "9 of 10"), (6, "partly", "6 of 10"),
                                                  (5, "does not show", "half the 10"), (1, "does not show", "1 of 10")])
def test_init_scale_counts_the_seeds_that_learn_at_more_scales(monkeypatch, wider, status, words):
    v = init_scale(monkeypatch, [4] * N, [3] * wider + [4] * (N - wider))
    assert v.status == status and v.numbers["seeds_bn_wider"] == wider
    assert f"(at least one more with BN in {words} seeds)." in v.sentence


# ------------------------------------------------------------------ claim 4


def batch_noise(monkeypatch, small_spread, large_spread, gap_on, gap_off, test_rows=20):
    monkeypatch.setattr(measures, "dataset_for", lambda cfg: SimpleNamespace(y_train=np.zeros(320)))
    fake(monkeypatch, "batch_noise", {
        "batch_sizes": np.array([4, 64]), "mu_spread": np.stack([small_spread, large_spread], axis=1),
        "theory": np.array([0.5, 0.125]), "mode_gap": np.zeros((N, 2)),
        "acc_gap": {T: np.stack([gap_on, full(0.0)], axis=1), F: np.stack([gap_off, full(0.0)], axis=1)},
        "test_acc": {T: np.zeros((N, 2)), F: np.zeros((N, 2))}, "test_rows": test_rows, "epochs": 10})
    return lessons._batch_noise(list(range(N)), Config(batch_size=4))


@pytest.mark.parametrize("case, small, large", [("at", 0.4, 0.2), ("above", 0.4, 0.1), ("below", 0.39, 0.2),
                                                ("tied", 0.3, 0.3), ("reversed", 0.1, 0.4)])
def test_batch_noise_wandering_edges(monkeypatch, case, small, large):
    v = batch_noise(monkeypatch, full(small), full(large), full(0.0), full(0.2))
    check(v.parts[0], np.log2(full(small) / large), case)
    if case not in ("at", "above"):
        assert fails(v) == "small batches make BN's statistics noisier in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


@pytest.mark.parametrize("case, on, off", [
    ("at", 0.05, 0.1), ("at", -0.05, 0.1), ("at", 0.05, -0.1), ("above", 0.0, 0.2), ("below", 0.06, 0.1),
    ("tied", -0.1, 0.1), ("reversed", 0.3, 0.0)])
def test_batch_noise_gap_edges(monkeypatch, case, on, off):
    """The size of the gap counts, not its sign; a test row is 1/20."""
    v = batch_noise(monkeypatch, full(0.4), full(0.1), full(on), full(off))
    check(v.parts[1], np.round(np.abs(full(off)) - abs(on), 12), case)
    if case not in ("at", "above"):
        assert fails(v) == "BN narrows the train/test gap in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


def test_batch_noise_a_gap_narrowed_by_exactly_one_test_row_counts(monkeypatch):
    """Accuracies are whole rows over the row count: 0.85 - 0.8 is one row of 20, though in floats it falls
    short of 1/20."""
    off = full(0.85) - 0.8
    assert off[0] < 1 / 20
    v = batch_noise(monkeypatch, full(0.4), full(0.1), full(0.0), off)
    assert v.parts[1].values.tolist() == [0.05] * N
    assert v.parts[1].count == N and v.status == "holds"


def test_batch_noise_a_large_batch_that_never_wanders(monkeypatch):
    v = batch_noise(monkeypatch, full(1e-12), full(0.0), full(0.0), full(0.2))
    assert v.parts[0].values.tolist() == [0.0] * N          # over 1e-12, not over zero


# ------------------------------------------------------------------ claims 5 and 6: zero up to rounding


def bias(monkeypatch, grad_ratio, train_diff):
    fake(monkeypatch, "bias_before_bn", {"grad_ratio": grad_ratio, "train_output_diff": train_diff,
                                         "loss_path_diff": full(0.0), "eval_shift": np.zeros((N, 3)),
                                         "bias_init": 1.0})
    return lessons._bias(list(range(N)), Config())


@pytest.mark.parametrize("case, size", [("at", 1e-12), ("above", 1e-15), ("below", 1.1e-12), ("tied", 1.0),
                                        ("reversed", 1e24)])
def test_bias_edges(monkeypatch, case, size):
    v = bias(monkeypatch, full(size), full(0.0))
    check(v.parts[0], -np.log10(full(size)), case)
    assert v.parts[1].values.tolist() == [300.0] * N
    if case in ("at", "above"):
        assert v.status == "holds"
    else:
        assert v.status == "partly"
        assert fails(v) == "the bias gets no gradient in none of 10 seeds" + (REVERSED if case == "reversed" else
                                                                              "") + "."
    v = bias(monkeypatch, full(0.0), full(size))
    check(v.parts[1], -np.log10(full(size)), case)
    if case not in ("at", "above"):
        assert fails(v).startswith("the bias changes no training-mode output in none of 10 seeds")


def test_decades_below_one():
    assert lessons._decades_below([1e-12, 1.0, 10.0, 0.0, -1.0]).tolist() == [12.0, 0.0, -1.0, 300.0, 300.0]
    assert lessons._decades_below(np.array([1e-320])).tolist() == [300.0]     # past 1e-300 counts as 1e-300


@pytest.mark.parametrize("case, error", [("at", 1e-12), ("above", 1e-16), ("below", 1.1e-12), ("tied", 1.0),
                                         ("reversed", 1e13)])
def test_gamma_beta_edges(monkeypatch, case, error):
    fake(monkeypatch, "gamma_beta_identity", {"error": full(error), "batch_size": 10})
    v = lessons._gamma_beta(list(range(N)), Config())
    check(v.parts[0], -np.log10(full(error)), case)
    if case not in ("at", "above"):
        assert fails(v) == "γ = √(σ²_B + ε), β = μ_B give back the input in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


# ------------------------------------------------------------------ claim 7: within a tolerance


def test_within_a_tolerance():
    assert lessons._within([0.0, 0.05, 0.1, 0.2], 0.1).tolist() == [1.0, 0.5, 0.0, -1.0]
    assert lessons._within([np.nan], 0.1).tolist() == [-np.inf]
    assert lessons._within([0.3], 0.5).tolist() == [1 - 0.3 / 0.5]


def running(monkeypatch, ewma_mean, ewma_var, pop_mean, pop_var, cum_mean=full(1.0), cum_var=full(1.0)):
    def rule(mean_gap, var_gap):
        return {"mean_gap": mean_gap, "var_gap": var_gap, "var_error": full(0.0), "settled_epoch": full(1.0)}
    fake(monkeypatch, "running_averages", {"tolerance": 0.1, "var_tolerance": 0.05, "batch_size": 10, "layer": 2,
                                           "running_var": "biased", "ewma": rule(ewma_mean, ewma_var),
                                           "population": rule(pop_mean, pop_var),
                                           "cumulative": rule(cum_mean, cum_var)})
    return lessons._running(list(range(N)), Config())


# (mean gap, variance gap) for a tolerance of 0.1 and 0.05; the worse of the two decides
@pytest.mark.parametrize("case, mean, var", [
    ("at", 0.1, 0.0), ("at", 0.0, 0.05), ("above", 0.02, 0.01), ("below", 0.11, 0.01), ("below", 0.01, 0.051),
    ("reversed", 0.5, 0.01), ("reversed", 0.01, 0.2)])
def test_running_edges(monkeypatch, case, mean, var):
    v = running(monkeypatch, full(mean), full(var), full(0.0), full(0.0))
    expected = np.minimum(1 - full(mean) / 0.1, 1 - full(var) / 0.05)
    assert v.parts[0].values.tolist() == expected.tolist()
    if case in ("at", "above"):
        assert (v.parts[0].count, v.status) == (N, "holds")
    else:
        assert (v.parts[0].count, v.status) == (0, "partly")
        assert v.parts[0].reversed              # a threshold of 0: any interval below 0 is reversed
        assert fails(v) == "the EWMA ends near the exact statistics in none of 10 seeds" + REVERSED + "."
    v = running(monkeypatch, full(0.0), full(0.0), full(mean), full(var))
    assert v.parts[1].values.tolist() == expected.tolist()
    if case not in ("at", "above"):
        assert fails(v) == "the population average after training ends near them in none of 10 seeds" + REVERSED + "."


def test_running_counts_each_rule_in_its_own_words(monkeypatch):
    """The average over training is counted within tolerance like the others, a gap at the tolerance included."""
    cum_mean = np.array([0.1] * 3 + [0.0] * 2 + [0.5] * 5)           # 3 at the tolerance, 2 inside, 5 outside
    v = running(monkeypatch, full(0.0), full(0.0), full(0.2), full(0.0), cum_mean, full(0.0))
    assert ("Within tolerance (three times the EWMA's own noise): the EWMA in all 10 seeds, the population average "
            "in none of 10 seeds, the average over training in half the 10 seeds.") in v.sentence


def test_running_an_unmeasured_gap_is_far_off(monkeypatch):
    v = running(monkeypatch, np.array([np.nan] * 2 + [0.0] * 8), full(0.0), full(0.0), np.array([np.nan] + [0.0] * 9))
    assert v.parts[0].values.tolist() == [-np.inf] * 2 + [1.0] * 8
    assert v.parts[1].values.tolist() == [-np.inf] + [1.0] * 9
    assert (v.parts[0].status, v.parts[1].status) == ("partly", "holds")
    assert fails(v) == "the EWMA ends near the exact statistics in only 8 of 10 seeds."


# ------------------------------------------------------------------ claims 8 to 11


@pytest.mark.parametrize("case, on, off", [("at", 0.75, 1.0), ("above", 0.1, 1.0), ("below", 0.76, 1.0),
                                           ("tied", 0.5, 0.5), ("reversed", 2.0, 1.0)])
def test_covariate_shift_edges(monkeypatch, case, on, off):
    fake(monkeypatch, "covariate_shift", {"drift": {T: full(on), F: full(off)},
                                          "test_acc": {T: full(0.9), F: full(0.9)}})
    v = lessons._covariate_shift(list(range(N)), Config())
    check(v.parts[0], 1 - full(on) / off, case)
    if case not in ("at", "above"):
        assert fails(v) == "each layer's input is steadier with BN in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


@pytest.mark.parametrize("case, before, after", [("at", 0.0, 0.0), ("at", 0.2, 0.0), ("at", 0.0, 0.3),
                                                 ("above", 0.1, 0.2), ("reversed", -0.01, 0.2),
                                                 ("reversed", 0.2, -0.01)])
def test_position_edges(monkeypatch, case, before, after):
    fake(monkeypatch, "bn_position", {"acc": {"before": full(0.9), "after": full(0.9)},
                                      "learned": {"before": full(1) > 0, "after": full(1) > 0},
                                      "margin": {"before": full(before), "after": full(after)}})
    v = lessons._position(list(range(N)), Config())
    check(v.parts[0], full(min(before, after)), case)
    if case == "reversed":
        assert fails(v) == "BN learns before and after the activation in none of 10 seeds" + REVERSED + "."


def gradients(monkeypatch, ratio_on, ratio_off, first_on, first_off):
    fake(monkeypatch, "gradient_flow", {"ratio": {T: ratio_on, F: ratio_off},
                                        "learned": {T: full(1) > 0, F: full(1) > 0}, "depth": 6})
    fake(monkeypatch, "gradient_growth", {"first": {T: first_on, F: first_off}, "last": {},
                                          "learned": {T: full(1) > 0, F: full(1) > 0}, "scale": 10.0, "depth": 2})
    return lessons._gradients(list(range(N)), Config(activation="sigmoid"))


@pytest.mark.parametrize("case, on, off", [("at", 1.0, 10.0), ("above", 1.0, 1000.0), ("below", 1.0, 9.9),
                                           ("tied", 5.0, 5.0), ("reversed", 100.0, 1.0)])
def test_gradients_edges(monkeypatch, case, on, off):
    v = gradients(monkeypatch, full(on), full(off), full(1.0), full(100.0))
    check(v.parts[0], np.log10(full(off)) - np.log10(on), case)
    if case not in ("at", "above"):
        assert v.status == "partly"
        assert fails(v) == "BN keeps the gradient from vanishing in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."
    v = gradients(monkeypatch, full(1.0), full(100.0), full(on), full(off))
    check(v.parts[1], np.log10(full(off)) - np.log10(on), case)
    if case not in ("at", "above"):
        assert fails(v) == "BN keeps the gradient from exploding in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


def test_gradients_a_diverged_plain_net_counts_as_exploded(monkeypatch):
    v = gradients(monkeypatch, full(1.0), full(100.0), full(1.0), np.array([np.inf] * 9 + [1.0]))
    assert v.parts[1].values.tolist() == [np.inf] * 9 + [0.0]
    assert v.parts[1].status == "holds" and v.status == "holds"
    v = gradients(monkeypatch, full(1.0), full(100.0), np.array([np.nan] * 2 + [1.0] * 8), full(100.0))
    assert v.parts[1].values.tolist() == [-np.inf] * 2 + [2.0] * 8           # a BN gradient not measured
    assert fails(v) == "BN keeps the gradient from exploding in only 8 of 10 seeds."


@pytest.mark.parametrize("case, low", [("at", 0.0), ("above", 0.05), ("reversed", -0.01)])
def test_optimizers_edges(monkeypatch, case, low):
    margins = {"sgd": full(0.2), "momentum": full(0.3), "rmsprop": full(low), "adam": full(0.1)}
    fake(monkeypatch, "optimizers", {"acc": {k: full(0.9) for k in margins}, "learned": {k: full(1) > 0 for k in margins},
                                     "margin": margins, "lr": dict(measures.OPTIMIZER_LR)})
    v = lessons._optimizers(list(range(N)), Config())
    check(v.parts[0], full(min(low, 0.1)), case)
    if case == "reversed":
        assert fails(v) == "BN learns with every optimizer in none of 10 seeds" + REVERSED + "."


# ------------------------------------------------------------------ Santurkar et al.: three parts


def santurkar(monkeypatch, noisy_margin, drift_noisy, drift_bn, smooth_plain, smooth_bn):
    def three(bn, noisy, plain):
        return {"bn": bn, "noisy": noisy, "plain": plain}
    fake(monkeypatch, "noisy_bn", {"noise": 0.5, "learned": three(full(1) > 0, full(1) > 0, full(1) > 0),
                                   "margin": three(full(0.1), noisy_margin, full(0.1)),
                                   "drift": three(drift_bn, drift_noisy, full(1.0)),
                                   "loss_variation": three(full(1.0), full(1.0), full(1.0)),
                                   "grad_change": three(full(1.0), full(1.0), full(1.0)),
                                   "beta_smoothness": three(smooth_bn, full(1.0), smooth_plain)})
    return lessons._santurkar(list(range(N)), Config())


@pytest.mark.parametrize("case, margin", [("at", 0.0), ("above", 0.1), ("reversed", -0.01)])
def test_santurkar_learns_edges(monkeypatch, case, margin):
    v = santurkar(monkeypatch, full(margin), full(2.0), full(1.0), full(2.0), full(1.0))
    check(v.parts[0], full(margin), case)
    if case == "reversed":
        assert v.status == "partly"
        assert fails(v) == "noisy BN still learns in none of 10 seeds" + REVERSED + "."


@pytest.mark.parametrize("case, noisy, bn", [("at", 2.0, 1.0), ("above", 8.0, 1.0), ("below", 1.9, 1.0),
                                             ("tied", 0.5, 0.5), ("reversed", 0.5, 2.0)])
def test_santurkar_moves_edges(monkeypatch, case, noisy, bn):
    v = santurkar(monkeypatch, full(0.1), full(noisy), full(bn), full(2.0), full(1.0))
    check(v.parts[1], np.log2(full(noisy) / bn), case)
    if case not in ("at", "above"):
        assert fails(v) == "its layer inputs move more than with plain BN in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


@pytest.mark.parametrize("case, plain, bn", [("at", SQRT2, 1.0), ("above", 4.0, 1.0), ("below", BELOW_SQRT2, 1.0),
                                             ("tied", 3.0, 3.0), ("reversed", 1.0, 2.0)])
def test_santurkar_smoother_edges(monkeypatch, case, plain, bn):
    v = santurkar(monkeypatch, full(0.1), full(2.0), full(1.0), full(plain), full(bn))
    check(v.parts[2], np.log2(full(plain) / bn), case)
    if case not in ("at", "above"):
        assert fails(v) == "BN's loss landscape is smoother in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


# ------------------------------------------------------------------ batch dependence: three parts


def dependence(monkeypatch, acc_batch, acc_layer, noise_batch, noise_layer, row_change_layer, test_rows=20):
    """acc_*: (small, large) per seed, (N, 2); noise_*: at the smallest batch, (N,)."""
    fake(monkeypatch, "batch_dependence", {
        "batch_sizes": np.array([2, 64]),
        "test_acc": {"batch": acc_batch, "layer": acc_layer, "none": np.full((N, 2), 0.8)},
        "loss_noise": {"batch": np.stack([noise_batch, full(0.01)], axis=1),
                       "layer": np.stack([noise_layer, full(0.01)], axis=1), "none": np.full((N, 2), 0.01)},
        "row_change": {"batch": full(0.1), "layer": row_change_layer, "none": full(0.0)},
        "epochs": 20, "test_rows": test_rows, "train_rows": 80})
    return lessons._batch_dependence(list(range(N)), Config(hidden=(8, 8)))


def pairs(small, large):
    return np.stack([full(small), full(large)], axis=1)


@pytest.mark.parametrize("case, batch, layer", [
    ("at", (0.8, 0.85), (0.9, 0.9)),          # batch norm loses one test row of 20, layer norm none
    ("at", (0.7, 0.9), (0.75, 0.9)),          # 0.2 against 0.15
    ("above", (0.6, 0.9), (0.9, 0.9)),
    ("below", (0.81, 0.85), (0.9, 0.9)),
    ("tied", (0.8, 0.9), (0.8, 0.9)),
    ("reversed", (0.9, 0.9), (0.7, 0.9))])
def test_batch_dependence_falls_edges(monkeypatch, case, batch, layer):
    v = dependence(monkeypatch, pairs(*batch), pairs(*layer), full(0.4), full(0.1), full(0.0))
    lost = (batch[1] - batch[0]) - (layer[1] - layer[0])
    assert v.parts[0].values.tolist() == [round(lost, 12)] * N
    assert (v.parts[0].count, v.parts[0].status, v.parts[0].reversed) == EDGE[case]
    if case not in ("at", "above"):
        assert fails(v) == "small batches cost batch norm accuracy, and layer norm less in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


@pytest.mark.parametrize("case, batch, layer", [("at", SQRT2, 1.0), ("above", 4.0, 1.0), ("below", BELOW_SQRT2, 1.0),
                                                ("tied", 0.2, 0.2), ("reversed", 0.1, 0.4)])
def test_batch_dependence_noise_edges(monkeypatch, case, batch, layer):
    v = dependence(monkeypatch, pairs(0.7, 0.9), pairs(0.9, 0.9), full(batch), full(layer), full(0.0))
    check(v.parts[1], np.log2(full(batch) / layer), case)
    if case not in ("at", "above"):
        assert fails(v) == ("at the smallest batch the loss is noisier with batch norm than with layer norm in none "
                            "of 10 seeds" + (REVERSED if case == "reversed" else "") + ".")


def test_batch_dependence_noise_of_zero(monkeypatch):
    v = dependence(monkeypatch, pairs(0.7, 0.9), pairs(0.9, 0.9), np.array([0.1] * 5 + [0.0] * 5),
                   np.array([0.0] * 5 + [0.1] * 5), full(0.0))
    assert v.parts[1].values.tolist() == [np.inf] * 5 + [-np.inf] * 5
    v = dependence(monkeypatch, pairs(0.7, 0.9), pairs(0.9, 0.9), full(0.0), full(0.0), full(0.0))
    assert v.parts[1].values.tolist() == [-np.inf] * N      # 0 / 0 could not be measured: it counts against


@pytest.mark.parametrize("case, change", [("at", 1e-12), ("above", 0.0), ("below", 1.1e-12), ("tied", 1.0),
                                          ("reversed", 1e13)])
def test_batch_dependence_alone_edges(monkeypatch, case, change):
    v = dependence(monkeypatch, pairs(0.7, 0.9), pairs(0.9, 0.9), full(0.4), full(0.1), full(change))
    check(v.parts[2], -np.log10(np.maximum(full(change), 1e-300)), case)
    if case not in ("at", "above"):
        assert v.status == "partly"
        assert fails(v) == "a row's output under layer norm ignores the rest of its batch in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


# ------------------------------------------------------------------ the worked example and Figure 1


@pytest.mark.parametrize("case, batch, evaluation", [("at", 1.0, 1.0), ("reversed", 0.75, 1.0),
                                                     ("reversed", 1.0, 0.75)])
def test_worked_example_edges(monkeypatch, case, batch, evaluation):
    fake(monkeypatch, "worked_example", {"correlation": 0.5, "acc_batch": full(batch), "acc_eval": full(evaluation),
                                         "learned": None, "momentum": 0.9, "mu_B": 1.0, "var_B": 1.0,
                                         "seed_shown": 0})
    v = lessons._worked_example(list(range(N)), Config())
    check(v.parts[0], full(min(batch, evaluation) - 1.0), case)
    if case == "reversed":
        assert fails(v) == "all four are classified right in both modes in none of 10 seeds" + REVERSED + "."


def figure1(monkeypatch, acc_on, acc_off, drift_on, drift_off):
    import bnviz.figure1

    m = {"steps": np.array([48, 120]), "acc": {T: acc_on, F: acc_off}, "pct": {T: None, F: None},
         "drift": {T: drift_on, F: drift_off}, "seconds": {T: 1.0, F: 1.0}, "diverged": None, "unit": 0, "layer": 3}
    monkeypatch.setattr(bnviz.figure1, "measure_figure1", lambda seeds, base: m)
    return lessons._figure1(list(range(N)), Config())


@pytest.mark.parametrize("case, on, off", [("at", 0.02, 0.0), ("above", 0.9, 0.5), ("below", 0.0199, 0.0),
                                           ("tied", 0.5, 0.5), ("reversed", 0.5, 0.9)])
def test_figure1_higher_edges(monkeypatch, case, on, off):
    v = figure1(monkeypatch, np.full((N, 2), on), np.full((N, 2), off), full(0.5), full(1.0))
    check(v.parts[0], full(on) - off, case)
    if case not in ("at", "above"):
        assert v.status == "partly"
        assert fails(v) == "BN's test accuracy is higher over training in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."


def test_figure1_a_step_not_evaluated_is_left_out_of_the_mean(monkeypatch):
    on = np.array([[np.nan, 0.6]] * N)
    v = figure1(monkeypatch, on, np.full((N, 2), 0.5), full(0.5), full(1.0))
    assert v.parts[0].values.tolist() == pytest.approx([0.1] * N, abs=1e-15)
    on = np.full((N, 2), np.nan)
    v = figure1(monkeypatch, on, np.full((N, 2), 0.5), full(0.5), full(1.0))
    assert v.parts[0].values.tolist() == [-np.inf] * N       # never evaluated: counts against the claim


@pytest.mark.parametrize("case, on, off", [("at", 0.75, 1.0), ("above", 0.1, 1.0), ("below", 0.76, 1.0),
                                           ("tied", 0.5, 0.5), ("reversed", 2.0, 1.0)])
def test_figure1_steadier_edges(monkeypatch, case, on, off):
    v = figure1(monkeypatch, np.full((N, 2), 0.9), np.full((N, 2), 0.5), full(on), full(off))
    check(v.parts[1], 1 - full(on) / off, case)
    if case not in ("at", "above"):
        assert fails(v) == "the sigmoid's input moves less with BN in none of 10 seeds" + (
            REVERSED if case == "reversed" else "") + "."
