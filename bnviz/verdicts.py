"""One rule for every lesson's verdict: paired runs over seeds, an effect, an interval, counts in words.

A lesson trains both sides of its comparison with the same seeds, so seed s
gives both the same split, initial weights and batch order. Each part of a
claim turns every seed's pair of runs into one number, its *effect*, signed
so that a positive effect points the way the claim says, and names the
smallest effect that counts, its *threshold* T. Then, for every part alike:

- a seed shows the part when its effect is at least T;
- the part holds when the exact sign-test interval of the median effect (at
  least 95 % coverage) lies at or above T: with 10 seeds that takes 9 of 10;
- it holds partly when more than half the seeds show it;
- otherwise it does not show (and the interval says whether it is reversed).

A claim of several parts holds when every part holds, does not show when no
part holds even partly, and holds partly otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
STATUSES = ("holds", "partly", "does not show")
RULE = ("A seed shows a part when its paired effect reaches the threshold; a part holds when the sign-test "
        f"interval of the median effect (at least {LEVEL:.0%} coverage) is at or above it (9 of 10 seeds), partly "
        "when more than half the seeds show it; a claim holds when all its parts hold.")
SHORT_RULE = ("Holds when the sign-test interval of the median effect reaches the threshold, partly when more "
              "than half the seeds do.")


def count_words(k: int, n: int) -> str:
    """How many of n seeds, in words that never overstate: "all 10", "9 of 10", "half the 10", "none of 10"."""
    k, n = int(k), int(n)
    if not 0 <= k <= n:
        raise ValueError(f"a count must lie between 0 and {n}, got {k}")
    if n == 1:
        return "the one seed" if k else "no seed"
    if k == n:
        return f"all {n}"
    if k == 0:
        return f"none of {n}"
    if 2 * k == n:
        return f"half the {n}"
    return f"{k} of {n}"


def sign_interval(values, level: float = LEVEL) -> tuple:
    """(low, high, coverage): the distribution-free interval for the median of `values`.

    With x sorted, [x_(k), x_(n-k+1)] covers the median with probability
    1 - 2 P(Bin(n, 1/2) <= k - 1); k is the largest whose coverage reaches
    `level` (k = 1, the whole range, when none does: then coverage says how much).
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        raise ValueError("an interval needs at least one value")
    below = np.cumsum([math.comb(n, j) for j in range(n + 1)]) / 2.0 ** n    # P(B <= j)
    k = 1
    for j in range(1, n // 2 + 1):
        if 1 - 2 * below[j - 1] >= level:
            k = j
    return float(x[k - 1]), float(x[n - k]), float(max(0.0, 1 - 2 * below[k - 1]))


@dataclass(frozen=True)
class Part:
    """One part of a claim judged over seeds.

    name: what the part claims ("BN allows a higher learning rate"); effect:
    what each seed's number is, with its unit ("doublings of the largest rate
    that learns, BN over plain"); threshold: the smallest effect that counts;
    values: (seeds,) the paired effects, positive in the claim's direction.
    """

    name: str
    effect: str
    threshold: float
    values: np.ndarray

    def __post_init__(self):
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 1 or not len(values):
            raise ValueError("a part needs one effect per seed")
        # an effect that could not be measured (NaN) counts against the claim
        object.__setattr__(self, "values", np.where(np.isnan(values), -np.inf, values))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def shows(self) -> np.ndarray:
        return self.values >= self.threshold

    @property
    def count(self) -> int:
        return int(self.shows.sum())

    @property
    def median(self) -> float:
        return float(np.median(self.values))

    @property
    def interval(self) -> tuple:
        """(low, high, coverage) of the median effect."""
        return sign_interval(self.values)

    @property
    def ci(self) -> tuple:
        low, high, _ = self.interval
        return low, high

    @property
    def status(self) -> str:
        if self.ci[0] >= self.threshold:
            return "holds"
        return "partly" if 2 * self.count > self.n else "does not show"

    @property
    def reversed(self) -> bool:
        """The interval lies at or below -threshold (below 0 for a threshold of 0): the opposite shows."""
        return self.ci[1] <= -self.threshold if self.threshold > 0 else self.ci[1] < 0

    def words(self) -> str:
        """"9 of 10 seeds", "all 10 seeds", "the one seed" and so on, for this part's count."""
        return count_words(self.count, self.n) + (" seeds" if self.n != 1 else "")

    def rule(self) -> str:
        """This part's one-line rule: what its effect is and the threshold it must reach."""
        return f"{self.name}: effect = {self.effect}, counted from {fmt_threshold(self.threshold)}"


def fmt_threshold(t: float) -> str:
    return "0" if t == 0 else f"{t:g}"


def combine(parts) -> str:
    """The claim's status from its parts' statuses."""
    statuses = [p.status for p in parts]
    if not statuses:
        raise ValueError("a claim needs at least one part")
    if all(s == "holds" for s in statuses):
        return "holds"
    if all(s == "does not show" for s in statuses):
        return "does not show"
    return "partly"


def part_summary(part: Part, number=None) -> str:
    """One clause a card prints for a part: its name, the count and the median effect with its interval.

    number: how to print an effect (default: 3 significant digits).
    """
    number = number or (lambda x: f"{x:.3g}")
    low, high, coverage = part.interval
    text = (f"{part.name}: {part.words()} ({number(part.median)} median, {coverage:.0%} interval "
            f"{number(low)} to {number(high)})")
    if part.status == "does not show" and part.reversed:
        text += ", reversed"
    return text


def failed_parts(parts) -> list:
    """The parts that do not hold, in order."""
    return [p for p in parts if p.status != "holds"]
