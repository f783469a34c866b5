"""The shared verdict rule by value: the words of its refusals, the rule as the cards print it, the
interval at every small count of seeds, a reversal exactly at the mirrored threshold, and one part's
summary clause."""
import math

import numpy as np
import pytest

from bnviz.verdicts import (LEVEL, RULE, SHORT_RULE, STATUSES, Part, combine, count_words, failed_parts,
                            fmt_threshold, part_summary, sign_interval)


def part(values, threshold=1.0, name="BN helps", effect="doublings"):
    return Part(name, effect, threshold, np.asarray(values, dtype=float))


def test_the_rule_in_words():
    assert LEVEL == 0.95 and STATUSES == ("holds", "partly", "does not show")
    assert RULE == ("A seed shows a part when its paired effect reaches the threshold; a part holds when the "
                    "sign-test interval of the median effect (at least 95% coverage) is at or above it (9 of 10 "
                    "seeds), partly when more than half the seeds show it; a claim holds when all its parts hold.")
    assert SHORT_RULE == ("Holds when the sign-test interval of the median effect reaches the threshold, partly "
                          "when more than half the seeds do.")


# ------------------------------------------------------------------ counts in words


def test_counts_in_words_take_whole_numbers_of_any_kind():
    assert count_words(np.int64(3), np.int64(4)) == "3 of 4"
    assert count_words(2.0, 4.0) == "half the 4"
    assert count_words(True, 1) == "the one seed"
    assert count_words(0, 30) == "none of 30" and count_words(15, 30) == "half the 30"
    assert count_words(7, 15) == "7 of 15" and count_words(8, 15) == "8 of 15"


@pytest.mark.parametrize("k, n", [(11, 10), (-1, 10), (2, 1), (-1, 0)])
def test_a_count_outside_the_seeds_is_refused_in_words(k, n):
    with pytest.raises(ValueError) as err:
        count_words(k, n)
    assert str(err.value) == f"a count must lie between 0 and {n}, got {k}"


def test_the_edges_of_a_count_are_words():
    assert count_words(0, 0) == "all 0"          # no seed at all: every one of them
    assert count_words(1, 1) == "the one seed" and count_words(0, 1) == "no seed"
    assert count_words(2, 2) == "all 2" and count_words(1, 2) == "half the 2" and count_words(0, 2) == "none of 2"


# ------------------------------------------------------------------ the interval


def coverage_of(n, k):
    """1 - 2 P(Bin(n, 1/2) <= k - 1), written out."""
    return 1 - 2 * sum(math.comb(n, j) for j in range(k)) / 2 ** n


@pytest.mark.parametrize("n, k", [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (9, 2), (10, 2),
                                  (11, 2), (12, 3), (13, 3), (14, 3), (15, 4), (16, 4), (17, 5), (18, 5), (19, 5),
                                  (20, 6), (30, 10)])
def test_the_interval_at_every_small_count(n, k):
    values = np.arange(n, dtype=float)[::-1] * 2.0 + 1.0          # unsorted on purpose
    low, high, coverage = sign_interval(list(values))
    ordered = np.sort(values)
    assert (low, high) == (ordered[k - 1], ordered[n - k])
    assert coverage == pytest.approx(coverage_of(n, k), abs=1e-15)
    assert type(low) is float and type(high) is float and type(coverage) is float


def test_one_value_is_its_own_interval_with_no_coverage():
    assert sign_interval([3.5]) == (3.5, 3.5, 0.0)
    assert sign_interval([1.0, 4.0]) == (1.0, 4.0, 0.5)


def test_the_interval_at_another_level():
    values = np.arange(10, dtype=float)
    assert sign_interval(values, level=0.5) == (3.0, 6.0, coverage_of(10, 4))       # 0.65625, 4 would be 0.246
    assert sign_interval(values, level=coverage_of(10, 3)) == (2.0, 7.0, coverage_of(10, 3))   # exactly reached
    assert sign_interval(values, level=0.999) == (0.0, 9.0, coverage_of(10, 1))
    # at a level of 0 the interval narrows to the middle pair of values and never turns inside out
    assert sign_interval(values, level=0.0) == (4.0, 5.0, coverage_of(10, 5))
    assert sign_interval(np.arange(9.0), level=0.0) == (3.0, 5.0, coverage_of(9, 4))


def test_an_empty_interval_is_refused():
    with pytest.raises(ValueError) as err:
        sign_interval([])
    assert str(err.value) == "an interval needs at least one value"


# ------------------------------------------------------------------ one part


def test_a_part_keeps_its_fields_and_turns_an_unmeasured_effect_against_the_claim():
    p = Part("BN helps", "doublings", 0.5, [1, np.nan, 3])
    assert (p.name, p.effect, p.threshold, p.n) == ("BN helps", "doublings", 0.5, 3)
    assert p.values.dtype == float and p.values.tolist() == [1.0, -np.inf, 3.0]
    assert p.shows.tolist() == [True, False, True] and p.count == 2 and type(p.count) is int
    assert p.median == 1.0 and type(p.median) is float
    assert p.interval == (-np.inf, 3.0, 0.75) and p.ci == (-np.inf, 3.0)


@pytest.mark.parametrize("values", [[], [[1.0, 2.0]], 3.0])
def test_a_part_needs_one_value_per_seed(values):
    with pytest.raises(ValueError) as err:
        Part("BN helps", "doublings", 1.0, values)
    assert str(err.value) == "a part needs one effect per seed"


