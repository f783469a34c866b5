"""Many saved parameter states of one network evaluated at once, in bounded memory.

The Run's derived arrays, predictions and loss surfaces all come from here:
each function takes K flat parameter states (K, P) and runs them through the
engine's forward pass along a leading axis, CHUNK_NUMBERS numbers at a time.
"""
from __future__ import annotations

import numpy as np

from . import compiled
from .nn import Architecture, correct, forward, output_loss

CHUNK_NUMBERS = 1_000_000       # numbers per batched forward pass, to bound memory (8 MB of float64)
ARRAYS_PER_UNIT = 6             # arrays of (states, rows, units) a BN layer's forward pass keeps
EPOCH_METRICS = tuple(f"{split}_{what}_{mode}" for split in ("train", "test")
                      for what in ("loss", "acc") for mode in ("eval", "batch"))


def row_numbers(arch: Architecture) -> int:
    """Numbers one row leaves in memory during a forward pass of the whole network: per hidden unit
    the Dense output, BN's input, normalized value and output and the activation (and a mask or
    two), plus the inputs and the logit (a softmax's K logits, their shifted values and exps)."""
    return (ARRAYS_PER_UNIT if arch.normed else 3) * sum(arch.hidden) + arch.n_in + 3 * arch.n_out - 2


def chunks(n_states: int, n_rows: int, width: int):
    """Slices of the K states, each small enough that a pass over n_rows rows of `width` numbers per
    row (``row_numbers``: every layer counted) stays within CHUNK_NUMBERS numbers."""
    per_chunk = max(1, CHUNK_NUMBERS // max(1, n_rows * width))
    for start in range(0, n_states, per_chunk):
        yield slice(start, min(start + per_chunk, n_states))


def forward_states(arch: Architecture, flat_params: np.ndarray, X: np.ndarray, buffers: np.ndarray | None = None):
    """Forward pass of K parameter states at once on the same rows.

    flat_params: (K, P); X: (N, n_in), or (K, N, n_in) rows of its own for
    each state; buffers: (K, R) running statistics for evaluation mode, or
    None for BN with the statistics of X itself.
    Returns the ForwardResult with leading axis K.
    """
    views = arch.param_layout().views(flat_params)
    bviews = arch.buffer_layout().views(buffers) if buffers is not None else None
    with np.errstate(all="ignore"):
        return forward(arch, views, X if X.ndim == 3 else X[None], bviews)


def states_logits(arch: Architecture, flat_params: np.ndarray, X: np.ndarray, buffers: np.ndarray | None = None):
    """(K, N) the logits of ``forward_states`` alone ((K, N, C) for a softmax over C): by the compiled forward pass where it can be had
    (bnviz.compiled.forward_logits, equal to this NumPy pass to rounding), else by the NumPy pass."""
    fast = compiled.forward_logits(arch, flat_params, X, buffers)
    if fast is not None:
        return fast[0]
    return forward_states(arch, flat_params, X, buffers).logits


def unit_states(arch: Architecture, flat_params: np.ndarray, X: np.ndarray, layer: int, unit: int,
                buffers: np.ndarray | None = None) -> dict:
    """{"z", "bn", "act": (K, N)} hidden layer `layer`'s (1-based) unit `unit` at K states on the rows
    X (N, n_in), as ``forward_states``' traces hold them ("bn", the normalization's output, only with
    batch or layer norm); compiled where it can be."""
    fast = compiled.forward_logits(arch, flat_params, X, buffers, (layer - 1, unit))
    stages = ("z", "bn", "act") if arch.normed else ("z", "act")
    if fast is not None:
        return {s: fast[1][("z", "bn", "act").index(s)] for s in stages}
    trace = forward_states(arch, flat_params, X, buffers).traces[layer - 1]
    return {s: getattr(trace, s)[..., unit] for s in stages}


def population_stats(arch: Architecture, flat_params: np.ndarray, X: np.ndarray):
    """Exact mean and biased variance of every BN layer's input over X, per state.

    flat_params: (K, P). Returns ([ (K, units) ] means, [ (K, units) ] variances),
    empty lists without BN. Each layer's input is what it gets when every BN
    layer before it normalizes with these full-data statistics.
    """
    if not arch.bn:
        return [], []
    return full_data_stats(arch, flat_params, X)


def bn_input(arch: Architecture, trace) -> np.ndarray:
    """What a layer's BN normalizes: the Dense output, or with BN after the activation the
    activation's output (layer norm's input likewise); without a normalization, the Dense output
    (what BN would normalize)."""
    return trace.act if arch.normed and arch.bn_position == "after" else trace.z


def full_data_stats(arch: Architecture, flat_params: np.ndarray, X: np.ndarray):
    """Exact mean and biased variance over all rows X of every hidden layer's BN input
    (``bn_input``), per state; earlier BN layers normalize with these full-data statistics.

    flat_params: (K, P); X: (N, n_in). Returns ([ (K, units) ] means, [ (K, units) ]
    variances), one per hidden layer. When one state's pass over X does not fit
    CHUNK_NUMBERS, the rows go through in chunks: layer by layer, BN in evaluation
    mode with the full-data statistics of the layers before, each chunk's mean and
    squared deviations merged exactly (Chan et al.'s pairwise update).
    """
    K, N = len(flat_params), len(X)
    width = row_numbers(arch)              # numbers one row leaves in memory
    means = [np.empty((K, u)) for u in arch.hidden]
    variances = [np.empty_like(m) for m in means]
    if N * width <= CHUNK_NUMBERS:                           # every row in one pass: BN with X's own statistics
        for chunk in chunks(K, N, width):
            result = forward_states(arch, flat_params[chunk], X)
            with np.errstate(all="ignore"):
                for k, trace in enumerate(result.traces):
                    if arch.bn:                                  # BN's own batch statistics of all rows
                        means[k][chunk], variances[k][chunk] = result.bn_caches[k].mean, result.bn_caches[k].var
                    else:
                        values = bn_input(arch, trace)
                        means[k][chunk] = values.mean(axis=-2)
                        variances[k][chunk] = ((values - means[k][chunk][..., None, :]) ** 2).mean(axis=-2)
        return means, variances
    rows_per_chunk = max(1, CHUNK_NUMBERS // width)
    layout = arch.buffer_layout()
    layers = range(len(arch.hidden)) if arch.bn else [None]      # without BN one pass gives every layer
    for k_state in range(K):
        state = flat_params[k_state:k_state + 1]
        buffers = arch.initial_buffers((1,)) if arch.bn else None
        for layer in layers:
            wanted = [layer] if layer is not None else list(range(len(arch.hidden)))
            count, mean, m2 = 0, {k: 0.0 for k in wanted}, {k: 0.0 for k in wanted}
            for start in range(0, N, rows_per_chunk):
                traces = forward_states(arch, state, X[start:start + rows_per_chunk], buffers).traces
                with np.errstate(all="ignore"):
                    for k in wanted:
                        values = bn_input(arch, traces[k])[0]                     # (rows, units)
                        n = len(values)
                        chunk_mean = values.mean(axis=0)
                        chunk_m2 = ((values - chunk_mean) ** 2).sum(axis=0)
                        delta, total = chunk_mean - mean[k], count + n
                        mean[k] = mean[k] + delta * (n / total)
                        m2[k] = m2[k] + chunk_m2 + delta * delta * (count * n / total)
                count += len(X[start:start + rows_per_chunk])
            for k in wanted:
                means[k][k_state], variances[k][k_state] = mean[k], m2[k] / N
                if buffers is not None:
                    views = layout.views(buffers)
                    views[f"mean{k + 1}"][...], views[f"var{k + 1}"][...] = mean[k], m2[k] / N
    return means, variances


def pack_buffers(arch: Architecture, means: list, variances: list) -> np.ndarray:
    """(K, R) BN buffers holding per-layer statistics [ (K, units) ] means and variances."""
    buffers = np.empty((len(means[0]) if means else 0, arch.buffer_layout().size))
    views = arch.buffer_layout().views(buffers)
    for k, (mean, var) in enumerate(zip(means, variances), start=1):
        views[f"mean{k}"][...], views[f"var{k}"][...] = mean, var
    return buffers


def full_data_buffers(arch: Architecture, flat_params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """(K, R) BN buffers holding each state's full-data statistics of rows X (N, n_in), or
    X (K, N, n_in) with rows of its own per state: BN in evaluation mode with these is BN
    over all the rows as one batch, and then the rows can go through in chunks."""
    if X.ndim == 2:
        return pack_buffers(arch, *full_data_stats(arch, flat_params, X))
    return np.concatenate([pack_buffers(arch, *full_data_stats(arch, flat_params[i:i + 1], X[i]))
                           for i in range(len(X))])


def loss_and_accuracy(arch, flat_params, X, y, buffers=None, split=None):
    """Loss and accuracy of K states on rows X (N, n_in), y (N,): each (1, K), NaN if N = 0.

    The loss is the output's (``bnviz.nn.output_loss``: binary cross-entropy, or the
    softmax's cross-entropy over the classes); accuracy the share of rows whose
    predicted class is their label.

    X (K, N, n_in) and y (K, N) give each state rows of its own. With `split`
    = s (evaluation mode only), rows :s and s: are scored separately and each
    result is (2, K). buffers=None: BN over all N rows as one batch; when those
    do not fit one pass, their full-data statistics are computed first
    (``full_data_buffers``) and the rows scored in chunks, as in evaluation mode.
    """
    K, n = len(flat_params), y.shape[-1]
    per_state = X.ndim == 3
    parts = [(0, n)] if split is None else [(0, split), (split, n)]
    loss, acc = np.full((len(parts), K), np.nan), np.full((len(parts), K), np.nan)
    if n == 0:
        return loss, acc
    if not per_state and compiled.forward_knows(arch) and compiled.forward_kernel() is not None:
        # the compiled pass keeps a few numbers per row, whatever N: all rows at once, a chunk of states at a time
        for chunk in chunks(K, n, 1):
            fast = compiled.forward_logits(arch, flat_params[chunk], X, None if buffers is None else buffers[chunk])
            if fast is None:
                break
            with np.errstate(all="ignore"):
                for i, (low, high) in enumerate(parts):
                    if high > low:
                        z = fast[0][:, low:high]
                        loss[i, chunk] = output_loss(arch, z, y[low:high])[0]
                        acc[i, chunk] = correct(arch, z, y[low:high]).mean(-1)
        else:
            return loss, acc
    width = row_numbers(arch)              # numbers one row leaves in memory
    if buffers is None and arch.bn and n * width > CHUNK_NUMBERS:
        buffers = full_data_buffers(arch, flat_params, X)
    block = n if buffers is None else max(1, CHUNK_NUMBERS // width)   # with buffers, rows do not interact
    total, right = np.zeros((len(parts), K)), np.zeros((len(parts), K))
    for start in range(0, n, block):
        stop = min(start + block, n)
        for chunk in chunks(K, stop - start, width):
            rows = (X[chunk] if per_state else X)[..., start:stop, :]
            logits = states_logits(arch, flat_params[chunk], rows, None if buffers is None else buffers[chunk])
            with np.errstate(all="ignore"):
                for i, (low, high) in enumerate(parts):
                    a, b = max(low, start), min(high, stop)
                    if b > a:
                        rows_at = slice(a - start, b - start)
                        z = logits[..., rows_at, :] if arch.softmax else logits[..., rows_at]
                        t = (y[chunk] if per_state else y)[..., a:b]
                        if block >= n:       # every row in one pass: the mean loss directly
                            total[i, chunk] = output_loss(arch, z, t)[0]
                        else:                # each chunk adds its rows' share of the mean
                            per_row = output_loss(arch, z[..., None, :] if arch.softmax else z[..., None],
                                                  t[..., None])[0]
                            total[i, chunk] += (per_row * (1.0 / (high - low))).sum(-1)
                        right[i, chunk] += correct(arch, z, t).sum(-1)
    with np.errstate(all="ignore"):
        for i, (low, high) in enumerate(parts):
            if high > low:
                loss[i], acc[i] = total[i], right[i] / (high - low)
    return loss, acc


def epoch_metrics(arch, flat_params, buffers, train, test) -> dict:
    """{EPOCH_METRICS name: (K,)} for K states on the (X, y) train and test splits.

    eval: BN with the running statistics `buffers` (K, R); rows do not interact,
    so both splits go through one pass. batch: each split normalized by its own
    statistics, as one batch. Without BN the two modes coincide. X (K, N, n_in)
    and y (K, N) give each state rows of its own (likewise for the test split).
    """
    (X, y), (X_test, y_test) = train, test
    n = y.shape[-1]
    both = np.concatenate([X, X_test], axis=-2) if y_test.shape[-1] else X
    loss, acc = loss_and_accuracy(arch, flat_params, both, np.concatenate([y, y_test], axis=-1), buffers, split=n)
    out = {"train_loss_eval": loss[0], "train_acc_eval": acc[0], "test_loss_eval": loss[1], "test_acc_eval": acc[1]}
    for split, (Xs, ys) in (("train", (X, y)), ("test", (X_test, y_test))):
        if arch.bn:
            loss, acc = loss_and_accuracy(arch, flat_params, Xs, ys)
            out[f"{split}_loss_batch"], out[f"{split}_acc_batch"] = loss[0], acc[0]
        else:
            out[f"{split}_loss_batch"], out[f"{split}_acc_batch"] = out[f"{split}_loss_eval"], out[f"{split}_acc_eval"]
    return out
