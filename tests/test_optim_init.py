"""Optimizer update rules and weight initializers."""
import numpy as np
import pytest

from bnviz.nn import Architecture, init_params, init_weight
from bnviz.optim import make_optimizer


def steps(name, grads, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8):
    p = np.array([[1.0, -2.0]])
    opt = make_optimizer(name, p.shape, beta1, beta2, eps)
    for g in grads:
        opt.step(p, np.array([g]), lr)
    return p[0]


GRADS = [[0.5, -1.0], [0.25, 2.0], [-1.0, 0.1]]


def test_sgd():
    np.testing.assert_allclose(steps("sgd", GRADS), [1.0, -2.0] - 0.1 * np.sum(GRADS, axis=0), rtol=1e-15)


def test_momentum_is_an_average_of_gradients():
    v, p = np.zeros(2), np.array([1.0, -2.0])
    for g in np.array(GRADS):
        v = 0.9 * v + 0.1 * g
        p = p - 0.1 * v
    np.testing.assert_allclose(steps("momentum", GRADS), p, rtol=1e-15)


def test_rmsprop():
    s, p = np.zeros(2), np.array([1.0, -2.0])
    for g in np.array(GRADS):
        s = 0.999 * s + 0.001 * g * g
        p = p - 0.1 * g / (np.sqrt(s) + 1e-8)
    np.testing.assert_allclose(steps("rmsprop", GRADS), p, rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_about_lr():
    p = steps("adam", GRADS[:1], lr=0.01)
    np.testing.assert_allclose(p, [1.0 - 0.01, -2.0 + 0.01], rtol=1e-6)


def test_adam_bias_correction():
    m, v, p = np.zeros(2), np.zeros(2), np.array([1.0, -2.0])
    for t, g in enumerate(np.array(GRADS), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(steps("adam", GRADS), p, rtol=1e-14)


def test_per_model_learning_rates():
    p = np.ones((3, 2))
    make_optimizer("sgd", p.shape).step(p, np.ones((3, 2)), np.array([[0.1], [0.2], [0.3]]))
    np.testing.assert_allclose(p[:, 0], [0.9, 0.8, 0.7])


def test_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="lbfgs"):
        make_optimizer("lbfgs", (1, 1))


@pytest.mark.parametrize("kind, std", [("normal", 0.05), ("uniform", 0.05 / np.sqrt(3)),
                                       ("xavier", np.sqrt(2 / (300 + 200))), ("he", np.sqrt(2 / 300))])
def test_initializer_scales(kind, std):
    W = init_weight(np.random.default_rng(0), 300, 200, kind)
    assert W.shape == (300, 200)
    assert abs(W.mean()) < 0.02 * std * 10
    assert W.std() == pytest.approx(std, rel=0.02)


def test_zeros_and_scale():
    arch = Architecture(n_in=2, hidden=(3, 2))
    assert all(np.all(v == 0) for k, v in init_params(arch, np.random.default_rng(0), "zeros").items()
               if k.startswith("W"))
    a = init_params(arch, np.random.default_rng(1), "he", 1.0)
    b = init_params(arch, np.random.default_rng(1), "he", 1000.0)
    np.testing.assert_allclose(b["W2"], 1000.0 * a["W2"])
    np.testing.assert_array_equal(b["gamma1"], 1.0)
    np.testing.assert_array_equal(b["beta1"], 0.0)
    assert list(a) == arch.param_layout().names
