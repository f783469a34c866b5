"""The lessons' shared words by value: how an experiment is described, the card's rule line, the
sentence that says what failed, the notes-against-shows contrast, and the table's plumbing
(links, lookups, the Verdict a measurer hands back)."""
import numpy as np
import pytest

from bnviz import Config, lessons
from bnviz.lessons import (LESSONS, Lesson, Verdict, _med, _part_fails, _seeds, _sentence_case, _shows, _verdict,
                           contrast, describe, experiment_config, lesson_by_id, measure, measure_all, rule_line,
                           seed_list_text)
from bnviz.verdicts import SHORT_RULE, Part


# ------------------------------------------------------------------ describe


@pytest.mark.parametrize("cfg, words", [
    (Config(), "the notes' network"),
    (Config(lr=0.5, epochs=7, seed=3, bn=False), "the notes' network"),
    (Config(dataset="xor"), "XOR data"),
    (Config(dataset="digits"), "Handwritten digits"),
    (Config(dataset="notes_batch"), "The notes' worked batch of 4"),
    (Config(hidden=(5,)), "1 relu layer of 5"),
    (Config(hidden=(8, 8, 8), activation="tanh"), "3 tanh layers of 8"),
    (Config(hidden=(3, 2), activation="sigmoid"), "sigmoid layers of 3,2"),
    (Config(hidden=(4, 7)), "relu layers of 4,7"),
    (Config(batch_size=32), "batches of 32"),
    (Config(test_fraction=0.5), "50% held out"),
    (Config(test_fraction=0.25), "25% held out"),
    (Config(running_var="unbiased"), "unbiased running variance"),
    (Config(bn_momentum=0.9), "momentum 0.9"),
    (Config(bn_momentum=0.12345), "momentum 0.123"),          # printed as the sentences print numbers
    (Config(dataset="circles", hidden=(8, 8), batch_size=2, test_fraction=0.5, running_var="unbiased",
            bn_momentum=0.5),
     "Circles data, 2 relu layers of 8, batches of 2, 50% held out, unbiased running variance, momentum 0.5"),
])
def test_an_experiment_is_described_by_what_differs_from_the_notes_network(cfg, words):
    assert describe(cfg) == words


# ------------------------------------------------------------------ small words


def test_seed_counts_and_seed_lists_in_words():
    assert _seeds(1) == "the one seed"
    assert _seeds(2) == "2 seeds"
    assert _seeds(10) == "10 seeds"
    assert lessons._in_seeds(3, 10) == "3 of 10 seeds" and lessons._in_seeds(10, 10) == "all 10 seeds"
    assert lessons._in_seeds(1, 1) == "the one seed" and lessons._in_seeds(0, 1) == "no seed"
    assert lessons._in_seeds(1, 2) == "half the 2 seeds"
    assert seed_list_text([4]) == "seed 4"
    assert seed_list_text([0, 1]) == "seeds 0 and 1"
    assert seed_list_text(range(3, 6)) == "seeds 3, 4 and 5"
    assert seed_list_text([]) == "no seed"


def test_a_part_name_inside_a_sentence_keeps_only_abbreviations_capitalized():
    assert _sentence_case("BN allows a higher learning rate") == "BN allows a higher learning rate"
    assert _sentence_case("Small batches cost accuracy") == "small batches cost accuracy"
    assert _sentence_case("All four are classified right") == "all four are classified right"
    assert _sentence_case("A row's output") == "a row's output"     # a one-letter word is no abbreviation
    assert _sentence_case("γ = √(σ²_B + ε)") == "γ = √(σ²_B + ε)"
    assert _sentence_case("EWMA ends near") == "EWMA ends near"


def part(values, threshold=1.0, name="BN helps", effect="doublings"):
    return Part(name, effect, threshold, np.asarray(values, dtype=float))


def test_the_failure_clause_names_the_part_its_count_and_a_reversal():
    assert _part_fails(part([2.0] * 6 + [0.0] * 4)) == "BN helps in only 6 of 10 seeds"
    assert _part_fails(part([2.0] * 5 + [0.0] * 5)) == "BN helps in only half the 10 seeds"
    assert _part_fails(part([0.0] * 10)) == "BN helps in none of 10 seeds"
    assert _part_fails(part([-2.0] * 10)) == ("BN helps in none of 10 seeds (reversed: the interval lies on the "
                                             "other side)")
    assert _part_fails(part([-2.0] * 9 + [2.0])) == ("BN helps in only 1 of 10 seeds (reversed: the interval lies "
                                                    "on the other side)")
    assert _part_fails(part([0.5])) == "BN helps in no seed"
    assert _shows(part([2.0] * 9 + [0.0])) == "in 9 of 10 seeds"
    assert _shows(part([2.0])) == "in the one seed"


