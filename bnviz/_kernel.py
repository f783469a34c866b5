"""The training step compiled by numba: the arithmetic of ``bnviz.nn`` and ``bnviz.optim``, one row at a time.

Imported only through ``bnviz.compiled``, which says when numba cannot be had. Each layer kind has one
forward and one backward function, written as the formulas in ``bnviz/nn/layers.py`` (the reference,
and the tests' oracle); ``train_epochs`` strings them together for every step of a range of epochs,
every member of an ensemble, and records what ``bnviz.train`` records.

Arrays (float64 unless said): a mini-batch's values live in (rows, H) work arrays, H the sum of the
hidden widths, hidden layer l in the columns col[l]:col[l] + width. ``layout`` (int64, one row per
Dense layer): fan_in, fan_out, W offset, b offset (-1: none), gamma offset, beta offset (-1: no BN),
first column. Parameters, gradients and optimizer state are flat vectors in ``bnviz.nn`` order; BN's
running statistics and the noisy-BN draws are flat too, per layer its means (scales) then its
variances (shifts), at 2 * col[l].
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
# floats: BN eps, beta1, beta2, optimizer eps, BN momentum
F_EPS, F_BETA1, F_BETA2, F_OPT_EPS, F_MOMENTUM = range(5)


# ------------------------------------------------------------------------- Dense


@jit
def dense_forward(a, a_col, n, p, lay, z, z_col):
    """z = a @ W + b for rows 0..n-1: a's columns a_col.., z's columns z_col.."""
    fan_in, fan_out, w_at, b_at = lay[FAN_IN], lay[FAN_OUT], lay[W_AT], lay[B_AT]
    for i in range(n):
        for j in range(fan_out):
            acc = 0.0
            for k in range(fan_in):
                acc += a[i, a_col + k] * p[w_at + k * fan_out + j]
            if b_at >= 0:
                acc += p[b_at + j]
            z[i, z_col + j] = acc


@jit
def dense_backward(dz, dz_col, a, a_col, n, p, lay, grad, dx, dx_col, need_dx):
    """dW = a^T dz, db = sum_i dz (when there is a bias), dx = dz W^T (when need_dx)."""
    fan_in, fan_out, w_at, b_at = lay[FAN_IN], lay[FAN_OUT], lay[W_AT], lay[B_AT]
    for k in range(fan_in):
        for j in range(fan_out):
            acc = 0.0
            for i in range(n):
                acc += a[i, a_col + k] * dz[i, dz_col + j]
            grad[w_at + k * fan_out + j] = acc
    if b_at >= 0:
        for j in range(fan_out):
            acc = 0.0
            for i in range(n):
                acc += dz[i, dz_col + j]
            grad[b_at + j] = acc
    if need_dx:
        for i in range(n):
            for k in range(fan_in):
                acc = 0.0
                for j in range(fan_out):
                    acc += dz[i, dz_col + j] * p[w_at + k * fan_out + j]
                dx[i, dx_col + k] = acc


# --------------------------------------------------------------------- BatchNorm


@jit
def batchnorm_forward(x, n, p, lay, eps, xhat, y, inv_std, mean, var, noise, noise_on):
    """Training mode on columns col..col+width of x: xhat, y = gamma * xhat + beta (then * scale + shift
    with noisy BN; noise: this step's flat draws), and the batch mean, biased variance and 1/sqrt(var + eps)."""
    width, col, g_at, b_at = lay[FAN_OUT], lay[COL], lay[GAMMA_AT], lay[BETA_AT]
    for j in range(width):
        c = col + j
        acc = 0.0
        for i in range(n):
            acc += x[i, c]
        mu = acc * (1.0 / n)
        acc = 0.0
        for i in range(n):
            d = x[i, c] - mu
            xhat[i, c] = d
            acc += d * d
        v = acc * (1.0 / n)
        s = 1.0 / np.sqrt(v + eps)
        mean[c], var[c], inv_std[c] = mu, v, s
        gamma, beta = p[g_at + j], p[b_at + j]
        for i in range(n):
            h = xhat[i, c] * s
            xhat[i, c] = h
            y[i, c] = h * gamma + beta
        if noise_on:
            scale, shift = noise[2 * col + j], noise[2 * col + width + j]
            for i in range(n):
                y[i, c] = y[i, c] * scale + shift


@jit
def batchnorm_backward(dy, n, p, lay, xhat, inv_std, grad):
    """In place on dy's columns: dx = gamma / sqrt(var + eps) * (dy - mean dy - xhat * mean(dy * xhat));
    writes dgamma and dbeta into grad."""
    width, col, g_at, b_at = lay[FAN_OUT], lay[COL], lay[GAMMA_AT], lay[BETA_AT]
    for j in range(width):
        c = col + j
        dbeta = 0.0
        dgamma = 0.0
        for i in range(n):
            dbeta += dy[i, c]
            dgamma += dy[i, c] * xhat[i, c]
        grad[b_at + j], grad[g_at + j] = dbeta, dgamma
        k = p[g_at + j] * inv_std[c]
        mean_dy, mean_dyx = dbeta * (1.0 / n), dgamma * (1.0 / n)
        for i in range(n):
            dy[i, c] = ((dy[i, c] - mean_dy) - xhat[i, c] * mean_dyx) * k


@jit
def noise_backward(dy, n, lay, noise):
    """dy *= this step's noisy-BN scale, in place (the shift adds nothing to the gradient)."""
    width, col = lay[FAN_OUT], lay[COL]
    for j in range(width):
        scale = noise[2 * col + j]
        for i in range(n):
            dy[i, col + j] *= scale


# ------------------------------------------------------------------- activations


@jit
def activation_forward(x, n, lay, kind, a):
    width, col = lay[FAN_OUT], lay[COL]
    for i in range(n):
        for c in range(col, col + width):
            v = x[i, c]
            if kind == RELU:
                a[i, c] = v if not v <= 0.0 else 0.0          # nan stays nan, as np.maximum
            elif kind == TANH:
                a[i, c] = np.tanh(v)
            elif kind == SIGMOID:
                a[i, c] = 0.5 * np.tanh(0.5 * v) + 0.5
            else:
                a[i, c] = v


@jit
def activation_backward(da, n, lay, kind, x, a):
    """In place: da *= g'(x), with g' through the output a where it can be (as bnviz.nn)."""
    width, col = lay[FAN_OUT], lay[COL]
    for i in range(n):
        for c in range(col, col + width):
            if kind == RELU:
                v = x[i, c]
                step = 1.0 if v > 0.0 else (0.0 if v <= 0.0 else v)      # np.heaviside(x, 0)
                da[i, c] *= step
            elif kind == TANH:
                da[i, c] *= 1.0 - a[i, c] * a[i, c]
            elif kind == SIGMOID:
                da[i, c] *= a[i, c] * (1.0 - a[i, c])


# -------------------------------------------------------------------------- loss


@jit
def bce_with_logits_backward(z, y, n, dz):
    """d loss / d logits of the mean binary cross-entropy: (sigmoid(z) - y) / n."""
    for i in range(n):
        dz[i, 0] = ((0.5 * np.tanh(0.5 * z[i, 0]) + 0.5) - y[i]) * (1.0 / n)


# ---------------------------------------------------------------------- optimizer


@jit
def optimizer_step(kind, p, g, a, b, lr, beta1, beta2, eps, corr1, corr2):
    """One update of a flat parameter vector p from its gradient g; a, b: the optimizer's state
    (momentum's velocity; RMSprop's mean square; Adam's two moments). corr1, corr2: Adam's
    1 - beta1^t and 1 - beta2^t."""
    for q in range(p.shape[0]):
        gq = g[q]
        if kind == SGD:
            p[q] -= lr * gq
        elif kind == MOMENTUM:
            a[q] = a[q] * beta1 + (1.0 - beta1) * gq
            p[q] -= lr * a[q]
        elif kind == RMSPROP:
            a[q] = a[q] * beta2 + (1.0 - beta2) * (gq * gq)
            p[q] -= lr * gq / (np.sqrt(a[q]) + eps)
        else:
            a[q] = a[q] * beta1 + (1.0 - beta1) * gq
            b[q] = b[q] * beta2 + (1.0 - beta2) * (gq * gq)
            p[q] -= lr * (a[q] / corr1) / (np.sqrt(b[q] / corr2) + eps)


@jit
def running_update(running, mean, var, lay, n, t, cumulative, unbiased, momentum):
    """Fold one BN layer's batch mean and biased variance (n rows, step t from 1) into its running
    statistics: the EWMA m * running + (1 - m) * batch, or the plain average so far."""
    width, col = lay[FAN_OUT], lay[COL]
    bessel = unbiased and n >= 2
    for j in range(width):
        for which in range(2):
            r = 2 * col + which * width + j
            stat = mean[col + j] if which == 0 else (var[col + j] * (n / (n - 1)) if bessel else var[col + j])
            if cumulative:
                running[r] += (stat - running[r]) / t
            else:
                running[r] = running[r] * momentum + (1.0 - momentum) * stat


@jit
def all_finite(v):
    for q in range(v.shape[0]):
        if not np.isfinite(v[q]):
            return False
    return True


# ------------------------------------------------------------------------- the loop


@jit
def train_steps(s0, s1, X, Y, orders, starts, stops, layout, ints, floats, corr1, corr2, lr, noise,
                 params, opt_a, opt_b, running, state_pos, rec_params, rec_grads, rec_running,
                 diverged_at, finite, logit_sums):
    """Train every member through steps s0..s1-1; returns the step after the last one done.

    Stops early at the end of an epoch that finds a member not yet marked diverged (diverged_at < 0)
    with a non-finite parameter, running statistic or logit sum, for the caller to mark it.
    X: (1 or M, N, n_in), Y: (1 or M, N); orders: (M, E, N) int64; starts, stops: each batch's rows
    in an epoch; corr1, corr2: Adam's corrections per step; lr: (M,); noise: (S, M, 2H) or (1, M, 0).
    params, opt_a, opt_b: (M, P), running: (M, R), updated in place. state_pos: (S + 1,) where state s
    goes in rec_params (M, P) and rec_running (M, R) rows, or -1; rec_grads: the gradient of every
    stride-th step. finite: (3, steps per epoch, M) per step whether the logits, the updated
    parameters and the running statistics were finite; logit_sums: (steps per epoch, M).
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
    H = max(H, 1)
    act, bn, before, opt = ints[I_ACT], ints[I_BN] != 0, ints[I_BEFORE] != 0, ints[I_OPT]
    cumulative, unbiased, stride, noise_on = ints[I_CUMULATIVE] != 0, ints[I_UNBIASED] != 0, ints[I_STRIDE], ints[I_NOISE] != 0
    eps, beta1, beta2, opt_eps, momentum = floats[F_EPS], floats[F_BETA1], floats[F_BETA2], floats[F_OPT_EPS], floats[F_MOMENTUM]
    x_in = np.empty((nmax, n_in))
    y_in = np.empty(nmax)
    z = np.empty((nmax, H))          # Dense outputs
    pre = np.empty((nmax, H))        # activation inputs
    post = np.empty((nmax, H))       # activation outputs
    xhat = np.empty((nmax, H))
    out = np.empty((nmax, H))        # BN outputs, when BN comes after the activation
    layer_out = out if bn and not before else post       # what the next layer sees
    d = np.empty((nmax, H))          # gradient of the loss at each layer's output, then at its Dense output
    logit = np.empty((nmax, 1))
    dlogit = np.empty((nmax, 1))
    inv_std = np.empty(H)
    mean = np.empty(H)
    var = np.empty(H)
    grad = np.empty(P)
    no_noise = np.empty(0)
    for s in range(s0, s1):
        epoch, b = s // spe, s % spe
        n = stops[b] - starts[b]
        for m in range(M):
            xm = m if X.shape[0] > 1 else 0
            p = params[m]
            step_noise = noise[s, m] if noise_on else no_noise
            for i in range(n):
                row = orders[m, epoch, starts[b] + i]
                for k in range(n_in):
                    x_in[i, k] = X[xm, row, k]
                y_in[i] = Y[xm, row]
            # forward: each hidden layer's output is its activation's, or BN's when BN comes after
            for l in range(L - 1):
                lay = layout[l]
                if l == 0:
                    dense_forward(x_in, 0, n, p, lay, z, lay[COL])
                else:
                    dense_forward(layer_out, layout[l - 1, COL], n, p, lay, z, lay[COL])
                if bn and before:
                    batchnorm_forward(z, n, p, lay, eps, xhat, pre, inv_std, mean, var, step_noise, noise_on)
                    activation_forward(pre, n, lay, act, post)
                elif bn:
                    activation_forward(z, n, lay, act, post)
                    batchnorm_forward(post, n, p, lay, eps, xhat, out, inv_std, mean, var, step_noise, noise_on)
                else:
                    activation_forward(z, n, lay, act, post)
            last, top = layout[L - 1], layout[L - 2, COL]
            dense_forward(layer_out, top, n, p, last, logit, 0)
            total = 0.0
            ok = True
            for i in range(n):
                total += logit[i, 0]
                ok = ok and np.isfinite(logit[i, 0])
            logit_sums[b, m] = total
            finite[0, b, m] = ok
            # backward
            bce_with_logits_backward(logit, y_in, n, dlogit)
            dense_backward(dlogit, 0, layer_out, top, n, p, last, grad, d, top, True)
            for l in range(L - 2, -1, -1):
                lay = layout[l]
                if bn and not before:
                    if noise_on:
                        noise_backward(d, n, lay, step_noise)
                    batchnorm_backward(d, n, p, lay, xhat, inv_std, grad)
                    activation_backward(d, n, lay, act, z, post)
                elif bn:
                    activation_backward(d, n, lay, act, pre, post)
                    if noise_on:
                        noise_backward(d, n, lay, step_noise)
                    batchnorm_backward(d, n, p, lay, xhat, inv_std, grad)
                else:
                    activation_backward(d, n, lay, act, z, post)
                if l == 0:
                    dense_backward(d, lay[COL], x_in, 0, n, p, lay, grad, d, 0, False)
                else:
                    below = layout[l - 1, COL]
                    dense_backward(d, lay[COL], layer_out, below, n, p, lay, grad, d, below, True)
            if s % stride == 0:
                rec_grads[s // stride, m] = grad
            optimizer_step(opt, p, grad, opt_a[m], opt_b[m], lr[m], beta1, beta2, opt_eps, corr1[s], corr2[s])
            if bn:
                for l in range(L - 1):
                    running_update(running[m], mean, var, layout[l], n, s + 1, cumulative, unbiased, momentum)
            finite[1, b, m] = all_finite(p)
            finite[2, b, m] = all_finite(running[m])
            at = state_pos[s + 1]
            if at >= 0:
                rec_params[at, m] = p
                rec_running[at, m] = running[m]
        if b == spe - 1 and any_fresh_suspect(params, running, logit_sums, diverged_at):
            return s + 1
    return s1


@jit
def any_fresh_suspect(params, running, logit_sums, diverged_at):
    """At an epoch's end: whether a member not yet marked diverged has a non-finite parameter,
    running statistic or logit sum in that epoch (the NumPy loop's check)."""
    for m in range(params.shape[0]):
        if diverged_at[m] >= 0:
            continue
        if not (all_finite(params[m]) and all_finite(running[m]) and all_finite(logit_sums[:, m])):
            return True
    return False
