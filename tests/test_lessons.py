"""The lessons' contract: every lesson measured on both experiments over seeds 0-9, paired by seed,
its status from the one rule, its sentence built from its numbers."""
import re

import numpy as np
import pytest

import plain
from bnviz import Config, load_for, train
from bnviz.lessons import EXPERIMENTS, LESSONS, STATUSES, Verdict, contrast, describe, lesson_by_id, measure
from bnviz.measures import fmt

SEEDS = tuple(range(10))


@pytest.fixture(scope="session")
def verdicts():
    """Every lesson's two experiments measured once over the fixed seeds, shared by the tests."""
    return {(lesson.id, e): measure(lesson, SEEDS, e) for lesson in LESSONS for e in EXPERIMENTS}


def test_the_table_covers_the_notes_and_the_two_additions():
    rows = sorted(lesson.notes_row for lesson in LESSONS if lesson.notes_row is not None)
    assert rows == list(range(1, len(rows) + 1)) and len(rows) == 11
    ids = [lesson.id for lesson in LESSONS]
    assert len(set(ids)) == len(ids)
    assert {"santurkar", "worked-example"} <= set(ids)
    for lesson in LESSONS:
        assert re.fullmatch(r"[a-z0-9-]+", lesson.id)
        assert lesson.claim and lesson.sources and all(re.fullmatch(r"\d{3}", s) for s in lesson.sources)
        assert lesson.compares and lesson.query == lesson.experiments["shows"]
        assert set(lesson.experiments) == {"notes", "shows"}
        assert lesson_by_id(lesson.id) is lesson


def test_the_notes_experiment_is_the_notes_network_on_the_placement_data():
    notes_net = Config()
    for lesson in LESSONS:
        if lesson.id in ("worked-example", "figure-1"):      # a worked table, and the paper's own network
            continue
        cfg = lesson.config("notes")
        assert (cfg.dataset, cfg.hidden, cfg.activation) == (notes_net.dataset, notes_net.hidden,
                                                              notes_net.activation), lesson.id


def plain_status(values, threshold):
    """The rule written out once more: a seed shows at the threshold; holds when the second smallest
    of 10 effects (the 98% sign-test interval's low end) reaches it; partly for more than 5 of 10."""
    values = np.where(np.isnan(values), -np.inf, values)
    ordered = sorted(values)
    if ordered[1] >= threshold:
        return "holds"
    return "partly" if sum(v >= threshold for v in values) > 5 else "does not show"


def test_every_verdict_follows_the_one_rule(verdicts):
    for (lesson_id, experiment), v in verdicts.items():
        assert isinstance(v, Verdict) and v.lesson == lesson_id and v.status in STATUSES
        assert v.seeds == SEEDS and v.experiment == experiment
        statuses = [plain_status(p.values, p.threshold) for p in v.parts]
        expected = ("holds" if all(s == "holds" for s in statuses) else
                    "does not show" if all(s == "does not show" for s in statuses) else "partly")
        assert v.status == expected, (lesson_id, experiment, statuses)
        first = sorted(v.parts[0].values)
        assert v.effect == pytest.approx((first[4] + first[5]) / 2)
        assert v.ci == (first[1], first[8]) and v.level == pytest.approx(1 - 22 / 1024)
        for p in v.parts:
            assert p.name in v.rule and fmt(p.threshold) in v.rule.replace("1e-", "1e-")
        assert "sign-test" in v.rule


def test_every_verdict_has_its_numbers_and_names_what_fails(verdicts):
    for (lesson_id, experiment), v in verdicts.items():
        assert v.numbers and v.sentence.endswith(".")
        for name, values in v.spread.items():
            assert values.shape == (len(SEEDS),), (lesson_id, name)
        failing = [p for p in v.parts if p.status != "holds"]
        if failing:
            assert v.status != "holds" and v.fails and v.fails in v.sentence
            for p in failing:
                assert p.name[1:] in v.fails            # its first letter in the case the sentence needs
        else:
            assert v.status == "holds" and not v.fails


