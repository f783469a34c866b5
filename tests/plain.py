"""Slow, plain recomputations for the value tests: one loop per layer, one step at a time.

Nothing here calls the engine's batched code; it only reads what a Run stored
(its parameters, batch order and settings) and does the arithmetic again.
"""
import math

import numpy as np


def activation(x, name):
    if name == "relu":
        return np.where(x > 0, x, 0.0)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    return x


def forward(run, params, X, running=None, noise=None):
    """The network on rows X (n, n_in), layer by layer.

    running: {k: (mean, var)} per BN layer (1-based) for evaluation mode, or
    None to normalize with the batch's own statistics. noise: {k: (scale,
    shift)} for noisy BN, applied to every BN output. Returns (logits (n,), or
    (n, K) for a softmax output, layers): one dict per hidden layer with z, bn_in, mean, var, bn, act.
    """
    arch = run.arch
    a = np.asarray(X, dtype=float)
    layers = []
    for k in range(1, len(arch.hidden) + 1):
        z = a @ params[f"W{k}"]
        if f"b{k}" in params:
            z = z + params[f"b{k}"]
        layer = {"z": z}
        if not arch.bn:
            layer["act"] = a = activation(z, arch.activation)
        else:
            bn_in = z if arch.bn_position == "before" else activation(z, arch.activation)
            if running is None:
                mean = bn_in.sum(axis=0) / len(bn_in)
                var = ((bn_in - mean) ** 2).sum(axis=0) / len(bn_in)
            else:
                mean, var = running[k]
            bn = params[f"gamma{k}"] * (bn_in - mean) / np.sqrt(var + arch.eps) + params[f"beta{k}"]
            if noise is not None:
                scale, shift = noise[k]
                bn = bn * scale + shift
            layer.update(bn_in=bn_in, mean=mean, var=var, bn=bn)
            if arch.bn_position == "before":
                layer["act"] = a = activation(bn, arch.activation)
            else:
                layer["act"] = bn_in
                a = bn
        layers.append(layer)
    L = len(arch.hidden) + 1
    logits = a @ params[f"W{L}"] + params[f"b{L}"]
    return (logits if logits.shape[1] > 1 else logits[:, 0]), layers


def bce(logits, y):
    """Mean binary cross-entropy of sigmoid(logits), one row at a time:
    -log p = softplus(-z) and -log(1 - p) = softplus(z), which stays finite for large |z|."""
    def softplus(x):
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    total = 0.0
    for z, t in zip(logits, y):
        total += t * softplus(-z) + (1 - t) * softplus(z)
    return total / len(y)


def cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits (n, K)) against class numbers y, one row at a time:
    -log p_y = log sum_k e^(z_k - m) - (z_y - m), m the row's largest logit."""
    total = 0.0
    for z, t in zip(logits, y):
        m = max(z)
        total += math.log(sum(math.exp(v - m) for v in z)) - (z[int(t)] - m)
    return total / len(y)


def loss(logits, y):
    """The output's loss: binary cross-entropy for logits (n,), cross-entropy for (n, K)."""
    return cross_entropy(logits, y) if np.ndim(logits) == 2 else bce(logits, y)


def accuracy(logits, y):
    """Share of rows put in their class: logit > 0 for class 1, or the largest of K logits."""
    if np.ndim(logits) == 2:
        return sum(int(np.argmax(z)) == int(t) for z, t in zip(logits, y)) / len(y)
    return sum((z > 0) == (t > 0.5) for z, t in zip(logits, y)) / len(y)


def standardized(data, X):
    """Raw rows scaled by the training rows' mean and (biased) std."""
    mean = data.X_train.mean(axis=0)
    std = np.sqrt(((data.X_train - mean) ** 2).mean(axis=0))
    std = np.where(std > 0, std, 1.0)         # a constant column (a pixel always blank) is left as 0s
    return (np.asarray(X, dtype=float) - mean) / std


def inputs(run, data, X):
    return standardized(data, X) if run.config.standardize else np.asarray(X, dtype=float)


def params_at(run, state):
    """{name: array} of the network after `state` updates, read from run.params (one row per kept state)."""
    row = int(np.flatnonzero(run.axis_states("state") == state)[0])
    return {name: run.params[row, start:stop].reshape(shape)
            for name, (start, stop, shape) in run.param_slices.items()}


def batch_rows(run, step):
    """The training rows step `step` used: its epoch's order, cut into the run's batches."""
    epoch, b = step // len(run.bounds), step % len(run.bounds)
    start, stop = run.bounds[b]
    return run.orders[epoch][start:stop]


def running_statistics(run, data):
    """{k: [(mean, var) after each step]} by the Config's averaging rule, one step at a time,
    from batch statistics recomputed here."""
    cfg = run.config
    X = inputs(run, data, data.X_train)
    out = {}
    n_bn = len(run.arch.hidden) if run.arch.bn else 0
    for k in range(1, n_bn + 1):
        units = run.arch.hidden[k - 1]
        mean, var = np.zeros(units), np.ones(units)
        sum_mean, sum_var = np.zeros(units), np.zeros(units)
        series = []
        for s in range(run.n_steps):
            rows = batch_rows(run, s)
            _, layers = forward(run, params_at(run, s), X[rows])
            bm, bv = layers[k - 1]["mean"], layers[k - 1]["var"]
            n = len(rows)
            if cfg.running_var == "unbiased" and n > 1:
                bv = bv * n / (n - 1)
            if cfg.running_avg == "cumulative":
                sum_mean, sum_var = sum_mean + bm, sum_var + bv
                mean, var = sum_mean / (s + 1), sum_var / (s + 1)
            else:
                m = cfg.bn_momentum
                mean, var = m * mean + (1 - m) * bm, m * var + (1 - m) * bv
            series.append((mean, var))
        if cfg.running_avg == "population" and run.n_steps == cfg.epochs * len(run.bounds):
            series[-1] = population(run, X, k)
        out[k] = series
    return out


def population(run, X, k):
    """Ioffe & Szegedy's Algorithm 2 for BN layer k, by hand: the final network's batch mean and
    variance over each mini-batch of the last epoch (unbiased when the Config asks), averaged."""
    params = params_at(run, run.n_steps)
    means, variances = [], []
    last = run.n_steps - len(run.bounds)
    for s in range(last, run.n_steps):
        rows = batch_rows(run, s)
        _, layers = forward(run, params, X[rows])
        v = layers[k - 1]["var"]
        if run.config.running_var == "unbiased" and len(rows) > 1:
            v = v * len(rows) / (len(rows) - 1)
        means.append(layers[k - 1]["mean"])
        variances.append(v)
    return sum(means) / len(means), sum(variances) / len(variances)


def buffers_after(run, running, state):
    """{k: (mean, var)} the running statistics after `state` updates (state 0: 0 and 1)."""
    if state == 0:
        return {k: (np.zeros(run.arch.hidden[k - 1]), np.ones(run.arch.hidden[k - 1])) for k in running}
    return {k: running[k][state - 1] for k in running}


def percentile(values, q):
    """Linear-interpolation percentile of a 1-D array, as the textbook writes it."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
