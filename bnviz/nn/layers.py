"""Layers as forward/backward pairs, in float64 NumPy.

Every function works on a mini-batch ``x`` of shape ``(..., N, D)``: N rows of D
features, with any number of leading axes in front. The leading axes let one
call run many models at once (an ensemble, or every saved state of one run);
per-feature parameters then carry the same leading axes, ``gamma: (..., D)``.
With no leading axes the shapes are the textbook ones, ``x: (N, D)``,
``gamma: (D,)``.

``forward(...) -> (out, cache)`` and ``backward(dout, cache) -> grads`` in the
order of the forward's inputs, as in cs231n.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


def batch_sum(x: np.ndarray) -> np.ndarray:
    """Sum over the batch axis: x (..., N, D) -> (..., D).

    A product with a row of ones, because for stacks of small matrices it is
    several times faster than ``x.sum(-2)`` (a strided reduction).
    """
    ones = np.ones((1, x.shape[-2]))
    return np.matmul(ones, x)[..., 0, :]


# --------------------------------------------------------------------------- Dense


def dense_forward(x, W, b=None):
    """z = x @ W + b.

    x: (..., N, D_in), W: (..., D_in, D_out), b: (..., D_out) or None.
    Returns z: (..., N, D_out) and the cache (x, W, has_bias).
    """
    z = np.matmul(x, W)
    if b is not None:
        z += b[..., None, :]
    return z, (x, W, b is not None)


def dense_backward(dz, cache, need_dx=True):
    """Gradients of z = x @ W + b.

    dz: (..., N, D_out). Returns (dx, dW, db): dx (..., N, D_in) or None when
    not needed (the first layer), dW (..., D_in, D_out), db (..., D_out) or None.
    """
    x, W, has_bias = cache
    dW = np.matmul(np.swapaxes(x, -1, -2), dz)
    db = batch_sum(dz) if has_bias else None
    dx = np.matmul(dz, np.swapaxes(W, -1, -2)) if need_dx else None
    return dx, dW, db


# ----------------------------------------------------------------------- BatchNorm


class BatchNormCache(NamedTuple):
    """What the backward pass and the page need from a BN forward pass.

    mean, var: (..., D) the statistics used (batch statistics in training,
    running statistics in evaluation); var is the biased variance.
    inv_std: (..., D) = 1 / sqrt(var + eps); xhat: (..., N, D) the normalized
    input; gamma: (..., D); train: whether the statistics came from the batch.
    """

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    train: bool


def batchnorm_forward(x, gamma, beta, eps):
    """Batch normalization in training mode, with the statistics of this batch.

    mu_B = mean_i x_i;  var_B = mean_i (x_i - mu_B)^2  (biased)
    xhat = (x - mu_B) / sqrt(var_B + eps);  y = gamma * xhat + beta

    x: (..., N, D), gamma, beta: (..., D), eps > 0 inside the square root.
    Returns y: (..., N, D) and a BatchNormCache holding mu_B and var_B, which
    the caller folds into its running averages.
    """
    n_inv = 1.0 / x.shape[-2]
    mean = batch_sum(x) * n_inv
    centred = x - mean[..., None, :]
    var = batch_sum(centred * centred) * n_inv
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = centred * inv_std[..., None, :]
    y = xhat * gamma[..., None, :] + beta[..., None, :]
    return y, BatchNormCache(xhat, inv_std, gamma, mean, var, True)


def batchnorm_eval_forward(x, gamma, beta, running_mean, running_var, eps):
    """Batch normalization in evaluation mode: an affine map per feature.

    y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta.
    Rows do not interact, so a single row can be normalized.

    x: (..., N, D); gamma, beta, running_mean, running_var: (..., D).
    """
    inv_std = 1.0 / np.sqrt(running_var + eps)
    xhat = (x - running_mean[..., None, :]) * inv_std[..., None, :]
    y = xhat * gamma[..., None, :] + beta[..., None, :]
    return y, BatchNormCache(xhat, inv_std, gamma, running_mean, running_var, False)


def batchnorm_backward(dy, cache):
    """Gradients of batch normalization: (dx, dgamma, dbeta).

    In training mode mu_B and var_B depend on every row, which gives
        dx = gamma / sqrt(var_B + eps) * (dy - mean_i dy - xhat * mean_i(dy * xhat)).
    In evaluation mode the statistics are constants and dx = gamma * dy / sqrt(var + eps).

    dy: (..., N, D). Returns dx (..., N, D), dgamma (..., D), dbeta (..., D).
    """
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    dbeta = batch_sum(dy)
    dgamma = batch_sum(dy * xhat)
    scale = (gamma * inv_std)[..., None, :]
    if not cache.train:
        return dy * scale, dgamma, dbeta
    n_inv = 1.0 / dy.shape[-2]
    dx = (dy - dbeta[..., None, :] * n_inv - xhat * (dgamma * n_inv)[..., None, :]) * scale
    return dx, dgamma, dbeta


# --------------------------------------------------------------------- activations


def _sigmoid(x):
    # tanh form: no overflow warning for large |x|, same value as 1 / (1 + e^-x)
    return 0.5 * np.tanh(0.5 * x) + 0.5


def activation_forward(x, name):
    """g(x) elementwise for name in relu, tanh, sigmoid, linear. Returns (a, cache)."""
    if name == "relu":
        a = np.maximum(x, 0.0)
    elif name == "tanh":
        a = np.tanh(x)
    elif name == "sigmoid":
        a = _sigmoid(x)
    elif name == "linear":
        a = x
    else:
        raise ValueError(f"unknown activation {name!r}: use relu, tanh, sigmoid or linear")
    return a, (x, a, name)


def activation_backward(da, cache):
    """dx = da * g'(x), with g' written through the forward output where it can be."""
    x, a, name = cache
    if name == "relu":
        return da * (x > 0.0)
    if name == "tanh":
        return da * (1.0 - a * a)
    if name == "sigmoid":
        return da * (a * (1.0 - a))
    return da


# ---------------------------------------------------------------------------- loss


def bce_with_logits_forward(logits, y):
    """Mean binary cross-entropy of sigmoid(logits) against labels y in {0, 1}.

    Written as max(z, 0) - z*y + log(1 + e^-|z|), which never overflows: a logit
    of +-1e4 gives a loss of 1e4 for a wrong label, not inf.

    logits: (..., N), y: (..., N) or (N,). Returns loss (...,) and the cache.
    """
    z = logits
    per_row = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return per_row.mean(-1), (z, y)


def bce_with_logits_backward(cache):
    """d loss / d logits = (sigmoid(z) - y) / N, shape (..., N)."""
    z, y = cache
    return (_sigmoid(z) - y) * (1.0 / z.shape[-1])
