"""The whole network's gradients against centred differences of its loss."""
import numpy as np
import pytest

from bnviz.nn import Architecture, init_params, loss_and_grads
from gradcheck import assert_gradient_close, norm_rel_error, numerical_gradient

def assert_gradients_match(arch, params, grads, x, y, buffers=None):
    """All parameters at once under 1e-7, and each one within 1e-7 relative or 1e-10 absolute."""
    numeric = {name: numerical_gradient(lambda: float(loss_and_grads(arch, params, x, y, buffers)[0]), p)
               for name, p in params.items()}
    names = sorted(params)
    assert norm_rel_error(np.concatenate([grads[n].ravel() for n in names]),
                          np.concatenate([numeric[n].ravel() for n in names])) < 1e-7
    for n in names:
        assert_gradient_close(grads[n], numeric[n], n)


CASES = [(bn, pos, act) for act in ("relu", "tanh", "sigmoid", "linear")
         for bn, pos in ((True, "before"), (True, "after"), (False, "before"))]


@pytest.mark.parametrize("bn,position,activation", CASES)
def test_network_gradients(bn, position, activation):
    rng = np.random.default_rng(7)
    arch = Architecture(n_in=2, hidden=(4, 3), activation=activation, bn=bn, bn_position=position, eps=1e-3)
    params = init_params(arch, rng, "xavier")
    for name in params:
        if name.startswith(("b", "gamma", "beta")):
            params[name] = rng.normal(0.5, 0.3, size=params[name].shape)
    x = rng.normal(size=(12, 2))
    y = (rng.random(12) > 0.5).astype(float)
    _, grads, _ = loss_and_grads(arch, params, x, y)
    assert sorted(grads) == sorted(params)
    assert_gradients_match(arch, params, grads, x, y)


@pytest.mark.parametrize("position", ["before", "after"])
def test_network_gradients_eval_mode(position):
    rng = np.random.default_rng(8)
    arch = Architecture(n_in=2, hidden=(3, 2), bn=True, bn_position=position, activation="tanh")
    params = init_params(arch, rng, "he")
    buffers = {"mean1": rng.normal(size=3), "var1": rng.uniform(0.5, 2, 3),
               "mean2": rng.normal(size=2), "var2": rng.uniform(0.5, 2, 2)}
    x, y = rng.normal(size=(5, 2)), np.array([0.0, 1, 1, 0, 1])
    _, grads, _ = loss_and_grads(arch, params, x, y, buffers)
    assert_gradients_match(arch, params, grads, x, y, buffers)


def test_deeper_network_gradients():
    rng = np.random.default_rng(9)
    arch = Architecture(n_in=2, hidden=(5, 4, 4, 3), activation="tanh", bn=True, keep_bias=True)
    params = init_params(arch, rng, "he")
    x, y = rng.normal(size=(9, 2)), (rng.random(9) > 0.4).astype(float)
    _, grads, _ = loss_and_grads(arch, params, x, y)
    assert_gradients_match(arch, params, grads, x, y)


@pytest.mark.parametrize("bn,position", [(True, "before"), (True, "after"), (False, "before")])
def test_softmax_network_gradients(bn, position):
    """K classes and more than two inputs: the softmax output's cross-entropy through the network."""
    rng = np.random.default_rng(10)
    arch = Architecture(n_in=6, hidden=(5, 4), activation="sigmoid", bn=bn, bn_position=position, n_out=4)
    params = init_params(arch, rng, "xavier")
    for name in params:
        if name.startswith(("b", "gamma", "beta")):
            params[name] = rng.normal(0.5, 0.3, size=params[name].shape)
    x = rng.normal(size=(10, 6))
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3, 1, 2], dtype=float)
    loss, grads, result = loss_and_grads(arch, params, x, y)
    assert result.logits.shape == (10, 4) and params["W3"].shape == (4, 4)
    assert sorted(grads) == sorted(params)
    assert_gradients_match(arch, params, grads, x, y)


def test_softmax_network_gradients_eval_mode():
    rng = np.random.default_rng(11)
    arch = Architecture(n_in=5, hidden=(3,), bn=True, activation="tanh", n_out=3)
    params = init_params(arch, rng, "he")
    buffers = {"mean1": rng.normal(size=3), "var1": rng.uniform(0.5, 2, 3)}
    x, y = rng.normal(size=(6, 5)), np.array([0.0, 1, 2, 2, 1, 0])
    _, grads, _ = loss_and_grads(arch, params, x, y, buffers)
    assert_gradients_match(arch, params, grads, x, y, buffers)
@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_network_gradients_with_layer_norm(position, activation):
    rng = np.random.default_rng(10)
    arch = Architecture(n_in=2, hidden=(4, 3), activation=activation, norm="layer", bn_position=position)
    assert not arch.bn and arch.buffer_layout().size == 0
    params = init_params(arch, rng, "xavier")
    # layer norm keeps every Dense bias: it subtracts each row's mean over the units, which a bias is not
    assert {"b1", "b2", "gamma1", "beta1", "gamma2", "beta2"} <= set(params)
    for name in params:
        if name.startswith(("b", "gamma", "beta")):
            params[name] = rng.normal(0.5, 0.3, size=params[name].shape)
    x = rng.normal(size=(7, 2))
    y = (rng.random(7) > 0.5).astype(float)
    _, grads, result = loss_and_grads(arch, params, x, y)
    assert sorted(grads) == sorted(params) and result.bn_caches == []
    assert_gradients_match(arch, params, grads, x, y)
    # the same gradients written into a flat vector's views, as the training loop asks for them
    from bnviz.nn import backward, bce_with_logits_backward
    flat = np.zeros(arch.param_layout().size)
    views = arch.param_layout().views(flat)
    backward(arch, result, bce_with_logits_backward((result.logits, y)), out=views)
    for name in params:
        np.testing.assert_array_equal(views[name], grads[name])
