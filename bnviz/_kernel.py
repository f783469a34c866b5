"""The training step compiled by numba: the arithmetic of ``bnviz.nn`` and ``bnviz.optim`` as loops.

Imported only through ``bnviz.compiled``, which says when numba cannot be had. Each layer kind has one
forward and one backward function, written as the formulas in ``bnviz/nn/layers.py`` (the reference,
and the tests' oracle); ``train_steps`` strings them together for a range of steps and records what
``bnviz.train`` records.

Every array carries the ensemble's members on its last axis (M, 1 for a single run), so the innermost
loop of every layer runs over the members: contiguous, and vectorized by the compiler.

Arrays (float64 unless said): a mini-batch's values live in (rows, H, M) work arrays, H the sum of the
hidden widths, hidden layer l in the columns col[l]:col[l] + width. ``layout`` (int64, one row per
Dense layer): fan_in, fan_out, W offset, b offset (-1: none), gamma offset, beta offset (-1: no BN),
first column. Parameters, gradients and optimizer state are (P, M) in ``bnviz.nn`` order; BN's
running statistics (R, M) and the noisy-BN draws (S, 2H, M) hold per layer its means (scales), then
its variances (shifts), from 2 * col[l].
"""
from __future__ import annotations

import numba
import numpy as np

# numpy's error model: a division by zero gives inf or nan, as in the NumPy loop, never an exception
jit = numba.njit(cache=True, nogil=True, error_model="numpy")

RELU, TANH, SIGMOID, LINEAR = 0, 1, 2, 3
SGD, MOMENTUM, RMSPROP, ADAM = 0, 1, 2, 3
ACTIVATIONS = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "linear": LINEAR}
OPTIMIZERS = {"sgd": SGD, "momentum": MOMENTUM, "rmsprop": RMSPROP, "adam": ADAM}
# layout columns
FAN_IN, FAN_OUT, W_AT, B_AT, GAMMA_AT, BETA_AT, COL = range(7)
# ints: activation, bn on, bn before the activation, optimizer, cumulative running average,
# unbiased running variance, record stride, noisy BN
I_ACT, I_BN, I_BEFORE, I_OPT, I_CUMULATIVE, I_UNBIASED, I_STRIDE, I_NOISE = range(8)
# appended after the others: layer norm where BN would sit (I_BN is then 0; I_BEFORE places it)
I_LAYER = 8
# floats: BN eps, beta1, beta2, optimizer eps, BN momentum
F_EPS, F_BETA1, F_BETA2, F_OPT_EPS, F_MOMENTUM = range(5)


# ------------------------------------------------------------------------- Dense


@jit
def dense_forward(a, a_col, n, p, lay, z, z_col, ensemble):
    """z = a @ W + b for rows 0..n-1: a's columns a_col.., z's columns z_col.."""
    fan_in, fan_out, w_at, b_at = lay[FAN_IN], lay[FAN_OUT], lay[W_AT], lay[B_AT]
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for j in range(fan_out):
            zj = z_col + j
            for m in range(M):
                z[i, zj, m] = 0.0
            for k in range(fan_in):
                w = w_at + k * fan_out + j
                for m in range(M):
                    z[i, zj, m] += a[i, a_col + k, m] * p[w, m]
            if b_at >= 0:
                for m in range(M):
                    z[i, zj, m] += p[b_at + j, m]


@jit
def dense_backward(dz, dz_col, a, a_col, n, p, lay, grad, dx, dx_col, need_dx, ensemble):
    """dW = a^T dz, db = sum_i dz (when there is a bias), dx = dz W^T (when need_dx)."""
    fan_in, fan_out, w_at, b_at = lay[FAN_IN], lay[FAN_OUT], lay[W_AT], lay[B_AT]
    M = 1 if ensemble is None else ensemble
    for k in range(fan_in):
        for j in range(fan_out):
            w = w_at + k * fan_out + j
            for m in range(M):
                grad[w, m] = 0.0
            for i in range(n):
                for m in range(M):
                    grad[w, m] += a[i, a_col + k, m] * dz[i, dz_col + j, m]
    if b_at >= 0:
        for j in range(fan_out):
            for m in range(M):
                grad[b_at + j, m] = 0.0
            for i in range(n):
                for m in range(M):
                    grad[b_at + j, m] += dz[i, dz_col + j, m]
    if need_dx:
        for i in range(n):
            for k in range(fan_in):
                for m in range(M):
                    dx[i, dx_col + k, m] = 0.0
                for j in range(fan_out):
                    w = w_at + k * fan_out + j
                    for m in range(M):
                        dx[i, dx_col + k, m] += dz[i, dz_col + j, m] * p[w, m]