def test_the_median_of_seeds_counts_a_diverged_seed_as_zero():
    assert _med([1.0, 2.0, 3.0]) == 2.0
    assert _med([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert _med([1.0, np.nan, 5.0]) == 1.0              # nan -> 0: median of 0, 1, 5
    assert _med([np.inf, 2.0, 3.0, 9.0]) == 6.0          # inf -> a huge number, still above 9 in the order
    assert _med([-np.inf, 2.0, 3.0]) == 2.0
    assert isinstance(_med(np.array([1, 2], dtype=int)), float)


def test_the_rule_line_lists_each_part_then_the_shared_rule():
    a = part([1.0], 1.0, "BN allows a higher learning rate", "doublings of the rate")
    b = part([1.0], 0.5, "BN learns faster", "log2 of the epochs")
    c = part([1.0], 0.0, "All learn", "the smallest margin")
    assert rule_line([a]) == ("BN allows a higher learning rate: effect = doublings of the rate, counted from 1. "
                              + SHORT_RULE)
    assert rule_line([a, b, c]) == ("BN allows a higher learning rate: effect = doublings of the rate, counted from 1"
                                    " · BN learns faster: effect = log2 of the epochs, counted from 0.5 · All learn: "
                                    "effect = the smallest margin, counted from 0. " + SHORT_RULE)


# ------------------------------------------------------------------ the Verdict a measurer builds


def test_a_verdict_reports_its_first_part_and_names_every_part_that_fails():
    first = part([3.0, 2.0, 1.0, 2.0, 2.0, 5.0, 2.0, 2.0, 2.0, 2.0], 1.0, "BN allows a higher rate")
    second = part([2.0] * 6 + [0.0] * 4, 1.0, "Small batches cost accuracy")
    third = part([-1.0] * 10, 0.5, "The loss is smoother")
    v = _verdict((first, second, third), "Measured.", {"seeds": 10}, {"BN on": [1, 2], "BN off": [3, 4]},
                 "a label", log=True, detail={"x": 1}, bounds=(0.0, 1.0))
    assert v.status == "partly"
    assert v.fails == ("small batches cost accuracy in only 6 of 10 seeds; the loss is smoother in none of 10 seeds "
                       "(reversed: the interval lies on the other side)")
    assert v.sentence == ("Measured. Not shown: small batches cost accuracy in only 6 of 10 seeds; the loss is "
                          "smoother in none of 10 seeds (reversed: the interval lies on the other side).")
    sorted_first = np.sort([3.0, 2.0, 1.0, 2.0, 2.0, 5.0, 2.0, 2.0, 2.0, 2.0])
    assert v.effect == 2.0
    assert v.ci == (sorted_first[1], sorted_first[8])
    assert v.level == pytest.approx(1 - 2 * 11 / 1024)
    assert v.parts == (first, second, third)
    assert v.rule == rule_line((first, second, third))
    assert v.numbers == {"seeds": 10} and v.spread_label == "a label"
    assert v.spread_log is True and v.spread_bounds == (0.0, 1.0) and v.detail == {"x": 1}
    assert list(v.spread) == ["BN on", "BN off"]
    assert v.spread["BN on"].dtype == float and v.spread["BN off"].tolist() == [3.0, 4.0]
    assert v.lesson == "" and v.seeds == () and v.experiment == "notes"


def test_a_verdict_whose_parts_all_hold_adds_nothing_to_its_sentence():
    v = _verdict([part([2.0] * 10)], "Measured.", {}, {}, "label")
    assert v.status == "holds" and v.fails == "" and v.sentence == "Measured."
    assert v.spread_log is False and v.spread_bounds is None and v.detail == {}


def test_a_verdict_refuses_an_unknown_status():
    with pytest.raises(ValueError) as err:
        Verdict("x", "maybe", "", {}, (), {}, "")
    assert str(err.value) == "status must be one of ('holds', 'partly', 'does not show'), got 'maybe'"


# ------------------------------------------------------------------ the contrast of the two experiments


def verdict(values, status_hint=None, name="BN allows a higher rate"):
    return _verdict([part(values, 1.0, name, "doublings of the rate")], "s", {}, {}, "label")


def lesson(notes, shows, setting="", tried=""):
    return Lesson("x", "A claim.", ("003",), ("BN on", "BN off"), {"notes": notes, "shows": shows},
                  lambda seeds, base: None, tried=tried, setting=setting)


def test_the_contrast_compares_the_first_part_of_both_experiments():
    notes = verdict([2.0] * 6 + [0.0] * 4)                     # partly, median 2
    shows = verdict([3.0] * 10)                                # holds, median 3
    text = contrast(lesson("lr=2", "hidden=8,8,8&activation=tanh&batch_size=4"), notes, shows)
    assert text == ("With 3 tanh layers of 8, batches of 4 the claim holds; on the notes' network it holds partly. "
                    "BN allows a higher rate: all 10 seeds against 6 of 10 seeds, median effect 3 against 2 "
                    "(doublings of the rate).")


def test_a_claim_that_shows_nowhere_says_what_the_search_tried():
    notes = verdict([0.0] * 10)
    shows = verdict([0.5] * 4 + [-1.0] * 6)
    text = contrast(lesson("lr=2", "batch_size=4", tried="batches of 2 to 64"), notes, shows)
    assert text == ("With batches of 4 the claim does not show; on the notes' network it does not show. "
                    "BN allows a higher rate: none of 10 seeds against none of 10 seeds, median effect -1 against 0 "
                    "(doublings of the rate). It did not show in any setting the search tried: batches of 2 to 64.")
    text = contrast(lesson("lr=2", "batch_size=4"), notes, shows)
    assert text.endswith("(doublings of the rate). It did not show in any setting the search tried.")


def test_the_contrast_of_one_experiment_or_of_a_source_network():
    holds, partly = verdict([3.0] * 10), verdict([2.0] * 6 + [0.0] * 4)
    same = lesson("lr=2&tab=Sweeps", "lr=2&compare=bn")
    assert same.same_experiment
    assert contrast(same, partly, holds) == ("The notes' own experiment is where this claim can show: it holds "
                                             "partly there.")
    own = lesson("lr=2", "lr=3", setting="the paper's network")
    assert contrast(own, holds, partly) == ("This claim is measured on the paper's network only, the network of the "
                                            "source it comes from: it holds there.")


# ------------------------------------------------------------------ the table's plumbing


def test_a_lesson_opens_its_links_as_configs():
    one = lesson("lr=2&tab=Sweeps&compare=bn", "hidden=8,8&epochs=15")
    assert one.config() == Config(lr=2.0)
    assert one.config("notes") == Config(lr=2.0)
    assert one.config("shows") == Config(hidden=(8, 8), epochs=15)
    assert one.query == "hidden=8,8&epochs=15"
    assert not one.same_experiment
    with pytest.raises(ValueError) as err:
        one.config("other")
    assert str(err.value) == "experiment must be one of notes, shows, got 'other'"


def test_an_invalid_link_is_refused_with_its_warnings():
    assert experiment_config("lr=0.5&compare=bn&b=0") == Config(lr=0.5)
    with pytest.raises(ValueError) as err:
        experiment_config("lr=banana")
    assert str(err.value).startswith("the experiment 'lr=banana' is not a valid link: ")
    assert "lr" in str(err.value)


def test_lessons_are_found_by_id_and_an_unknown_id_is_named():
    assert lesson_by_id("higher-lr") is LESSONS[1]
    assert lesson_by_id("worked-example") is LESSONS[-1]
    with pytest.raises(KeyError) as err:
        lesson_by_id("nope")
    assert err.value.args[0] == "no lesson 'nope': use one of " + ", ".join(l.id for l in LESSONS)


def made_up_lesson(lesson_id, seen):
    def measurer(seeds, base):
        seen.append((list(seeds), base))
        return _verdict([part([2.0] * len(seeds))], "s", {}, {}, "label")
    return Lesson(lesson_id, "A claim.", ("003",), ("BN on", "BN off"), {"notes": "lr=2", "shows": "lr=3"},
                  measurer)


def test_measure_hands_the_measurer_the_seeds_and_the_experiments_config():
    seen = []
    v = measure(made_up_lesson("x", seen), seeds=range(2, 5), experiment="shows")
    assert seen == [([2, 3, 4], Config(lr=3.0))]
    assert (v.lesson, v.seeds, v.experiment) == ("x", (2, 3, 4), "shows")
    assert v.seconds >= 0.0
    v = measure(made_up_lesson("y", seen), seeds=[7])
    assert seen[-1] == ([7], Config(lr=2.0)) and v.experiment == "notes" and v.seeds == (7,)


def test_measure_times_the_measurer(monkeypatch):
    clock = iter([10.0, 12.5])
    monkeypatch.setattr(lessons.time, "perf_counter", lambda: next(clock))
    assert measure(made_up_lesson("x", []), seeds=[0]).seconds == 2.5


def test_a_pair_of_links_names_both_experiments():
    assert lessons._pair("lr=2", "lr=3") == {"notes": "lr=2", "shows": "lr=3"}


def test_measure_all_measures_every_lesson_in_table_order(monkeypatch):
    seen = []
    monkeypatch.setattr(lessons, "LESSONS", (made_up_lesson("a", seen), made_up_lesson("b", seen)))
    out = measure_all(seeds=[1, 2], experiment="shows")
    assert list(out) == ["a", "b"]
    assert [v.lesson for v in out.values()] == ["a", "b"]
    assert seen == [([1, 2], Config(lr=3.0))] * 2
    out = measure_all(seeds=[0])
    assert out["a"].experiment == "notes" and seen[-1] == ([0], Config(lr=2.0))