def test_counts_are_words_that_never_overstate(verdicts):
    for v in verdicts.values():
        assert not re.search(r"\b(in|for) most\b|\bmost (seeds|of)\b|\bmany\b", v.sentence), v.sentence
        assert "1 seeds" not in v.sentence


def test_every_sentence_states_the_numbers_it_is_built_from(verdicts):
    for (lesson_id, _), v in verdicts.items():
        stated = [name for name, value in v.numbers.items()
                  if isinstance(value, (int, float)) and fmt(value) in v.sentence]
        assert len(stated) >= min(3, len(v.numbers)), (lesson_id, v.numbers, v.sentence)
        # no figure in the sentence that was not measured
        numbers_in_sentence = set(re.findall(r"\d(?:[\d,]*\d)?(?:\.\d+)?(?:e[-+]\d+)?", v.sentence))
        allowed = {fmt(x) for x in v.numbers.values() if isinstance(x, (int, float))}
        allowed |= {str(s) for s in SEEDS} | {"1", "2", "3", "4", "15", "50", "85", "10", "100", "2018", "1.4"}
        allowed |= {part for x in v.numbers.values() if isinstance(x, str) for part in re.findall(r"[\d.e+-]+", x)}
        allowed |= {str(p.count) for p in v.parts}
        for text in numbers_in_sentence:
            assert text in allowed or any(text in a for a in allowed), (lesson_id, text, v.sentence)


def test_the_card_says_what_differs_between_the_experiments(verdicts):
    for lesson in LESSONS:
        notes, shows = verdicts[(lesson.id, "notes")], verdicts[(lesson.id, "shows")]
        text = contrast(lesson, notes, shows)
        if lesson.setting:                       # the paper's own network: no notes' network to contrast
            words = {"holds": "holds", "partly": "holds partly", "does not show": "does not show"}
            assert f"measured on {lesson.setting} only" in text and f"it {words[notes.status]} there" in text
            continue
        if lesson.same_experiment:
            assert "notes' own experiment" in text
            continue
        assert describe(lesson.config("shows")) in text
        words = {"holds": "holds", "partly": "holds partly", "does not show": "does not show"}
        assert f"the claim {words[shows.status]}; on the notes' network it {words[notes.status]}." in text
        assert f"median effect {fmt(shows.effect)} against {fmt(notes.effect)}" in text


def test_every_lesson_measures_on_one_other_seed():
    for lesson in LESSONS:
        v = measure(lesson, [13])
        assert v.seeds == (13,) and v.status in STATUSES and "1 seeds" not in v.sentence
        assert all(values.shape == (1,) for values in v.spread.values()), lesson.id


def test_other_seeds_can_be_measured():
    v = measure(lesson_by_id("gamma-beta-undo"), [11, 12], "shows")
    assert v.seeds == (11, 12) and v.spread["BN on"].shape == (2,)
    with pytest.raises(ValueError, match="at least one seed"):
        measure(lesson_by_id("gamma-beta-undo"), [])
    with pytest.raises(ValueError, match="at most"):
        measure(lesson_by_id("higher-lr"), range(1000))
    with pytest.raises(ValueError, match="experiment"):
        measure(lesson_by_id("higher-lr"), [0], "elsewhere")


def test_unknown_lesson_is_named():
    with pytest.raises(KeyError, match="no lesson"):
        lesson_by_id("nope")


# ------------------------------------------------------------------ one test per lesson
#
# What seeds 0-9 show on this data. Each check recomputes at least one of the
# lesson's figures the slow way (single trainings, tests/plain.py) where that is
# cheap, and states the verdict the runs give.