# --------------------------------------------------------------------- BatchNorm


@jit
def batchnorm_forward(x, n, p, lay, eps, xhat, y, inv_std, mean, var, noise, s, noise_on, ensemble):
    """Training mode on one layer's columns of x: xhat, y = gamma * xhat + beta (then * scale + shift
    with noisy BN, step s's draws), and the batch mean, biased variance and 1 / sqrt(var + eps)."""
    width, col, g_at, b_at = lay[FAN_OUT], lay[COL], lay[GAMMA_AT], lay[BETA_AT]
    M = 1 if ensemble is None else ensemble
    for j in range(width):
        c = col + j
        for m in range(M):
            mean[c, m] = 0.0
            var[c, m] = 0.0
        for i in range(n):
            for m in range(M):
                mean[c, m] += x[i, c, m]
        for m in range(M):
            mean[c, m] *= 1.0 / n
        for i in range(n):
            for m in range(M):
                d = x[i, c, m] - mean[c, m]
                xhat[i, c, m] = d
                var[c, m] += d * d
        for m in range(M):
            var[c, m] *= 1.0 / n
            inv_std[c, m] = 1.0 / np.sqrt(var[c, m] + eps)
        for i in range(n):
            for m in range(M):
                h = xhat[i, c, m] * inv_std[c, m]
                xhat[i, c, m] = h
                y[i, c, m] = h * p[g_at + j, m] + p[b_at + j, m]
        if noise_on:
            for i in range(n):
                for m in range(M):
                    y[i, c, m] = y[i, c, m] * noise[s, 2 * col + j, m] + noise[s, 2 * col + width + j, m]


@jit
def batchnorm_backward(dy, n, p, lay, xhat, inv_std, grad, ensemble):
    """In place on dy's columns: dx = gamma / sqrt(var + eps) * (dy - mean dy - xhat * mean(dy * xhat));
    writes dgamma and dbeta into grad."""
    width, col, g_at, b_at = lay[FAN_OUT], lay[COL], lay[GAMMA_AT], lay[BETA_AT]
    M = 1 if ensemble is None else ensemble
    for j in range(width):
        c, gj, bj = col + j, g_at + j, b_at + j
        for m in range(M):
            grad[bj, m] = 0.0
            grad[gj, m] = 0.0
        for i in range(n):
            for m in range(M):
                grad[bj, m] += dy[i, c, m]
                grad[gj, m] += dy[i, c, m] * xhat[i, c, m]
        for i in range(n):
            for m in range(M):
                dy[i, c, m] = (((dy[i, c, m] - grad[bj, m] * (1.0 / n)) - xhat[i, c, m] * (grad[gj, m] * (1.0 / n)))
                               * (p[gj, m] * inv_std[c, m]))


# --------------------------------------------------------------------- LayerNorm


@jit
def layernorm_forward(x, n, p, lay, eps, xhat, y, inv_std, ensemble):
    """One layer's columns of x, each row normalized over its own units (means divide by the width, as
    np.mean does, not multiply by its inverse, so the two loops round alike): xhat, y = gamma * xhat + beta,
    and 1 / sqrt(var + eps) per row, in inv_std[i, layer's first column] (rows, not units, own statistics)."""
    width, col, g_at, b_at = lay[FAN_OUT], lay[COL], lay[GAMMA_AT], lay[BETA_AT]
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for m in range(M):
            mu = 0.0
            for j in range(width):
                mu += x[i, col + j, m]
            mu /= width
            v = 0.0
            for j in range(width):
                d = x[i, col + j, m] - mu
                xhat[i, col + j, m] = d
                v += d * d
            v /= width
            r = 1.0 / np.sqrt(v + eps)
            inv_std[i, col, m] = r
            for j in range(width):
                h = xhat[i, col + j, m] * r
                xhat[i, col + j, m] = h
                y[i, col + j, m] = h * p[g_at + j, m] + p[b_at + j, m]


