"""Agreement with PyTorch 2.13 (float64, CPU), through committed fixtures.

The fixtures are written by scripts/make_torch_fixtures.py; PyTorch itself is
not needed to run these tests.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.nn import batchnorm_backward, batchnorm_eval_forward, batchnorm_forward, forward
from bnviz.running import RunningAverage
from bnviz.train import network_inputs

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NETWORK_CASES = sorted(p.stem.removeprefix("torch_net_") for p in FIXTURES.glob("torch_net_*.npz"))
TOL = 1e-10


def close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    err = np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)), initial=0.0)
    assert err < tol, f"max error {err:.2e}"


@pytest.fixture(scope="module")
def bn_ref():
    return np.load(FIXTURES / "torch_batchnorm.npz")


def test_fixtures_exist():
    assert (FIXTURES / "torch_batchnorm.npz").exists()
    assert len(NETWORK_CASES) >= 7
    assert {"sgd_layer_before", "adam_layer_after"} <= set(NETWORK_CASES)


def test_batchnorm_forward_and_backward(bn_ref):
    gamma, beta, eps = bn_ref["gamma"], bn_ref["beta"], float(bn_ref["eps"])
    for i in range(int(bn_ref["n_batches"])):
        y, cache = batchnorm_forward(bn_ref[f"x{i}"], gamma, beta, eps)
        close(y, bn_ref[f"y{i}"])
        dx, dgamma, dbeta = batchnorm_backward(bn_ref[f"dy{i}"], cache)
        close(dx, bn_ref[f"dx{i}"])
        close(dgamma, bn_ref[f"dgamma{i}"])
        close(dbeta, bn_ref[f"dbeta{i}"])


@pytest.mark.parametrize("convention", ["biased", "unbiased"])
def test_batchnorm_running_statistics(bn_ref, convention):
    """The loop's running-average rule, batch by batch (sizes 8, 5, 8, 2), against PyTorch."""
    rule = RunningAverage(np.array([False] * 3 + [True] * 3), momentum=1.0 - float(bn_ref["momentum"]),
                          kind="ewma", variance=convention)
    batches = [bn_ref[f"x{i}"] for i in range(int(bn_ref["n_batches"]))]
    stats = []
    for x in batches:
        _, cache = batchnorm_forward(x, bn_ref["gamma"], bn_ref["beta"], float(bn_ref["eps"]))
        stats.append(np.r_[cache.mean, cache.var])
    running = rule.series(np.array(stats), [len(x) for x in batches], np.r_[np.zeros(3), np.ones(3)])
    for i in range(len(batches)):
        close(running[i, :3], bn_ref[f"running_mean_{convention}{i}"])
        close(running[i, 3:], bn_ref[f"running_var_{convention}{i}"])
    y, _ = batchnorm_eval_forward(bn_ref["x_eval"], bn_ref["gamma"], bn_ref["beta"],
                                  bn_ref["running_mean_unbiased3"], bn_ref["running_var_unbiased3"],
                                  float(bn_ref["eps"]))
    close(y, bn_ref["y_eval"])


def check_whole_run(run, ref, rows):
    """A trained Run against a PyTorch fixture: the same initial parameters and batch rows (rows, in the
    fixture's layout), then every step's loss, the final parameters and (with BN) the running statistics."""
    for name in run.param_names:
        np.testing.assert_array_equal(run.initial_params[name], ref[f"init_{name}"])
    np.testing.assert_array_equal(rows, ref["rows"])
    close(run.train_loss, ref["losses"])
    for name in run.param_names:
        close(run.final_params[name], ref[f"final_{name}"])
    if run.arch.bn:
        ours = np.concatenate([a for k in range(run.n_bn) for a in (run.running_mean[k], run.running_var[k])], axis=1)
        close(ours, ref["running"])


@pytest.mark.parametrize("case", NETWORK_CASES)
def test_network_training_matches_pytorch(case):
    ref = np.load(FIXTURES / f"torch_net_{case}.npz")
    cfg, warnings = Config.from_query(json.loads(str(ref["query"])))
    assert not warnings
    data = load_for(cfg)
    run = train(cfg, data)
    assert run.n_steps == len(ref["losses"]) == 100
    check_whole_run(run, ref, np.stack(run.batch_indices))
    if cfg.norm == "layer":                  # layer norm keeps no running statistics, in either library
        assert ref["running"].shape == (100, 0) and run.n_bn == 0
    # evaluation mode on the test rows, with the final running statistics
    result = forward(run.arch, run.final_params, network_inputs(cfg, data, data.X_test),
                     run.buffers_at(run.n_steps) if cfg.bn else None)
    close(result.logits, ref["eval_logits"])


SOFTMAX_CASES = sorted(p.stem.removeprefix("torch_softmax_") for p in FIXTURES.glob("torch_softmax_*.npz"))


def test_softmax_fixtures_exist():
    assert len(SOFTMAX_CASES) >= 2


@pytest.mark.parametrize("case", SOFTMAX_CASES)
@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_digits_training_with_cross_entropy_matches_pytorch(case, engine, monkeypatch):
    """Ten classes through three BN layers: torch.nn.CrossEntropyLoss, autograd and torch.optim over a
    whole training (48 steps) against both of bnviz's loops."""
    from bnviz import compiled

    monkeypatch.setenv(compiled.ENGINE_ENV, engine)
    ref = np.load(FIXTURES / f"torch_softmax_{case}.npz")
    cfg, warnings = Config.from_query(json.loads(str(ref["query"])))
    assert not warnings and cfg.dataset == "digits"
    data = load_for(cfg)
    run = train(cfg, data)
    assert run.arch.n_in == 64 and run.arch.n_out == 10 and run.arch.bn
    assert run.n_steps == len(ref["losses"]) == 48
    check_whole_run(run, ref, np.concatenate(run.batch_indices))
    result = forward(run.arch, run.final_params, network_inputs(cfg, data, data.X_test), run.buffers_at(run.n_steps))
    assert result.logits.shape == (len(data.y_test), 10)
    close(result.logits, ref["eval_logits"])
    # the training learned: its last losses are under 1, and under half the first one
    assert ref["losses"][-5:].mean() < min(1.0, 0.5 * ref["losses"][0])
