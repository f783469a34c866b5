"""Batched forward passes over many saved states stay within a fixed working memory, whatever the network."""
import tracemalloc

import numpy as np
import pytest

from bnviz import Config, load_for
from bnviz.budget import WORKING_BYTES
from bnviz.evaluation import CHUNK_NUMBERS, chunks, loss_and_accuracy, population_stats, row_numbers
from bnviz.run import replay
from bnviz.train import run_loop


def peak_of(fn):
    """Peak bytes allocated while fn runs (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("bn, position", [(True, "before"), (True, "after"), (False, "before")])
def test_a_deep_wide_network_is_evaluated_within_the_working_budget(bn, position):
    cfg = Config(hidden=(16,) * 8, batch_size=50, epochs=4, bn=bn, bn_position=position, activation="tanh")
    history = run_loop([cfg], load_for(cfg))
    X, y = history.inputs([0])
    many = np.repeat(history.params[:, 0], 20, axis=0)              # 580 states of a 2,000-parameter net
    # every layer counts: a chunk of states x rows x numbers per row stays under CHUNK_NUMBERS
    per_row = row_numbers(history.arch)
    assert per_row >= 3 * sum(cfg.hidden)
    assert all((c.stop - c.start) * len(X) * per_row <= CHUNK_NUMBERS for c in chunks(len(many), len(X), per_row))
    for name, fn in (("population statistics", lambda: population_stats(history.arch, many, X)),
                     ("loss and accuracy", lambda: loss_and_accuracy(history.arch, many, X, y)),
                     ("replay", lambda: replay(history, [0], history.steps_done))):
        peak = peak_of(fn)
        assert peak <= WORKING_BYTES, f"{name}: {peak / 2**20:.1f} MB over {WORKING_BYTES / 2**20:.1f} MB"