@jit
def layernorm_backward(dy, n, p, lay, xhat, inv_std, grad, ensemble):
    """In place on dy's columns, row by row with dxhat = gamma * dy:
    dx = (dxhat - mean_j dxhat - xhat * mean_j(dxhat * xhat)) / sqrt(var + eps); dgamma and dbeta
    (sums over the rows) into grad."""
    width, col, g_at, b_at = lay[FAN_OUT], lay[COL], lay[GAMMA_AT], lay[BETA_AT]
    M = 1 if ensemble is None else ensemble
    for j in range(width):
        for m in range(M):
            grad[b_at + j, m] = 0.0
            grad[g_at + j, m] = 0.0
        for i in range(n):
            for m in range(M):
                grad[b_at + j, m] += dy[i, col + j, m]
                grad[g_at + j, m] += dy[i, col + j, m] * xhat[i, col + j, m]
    for i in range(n):
        for m in range(M):
            mean_d = 0.0
            mean_dh = 0.0
            for j in range(width):
                dh = dy[i, col + j, m] * p[g_at + j, m]
                mean_d += dh
                mean_dh += dh * xhat[i, col + j, m]
            mean_d /= width
            mean_dh /= width
            for j in range(width):
                dh = dy[i, col + j, m] * p[g_at + j, m]
                dy[i, col + j, m] = (dh - mean_d - xhat[i, col + j, m] * mean_dh) * inv_std[i, col, m]


@jit
def noise_backward(dy, n, lay, noise, s, ensemble):
    """dy *= step s's noisy-BN scale, in place (the shift adds nothing to the gradient)."""
    width, col = lay[FAN_OUT], lay[COL]
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for j in range(width):
            for m in range(M):
                dy[i, col + j, m] *= noise[s, 2 * col + j, m]


# ------------------------------------------------------------------- activations


@jit
def sigmoid(v):
    """1 / (1 + e^-v) through one exp, never overflowing; within a rounding of bnviz.nn's tanh form
    (exp costs half of tanh, and the loss takes one per row and step)."""
    return sigmoid_of(v, np.exp(-abs(v)))


@jit
def sigmoid_of(v, e):
    """sigmoid(v) from e = exp(-|v|): 1 / (1 + e) for v >= 0, e / (1 + e) below (nan falls through
    there, and stays nan)."""
    return 1.0 / (1.0 + e) if v >= 0.0 else e / (1.0 + e)


@jit
def activate(kind, v):
    """g(v) for one value."""
    if kind == RELU:
        return v if not v <= 0.0 else 0.0          # nan stays nan, as np.maximum
    if kind == TANH:
        return np.tanh(v)
    if kind == SIGMOID:
        return sigmoid(v)
    return v


@jit
def slope(kind, v, g):
    """g'(v) for one value, through the output g = g(v) where it can be (as bnviz.nn)."""
    if kind == RELU:
        return 1.0 if v > 0.0 else (0.0 if v <= 0.0 else v)      # np.heaviside(v, 0)
    if kind == TANH:
        return 1.0 - g * g
    if kind == SIGMOID:
        return g * (1.0 - g)
    return 1.0


@jit
def activation_forward(x, n, lay, kind, a, ensemble):
    width, col = lay[FAN_OUT], lay[COL]
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for c in range(col, col + width):
            for m in range(M):
                a[i, c, m] = activate(kind, x[i, c, m])


@jit
def activation_backward(da, n, lay, kind, x, a, ensemble):
    """In place: da *= g'(x)."""
    if kind == LINEAR:
        return
    width, col = lay[FAN_OUT], lay[COL]
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for c in range(col, col + width):
            for m in range(M):
                da[i, c, m] *= slope(kind, x[i, c, m], a[i, c, m])


# -------------------------------------------------------------------------- loss


@jit
def exp_minus_abs(z, n, e, ensemble):
    """e[i, m] = exp(-|z[i, 0, m]|) of one sigmoid unit's logits: the one exp that both the loss and
    its gradient need (the exp is most of a small network's step)."""
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for m in range(M):
            e[i, m] = np.exp(-abs(z[i, 0, m]))


@jit
def bce_with_logits_backward(z, e, y, n, dz, ensemble):
    """d loss / d logits of the mean binary cross-entropy: (sigmoid(z) - y) / n, with e = exp(-|z|)
    (exp_minus_abs) shared with the step's loss."""
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for m in range(M):
            dz[i, 0, m] = (sigmoid_of(z[i, 0, m], e[i, m]) - y[i, m]) * (1.0 / n)