def plain_learn_bar(data):
    """Halfway from chance to a logistic regression with intercept (Newton's method), by hand."""
    y = data.y_train
    chance = max(y.mean(), 1 - y.mean())
    X = (data.X_train - data.X_train.mean(0)) / data.X_train.std(0)
    Z = np.column_stack([np.ones(len(X)), X])
    w = np.zeros(3)
    for _ in range(30):
        p = 1 / (1 + np.exp(-Z @ w))
        H = (Z * (p * (1 - p))[:, None]).T @ Z / len(y) + 1e-6 * np.eye(3)
        w -= np.linalg.solve(H, Z.T @ (p - y) / len(y) + 1e-6 * w)
    logistic = ((Z @ w > 0) == (y > 0.5)).mean()
    return (chance + max(logistic, chance)) / 2


def final_eval_accuracy(run, data):
    """Training accuracy in evaluation mode at the end, recomputed with the plain running averages."""
    X = plain.inputs(run, data, data.X_train)
    buffers = None
    if run.arch.bn:
        buffers = plain.buffers_after(run, plain.running_statistics(run, data), run.n_steps)
    logits, _ = plain.forward(run, plain.params_at(run, run.n_steps), X, buffers)
    return plain.accuracy(logits, data.y_train)


def check_input_scaling(v):
    assert v.numbers["seeds_rounder"] == 10 and v.numbers["seeds_larger"] == 10
    assert v.numbers["elongation_raw"] > 10 > 3 > v.numbers["elongation_std"]
    data = load_for(Config(seed=0))
    X = data.X_train - data.X_train.mean(0)
    w = np.zeros(2)
    for _ in range(60):
        p = 1 / (1 + np.exp(-X @ w))
        H = (X * (p * (1 - p))[:, None]).T @ X / len(X)
        w -= np.linalg.solve(H + 1e-9 * np.eye(2), X.T @ (p - data.y_train) / len(X))
    p = 1 / (1 + np.exp(-X @ w))
    largest = np.linalg.eigvalsh((X * (p * (1 - p))[:, None]).T @ X / len(X)).max()
    assert v.spread["raw"][0] == pytest.approx(2 / largest, rel=1e-6)
    assert v.parts[1].values[0] == pytest.approx(np.log2(v.spread["standardized"][0] / v.spread["raw"][0]))


def check_higher_lr_notes(v):
    n = v.numbers
    assert (n["learn_at_probe_bn"], n["learn_at_probe_plain"]) == (5, 1)
    assert n["median_best_lr_bn"] > n["median_best_lr_plain"]
    # at the default rate both learn within the first few epochs: BN is not clearly faster here
    assert n["epochs_bn"] < 3 and n["epochs_plain"] < 3 and n["seeds_faster"] < 8
    # seed 1 without BN by hand: the first epoch-long window of mini-batches classified past the bar
    cfg = Config(bn=False, seed=1)
    data = load_for(cfg)
    run = train(cfg, data)
    X, bar, spe = plain.inputs(run, data, data.X_train), plain_learn_bar(data), run.steps_per_epoch
    right, seen = [], []
    for s in range(run.n_steps):
        rows = plain.batch_rows(run, s)
        logits, _ = plain.forward(run, plain.params_at(run, s), X[rows])
        right.append(plain.accuracy(logits, data.y_train[rows]) * len(rows))
        seen.append(len(rows))
        if s + 1 >= spe and sum(right[-spe:]) / sum(seen[-spe:]) >= bar:
            break
    from bnviz.measures import epochs_to_learn
    assert epochs_to_learn([1])["epochs"][False][0] == pytest.approx((s + 1) / spe)
    for seed in (0, 1, 8):
        for bn, key in ((True, "BN on"), (False, "BN off")):
            cfg = Config(lr=2.0, epochs=30, bn=bn, seed=seed)
            data = load_for(cfg)
            learned = final_eval_accuracy(train(cfg, data), data) >= plain_learn_bar(data)
            assert learned == (v.spread[key][seed] >= 2.0), (seed, bn)
    # the effect is the doublings between the two largest rates, the plain net's floor half the grid's start
    best_on, best_off = v.spread["BN on"], v.spread["BN off"]
    np.testing.assert_allclose(v.parts[0].values, np.log2(np.maximum(best_on, 0.125) / np.maximum(best_off, 0.125)))