@pytest.mark.parametrize("values, threshold, reversed_", [
    ([-1.0] * 10, 1.0, True),                # the interval's top exactly at minus the threshold
    ([np.nextafter(-1.0, 0.0)] * 10, 1.0, False),
    ([-3.0] * 10, 1.0, True),
    ([0.0] * 10, 1.0, False),
    ([0.0] * 10, 0.0, False),                # a threshold of 0: an interval that reaches 0 is no reversal
    ([-1e-12] * 10, 0.0, True),
    ([-1.0] * 9 + [5.0], 1.0, True),         # the top of the interval is the second largest
    ([-1.0] * 8 + [5.0] * 2, 1.0, False),
])
def test_a_reversal_is_the_interval_lying_at_or_beyond_minus_the_threshold(values, threshold, reversed_):
    assert part(values, threshold).reversed is reversed_


@pytest.mark.parametrize("values, threshold, status", [
    ([1.0] * 10, 1.0, "holds"), ([1.0] * 9 + [0.0], 1.0, "holds"), ([1.0] * 8 + [0.0] * 2, 1.0, "partly"),
    ([1.0] * 6 + [0.0] * 4, 1.0, "partly"), ([1.0] * 5 + [0.0] * 5, 1.0, "does not show"),
    ([1.0] * 3 + [0.0] * 2, 1.0, "partly"),      # five seeds: the interval is the whole range, 0 is below 1
    ([2.0] * 5, 1.0, "holds"), ([2.0] * 4 + [0.0], 1.0, "partly"), ([2.0] * 2 + [0.0], 1.0, "partly"),
    ([2.0], 1.0, "holds"), ([0.5], 1.0, "does not show"), ([2.0, 0.0], 1.0, "does not show"),
])
def test_the_status_at_small_counts(values, threshold, status):
    assert part(values, threshold).status == status


def test_a_part_in_words_and_its_rule():
    assert part([2.0] * 9 + [0.0]).words() == "9 of 10 seeds"
    assert part([2.0] * 10).words() == "all 10 seeds"
    assert part([2.0]).words() == "the one seed" and part([0.0]).words() == "no seed"
    assert part([2.0, 0.0]).words() == "half the 2 seeds"
    assert part([1.0], 0.5, "BN learns faster", "log2 of the epochs").rule() == (
        "BN learns faster: effect = log2 of the epochs, counted from 0.5")
    assert part([1.0], 0.0).rule() == "BN helps: effect = doublings, counted from 0"
    assert part([1.0], 12).rule() == "BN helps: effect = doublings, counted from 12"


@pytest.mark.parametrize("t, text", [(0, "0"), (0.0, "0"), (-0.0, "0"), (1.0, "1"), (12, "12"), (0.5, "0.5"),
                                     (0.25, "0.25"), (0.05, "0.05"), (1 / 80, "0.0125"), (1e-12, "1e-12"),
                                     (1 / 3, "0.333333"), (-1.0, "-1")])
def test_a_threshold_in_words(t, text):
    assert fmt_threshold(t) == text


# ------------------------------------------------------------------ a part's summary


def test_the_summary_of_a_part_that_holds():
    p = part([2.0, 3.0, 2.5, 1.5, 4.0, 2.0, 3.5, 1.2, 0.2, 2.8])
    assert part_summary(p) == "BN helps: 9 of 10 seeds (2.25 median, 98% interval 1.2 to 3.5)"
    assert part_summary(p, number=lambda x: f"{x:.1f}") == "BN helps: 9 of 10 seeds (2.2 median, 98% interval 1.2 to 3.5)"


def test_the_summary_of_a_reversed_part_says_so_only_when_it_does_not_show():
    p = part([-2.0] * 10)
    assert part_summary(p) == "BN helps: none of 10 seeds (-2 median, 98% interval -2 to -2), reversed"
    tied = part([0.0] * 10)
    assert part_summary(tied) == "BN helps: none of 10 seeds (0 median, 98% interval 0 to 0)"
    # a part that holds while its interval lies below zero (a threshold below zero) is not called reversed
    holds = Part("BN helps", "x", -1.0, np.array([-0.5] * 10))
    assert holds.status == "holds" and holds.reversed
    assert part_summary(holds) == "BN helps: all 10 seeds (-0.5 median, 98% interval -0.5 to -0.5)"
    assert part_summary(part([1.23456, 9.87654])) == ("BN helps: all 2 seeds (5.56 median, 50% interval 1.23 to "
                                                      "9.88)")


# ------------------------------------------------------------------ several parts


def test_a_claim_of_three_parts():
    holds, partly, none = part([3.0] * 10), part([3.0] * 7 + [0.0] * 3), part([0.0] * 10)
    assert combine([holds, holds, holds]) == "holds"
    assert combine([none, none, none]) == "does not show"
    assert combine([none, holds, none]) == "partly"
    assert combine([partly, partly]) == "partly"
    assert combine((p for p in [holds])) == "holds"
    assert failed_parts([holds, none, holds, partly]) == [none, partly]
    assert failed_parts([holds]) == [] and failed_parts([]) == []


def test_a_claim_without_parts_is_refused_in_words():
    with pytest.raises(ValueError) as err:
        combine([])
    assert str(err.value) == "a claim needs at least one part"