@jit
def softmax_cross_entropy_backward(z, y, n, classes, dz, top, total, ensemble):
    """d loss / d logits of the mean cross-entropy of softmax(z) over `classes` columns against the class
    numbers y: (softmax(z) - onehot(y)) / n, as bnviz.nn computes it (the row's largest logit subtracted
    before each exp). top, total: (M,) work arrays."""
    M = 1 if ensemble is None else ensemble
    for i in range(n):
        for m in range(M):
            top[m] = z[i, 0, m]
        for k in range(1, classes):
            for m in range(M):
                v = z[i, k, m]
                if v > top[m] or v != v:              # a NaN logit makes the row's maximum NaN, as np.max
                    top[m] = v
        for m in range(M):
            total[m] = 0.0
        for k in range(classes):
            for m in range(M):
                e = np.exp(z[i, k, m] - top[m])
                dz[i, k, m] = e
                total[m] += e
        for k in range(classes):
            for m in range(M):
                hit = 1.0 if k == int(y[i, m]) else 0.0
                dz[i, k, m] = (dz[i, k, m] / total[m] - hit) * (1.0 / n)


# ---------------------------------------------------------------- what a step saw


@jit
def flat_share(kind, a, n, lay, ensemble, out, q):
    """out[q] = the share of one hidden layer's activations a (rows x its units) where the activation is
    flat and passes almost no gradient, as bnviz.recording counts it: ReLU at 0, tanh beyond +-0.97,
    sigmoid below 0.03 or above 0.97, a linear unit never."""
    width, col = lay[FAN_OUT], lay[COL]
    M = 1 if ensemble is None else ensemble
    for m in range(M):
        out[q, m] = 0.0
    if kind == LINEAR:
        return
    for i in range(n):
        for c in range(col, col + width):
            for m in range(M):
                v = a[i, c, m]
                if kind == RELU:
                    hit = v <= 0.0
                elif kind == TANH:
                    hit = abs(v) > 0.97
                else:
                    hit = v < 0.03 or v > 0.97
                if hit:
                    out[q, m] += 1.0
    for m in range(M):
        out[q, m] /= n * width


@jit
def batch_loss(z, e, y, n, classes, out, ensemble):
    """out[0] = the mean loss of the step's rows (binary cross-entropy of the sigmoid unit, or the
    cross-entropy of the softmax), out[1] = the share classified right (logit > 0 means class 1;
    else the largest logit's class, the first one on a tie or a NaN, as np.argmax), written as
    bnviz.nn's bce_with_logits_forward and softmax_cross_entropy_forward: rows whose losses sum past
    float64 are averaged without the sum. e: exp(-|z|) of a sigmoid unit (exp_minus_abs)."""
    M = 1 if ensemble is None else ensemble
    for m in range(M):
        total = 0.0
        right = 0.0
        for i in range(n):
            if classes == 1:
                v = z[i, 0, m]
                label = y[i, m]
                loss = (v if not v < 0.0 else 0.0) - v * label + np.log1p(e[i, m])
                if (v > 0.0) == (label > 0.5):
                    right += 1.0
            else:
                top = z[i, 0, m]
                best = 0
                for k in range(1, classes):
                    v = z[i, k, m]
                    if v > top or v != v:               # np.max: NaN wins
                        top = v
                    if z[i, best, m] == z[i, best, m] and (v > z[i, best, m] or v != v):
                        best = k                        # np.argmax: the first maximum, or the first NaN
                sums = 0.0
                for k in range(classes):
                    sums += np.exp(z[i, k, m] - top)
                label = int(y[i, m])
                loss = np.log(sums) - (z[i, label, m] - top)
                if best == label:
                    right += 1.0
            total += loss
        mean = total * (1.0 / n)
        if np.isinf(mean):                              # the rows' losses overflowed the sum, not the mean
            mean = 0.0
            for i in range(n):
                if classes == 1:
                    v = z[i, 0, m]
                    loss = (v if not v < 0.0 else 0.0) - v * y[i, m] + np.log1p(e[i, m])
                else:
                    top = z[i, 0, m]
                    for k in range(1, classes):
                        v = z[i, k, m]
                        if v > top or v != v:
                            top = v
                    sums = 0.0
                    for k in range(classes):
                        sums += np.exp(z[i, k, m] - top)
                    loss = np.log(sums) - (z[i, int(y[i, m]), m] - top)
                mean += loss * (1.0 / n)
        out[0, m] = mean
        out[1, m] = right / n


# ---------------------------------------------------------------------- optimizer