def check_higher_lr_shows(v):
    n = v.numbers
    assert n["learn_at_probe_bn"] >= 9 and n["learn_at_probe_plain"] == 0
    assert n["ratio"] >= 8 and n["seeds_faster"] == 10


def check_init_scale(v):
    n = v.numbers
    assert n["seeds_bn_wider"] == 10 and n["median_scales_bn"] > n["median_scales_plain"]
    on, off = v.spread["BN on"], v.spread["BN off"]
    np.testing.assert_array_equal(v.parts[0].values, on - off)


def check_init_scale_notes(v):
    check_init_scale(v)
    assert "scale 100 in" in v.numbers["bn_fails_at"] and "BN too fails at" in v.sentence


def check_batch_noise_notes(v):
    n = v.numbers
    assert n["small_batch"] == 4 and n["large_batch"] == 64
    # the batch mean wanders as random sampling says it should, within a fifth
    assert n["mu_spread_small"] == pytest.approx(n["theory_small"], rel=0.2)
    assert n["loss_gap_small"] > 10 * abs(n["loss_gap_large"])
    assert n["seeds_regularized"] < 6
    # the regularization part compares the sizes of the gaps, never their signs
    on, off = v.spread["BN on"], v.spread["BN off"]
    np.testing.assert_allclose(v.parts[1].values, np.abs(off) - np.abs(on))
    # seed 0 by hand: the spread of its first BN layer's batch means over the last epoch
    from bnviz.measures import batch_noise
    measured = batch_noise([0], sizes=(4, 64, None))
    cfg = Config(batch_size=4, epochs=10)
    data = load_for(cfg)
    run = train(cfg, data)
    X = plain.inputs(run, data, data.X_train)
    spe = run.steps_per_epoch
    means = np.array([plain.forward(run, plain.params_at(run, s), X[plain.batch_rows(run, s)])[1][0]["mean"]
                      for s in range(run.n_steps - spe, run.n_steps)])
    full = plain.forward(run, plain.params_at(run, run.n_steps), X)[1][0]
    assert measured["mu_spread"][0, 0] == pytest.approx((means.std(0) / np.sqrt(full["var"])).mean(), rel=1e-9)


def check_batch_noise_shows(v):
    n = v.numbers
    assert n["seeds_noisier"] == 10 and n["abs_gap_plain"] > n["abs_gap_bn"] and n["seeds_regularized"] >= 6


def check_bias(v):
    n = v.numbers
    assert n["max_grad_ratio"] < 1e-12 and n["max_train_output_diff"] < 1e-12
    assert n["eval_shift_first"] > 0.1 and n["eval_shift_last"] < 1e-3 * n["eval_shift_first"]


def check_gamma_beta(v):
    assert v.numbers["max_error"] < 1e-12
    cfg = Config(seed=4)
    data = load_for(cfg)
    run = train(cfg.replace(epochs=1), data)
    X = plain.inputs(run, data, data.X_train)
    _, layers = plain.forward(run, run.initial_params, X[plain.batch_rows(run, 0)])
    for layer in layers:
        z, mean, var = layer["bn_in"], layer["mean"], layer["var"]
        back = np.sqrt(var + run.arch.eps) * (z - mean) / np.sqrt(var + run.arch.eps) + mean
        assert np.abs(back - z).max() / np.abs(z).max() <= max(v.spread["BN on"][4], 1e-15) * 10


def running_gap_by_hand(cfg, seed):
    """The last BN layer's worst |running mean - exact mean| / exact std at the end, one seed, by hand."""
    cfg = cfg.replace(seed=seed)
    data = load_for(cfg)
    run = train(cfg, data)
    running = plain.running_statistics(run, data)
    X = plain.inputs(run, data, data.X_train)
    _, layers = plain.forward(run, plain.params_at(run, run.n_steps), X)
    k = len(run.arch.hidden)
    exact = layers[k - 1]
    return float(np.max(np.abs(running[k][-1][0] - exact["mean"]) / np.sqrt(exact["var"])))


