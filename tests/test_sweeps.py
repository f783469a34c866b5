"""Sweeps over seeds: each cell is the single training it stands for; the summary is its median and range."""
import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.sweeps import sweep


def test_a_sweep_summarizes_single_trainings_over_seeds():
    cfg = Config(epochs=3, seed=2)
    data = load_for(cfg)
    values = [0.05, 1.0, 60.0]
    result = sweep(cfg, data, "lr", values, n_seeds=3)
    assert result.seeds == (2, 3, 4)
    for bn in (True, False):
        table = np.full((3, len(values)), np.nan)
        for i, seed in enumerate(result.seeds):
            for j, lr in enumerate(values):
                run = train(cfg.replace(bn=bn, seed=seed, lr=lr), data)
                if run.diverged_at is None:
                    table[i, j] = run.epoch_metrics["test_acc_eval"][-1]
        np.testing.assert_allclose(result.per_seed[bn]["test_acc_eval"], table, rtol=1e-12)
        for j in range(len(values)):
            alive = table[~np.isnan(table[:, j]), j]
            if len(alive):
                assert result.metrics[bn]["test_acc_eval"][j] == pytest.approx(np.median(alive))
                assert result.low[bn]["test_acc_eval"][j] == alive.min()
                assert result.high[bn]["test_acc_eval"][j] == alive.max()
            assert result.diverged_count[bn][j] == np.isnan(table[:, j]).sum()
        assert result.loss[bn].shape[1] == len(values)


def test_a_sweep_names_what_it_cannot_sweep():
    with pytest.raises(ValueError, match="can sweep"):
        sweep(Config(epochs=1), load_for(Config()), "eps")
