"""Numbers past float64 never reach a chart as NaN or inf unannounced.

A network can overflow without its parameters doing so: a saturated output
unit keeps its weights finite while its logits pass 1.8e308, and a BN input
past 1e154 has an infinite batch variance while BN still outputs finite
numbers. Such a step is a divergence: the run stops before it and says so.
Everything a run records before its divergence is finite, checked against
plain recomputations here.
"""
import math

import numpy as np
import pytest

import plain
from bnviz import Config, load_for, train
from bnviz.recording import BY_NAME
from bnviz.train import epoch_orders, train_ensemble

# Found by training a grid of settings at extreme learning rates and init scales:
SATURATED = Config(activation="linear", lr=100.0, epochs=5)          # logits overflow, weights stay finite
HUGE_GRADIENTS = Config(standardize=False, activation="linear", init_scale=100.0, bn=False, epochs=6)


def first_overflow(run, data):
    """The first step whose plain forward pass gives a non-finite logit or BN batch statistic, or None:
    over the steps the run holds and, when it diverged, the step it stopped at."""
    orders = epoch_orders(run.config.seed, len(data.y_train), run.config.epochs)
    X = plain.inputs(run, data, data.X_train)
    for s in range(run.n_steps + (run.diverged_at is not None)):
        epoch, b = divmod(s, len(run.bounds))
        rows = orders[epoch][run.bounds[b][0]:run.bounds[b][1]]
        with np.errstate(all="ignore"):
            logits, layers = plain.forward(run, plain.params_at(run, s), X[rows])
        stats = [layer[key] for layer in layers for key in ("mean", "var") if key in layer]
        if not (np.isfinite(logits).all() and all(np.isfinite(v).all() for v in stats)):
            return s
    return None


def values_before(run, name, stop):
    """Every number of a recorded quantity at the steps or states before `stop`, as one flat array."""
    states = run.axis_states(BY_NAME[name].axis)
    keep = states < stop
    value = run.recorded[name]
    parts = value.values() if isinstance(value, dict) else [value]
    flat = []
    for part in parts:
        for array in (part if isinstance(part, list) else [part]):
            flat.append(np.asarray(array, float)[keep].ravel())
    return np.concatenate(flat) if flat else np.zeros(0)


@pytest.mark.parametrize("cfg", [SATURATED, HUGE_GRADIENTS], ids=["saturated-output", "huge-gradients"])
def test_an_overflow_is_a_divergence_at_its_step(cfg):
    data = load_for(cfg)
    run = train(cfg, data)
    assert run.diverged_at is not None
    assert first_overflow(run, data) == run.diverged_at
    assert run.n_steps == run.diverged_at and np.isfinite(run.train_loss).all()
    for name in BY_NAME:
        values = values_before(run, name, run.diverged_at)
        assert np.isfinite(values).all(), f"{name} is not finite before the divergence"


def test_gradient_norms_past_1e154_are_finite_and_exact():
    data = load_for(HUGE_GRADIENTS)
    run = train(HUGE_GRADIENTS, data)
    assert np.abs(run.grads).max() > 1e154            # squares of these overflow
    for s in range(run.n_steps):
        for l in range(run.arch.n_dense):
            start, stop, _ = run.param_slices[f"W{l + 1}"]
            expected = math.hypot(*run.grads[s, start:stop])
            assert run.grad_norm[s, l] == pytest.approx(expected, rel=1e-12)


def test_a_matrix_that_starts_at_zero_moves_by_all_of_its_size():
    cfg = Config(init="zeros", activation="sigmoid", epochs=2)
    run = train(cfg, load_for(cfg))
    assert np.isfinite(run.update_ratio).all()
    for s in range(run.n_steps):
        for l in range(run.arch.n_dense):
            name = f"W{l + 1}"
            before, after = plain.params_at(run, s)[name], plain.params_at(run, s + 1)[name]
            change, size = math.hypot(*(after - before).ravel()), math.hypot(*before.ravel())
            expected = change / size if size > 0 else float(change > 0)
            assert run.update_ratio[s, l] == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert (run.update_ratio[0, -1] == 1.0) and (run.update_ratio[0, 0] == 0.0)   # W2 moves off zero, W1 cannot


