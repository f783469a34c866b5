"""The batch calculator's γ = √(σ²_B + ε), β = μ_B switch, against a slow recomputation by hand."""
import math

import numpy as np
import pytest

from bnviz import Config, train
from bnviz import figures as F
from bnviz.inference import batch_calculation
from bnviz.ui.tabs import undo_sentence


def slow_layer_inputs(run, data, step):
    """Each hidden layer's BN input for one step's batch, one number at a time (BN before a ReLU)."""
    params = run.params_at(step)
    rows = run.step_rows(step)
    mean, std = data.X_train.mean(axis=0), data.X_train.std(axis=0)
    a = [[(data.X_train[r, j] - mean[j]) / std[j] for j in range(2)] for r in rows]
    inputs = []
    for k in range(1, len(run.arch.hidden) + 1):
        W = params[f"W{k}"]
        z = [[sum(row[i] * W[i, u] for i in range(len(row))) for u in range(W.shape[1])] for row in a]
        inputs.append(z)
        n = len(z)
        a = []
        mu = [sum(z[i][u] for i in range(n)) / n for u in range(W.shape[1])]
        var = [sum((z[i][u] - mu[u]) ** 2 for i in range(n)) / n for u in range(W.shape[1])]
        g, b = params[f"gamma{k}"], params[f"beta{k}"]
        for i in range(n):
            a.append([max(0.0, g[u] * (z[i][u] - mu[u]) / math.sqrt(var[u] + run.arch.eps) + b[u])
                      for u in range(W.shape[1])])
    return inputs


@pytest.mark.parametrize("step, layer", [(0, 1), (7, 2), (1599, 2)])
def test_undo_gives_back_z(default_run, data, step, layer):
    run = default_run
    z = np.array(slow_layer_inputs(run, data, step)[layer - 1])
    n = len(z)
    mu = z.sum(axis=0) / n
    var = ((z - mu) ** 2).sum(axis=0) / n
    calc = batch_calculation(run, data, step, layer, undo=True)
    np.testing.assert_allclose(calc.bn_input, z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(calc.gamma, np.sqrt(var + run.arch.eps), rtol=1e-12)
    np.testing.assert_allclose(calc.beta, mu, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(calc.out, z, rtol=1e-12, atol=1e-12)        # the output is z again
    np.testing.assert_allclose(calc.act, np.maximum(z, 0), rtol=1e-12, atol=1e-12)
    table = F.batch_table(run, data, step, layer, True)
    np.testing.assert_allclose(table["γ·ẑ + β"].to_numpy().reshape(n, -1), z, rtol=1e-12, atol=1e-12)
    # the sentence reports the gap the engine left, not a number written in
    gap = np.max(np.abs(calc.out - calc.bn_input))
    assert f"at most {gap:.1e}" in undo_sentence(calc) and "gives back its input" in undo_sentence(calc)


def test_without_undo_the_trained_gamma_and_beta_stay(default_run, data):
    run = default_run
    calc = batch_calculation(run, data, 1599, 2)
    params = run.params_at(1599)
    np.testing.assert_array_equal(calc.gamma, params["gamma2"])
    np.testing.assert_array_equal(calc.beta, params["beta2"])
    gap = np.max(np.abs(calc.out - calc.bn_input))
    assert gap > 1e-3                            # trained BN does not simply pass z through
    assert "does not give back" in undo_sentence(calc) and f"{gap:.1e}" in undo_sentence(calc)


def test_undo_after_the_activation(data):
    run = train(Config(bn_position="after", epochs=1), data)
    calc = batch_calculation(run, data, 3, 1, undo=True)
    np.testing.assert_allclose(calc.out, np.maximum(calc.z, 0), rtol=1e-12, atol=1e-12)
    assert "from g(z)" in undo_sentence(calc, "g(z)")