def check_running_notes(v):
    n = v.numbers
    assert n["layer"] == 2 and n["running_var"] == "biased"
    # the population average after training lands closest, the average over all of training farthest
    assert n["mean_gap_population"] < n["mean_gap_ewma"] < n["mean_gap_cumulative"]
    assert n["mean_gap_cumulative"] > n["tolerance"]
    for rule, key in (("ewma", "EWMA"), ("population", "population")):
        assert v.spread[key][3] == pytest.approx(running_gap_by_hand(Config(running_avg=rule), 3), rel=1e-6)


def check_running_shows(v):
    n = v.numbers
    assert n["running_var"] == "unbiased" and n["batch_size"] == 32
    assert abs(n["var_error_population_pct"]) < n["tolerance_pct"]


def check_covariate_shift_notes(v):
    n = v.numbers
    assert n["seeds_steadier"] <= 5


def check_covariate_shift_shows(v):
    n = v.numbers
    assert n["seeds_steadier"] >= 9 and n["drift_bn"] < n["drift_plain"]


def check_position(v):
    assert v.numbers["seeds_before"] == 10 and v.numbers["seeds_after"] == 10


def check_gradients_notes(v):
    assert v.parts[0].status == "does not show" and v.parts[1].status == "holds"
    # seed 5, by hand: the largest first-layer gradient norm over the first epoch, ReLU at 10x the init scale
    for bn, key in ((False, "first-layer gradient BN off"), (True, "first-layer gradient BN on")):
        cfg = Config(init_scale=10.0, bn=bn, seed=5, epochs=1)
        run = train(cfg, load_for(cfg))
        a, b, _ = run.param_slices["W1"]
        assert v.detail[key][5] == pytest.approx(max(np.linalg.norm(g[a:b]) for g in run.grads), rel=1e-9)


def check_gradients_shows(v):
    n = v.numbers
    assert v.parts[0].count == 10 and n["ratio_plain"] > 100 > 10 > n["ratio_bn"]
    cfg = Config(hidden=(8,) * 6, activation="sigmoid", epochs=1, bn=False, seed=2)
    run = train(cfg, load_for(cfg))
    a, b, _ = run.param_slices["W1"]
    c, d, _ = run.param_slices["W7"]
    ratios = [np.linalg.norm(g[c:d]) / np.linalg.norm(g[a:b]) for g in run.grads]
    assert v.spread["BN off"][2] == pytest.approx(float(np.median(ratios)), rel=1e-9)


def check_optimizers(v):
    n = v.numbers
    assert (n["learn_sgd"], n["learn_momentum"], n["learn_adam"]) == (10, 10, 10)
    assert n["learn_rmsprop"] >= 9


def check_santurkar_notes(v):
    n = v.numbers
    assert n["learn_noisy"] == 10 and n["drift_noisy"] > 2 * n["drift_bn"]
    assert v.parts[2].status == "does not show"


def check_santurkar_shows(v):
    n = v.numbers
    assert n["learn_noisy"] == 10 and n["beta_smoothness_bn"] < n["beta_smoothness_plain"]
    np.testing.assert_allclose(v.parts[2].values, np.log2(v.spread["BN off"] / v.spread["BN on"]))


def check_worked_example(v):
    from bnviz.toydata import NOTES_BATCH
    table = np.array(NOTES_BATCH, dtype=float)
    assert v.numbers["correlation"] == pytest.approx(np.corrcoef(table[:, 0], table[:, 1])[0, 1])
    assert abs(v.numbers["correlation"]) < 0.99
    assert v.numbers["seeds_learned"] >= 8
    cfg = Config(dataset="notes_batch", batch_size=4, standardize=False, activation="tanh", lr=0.5, epochs=1,
                 bn_momentum=0.9)
    data = load_for(cfg)
    run = train(cfg, data)
    z = data.X_train[plain.batch_rows(run, 0)] @ run.initial_params["W1"]
    assert v.numbers["mu_B"] == pytest.approx(z[:, 0].mean(), rel=1e-12)
    assert v.numbers["var_B"] == pytest.approx(z[:, 0].var(), rel=1e-12)


