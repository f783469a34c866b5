"""Many saved states of one network on the same rows, compiled by numba: the forward pass of ``bnviz.nn``.

Imported only through ``bnviz.compiled`` (``forward_logits``), which falls back to the NumPy forward
pass (``bnviz.evaluation.forward_states``, the reference) when numba cannot be had. The loss
surface, the decision boundary and the training view evaluate hundreds of states on hundreds of
rows; NumPy spends most of that time making temporary arrays a few units wide.

Arrays (float64 unless said): params (K, P) and buffers (K, R) in ``bnviz.nn``'s flat layouts;
X (N, n_in); ``layout`` as ``bnviz.compiled.layout_table``; ``buf_at`` (int64, per hidden layer) where
its running mean starts in the buffers (its variance follows, one per unit).
"""
from __future__ import annotations

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True, error_model="numpy")

RELU, TANH, SIGMOID, LINEAR = 0, 1, 2, 3
ACTIVATIONS = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "linear": LINEAR}
FAN_IN, FAN_OUT, W_AT, B_AT, GAMMA_AT, BETA_AT = range(6)      # the columns of the layout table used here


@jit
def _activate_row(kind, z, a, n):
    """a[:n] = g(z[:n]) as bnviz.nn.layers computes it (sigmoid in its tanh form; nan stays nan). One
    loop per activation, so that each runs vectorized: a branch on the kind inside one loop kept
    ReLU's from it, and the forward pass took 1.45 times as long."""
    if kind == RELU:
        for i in range(n):
            a[i] = z[i] if not z[i] <= 0.0 else 0.0
    elif kind == TANH:
        for i in range(n):
            a[i] = np.tanh(z[i])
    elif kind == SIGMOID:
        for i in range(n):
            a[i] = 0.5 * np.tanh(0.5 * z[i]) + 0.5
    else:
        for i in range(n):
            a[i] = z[i]


@jit
def _normalize(x, n, width, p, k, g_at, b_at, train, buffers, mean_at, eps):
    """BN in place on x[:width, :n] (units by rows): with the rows' own mean and biased variance
    (train), else with the running statistics buffers[k, mean_at...], as bnviz.nn's batchnorm_forward
    and batchnorm_eval_forward."""
    for j in range(width):
        row = x[j]
        if train:
            mean = 0.0
            for i in range(n):
                mean += row[i]
            mean /= n
            var = 0.0
            for i in range(n):
                d = row[i] - mean
                var += d * d
            var /= n
        else:
            mean = buffers[k, mean_at + j]
            var = buffers[k, mean_at + width + j]
        inv_std = 1.0 / np.sqrt(var + eps)
        gamma, beta = p[k, g_at + j], p[k, b_at + j]
        for i in range(n):
            row[i] = (row[i] - mean) * inv_std * gamma + beta


@jit
def forward_logits(params, buffers, X, layout, buf_at, kind, bn, before, eps, train, watch_layer, watch_unit,
                   logits, watched):
    """logits (K, N): the network at each of the K states on the rows X. BN uses the rows' own
    statistics (train) or buffers' running ones. watched (3, K, N): hidden layer watch_layer's
    (0-based; -1: none) unit watch_unit before BN or the activation (z), after BN (bn) and after
    the activation (act).

    The work arrays hold units by rows, so the innermost loops run along the rows (vectorized)."""
    K, N, width_in = params.shape[0], X.shape[0], X.shape[1]
    L = layout.shape[0]
    widest = width_in
    for l in range(L):
        widest = max(widest, layout[l, FAN_OUT])
    a = np.empty((widest, N))
    z = np.empty((widest, N))
    Xt = X.T.copy()
    for k in range(K):
        a[:width_in] = Xt
        for l in range(L):
            fan_in, fan_out = layout[l, FAN_IN], layout[l, FAN_OUT]
            w_at, b_at = layout[l, W_AT], layout[l, B_AT]
            for j in range(fan_out):
                zj = z[j]
                for i in range(N):
                    zj[i] = 0.0
                for c in range(fan_in):
                    w = params[k, w_at + c * fan_out + j]
                    ac = a[c]
                    for i in range(N):
                        zj[i] += ac[i] * w
                if b_at >= 0:
                    b = params[k, b_at + j]
                    for i in range(N):
                        zj[i] += b
            if l == L - 1:
                logits[k] = z[0]
                break
            watching = l == watch_layer
            if watching:
                watched[0, k] = z[watch_unit]
            if bn and before:
                _normalize(z, N, fan_out, params, k, layout[l, GAMMA_AT], layout[l, BETA_AT], train, buffers,
                           buf_at[l], eps)
                if watching:
                    watched[1, k] = z[watch_unit]
            for j in range(fan_out):
                _activate_row(kind, z[j], a[j], N)
            if watching:
                watched[2, k] = a[watch_unit]
            if bn and not before:
                _normalize(a, N, fan_out, params, k, layout[l, GAMMA_AT], layout[l, BETA_AT], train, buffers,
                           buf_at[l], eps)
                if watching:
                    watched[1, k] = a[watch_unit]
