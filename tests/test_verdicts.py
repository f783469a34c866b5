"""The one rule behind every verdict, fed made-up spreads: reversed, tied, at the edges, an outlier, tiny."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnviz.verdicts import Part, combine, count_words, part_summary, sign_interval


def part(values, threshold=1.0):
    return Part("BN helps", "a made-up effect", threshold, np.asarray(values, dtype=float))


# ------------------------------------------------------------------ words from counts


@pytest.mark.parametrize("k, n, words", [
    (10, 10, "all 10"), (9, 10, "9 of 10"), (6, 10, "6 of 10"), (5, 10, "half the 10"), (4, 10, "4 of 10"),
    (1, 10, "1 of 10"), (0, 10, "none of 10"), (3, 3, "all 3"), (0, 2, "none of 2"), (1, 2, "half the 2"),
    (1, 1, "the one seed"), (0, 1, "no seed")])
def test_counts_in_words(k, n, words):
    assert count_words(k, n) == words


def test_no_word_overstates_a_count():
    for n in range(2, 31):
        for k in range(n + 1):
            text = count_words(k, n)
            assert "most" not in text and "many" not in text and "few" not in text
            assert text.startswith("all") == (k == n) and text.startswith("none") == (k == 0)
            assert text.startswith("half") == (2 * k == n)


def test_a_count_outside_the_seeds_is_refused():
    with pytest.raises(ValueError):
        count_words(11, 10)


# ------------------------------------------------------------------ the interval


def test_the_sign_interval_of_ten_values_is_the_second_smallest_to_the_second_largest():
    values = [7.0, -3.0, 2.0, 9.0, 4.0, 0.5, 6.0, 1.0, 8.0, 5.0]
    low, high, coverage = sign_interval(values)
    assert (low, high) == (0.5, 8.0)
    # 1 - 2 P(Bin(10, 1/2) <= 1) = 1 - 2 * 11 / 1024
    assert coverage == pytest.approx(1 - 22 / 1024)


@pytest.mark.parametrize("n, k, coverage", [(5, 1, 1 - 2 / 32), (6, 1, 1 - 2 / 64), (8, 1, 1 - 2 / 256),
                                            (9, 2, 1 - 2 * 10 / 512), (20, 6, None)])
def test_the_interval_takes_the_narrowest_order_statistics_that_reach_95_percent(n, k, coverage):
    values = np.arange(n, dtype=float)
    low, high, got = sign_interval(values)
    assert (low, high) == (values[k - 1], values[n - k])
    below = sum(math.comb(n, j) for j in range(k)) / 2 ** n
    assert got == pytest.approx(1 - 2 * below)
    if coverage is not None:
        assert got == pytest.approx(coverage)
    assert got >= 0.95 or k == 1
    # one step narrower would fall under 95 %
    narrower = 1 - 2 * sum(math.comb(n, j) for j in range(k + 1)) / 2 ** n
    assert narrower < 0.95


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30))
def test_the_interval_holds_the_median_and_lies_within_the_values(values):
    low, high, coverage = sign_interval(values)
    assert min(values) <= low <= float(np.median(values)) <= high <= max(values)
    assert 0 <= coverage <= 1


# ------------------------------------------------------------------ one part's status


def test_a_clear_effect_holds():
    p = part([2.0, 3.0, 2.5, 1.5, 4.0, 2.0, 3.5, 1.2, 2.2, 2.8])
    assert p.status == "holds" and p.count == 10 and p.median == pytest.approx(2.35)
    assert p.ci == (1.5, 3.5)


def test_a_reversed_effect_does_not_show_and_says_so():
    p = part([-2.0, -3.0, -2.5, -1.5, -4.0, -2.0, -3.5, -1.2, -2.2, -2.8])
    assert p.status == "does not show" and p.count == 0 and p.reversed
    assert "reversed" in part_summary(p) and "none of 10" in part_summary(p)


def test_an_exact_tie_does_not_show():
    p = part([0.0] * 10)
    assert p.status == "does not show" and p.count == 0 and not p.reversed
    assert p.ci == (0.0, 0.0)


def test_an_exact_tie_at_a_zero_threshold_counts_but_does_not_hold_when_below():
    # a "learned" margin of exactly 0 reaches a threshold of 0
    assert part([0.0] * 10, threshold=0.0).status == "holds"
    assert part([0.0] * 9 + [-1e-9], threshold=0.0).status == "holds"      # 9 of 10: the interval's low end is 0
    assert part([0.0] * 8 + [-1e-9] * 2, threshold=0.0).status == "partly"


def test_one_outlier_does_not_sink_a_consistent_effect():
    p = part([2.0, 2.1, 1.9, 2.2, 2.0, 1.8, 2.05, 2.3, 1.95, -50.0])
    assert p.status == "holds" and p.count == 9 and p.median == pytest.approx(2.0)


def test_a_tiny_consistent_effect_below_the_threshold_does_not_show():
    p = part([0.01, 0.02, 0.015, 0.03, 0.01, 0.02, 0.01, 0.025, 0.012, 0.018])
    assert p.status == "does not show" and p.count == 0 and not p.reversed


@pytest.mark.parametrize("shown, status", [(10, "holds"), (9, "holds"), (8, "partly"), (6, "partly"),
                                           (5, "does not show"), (0, "does not show")])
def test_the_status_at_every_count_of_ten(shown, status):
    p = part([3.0] * shown + [0.0] * (10 - shown))
    assert p.count == shown and p.status == status


def test_exactly_at_the_threshold_counts_and_just_below_does_not():
    assert part([1.0] * 10).status == "holds" and part([1.0] * 10).count == 10
    just_below = np.nextafter(1.0, 0.0)
    assert part([just_below] * 10).count == 0 and part([just_below] * 10).status == "does not show"
    # the interval's low end exactly at the threshold holds; a hair under it does not
    assert part([1.0, 1.0] + [5.0] * 8).status == "holds"
    assert part([0.5, just_below] + [5.0] * 8).status == "partly"


def test_an_unmeasurable_seed_counts_against_the_claim():
    p = part([2.0] * 9 + [float("nan")])
    assert p.count == 9 and p.status == "holds"
    p = part([2.0] * 8 + [float("nan")] * 2)
    assert p.count == 8 and p.status == "partly"


def test_a_part_needs_a_value_per_seed():
    with pytest.raises(ValueError):
        part([])


# ------------------------------------------------------------------ several parts


@pytest.mark.parametrize("statuses, claim", [
    (("holds", "holds"), "holds"), (("holds", "partly"), "partly"), (("holds", "does not show"), "partly"),
    (("partly", "does not show"), "partly"), (("does not show", "does not show"), "does not show"),
    (("does not show",), "does not show"), (("holds",), "holds")])
def test_a_claim_combines_its_parts(statuses, claim):
    values = {"holds": [3.0] * 10, "partly": [3.0] * 7 + [0.0] * 3, "does not show": [0.0] * 10}
    parts = [part(values[s]) for s in statuses]
    assert [p.status for p in parts] == list(statuses)
    assert combine(parts) == claim


def test_a_claim_needs_a_part():
    with pytest.raises(ValueError):
        combine([])


def test_the_summary_states_the_count_the_median_and_the_interval():
    p = part([2.0, 3.0, 2.5, 1.5, 4.0, 2.0, 3.5, 1.2, 0.2, 2.8])
    text = part_summary(p)
    assert text == "BN helps: 9 of 10 seeds (2.25 median, 98% interval 1.2 to 3.5)"


def test_a_failing_parts_name_keeps_its_abbreviation_inside_the_sentence():
    from bnviz.lessons import _part_fails

    bn = Part("BN allows a higher learning rate", "doublings", 1.0, np.array([2.0] * 6 + [0.0] * 4))
    small = Part("Small batches cost batch norm accuracy", "rows", 1.0, np.array([2.0] * 6 + [0.0] * 4))
    assert _part_fails(bn) == "BN allows a higher learning rate in only 6 of 10 seeds"
    assert _part_fails(small) == "small batches cost batch norm accuracy in only 6 of 10 seeds"