@jit
def optimizer_step(kind, p, g, a, b, lr, beta1, beta2, eps, corr1, corr2, ensemble):
    """One update of the parameters p (P, M) from their gradient g; a, b: the optimizer's state
    (momentum's velocity; RMSprop's mean square; Adam's two moments); lr: (M,). corr1, corr2: Adam's
    1 - beta1^t and 1 - beta2^t."""
    P, M = p.shape[0], 1 if ensemble is None else ensemble
    for q in range(P):
        if kind == SGD:
            for m in range(M):
                p[q, m] -= lr[m] * g[q, m]
        elif kind == MOMENTUM:
            for m in range(M):
                a[q, m] = a[q, m] * beta1 + (1.0 - beta1) * g[q, m]
                p[q, m] -= lr[m] * a[q, m]
        elif kind == RMSPROP:
            for m in range(M):
                a[q, m] = a[q, m] * beta2 + (1.0 - beta2) * (g[q, m] * g[q, m])
                p[q, m] -= lr[m] * g[q, m] / (np.sqrt(a[q, m]) + eps)
        else:
            for m in range(M):
                a[q, m] = a[q, m] * beta1 + (1.0 - beta1) * g[q, m]
                b[q, m] = b[q, m] * beta2 + (1.0 - beta2) * (g[q, m] * g[q, m])
                p[q, m] -= lr[m] * (a[q, m] / corr1) / (np.sqrt(b[q, m] / corr2) + eps)


@jit
def running_update(running, mean, var, lay, n, t, cumulative, unbiased, momentum, ensemble):
    """Fold one BN layer's batch mean and biased variance (n rows, step t from 1) into its running
    statistics: the EWMA m * running + (1 - m) * batch, or the plain average so far."""
    width, col = lay[FAN_OUT], lay[COL]
    M = 1 if ensemble is None else ensemble
    bessel = unbiased and n >= 2
    for j in range(width):
        c = col + j
        r_mean, r_var = 2 * col + j, 2 * col + width + j
        for m in range(M):
            v = var[c, m] * (n / (n - 1)) if bessel else var[c, m]
            if cumulative:
                running[r_mean, m] += (mean[c, m] - running[r_mean, m]) / t
                running[r_var, m] += (v - running[r_var, m]) / t
            else:
                running[r_mean, m] = running[r_mean, m] * momentum + (1.0 - momentum) * mean[c, m]
                running[r_var, m] = running[r_var, m] * momentum + (1.0 - momentum) * v


@jit
def note_finite(v, ok):
    """ok[m] = every entry of v[:, m] is finite."""
    for m in range(v.shape[1]):
        ok[m] = True
    for q in range(v.shape[0]):
        for m in range(v.shape[1]):
            ok[m] = ok[m] and np.isfinite(v[q, m])


@jit
def put_members(src, dst):
    """dst (M, K) = src (K, M) transposed: a member-last array into a record's member-first rows."""
    for m in range(src.shape[1]):
        for q in range(src.shape[0]):
            dst[m, q] = src[q, m]


# ------------------------------------------------------------------------- the loop