NAMES = {"batch": "batch norm", "layer": "layer norm", "none": "no normalization"}


def check_batch_dependence(v, notes: bool):
    n = v.numbers
    sizes = list(v.detail["batch_size"])
    assert sizes == [2, 4, 8, 16, 64] and (n["small_batch"], n["large_batch"]) == (2, 64)
    falls, noisier, alone = v.parts
    # the first part's effect is each seed's accuracy lost by batch norm minus that lost by layer norm
    acc_b, acc_l = v.detail["test_acc batch norm"], v.detail["test_acc layer norm"]
    np.testing.assert_allclose(falls.values, (acc_b[:, -1] - acc_b[:, 0]) - (acc_l[:, -1] - acc_l[:, 0]))
    noise_b, noise_l = v.detail["loss_noise batch norm"], v.detail["loss_noise layer norm"]
    np.testing.assert_allclose(noisier.values, np.log2(noise_b[:, 0] / noise_l[:, 0]))
    assert alone.count == 10 and n["max_row_change_layer"] < 1e-12 < 0.1 < n["row_change_batch"]
    for norm in ("batch", "layer", "none"):
        for j, b in enumerate(sizes):
            key = f"acc_{norm}_{b}"
            assert n[key] == pytest.approx(np.median(v.detail[f"test_acc {NAMES[norm]}"][:, j]))
    # seed 0 at batches of 2, batch norm, trained alone: its test accuracy and its loss noise by hand
    base = lesson_by_id("batch-dependence").config("notes" if notes else "shows")
    cfg = base.replace(norm="batch", batch_size=2, seed=0)
    data = load_for(cfg)
    run = train(cfg, data)
    assert acc_b[0, 0] == run.epoch_metrics["test_acc_eval"][-1]
    losses = run.epoch_metrics["train_loss_eval"]
    half = losses[len(losses) // 2:]
    assert noise_b[0, 0] == pytest.approx(np.std(np.diff(half)) / np.sqrt(2), rel=1e-9)
    if notes:               # layer norm cannot learn on the notes' 2-unit layer, at any batch size
        assert falls.count <= 2 and n["acc_layer_2"] < n["acc_none_2"] - 0.2 and "a layer of 2 units" in v.sentence
    else:                   # circles: batch norm falls from batches of 64 to 2, layer norm does not
        assert falls.count == 10 and noisier.count == 10
        assert n["acc_batch_2"] < n["acc_batch_64"] - 0.1 and n["acc_layer_2"] >= n["acc_layer_64"]


# (lesson, experiment): the status seeds 0-9 give, and the check of its numbers
EXPECTED = {
    ("input-scaling", "notes"): ("holds", check_input_scaling),
    ("higher-lr", "notes"): ("partly", check_higher_lr_notes),
    ("higher-lr", "shows"): ("holds", check_higher_lr_shows),
    ("init-scale", "notes"): ("holds", check_init_scale_notes),
    ("init-scale", "shows"): ("holds", check_init_scale),
    ("batch-noise", "notes"): ("partly", check_batch_noise_notes),
    ("batch-noise", "shows"): ("partly", check_batch_noise_shows),
    ("bias-redundant", "notes"): ("holds", check_bias),
    ("bias-redundant", "shows"): ("holds", check_bias),
    ("gamma-beta-undo", "notes"): ("holds", check_gamma_beta),
    ("gamma-beta-undo", "shows"): ("holds", lambda v: None),
    ("running-averages", "notes"): ("partly", check_running_notes),
    ("running-averages", "shows"): ("holds", check_running_shows),
    ("covariate-shift", "notes"): ("does not show", check_covariate_shift_notes),
    ("covariate-shift", "shows"): ("holds", check_covariate_shift_shows),
    ("bn-position", "notes"): ("holds", check_position),
    ("bn-position", "shows"): ("holds", check_position),
    ("vanishing-gradients", "notes"): ("partly", check_gradients_notes),
    ("vanishing-gradients", "shows"): ("holds", check_gradients_shows),
    ("optimizers", "notes"): ("holds", check_optimizers),
    ("optimizers", "shows"): ("holds", check_optimizers),
    ("santurkar", "notes"): ("partly", check_santurkar_notes),
    ("santurkar", "shows"): ("holds", check_santurkar_shows),
    ("worked-example", "notes"): ("holds", check_worked_example),
    ("batch-dependence", "notes"): ("partly", lambda v: check_batch_dependence(v, notes=True)),
    ("batch-dependence", "shows"): ("holds", lambda v: check_batch_dependence(v, notes=False)),
}
CASES = [(lesson, e) for lesson in LESSONS for e in EXPERIMENTS if (lesson.id, e) in EXPECTED]


@pytest.mark.parametrize("lesson, experiment", CASES, ids=[f"{l.id}-{e}" for l, e in CASES])
def test_each_lesson_over_seeds_0_to_9(lesson, experiment, verdicts):
    status, check = EXPECTED[(lesson.id, experiment)]
    v = verdicts[(lesson.id, experiment)]
    assert v.status == status, v.sentence
    check(v)


def test_every_experiment_where_a_claim_shows_holds_at_least_partly(verdicts):
    for lesson in LESSONS:
        assert verdicts[(lesson.id, "shows")].status in ("holds", "partly"), lesson.id


PAGE_KEYS = ("tab", "compare", "b")


@pytest.mark.parametrize("lesson, experiment", [(l, e) for l in LESSONS for e in EXPERIMENTS],
                         ids=[f"{l.id}-{e}" for l in LESSONS for e in EXPERIMENTS])
def test_each_lesson_link_opens_a_valid_experiment(lesson, experiment):
    from urllib.parse import parse_qsl

    from bnviz.compare import COMPARE_FIELDS, default_value, variant
    query = dict(parse_qsl(lesson.experiments[experiment]))
    settings = {k: v for k, v in query.items() if k not in PAGE_KEYS}
    cfg, warnings = Config.from_query(settings)
    assert warnings == [], lesson.id
    field = query.get("compare")
    if field and field != "off":
        assert field in COMPARE_FIELDS, lesson.id
        b, warnings = variant(cfg, field, query.get("b", default_value(cfg, field)))
        assert warnings == [] and b != cfg, lesson.id


def test_the_worked_example_link_opens_on_the_page():
    from streamlit.testing.v1 import AppTest
    from urllib.parse import parse_qsl

    from conftest import ROOT
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in parse_qsl(lesson_by_id("worked-example").query):
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert not [w.value for w in at.warning if "link" in w.value.lower()]


def test_every_card_chart_keeps_accuracies_on_their_scale(verdicts):
    """An accuracy lies in [0, 1] and a difference of two in [-1, 1]: every card chart of an
    accuracy keeps its axis and its ticks there, also when every seed scores the same."""
    import xml.etree.ElementTree as ET

    from bnviz.ui.lessons import spread_chart
    checked = 0
    for (lesson_id, _), v in verdicts.items():
        if "accuracy" not in v.spread_label:
            continue
        low, high = (-1.0, 1.0) if "minus" in v.spread_label else (0.0, 1.0)
        root = ET.fromstring(spread_chart(v))
        ticks = [float(el.get("data-tick")) for el in root.iter() if el.get("data-tick") is not None]
        assert root.get("data-log") == "0", lesson_id
        assert low <= float(root.get("data-lo")) < float(root.get("data-hi")) <= high, lesson_id
        assert ticks and all(low <= t <= high for t in ticks), (lesson_id, ticks)
        values = np.concatenate([np.asarray(s, float) for s in v.spread.values()])
        assert all(float(root.get("data-lo")) <= x <= float(root.get("data-hi")) for x in values[np.isfinite(values)])
        checked += 1
    assert checked >= 3           # bn-position, optimizers, worked-example (and the batch-noise gap)


def test_the_batch_dependence_card_draws_accuracy_and_noise_against_batch_size(verdicts):
    import xml.etree.ElementTree as ET

    from bnviz.ui.lessons import batch_size_charts
    v = verdicts[("batch-dependence", "shows")]
    svg = batch_size_charts(v)
    charts = [ET.fromstring(part) for part in re.findall(r"<svg.*?</svg>", svg, re.S)]
    assert len(charts) == 2
    # each chart's numbers as a table for a screen reader: a row per batch size, "median (lowest to highest)"
    tables = [ET.fromstring(part) for part in re.findall(r"<table>.*?</table>", svg, re.S)]
    assert len(tables) == 2
    rows = tables[0].find("tbody").findall("tr")
    assert [int(r.find("th").text) for r in rows] == [2, 4, 8, 16, 64]
    heads = [th.text for th in tables[0].find("thead").iter("th")]
    assert heads == ["batch size", "batch norm", "layer norm", "no normalization"]
    for row in rows:
        batch = int(row.find("th").text)
        for key, cell in zip(("batch", "layer", "none"), row.findall("td")):
            median = float(cell.text.split(" (")[0])
            assert median == pytest.approx(v.numbers[f"acc_{key}_{batch}"], rel=5e-3, abs=5e-4)
    label = charts[0].get("aria-label")
    assert label.startswith("test accuracy against batch size. batch norm: median ") and " at 64" in label
    accuracy, noise = charts
    assert accuracy.get("data-log") == "0" and noise.get("data-log") == "1"
    dots = [(el.get("data-group"), int(el.get("data-batch")), float(el.get("data-median")))
            for el in accuracy.iter() if el.get("data-median") is not None]
    assert len(dots) == 3 * 5
    for group, batch, median in dots:
        key = {"batch norm": "batch", "layer norm": "layer", "no normalization": "none"}[group]
        assert median == pytest.approx(v.numbers[f"acc_{key}_{batch}"])
    assert 0.0 <= float(accuracy.get("data-lo")) < float(accuracy.get("data-hi")) <= 1.0
    assert batch_size_charts(verdicts[("batch-noise", "shows")]) == ""


def test_the_shipped_verdicts_are_what_this_code_measures(verdicts):
    """bnviz/datasets/verdicts.json.gz: stamped with this code's fingerprint, and each verdict equal
    to the one measured here, sentence for sentence and number for number."""
    from bnviz.shipped_verdicts import fingerprint, shipped

    found = shipped(SEEDS)
    assert found, ("the shipped verdicts were measured by other code than this (or over other seeds): "
                   "run `make verdicts` and commit bnviz/datasets/verdicts.json.gz")
    assert set(found) == set(verdicts) and len(fingerprint()) == 64
    for key, fresh in verdicts.items():
        kept = found[key]
        assert (kept.lesson, kept.status, kept.sentence, kept.rule, kept.fails) == \
            (fresh.lesson, fresh.status, fresh.sentence, fresh.rule, fresh.fails), key
        assert kept.seeds == fresh.seeds and kept.spread_label == fresh.spread_label
        assert kept.numbers.keys() == fresh.numbers.keys()
        for name, value in fresh.numbers.items():
            if name.startswith("seconds"):                   # how long training took: a clock, not a result
                continue
            assert kept.numbers[name] == (value if isinstance(value, str) else pytest.approx(value, rel=1e-9,
                                                                                              nan_ok=True)), name
        for name in fresh.spread:
            np.testing.assert_allclose(kept.spread[name], fresh.spread[name], rtol=1e-9)
        for ours, theirs in zip(kept.parts, fresh.parts):
            assert (ours.name, ours.effect, ours.threshold) == (theirs.name, theirs.effect, theirs.threshold)
            np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-9)
        assert kept.detail.keys() == fresh.detail.keys()
        for name, value in fresh.detail.items():
            if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
                np.testing.assert_allclose(np.asarray(kept.detail[name], float), value.astype(float), rtol=1e-9,
                                           atol=1e-12, err_msg=name)
            else:
                assert repr(kept.detail[name]) == repr(value), name
