"""Every layer's backward against centred differences of its forward, in float64."""
import numpy as np
import pytest

from bnviz.nn import (
    activation_backward, activation_forward, batchnorm_backward, batchnorm_eval_forward, batchnorm_forward,
    bce_with_logits_backward, bce_with_logits_forward, dense_backward, dense_forward,
)
from gradcheck import assert_gradient_close, numerical_gradient

@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def check(analytic, f, x):
    assert_gradient_close(analytic, numerical_gradient(f, x))


@pytest.mark.parametrize("lead", [(), (3,)])
def test_dense(rng, lead):
    x, W, b = rng.normal(size=lead + (5, 4)), rng.normal(size=lead + (4, 3)), rng.normal(size=lead + (3,))
    dz = rng.normal(size=lead + (5, 3))
    dx, dW, db = dense_backward(dz, dense_forward(x, W, b)[1])

    def f():
        return float(np.sum(dense_forward(x, W, b)[0] * dz))

    check(dx, f, x)
    check(dW, f, W)
    check(db, f, b)


@pytest.mark.parametrize("lead", [(), (2,)])
@pytest.mark.parametrize("eps", [1e-3, 1e-5])
def test_batchnorm_train(rng, lead, eps):
    x = rng.normal(3.0, 2.0, size=lead + (6, 4))
    gamma, beta = rng.normal(size=lead + (4,)), rng.normal(size=lead + (4,))
    dy = rng.normal(size=x.shape)
    dx, dgamma, dbeta = batchnorm_backward(dy, batchnorm_forward(x, gamma, beta, eps)[1])

    def f():
        return float(np.sum(batchnorm_forward(x, gamma, beta, eps)[0] * dy))

    check(dx, f, x)
    check(dgamma, f, gamma)
    check(dbeta, f, beta)


def test_batchnorm_eval(rng):
    x = rng.normal(1.0, 3.0, size=(7, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    rm, rv = rng.normal(size=3), rng.uniform(0.5, 2.0, size=3)
    dy = rng.normal(size=x.shape)
    dx, dgamma, dbeta = batchnorm_backward(dy, batchnorm_eval_forward(x, gamma, beta, rm, rv, 1e-3)[1])

    def f():
        return float(np.sum(batchnorm_eval_forward(x, gamma, beta, rm, rv, 1e-3)[0] * dy))

    check(dx, f, x)
    check(dgamma, f, gamma)
    check(dbeta, f, beta)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "linear"])
def test_activation(rng, name):
    x = rng.normal(size=(6, 3))
    x[np.abs(x) < 1e-3] = 0.5  # keep clear of relu's kink
    da = rng.normal(size=x.shape)
    dx = activation_backward(da, activation_forward(x, name)[1])
    check(dx, lambda: float(np.sum(activation_forward(x, name)[0] * da)), x)


def test_bce_with_logits(rng):
    z = rng.normal(0.0, 3.0, size=(2, 9))
    y = (rng.random(9) > 0.5).astype(float)
    dz = bce_with_logits_backward(bce_with_logits_forward(z, y)[1])
    check(dz, lambda: float(np.sum(bce_with_logits_forward(z, y)[0])), z)


def test_bce_is_stable_for_huge_logits():
    z = np.array([1e4, -1e4, 1e4, -1e4])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss, cache = bce_with_logits_forward(z, y)
    assert np.isfinite(loss) and loss == pytest.approx(0.5e4)
    assert np.all(np.isfinite(bce_with_logits_backward(cache)))


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="swish"):
        activation_forward(np.zeros((2, 2)), "swish")