def test_ensemble_metrics_are_finite_unless_the_member_diverged():
    """Members of a sweep at extreme rates: a NaN final metric always comes with a divergence."""
    base = Config(activation="linear", epochs=5)
    rates = [0.1, 3.0, 100.0]
    ensemble = train_ensemble([base.replace(lr=lr) for lr in rates], load_for(base))
    metrics = ensemble.final_metrics()
    for i, lr in enumerate(rates):
        run = train(base.replace(lr=lr), load_for(base))
        assert ensemble.diverged_at[i] == run.diverged_at
        for name, values in metrics.items():
            assert np.isfinite(values[i]) == (run.diverged_at is None), (lr, name)
    assert ensemble.diverged_at[2] is not None and ensemble.diverged_at[0] is None
    finished = ensemble.train_loss[:, 2]
    assert np.isfinite(finished[:ensemble.diverged_at[2]]).all() and np.isnan(finished[ensemble.diverged_at[2]:]).all()


# Raw inputs into six wide layers at init scale 1e4: the batches stay finite, some other rows do not.
ROWS = Config(standardize=False, hidden=(8,) * 6, init_scale=1e4, bn=False, lr=3.0, epochs=4)


def rows_overflow(run, data, state):
    """Whether a plain pass over every training row at `state` gives a non-finite number."""
    X = plain.inputs(run, data, data.X_train)
    with np.errstate(all="ignore"):
        logits, layers = plain.forward(run, plain.params_at(run, state), X)
    return not (np.isfinite(logits).all() and all(np.isfinite(v).all() for layer in layers for v in layer.values()))


def test_rows_that_overflow_where_the_batches_did_not_end_the_run_there():
    data = load_for(ROWS)
    run = train(ROWS, data)
    d = run.diverged_at
    assert d is not None and run.diverged_why == "rows" and first_overflow(run, data) is None
    assert [rows_overflow(run, data, t) for t in range(d + 1)] == [False] * d + [True]
    assert run.n_steps == d and np.isfinite(run.train_loss).all()
    for name in BY_NAME:
        assert np.isfinite(values_before(run, name, d)).all(), name
    assert "rows give at that state went past the largest number float64 holds" in run.divergence


def test_a_final_state_whose_test_rows_overflow_is_not_counted_as_finished(data):
    """A test row too large to standardize in float64: training is untouched, but the member's final
    metrics cannot be scored; it is marked, and a sweep counts it with the diverged."""
    import dataclasses

    from bnviz.sweeps import sweep

    X_test = data.X_test.copy()
    X_test[0] = 1.5e308
    odd = dataclasses.replace(data, X_test=X_test)
    cfg = Config(epochs=2)
    ensemble = train_ensemble([cfg, cfg.replace(lr=0.5)], odd)
    metrics = ensemble.final_metrics()
    assert ensemble.diverged_at == [None, None] and ensemble.overflowed.tolist() == [True, True]
    assert all(np.isnan(v).all() for v in metrics.values())
    result = sweep(cfg, odd, "lr", [0.1, 0.5], n_seeds=1)
    assert result.diverged_count[True].tolist() == [1, 1]
    normal = train_ensemble([cfg], data)
    assert all(np.isfinite(v).all() for v in normal.final_metrics().values()) and not normal.overflowed.any()


def test_the_mean_loss_of_rows_whose_sum_overflows():
    from bnviz.nn import bce_with_logits_forward

    logits = np.array([[1e308] * 10 + [-3.0, 2.0], [0.5, -0.5] * 6])
    y = np.array([0.0] * 10 + [1.0, 1.0])
    loss = bce_with_logits_forward(logits, y)[0]

    def softplus(z):
        return max(z, 0.0) + math.log1p(math.exp(-abs(z)))

    for row, value in zip(logits, loss):
        expected = sum((t * softplus(-z) + (1 - t) * softplus(z)) / len(row) for z, t in zip(row, y))
        assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-14)
