"""Properties of batch normalization that hold for any input (hypothesis)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bnviz.nn import Architecture, batchnorm_backward, batchnorm_eval_forward, batchnorm_forward, init_params
from bnviz.nn.mlp import loss_and_grads

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-2, 1e2, allow_nan=False, allow_infinity=False)


@st.composite
def batches(draw, min_rows=2, max_rows=40):
    """x (N, D) with every column spread out, so its variance is not just rounding."""
    n = draw(st.integers(min_rows, max_rows))
    d = draw(st.integers(1, 5))
    x = draw(arrays(np.float64, (n, d), elements=finite))
    spread = draw(arrays(np.float64, (d,), elements=positive))
    x = x + np.outer(np.linspace(-1.0, 1.0, n), spread)  # distinct rows in every column
    return x


eps_values = st.sampled_from([1e-5, 1e-3, 1e-1])


@settings(max_examples=200, deadline=None)
@given(batches(), eps_values)
def test_train_mode_output_has_mean_zero_and_variance_var_over_var_plus_eps(x, eps):
    d = x.shape[1]
    y, cache = batchnorm_forward(x, np.ones(d), np.zeros(d), eps)
    var = x.var(axis=0)
    # x - mu_B loses the digits x and mu_B share: about one unit in the last
    # place of |x|, relative to the spread of the column
    conditioning = np.abs(x).max(axis=0) / x.std(axis=0)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-14 * conditioning.max() * len(x))
    np.testing.assert_allclose(y.var(axis=0), var / (var + eps), rtol=1e-13 * conditioning.max() * len(x))
    np.testing.assert_allclose(cache.mean, x.mean(axis=0), rtol=1e-12, atol=1e-12 * np.abs(x).max())
    np.testing.assert_allclose(cache.var, var, rtol=1e-9, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(batches(), eps_values, st.data())
def test_eval_mode_is_an_affine_map_row_by_row(x, eps, data):
    d = x.shape[1]
    gamma = data.draw(arrays(np.float64, (d,), elements=finite))
    beta = data.draw(arrays(np.float64, (d,), elements=finite))
    mean = data.draw(arrays(np.float64, (d,), elements=finite))
    var = data.draw(arrays(np.float64, (d,), elements=positive))
    y, _ = batchnorm_eval_forward(x, gamma, beta, mean, var, eps)
    scale = gamma / np.sqrt(var + eps)
    np.testing.assert_allclose(y, x * scale + (beta - mean * scale), rtol=1e-9, atol=1e-9 * (1 + np.abs(y).max()))
    # each row alone gives the same answer: no row sees the others
    for i in range(len(x)):
        alone, _ = batchnorm_eval_forward(x[i:i + 1], gamma, beta, mean, var, eps)
        np.testing.assert_array_equal(alone[0], y[i])


@settings(max_examples=200, deadline=None)
@given(batches(), eps_values, st.data())
def test_adding_a_constant_to_the_input_changes_nothing(x, eps, data):
    d = x.shape[1]
    shift = data.draw(arrays(np.float64, (d,), elements=finite))
    gamma, beta = np.linspace(0.5, 2.0, d), np.linspace(-1.0, 1.0, d)
    y, _ = batchnorm_forward(x, gamma, beta, eps)
    y_shifted, _ = batchnorm_forward(x + shift, gamma, beta, eps)
    # rounding of x + shift is the only difference: relative to the column spread
    tol = 1e-11 * (np.abs(x).max() + np.abs(shift).max()) / x.std(axis=0).min()
    np.testing.assert_allclose(y_shifted, y, atol=max(tol, 1e-12) * np.abs(gamma).max())


@settings(max_examples=200, deadline=None)
@given(batches(), eps_values)
def test_gamma_sqrt_var_eps_and_beta_mean_give_back_the_input(x, eps):
    mean, var = x.mean(axis=0), x.var(axis=0)
    y, _ = batchnorm_forward(x, np.sqrt(var + eps), mean, eps)
    np.testing.assert_allclose(y, x, rtol=1e-10, atol=1e-10 * np.abs(x).max())


@settings(max_examples=100, deadline=None)
@given(batches(min_rows=3), eps_values, st.data())
def test_backward_sums_to_zero_over_the_batch(x, eps, data):
    """A shift of the whole column cannot change the output, so dx sums to 0 per feature."""
    d = x.shape[1]
    dy = data.draw(arrays(np.float64, x.shape, elements=st.floats(-10, 10)))
    y, cache = batchnorm_forward(x, np.linspace(0.5, 2, d), np.zeros(d), eps)
    dx, _, _ = batchnorm_backward(dy, cache)
    scale = np.abs(dy).max() * np.abs(cache.inv_std).max() * 2 + 1e-300
    # centring rows far from 0 (a large mean, a small spread) leaves rounding of about
    # eps_machine * |x| / std in xhat, and so in its sum
    condition = 1.0 + np.abs(x).max() * np.abs(cache.inv_std).max()
    np.testing.assert_allclose(dx.sum(axis=0) / scale, 0.0, atol=1e-12 * len(x) * condition)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["relu", "tanh", "sigmoid", "linear"]),
       st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_the_bias_in_front_of_bn_gets_zero_gradient_up_to_rounding(seed, activation, hidden):
    rng = np.random.default_rng(seed)
    arch = Architecture(n_in=2, hidden=tuple(hidden), activation=activation, bn=True, bn_position="before",
                        keep_bias=True)
    params = init_params(arch, rng, "he")
    for name in params:
        if name.startswith("b"):
            params[name] = rng.normal(size=params[name].shape)
    x, y = rng.normal(size=(8, 2)), (rng.random(8) > 0.5).astype(float)
    loss, grads, _ = loss_and_grads(arch, params, x, y)
    # The bias gradient is the batch sum of dz, which BN's backward leaves at zero mean: what
    # remains is rounding, amplified by gamma / sigma_B. On random networks that stays within
    # 1e-10 of the largest weight gradient; trainings on the lab's data stay within 1e-12
    # (tests/test_engine_options.py).
    largest_weight_gradient = max(np.abs(grads[f"W{j}"]).max() for j in range(1, len(hidden) + 2))
    for k in range(1, len(hidden) + 1):
        assert np.abs(grads[f"b{k}"]).max() <= 1e-10 * largest_weight_gradient + 1e-300
        # and the bias really does not matter: moving it leaves the loss as it was
        moved = dict(params, **{f"b{k}": params[f"b{k}"] + 3.0})
        assert abs(loss_and_grads(arch, moved, x, y)[0] - loss) < 1e-12 * (1 + abs(loss))
