"""Layer normalization: gradients, properties, and agreement with PyTorch 2.13.

The PyTorch numbers come from tests/fixtures/torch_layernorm.npz, written by
scripts/make_torch_fixtures.py; PyTorch itself is needed only by the live test,
which is skipped without it.
"""
from pathlib import Path

import numpy as np
import pytest

from bnviz.nn import batchnorm_forward, layernorm_backward, layernorm_forward
from gradcheck import assert_gradient_close, numerical_gradient

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "torch_layernorm.npz"
TOL = 1e-10


@pytest.fixture
def rng():
    return np.random.default_rng(4321)


def worst(a, b):
    """Largest difference, relative to max(1, |b|), after checking the shapes agree."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)), initial=0.0))


# ------------------------------------------------------------------ gradient check


@pytest.mark.parametrize("lead", [(), (2,)])
@pytest.mark.parametrize("eps", [1e-3, 1e-5])
def test_gradients(rng, lead, eps):
    x = rng.normal(3.0, 2.0, size=lead + (5, 4))
    gamma, beta = rng.normal(size=lead + (4,)), rng.normal(size=lead + (4,))
    dy = rng.normal(size=x.shape)
    grads = layernorm_backward(dy, layernorm_forward(x, gamma, beta, eps)[1])
    for name, analytic, wrt in zip(("dx", "dgamma", "dbeta"), grads, (x, gamma, beta)):
        # d/d wrt of sum(y * dy), each input on its own
        numeric = numerical_gradient(lambda: float(np.sum(layernorm_forward(x, gamma, beta, eps)[0] * dy)), wrt)
        assert_gradient_close(analytic, numeric, name)


def test_gradients_of_a_row_near_constant(rng):
    """A row whose spread is comparable to sqrt(eps): eps shapes both output and gradient."""
    x = 5.0 + 0.01 * rng.normal(size=(3, 4))
    gamma, beta, dy = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(3, 4))
    dx, _, _ = layernorm_backward(dy, layernorm_forward(x, gamma, beta, 1e-4)[1])
    numeric = numerical_gradient(lambda: float(np.sum(layernorm_forward(x, gamma, beta, 1e-4)[0] * dy)), x, h=1e-6)
    assert_gradient_close(dx, numeric, "dx")


# ---------------------------------------------------------------------- properties


@pytest.mark.parametrize("eps", [1e-3, 1e-5])
def test_each_row_has_mean_0_and_variance_var_over_var_plus_eps(rng, eps):
    x = rng.normal(0.0, 1.0, size=(2, 6, 5)) * rng.uniform(0.01, 3.0, size=(2, 6, 1)) + 4.0
    y, cache = layernorm_forward(x, np.ones((2, 5)), np.zeros((2, 5)), eps)
    var = x.var(-1)
    np.testing.assert_allclose(cache.mean, x.mean(-1), rtol=1e-14)
    np.testing.assert_allclose(cache.var, var, rtol=1e-12)
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-13)
    np.testing.assert_allclose(y.var(-1), var / (var + eps), rtol=1e-12)


def test_a_row_does_not_depend_on_the_other_rows(rng):
    x = rng.normal(2.0, 3.0, size=(7, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    y, _ = layernorm_forward(x, gamma, beta, 1e-3)
    for i in range(len(x)):
        alone, _ = layernorm_forward(x[i:i + 1], gamma, beta, 1e-3)
        np.testing.assert_array_equal(alone[0], y[i])
    # in any other batch, in any order
    other = np.vstack([rng.normal(-5.0, 10.0, size=(3, 4)), x[[4, 1]]])
    mixed, _ = layernorm_forward(other, gamma, beta, 1e-3)
    np.testing.assert_allclose(mixed[3:], y[[4, 1]], rtol=0, atol=1e-15)
    # batch norm, for contrast, changes every row when the batch changes
    bn_alone, _ = batchnorm_forward(x[:3], gamma, beta, 1e-3)
    assert not np.allclose(bn_alone, batchnorm_forward(x, gamma, beta, 1e-3)[0][:3])


def test_per_unit_gamma_and_beta_cannot_undo_per_row_statistics(rng):
    """Batch norm's statistics are per unit, so gamma = sqrt(var_B + eps), beta = mu_B give back x.
    Layer norm's are per row: the same choice from row 0's statistics gives back row 0 only."""
    eps = 1e-3
    x = rng.normal(0.0, 1.0, size=(5, 4)) * np.array([[1.0], [2.0], [0.5], [3.0], [1.5]]) + np.arange(5.0)[:, None]
    _, bn = batchnorm_forward(x, np.ones(4), np.zeros(4), eps)
    np.testing.assert_allclose(batchnorm_forward(x, np.sqrt(bn.var + eps), bn.mean, eps)[0], x, rtol=1e-12)
    _, ln = layernorm_forward(x, np.ones(4), np.zeros(4), eps)
    gamma, beta = np.full(4, np.sqrt(ln.var[0] + eps)), np.full(4, ln.mean[0])
    y, _ = layernorm_forward(x, gamma, beta, eps)
    np.testing.assert_allclose(y[0], x[0], rtol=1e-12)
    for i in range(1, len(x)):
        assert not np.allclose(y[i], x[i])


def test_gamma_and_beta_act_per_unit(rng):
    """Unit j's output is gamma_j * xhat_j + beta_j: changing gamma_j, beta_j moves column j alone."""
    x = rng.normal(size=(6, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    y, cache = layernorm_forward(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(y, gamma * cache.xhat + beta, rtol=1e-15)
    gamma2, beta2 = gamma.copy(), beta.copy()
    gamma2[2], beta2[2] = 3.0, -1.0
    y2, cache2 = layernorm_forward(x, gamma2, beta2, 1e-5)
    np.testing.assert_array_equal(cache2.xhat, cache.xhat)
    np.testing.assert_array_equal(np.delete(y2, 2, axis=1), np.delete(y, 2, axis=1))
    np.testing.assert_allclose(y2[:, 2], 3.0 * cache.xhat[:, 2] - 1.0, rtol=1e-15)


def test_leading_axes_are_independent_models(rng):
    x = rng.normal(size=(3, 5, 4))
    gamma, beta, dy = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 5, 4))
    y, cache = layernorm_forward(x, gamma, beta, 1e-5)
    grads = layernorm_backward(dy, cache)
    for m in range(3):
        y_m, cache_m = layernorm_forward(x[m], gamma[m], beta[m], 1e-5)
        np.testing.assert_allclose(y[m], y_m, rtol=1e-14, atol=1e-15)
        for g, g_m in zip(grads, layernorm_backward(dy[m], cache_m)):
            np.testing.assert_allclose(g[m], g_m, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------------- PyTorch


@pytest.fixture(scope="module")
def ln_ref():
    return np.load(FIXTURE)


def test_matches_pytorch_fixture(ln_ref):
    n = int(ln_ref["n_cases"])
    assert n >= 4 and {1e-3, 1e-5} <= {float(ln_ref[f"eps{i}"]) for i in range(n)}
    for i in range(n):
        y, cache = layernorm_forward(ln_ref[f"x{i}"], ln_ref[f"gamma{i}"], ln_ref[f"beta{i}"], float(ln_ref[f"eps{i}"]))
        assert worst(y, ln_ref[f"y{i}"]) < TOL, f"case {i}: y"
        for name, g in zip(("dx", "dgamma", "dbeta"), layernorm_backward(ln_ref[f"dy{i}"], cache)):
            assert worst(g, ln_ref[f"{name}{i}"]) < TOL, f"case {i}: {name}"


@pytest.mark.parametrize("shape", [(6, 5), (1, 3), (2, 4, 7)])
def test_matches_pytorch_live(rng, shape):
    torch = pytest.importorskip("torch")
    *lead, n, d = shape
    x, dy = rng.normal(1.0, 2.0, size=shape), rng.normal(size=shape)
    gamma, beta = rng.normal(size=(*lead, d)), rng.normal(size=(*lead, d))
    y, cache = layernorm_forward(x, gamma, beta, 1e-5)
    dx, dgamma, dbeta = layernorm_backward(dy, cache)
    ours = (y.reshape(-1, n, d), dx.reshape(-1, n, d), dgamma.reshape(-1, d), dbeta.reshape(-1, d))
    # one model per leading index: F.layer_norm takes one weight of shape (D,)
    for m, (x_m, g_m, b_m, dy_m) in enumerate(zip(x.reshape(-1, n, d), gamma.reshape(-1, d),
                                                     beta.reshape(-1, d), dy.reshape(-1, n, d))):
        xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x_m, g_m, b_m))
        yt = torch.nn.functional.layer_norm(xt, (d,), gt, bt, eps=1e-5)
        yt.backward(torch.tensor(dy_m))
        for a, t in zip(ours, (yt, xt.grad, gt.grad, bt.grad)):
            assert worst(a[m], t.detach().numpy()) < TOL
