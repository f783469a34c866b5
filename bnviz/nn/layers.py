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

import numpy as np


_ROWS = {}
SMALL_BATCH = 64


def _row_vectors(n: int):
    """(ones (n,), ones / n (n,), centring matrix I - 1/n (n, n) or None for big n), cached."""
    rows = _ROWS.get(n)
    if rows is None:
        centring = np.eye(n) - 1.0 / n if n <= SMALL_BATCH else None
        rows = _ROWS[n] = (np.ones(n), np.full(n, 1.0 / n), centring)
    return rows


def batch_sum(x: np.ndarray, out=None) -> np.ndarray:
    """Sum over the batch axis: x (..., N, D) -> (..., D), into `out` if given.

    A product with a vector of ones: for stacks of small matrices it is
    several times faster than ``x.sum(-2)`` (a strided reduction).
    """
    return np.matmul(_row_vectors(x.shape[-2])[0], x, out=out)


def batch_mean(x: np.ndarray) -> np.ndarray:
    """Mean over the batch axis: x (..., N, D) -> (..., D)."""
    return np.matmul(_row_vectors(x.shape[-2])[1], x)


def batch_centre(x: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """x - mean over the batch axis. For small batches one product with the centring
    matrix I - 11^T/N replaces a broadcast subtraction (fewer NumPy calls per step)."""
    centring = _row_vectors(x.shape[-2])[2]
    return np.matmul(centring, x) if centring is not None else x - mean[..., None, :]


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


def dense_backward(dz, cache, need_dx=True, out_dW=None, out_db=None):
    """Gradients of z = x @ W + b.

    dz: (..., N, D_out). Returns (dx, dW, db): dx (..., N, D_in) or None when
    not needed (the first layer), dW (..., D_in, D_out), db (..., D_out) or None.
    out_dW, out_db: arrays to write dW and db into (the training loop's flat
    gradient), instead of new ones.
    """
    x, W, has_bias = cache
    dW = np.matmul(x.swapaxes(-1, -2), dz, out=out_dW)
    db = batch_sum(dz, out_db) if has_bias else None
    dx = np.matmul(dz, W.swapaxes(-1, -2)) if need_dx else None
    return dx, dW, db


# ----------------------------------------------------------------------- BatchNorm


class BatchNormCache:
    """What the backward pass and the page need from a BN forward pass.

    mean, var: (..., D) the statistics used (batch statistics in training,
    running statistics in evaluation); var is the biased variance.
    inv_std: (..., D) = 1 / sqrt(var + eps); xhat: (..., N, D) the normalized
    input; gamma: (..., D); train: whether the statistics came from the batch.
    """

    __slots__ = ("xhat", "inv_std", "gamma", "var", "train", "_x", "_mean")

    def __init__(self, xhat, inv_std, gamma, mean, var, train, x=None):
        self.xhat, self.inv_std, self.gamma, self.var, self.train = xhat, inv_std, gamma, var, train
        self._mean, self._x = mean, x

    @property
    def mean(self) -> np.ndarray:
        # Centring with a matrix never needs mu_B itself, so in training mode
        # it is computed only when asked for (the loop never asks).
        if self._mean is None:
            self._mean = batch_mean(self._x)
        return self._mean


def batchnorm_forward(x, gamma, beta, eps):
    """Batch normalization in training mode, with the statistics of this batch.

    mu_B = mean_i x_i;  var_B = mean_i (x_i - mu_B)^2  (biased)
    xhat = (x - mu_B) / sqrt(var_B + eps);  y = gamma * xhat + beta

    x: (..., N, D), gamma, beta: (..., D), eps > 0 inside the square root.
    Returns y: (..., N, D) and a BatchNormCache holding mu_B and var_B, which
    the caller folds into its running averages.
    """
    centring = _row_vectors(x.shape[-2])[2]
    mean = None if centring is not None else batch_mean(x)
    xhat = batch_centre(x, mean)
    var = batch_mean(xhat * xhat)
    inv_std = var + eps
    np.sqrt(inv_std, out=inv_std)
    np.divide(1.0, inv_std, out=inv_std)
    xhat *= inv_std[..., None, :]
    y = xhat * gamma[..., None, :]
    y += beta[..., None, :]
    return y, BatchNormCache(xhat, inv_std, gamma, mean, var, True, x)


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


def batchnorm_backward(dy, cache, out_dgamma=None, out_dbeta=None):
    """Gradients of batch normalization: (dx, dgamma, dbeta).

    In training mode mu_B and var_B depend on every row, which gives
        dx = gamma / sqrt(var_B + eps) * (dy - mean_i dy - xhat * mean_i(dy * xhat)).
    In evaluation mode the statistics are constants and dx = gamma * dy / sqrt(var + eps).

    dy: (..., N, D). Returns dx (..., N, D), dgamma (..., D), dbeta (..., D);
    out_dgamma, out_dbeta: arrays to write those two into, if given.
    """
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    dbeta = batch_sum(dy, out_dbeta)
    dgamma = batch_sum(dy * xhat, out_dgamma)
    if not cache.train:
        return dy * (gamma * inv_std)[..., None, :], dgamma, dbeta
    # dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
    n = dy.shape[-2]
    dx = xhat * (dgamma * (1.0 / n))[..., None, :]
    np.subtract(batch_centre(dy, dbeta * (1.0 / n)), dx, out=dx)
    dx *= (gamma * inv_std)[..., None, :]
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------- LayerNorm


class LayerNormCache:
    """What the backward pass needs from a layer norm forward pass.

    mean, var: (..., N) each row's statistics over its D units (biased variance);
    inv_std: (..., N) = 1 / sqrt(var + eps); xhat: (..., N, D) the normalized
    input; gamma: (..., D).
    """

    __slots__ = ("xhat", "inv_std", "gamma", "mean", "var")

    def __init__(self, xhat, inv_std, gamma, mean, var):
        self.xhat, self.inv_std, self.gamma, self.mean, self.var = xhat, inv_std, gamma, mean, var


def layernorm_forward(x, gamma, beta, eps):
    """Layer normalization: each row normalized over its own units.

    mu_n = mean_j x_nj;  var_n = mean_j (x_nj - mu_n)^2  (biased)
    xhat_n = (x_n - mu_n) / sqrt(var_n + eps);  y_n = gamma * xhat_n + beta

    x: (..., N, D), gamma, beta: (..., D) per unit, eps > 0 inside the square root.
    Returns y: (..., N, D) and a LayerNormCache. No running statistics: training
    and evaluation are the same map, and a row's output ignores the other rows.
    """
    # The statistics average over the units (last axis, D), one pair per row;
    # batch norm averages over the rows (axis -2, N), one pair per unit.
    mean = x.mean(-1)
    xhat = x - mean[..., None]
    var = np.mean(xhat * xhat, -1)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat *= inv_std[..., None]
    y = xhat * gamma[..., None, :] + beta[..., None, :]
    return y, LayerNormCache(xhat, inv_std, gamma, mean, var)


def layernorm_backward(dy, cache):
    """Gradients of layer normalization: (dx, dgamma, dbeta).

    With dxhat = gamma * dy, row by row (means over the D units):
        dx = (dxhat - mean_j dxhat - xhat * mean_j(dxhat * xhat)) / sqrt(var + eps)
    gamma and beta act per unit, so their gradients sum over the rows:
        dgamma = sum_n dy * xhat,  dbeta = sum_n dy.

    dy: (..., N, D). Returns dx (..., N, D), dgamma (..., D), dbeta (..., D).
    """
    xhat, inv_std = cache.xhat, cache.inv_std
    dxhat = dy * cache.gamma[..., None, :]
    dx = dxhat - dxhat.mean(-1, keepdims=True) - xhat * np.mean(dxhat * xhat, -1, keepdims=True)
    dx *= inv_std[..., None]
    return dx, batch_sum(dy * xhat), batch_sum(dy)


# --------------------------------------------------------------------- activations


def sigmoid(x):
    """1 / (1 + e^-x) elementwise, any shape."""
    # tanh form: no overflow warning for large |x|, same value as 1 / (1 + e^-x)
    return 0.5 * np.tanh(0.5 * x) + 0.5


def _relu(x):
    return np.maximum(x, 0.0)


def _identity(x):
    return x


_FORWARD = {"relu": _relu, "tanh": np.tanh, "sigmoid": sigmoid, "linear": _identity}


def activation_forward(x, name):
    """g(x) elementwise for name in relu, tanh, sigmoid, linear. Returns (a, cache)."""
    try:
        g = _FORWARD[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}: use relu, tanh, sigmoid or linear") from None
    a = g(x)
    return a, (x, a, name)


def activation_backward(da, cache):
    """dx = da * g'(x), with g' written through the forward output where it can be."""
    x, a, name = cache
    if name == "relu":
        return da * np.heaviside(x, 0.0)  # the step function; faster than a boolean mask
    if name == "tanh":
        return da * (1.0 - a * a)
    if name == "sigmoid":
        return da * (a * (1.0 - a))
    return da


# ---------------------------------------------------------------------------- loss


def bce_with_logits_forward(logits, y):
    """Mean binary cross-entropy of sigmoid(logits) against labels y in {0, 1}.

    Written as max(z, 0) - z*y + log(1 + e^-|z|), which never overflows: a logit
    of +-1e4 gives a loss of 1e4 for a wrong label, not inf; rows whose losses
    sum past float64 are averaged without the sum.

    logits: (..., N), y: (..., N) or (N,). Returns loss (...,) and the cache.
    """
    z = logits
    per_row = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    with np.errstate(over="ignore"):
        loss = per_row.sum(-1) * (1.0 / z.shape[-1])
    if np.isinf(loss).any():            # finite rows past 1e308 / N overflow the sum, not the mean
        with np.errstate(over="ignore", invalid="ignore"):
            loss = np.where(np.isinf(loss), (per_row * (1.0 / z.shape[-1])).sum(-1), loss)
    return loss, (z, y)


def bce_with_logits_backward(cache):
    """d loss / d logits = (sigmoid(z) - y) / N, shape (..., N)."""
    z, y = cache
    return (sigmoid(z) - y) * (1.0 / z.shape[-1])


def softmax(logits):
    """Class probabilities of logits (..., K): e^z / sum e^z over the last axis, shifted by the
    largest logit first so that no exp overflows."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _class_index(y, lead):
    """Labels (..., N) or (N,) holding class numbers 0..K-1 (float or int) -> int (*lead) indices."""
    return np.broadcast_to(np.asarray(y).astype(np.intp), lead)


def softmax_cross_entropy_forward(logits, y):
    """Mean cross-entropy of softmax(logits) against class labels, as torch.nn.CrossEntropyLoss.

    Written as logsumexp(z) - z_y with the largest logit subtracted first, so no exp
    overflows; rows whose losses sum past float64 are averaged without the sum.

    logits: (..., N, K), y: (..., N) or (N,) class numbers 0..K-1 (float or int).
    Returns loss (...,) and the cache (shifted logits, their exps' sums, label indices).
    """
    z = logits
    n = z.shape[-2]
    shifted = z - z.max(axis=-1, keepdims=True)
    sums = np.exp(shifted).sum(axis=-1)                                   # (..., N)
    labels = _class_index(y, z.shape[:-1])
    per_row = np.log(sums) - np.take_along_axis(shifted, labels[..., None], axis=-1)[..., 0]
    with np.errstate(over="ignore"):
        loss = per_row.sum(-1) * (1.0 / n)
    if np.isinf(loss).any():            # finite rows past 1e308 / N overflow the sum, not the mean
        with np.errstate(over="ignore", invalid="ignore"):
            loss = np.where(np.isinf(loss), (per_row * (1.0 / n)).sum(-1), loss)
    return loss, (shifted, sums, labels)


def softmax_cross_entropy_backward(cache):
    """d loss / d logits = (softmax(z) - onehot(y)) / N, shape (..., N, K)."""
    shifted, sums, labels = cache
    n = shifted.shape[-2]
    d = np.exp(shifted) / sums[..., None]
    d -= labels[..., None] == np.arange(shifted.shape[-1])
    d *= 1.0 / n
    return d
