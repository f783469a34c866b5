"""Every layer's backward against centred differences of its forward, in float64."""
import numpy as np
import pytest

from bnviz.nn import (
    activation_backward, activation_forward, batchnorm_backward, batchnorm_eval_forward, batchnorm_forward,
    bce_with_logits_backward, bce_with_logits_forward, dense_backward, dense_forward, softmax,
    softmax_cross_entropy_backward, softmax_cross_entropy_forward,
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


@pytest.mark.parametrize("lead", [(), (2,)])
def test_softmax_cross_entropy(rng, lead):
    z = rng.normal(0.0, 3.0, size=lead + (7, 4))
    y = np.array([0, 3, 1, 2, 3, 0, 1], dtype=float)
    dz = softmax_cross_entropy_backward(softmax_cross_entropy_forward(z, y)[1])
    assert dz.shape == z.shape
    check(dz, lambda: float(np.sum(softmax_cross_entropy_forward(z, y)[0])), z)


def test_softmax_cross_entropy_values():
    # two rows, three classes, worked by hand: -log(e^z_y / sum e^z)
    z = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, -1.0]])
    y = np.array([1.0, 0.0])
    loss, cache = softmax_cross_entropy_forward(z, y)
    expected = (np.log(3.0) + (np.log(np.exp(2.0) + 1.0 + np.exp(-1.0)) - 2.0)) / 2
    assert loss == pytest.approx(expected, rel=1e-15)
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-15)
    grad = softmax_cross_entropy_backward(cache)
    np.testing.assert_allclose(grad, (p - np.array([[0, 1, 0], [1, 0, 0]])) / 2, rtol=1e-14, atol=1e-17)
    # each row's gradient sums to 0: raising every logit of a row by the same amount changes nothing
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-16)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4]])
    loss, cache = softmax_cross_entropy_forward(z, np.array([0.0, 2.0]))
    assert np.isfinite(loss) and loss == pytest.approx(1e4)   # (0 + 2e4) / 2
    assert np.all(np.isfinite(softmax_cross_entropy_backward(cache)))


def test_two_class_softmax_is_the_sigmoid_loss():
    # softmax over logits (0, z) is sigmoid(z): the same loss and the same gradient's difference
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 2.0, 9)
    y = (rng.random(9) > 0.5).astype(float)
    both = np.stack([np.zeros(9), z], axis=-1)
    assert softmax_cross_entropy_forward(both, y)[0] == pytest.approx(bce_with_logits_forward(z, y)[0], rel=1e-13)


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="swish"):
        activation_forward(np.zeros((2, 2)), "swish")
