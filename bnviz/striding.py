"""Which steps and states a long run keeps: its record at a stride.

A run of S updates whose full record would not fit the server's memory keeps
every k-th step (the stride, chosen by ``bnviz.budget.record_stride``):

- recorded steps 0, k, 2k, ... (< S): their gradient and every per-step quantity;
- kept states: the state before each recorded step (s) and the one after it
  (s + 1, which the "after the update" quantities such as the running
  statistics, γ, β and the update ratio describe), every epoch end, and the
  final state S.

With k = 1 every step is recorded and every state 0..S kept, as in a full record.
Everything here is a pure function of (S, steps per epoch, k), so the
training loop, the Run and the budget agree on the same numbers.
"""
from __future__ import annotations

import numpy as np

from .visitor_text import ordinal

MIN_RECORDED_STEPS = 200        # the largest stride still keeps this many steps (twice as many states), when the run has them
# ...unless the network is so big (the digits' 64-100-100-100-10: 28,000 parameters, 224 kB a state) that
# no record of 200 steps fits a run's memory: then down to this many, before the budget cuts the run
FEWEST_RECORDED_STEPS = 10


def recorded_steps(n_steps: int, stride: int) -> np.ndarray:
    """(K,) the steps 0, k, 2k, ... below n_steps."""
    return np.arange(0, max(int(n_steps), 0), max(int(stride), 1))


def kept_states(n_steps: int, steps_per_epoch: int, stride: int) -> np.ndarray:
    """(T,) sorted states kept: each recorded step's before and after state, epoch ends and n_steps."""
    n_steps = max(int(n_steps), 0)
    if stride <= 1:
        return np.arange(n_steps + 1)
    steps = recorded_steps(n_steps, stride)
    ends = np.arange(0, n_steps + 1, max(int(steps_per_epoch), 1))
    return np.unique(np.concatenate([steps, steps + 1, ends, [n_steps]]))


def count_kept(n_steps: int, steps_per_epoch: int, stride: int) -> int:
    """len(kept_states(...)), counted without listing every state (the budget asks often)."""
    n_steps = max(int(n_steps), 0)
    if stride <= 1:
        return n_steps + 1
    K = -(-n_steps // stride)                           # recorded steps: with their after-states, 2K states
    ends = np.unique(np.r_[np.arange(0, n_steps + 1, max(int(steps_per_epoch), 1)), n_steps])
    on_grid = (ends % stride == 0) & (ends < n_steps)
    after_grid = ((ends - 1) % stride == 0) & (ends >= 1) & (ends <= (K - 1) * stride + 1)
    return 2 * K + int(np.count_nonzero(~on_grid & ~after_grid))


def max_stride(n_steps: int, fewest: bool = False) -> int:
    """The largest stride allowed: at least MIN_RECORDED_STEPS recorded steps (or every step of a short run);
    fewest=True: at least FEWEST_RECORDED_STEPS, the floor for a network too big for the first."""
    return max(1, int(n_steps) // (FEWEST_RECORDED_STEPS if fewest else MIN_RECORDED_STEPS))


def last_kept(states: np.ndarray, upto: int) -> int:
    """The largest kept state <= upto (0 at least)."""
    i = int(np.searchsorted(states, upto, side="right")) - 1
    return int(states[max(i, 0)])


def nearest_kept(states: np.ndarray, wanted) -> np.ndarray:
    """The kept state nearest each wanted state (the earlier one on a tie)."""
    wanted = np.asarray(wanted)
    right = np.clip(np.searchsorted(states, wanted), 0, len(states) - 1)
    left = np.maximum(right - 1, 0)
    return np.where(np.abs(states[left] - wanted) <= np.abs(states[right] - wanted), states[left], states[right])


def positions(states: np.ndarray, wanted) -> np.ndarray:
    """Index of each wanted state in the sorted kept `states`; ValueError for one that was not kept."""
    wanted = np.asarray(wanted, dtype=np.intp)
    at = np.searchsorted(states, wanted)
    ok = (at < len(states)) & (states[np.minimum(at, len(states) - 1)] == wanted)
    if not np.all(ok):
        missing = np.atleast_1d(wanted)[~np.atleast_1d(ok)][0]
        raise ValueError(f"state {int(missing)} was not kept: this run's record keeps the states "
                         f"{', '.join(map(str, states[:4]))}, ... {int(states[-1])}")
    return at


def thinning_sentence(n_steps: int, stride: int, n_states: int) -> str | None:
    """What a strided record kept, for the page; None when every step was kept."""
    if stride <= 1:
        return None
    return (f"This run took {n_steps:,} updates; its record keeps every {ordinal(stride)} step "
            f"({n_states:,} states) so it fits the server's memory.")