@jit
def train_steps(s0, s1, X, Y, orders, starts, stops, layout, ints, floats, corr1, corr2, lr, noise,
                params, opt_a, opt_b, running, state_pos, rec_params, rec_grads, rec_running, rec_seen,
                diverged_at, finite, logit_sums, ensemble):
    """Train every member through steps s0..s1-1; returns the step after the last one done.

    Stops early at the end of an epoch that finds a member not yet marked diverged (diverged_at < 0)
    with a non-finite parameter, running statistic or logit sum, for the caller to mark it.
    X: (1 or M, N, n_in), Y: (1 or M, N) labels (0/1, or class numbers for a softmax output: the last
    layout row's fan_out K > 1); orders: (M, E, N) int64; starts, stops: each batch's rows
    in an epoch; corr1, corr2: Adam's corrections per step; lr: (M,); noise: (S, 2H, M) or (1, 0, M).
    params (M, P) and running (M, R) are read at the start and written back at the end; the
    optimizer's state opt_a, opt_b (P, M) is kept by the caller between calls. state_pos: (S + 1,)
    where state s goes in rec_params (T, M, P) and rec_running (T, M, R), or -1; rec_grads: the
    gradient of every stride-th step; rec_seen (K, M, Q): what that step's forward pass saw, the columns
    of ``SEEN`` (bnviz.compiled.seen_columns). finite: (3, steps per epoch, M) per step whether the logits, the
    updated parameters and the running statistics were finite; logit_sums: (steps per epoch, M).
    ensemble: None for a single run, else M. It is a type to the compiler, which builds the kernel
    twice: for one member every member loop is a single pass, known when compiling (twice as fast).
    """
    M, P = params.shape
    L = layout.shape[0]
    spe = starts.shape[0]
    nmax = 0
    for b in range(spe):
        nmax = max(nmax, stops[b] - starts[b])
    n_in = X.shape[2]
    H = 0
    for l in range(L - 1):
        H += layout[l, FAN_OUT]
    act, bn, before, opt = ints[I_ACT], ints[I_BN] != 0, ints[I_BEFORE] != 0, ints[I_OPT]
    cumulative, unbiased, stride, noise_on = ints[I_CUMULATIVE] != 0, ints[I_UNBIASED] != 0, ints[I_STRIDE], ints[I_NOISE] != 0
    layer = ints[I_LAYER] != 0
    eps, beta1, beta2, opt_eps, momentum = floats[F_EPS], floats[F_BETA1], floats[F_BETA2], floats[F_OPT_EPS], floats[F_MOMENTUM]
    p = np.ascontiguousarray(params.T)
    run = np.ascontiguousarray(running.T)
    grad = np.empty((P, M))
    x_in = np.empty((nmax, n_in, M))
    y_in = np.empty((nmax, M))
    z = np.empty((nmax, H, M))          # Dense outputs
    pre = np.empty((nmax, H, M))        # activation inputs (BN outputs when BN comes before)
    post = np.empty((nmax, H, M))       # activation outputs
    xhat = np.empty((nmax, H, M))
    out = np.empty((nmax, H, M))        # BN outputs, when BN comes after the activation
    layer_out = out if (bn or layer) and not before else post       # what the next layer sees
    d = np.empty((nmax, H, M))          # gradient of the loss at each layer's output, then at its Dense output
    classes = layout[L - 1, FAN_OUT]    # 1: one sigmoid unit; K > 1: a softmax over K classes
    logit = np.empty((nmax, classes, M))
    dlogit = np.empty((nmax, classes, M))
    e = np.empty((nmax, M))             # exp(-|logit|) of a sigmoid unit
    row_max = np.empty(M)
    row_sum = np.empty(M)
    inv_std = np.empty((H, M))
    row_inv_std = np.empty((nmax, H, M))    # layer norm's 1 / sqrt(var + eps) of each row, per layer
    mean = np.empty((H, M))
    var = np.empty((H, M))
    ok = np.empty(M, dtype=np.bool_)
    seen = np.empty((rec_seen.shape[2], M))
    done = s1
    for s in range(s0, s1):
        epoch, b = s // spe, s % spe
        n = stops[b] - starts[b]
        for m in range(M):
            xm = m if X.shape[0] > 1 else 0
            for i in range(n):
                row = orders[m, epoch, starts[b] + i]
                for k in range(n_in):
                    x_in[i, k, m] = X[xm, row, k]
                y_in[i, m] = Y[xm, row]
        # forward: each hidden layer's output is its activation's, or BN's when BN comes after
        for l in range(L - 1):
            lay = layout[l]
            if l == 0:
                dense_forward(x_in, 0, n, p, lay, z, lay[COL], ensemble)
            else:
                dense_forward(layer_out, layout[l - 1, COL], n, p, lay, z, lay[COL], ensemble)
            if bn and before:
                batchnorm_forward(z, n, p, lay, eps, xhat, pre, inv_std, mean, var, noise, s, noise_on, ensemble)
                activation_forward(pre, n, lay, act, post, ensemble)
            elif bn:
                activation_forward(z, n, lay, act, post, ensemble)
                batchnorm_forward(post, n, p, lay, eps, xhat, out, inv_std, mean, var, noise, s, noise_on, ensemble)
            elif layer and before:
                layernorm_forward(z, n, p, lay, eps, xhat, pre, row_inv_std, ensemble)
                activation_forward(pre, n, lay, act, post, ensemble)
            elif layer:
                activation_forward(z, n, lay, act, post, ensemble)
                layernorm_forward(post, n, p, lay, eps, xhat, out, row_inv_std, ensemble)
            else:
                activation_forward(z, n, lay, act, post, ensemble)
        last, top = layout[L - 1], layout[L - 2, COL]
        dense_forward(layer_out, top, n, p, last, logit, 0, ensemble)
        for m in range(M):
            logit_sums[b, m] = 0.0
            finite[0, b, m] = True
        for i in range(n):
            for k in range(classes):
                for m in range(M):
                    logit_sums[b, m] += logit[i, k, m]
                    finite[0, b, m] = finite[0, b, m] and np.isfinite(logit[i, k, m])
        if classes == 1:
            exp_minus_abs(logit, n, e, ensemble)
        if s % stride == 0:
            # the step's loss, accuracy, flat activations and batch statistics: bnviz.run.replay's numbers
            batch_loss(logit, e, y_in, n, classes, seen, ensemble)
            for m in range(M):
                seen[2, m] = 1.0 if finite[0, b, m] else 0.0
            for l in range(L - 1):
                flat_share(act, post, n, layout[l], ensemble, seen, 3 + l)
            if bn:
                for c in range(H):
                    for m in range(M):
                        seen[2 + L + c, m] = mean[c, m]
                        seen[2 + L + H + c, m] = var[c, m]
            put_members(seen, rec_seen[s // stride])
        # backward
        if classes == 1:
            bce_with_logits_backward(logit, e, y_in, n, dlogit, ensemble)
        else:
            softmax_cross_entropy_backward(logit, y_in, n, classes, dlogit, row_max, row_sum, ensemble)
        dense_backward(dlogit, 0, layer_out, top, n, p, last, grad, d, top, True, ensemble)
        for l in range(L - 2, -1, -1):
            lay = layout[l]
            if bn and not before:
                if noise_on:
                    noise_backward(d, n, lay, noise, s, ensemble)
                batchnorm_backward(d, n, p, lay, xhat, inv_std, grad, ensemble)
                activation_backward(d, n, lay, act, z, post, ensemble)
            elif bn:
                activation_backward(d, n, lay, act, pre, post, ensemble)
                if noise_on:
                    noise_backward(d, n, lay, noise, s, ensemble)
                batchnorm_backward(d, n, p, lay, xhat, inv_std, grad, ensemble)
            elif layer and not before:
                layernorm_backward(d, n, p, lay, xhat, row_inv_std, grad, ensemble)
                activation_backward(d, n, lay, act, z, post, ensemble)
            elif layer:
                activation_backward(d, n, lay, act, pre, post, ensemble)
                layernorm_backward(d, n, p, lay, xhat, row_inv_std, grad, ensemble)
            else:
                activation_backward(d, n, lay, act, z, post, ensemble)
            if l == 0:
                dense_backward(d, lay[COL], x_in, 0, n, p, lay, grad, d, 0, False, ensemble)
            else:
                below = layout[l - 1, COL]
                dense_backward(d, lay[COL], layer_out, below, n, p, lay, grad, d, below, True, ensemble)
        if s % stride == 0:
            put_members(grad, rec_grads[s // stride])
        optimizer_step(opt, p, grad, opt_a, opt_b, lr, beta1, beta2, opt_eps, corr1[s], corr2[s], ensemble)
        if bn:
            for l in range(L - 1):
                running_update(run, mean, var, layout[l], n, s + 1, cumulative, unbiased, momentum, ensemble)
        note_finite(p, ok)
        finite[1, b] = ok
        note_finite(run, ok)
        finite[2, b] = ok
        at = state_pos[s + 1]
        if at >= 0:
            put_members(p, rec_params[at])
            put_members(run, rec_running[at])
        if b == spe - 1 and any_fresh_suspect(p, run, logit_sums, diverged_at, ok):
            done = s + 1
            break
    put_members(p, params)
    put_members(run, running)
    return done


@jit
def any_fresh_suspect(p, run, logit_sums, diverged_at, ok):
    """At an epoch's end: whether a member not yet marked diverged has a non-finite parameter,
    running statistic or logit sum in that epoch (the NumPy loop's check)."""
    note_finite(p, ok)
    fresh = False
    for m in range(p.shape[1]):
        fresh = fresh or (diverged_at[m] < 0 and not ok[m])
    note_finite(run, ok)
    for m in range(p.shape[1]):
        fresh = fresh or (diverged_at[m] < 0 and not ok[m])
    note_finite(logit_sums, ok)
    for m in range(p.shape[1]):
        fresh = fresh or (diverged_at[m] < 0 and not ok[m])
    return fresh
