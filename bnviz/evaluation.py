"""Many saved parameter states of one network evaluated at once, in bounded memory.

The Run's derived arrays, predictions and loss surfaces all come from here:
each function takes K flat parameter states (K, P) and runs them through the
engine's forward pass along a leading axis, CHUNK_NUMBERS numbers at a time.
"""
from __future__ import annotations

import numpy as np

from .nn import Architecture, bce_with_logits_forward, forward

CHUNK_NUMBERS = 2_000_000       # numbers per batched forward pass, to bound memory
EPOCH_METRICS = tuple(f"{split}_{what}_{mode}" for split in ("train", "test")
                      for what in ("loss", "acc") for mode in ("eval", "batch"))


def chunks(n_states: int, n_rows: int, width: int):
    """Slices of the K states, each small enough that a pass over n_rows rows of `width` stays bounded."""
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


def population_stats(arch: Architecture, flat_params: np.ndarray, X: np.ndarray):
    """Exact mean and biased variance of every BN layer's input over X, per state.

    flat_params: (K, P). Returns ([ (K, units) ] means, [ (K, units) ] variances).
    """
    n_bn = len(arch.hidden) if arch.bn else 0
    means = [np.empty((len(flat_params), u)) for u in arch.hidden[:n_bn]]
    variances = [np.empty_like(m) for m in means]
    for chunk in chunks(len(flat_params), len(X), max(arch.hidden)):
        result = forward_states(arch, flat_params[chunk], X)
        for k, cache in enumerate(result.bn_caches):
            means[k][chunk] = cache.mean
            variances[k][chunk] = cache.var
    return means, variances


def loss_and_accuracy(arch, flat_params, X, y, buffers=None, split=None):
    """Loss and accuracy of K states on rows X (N, n_in), y (N,): each (1, K), NaN if N = 0.

    X (K, N, n_in) and y (K, N) give each state rows of its own. With `split`
    = s (evaluation mode only), rows :s and s: are scored separately and each
    result is (2, K).
    """
    K, n = len(flat_params), y.shape[-1]
    per_state = X.ndim == 3
    parts = [slice(0, n)] if split is None else [slice(0, split), slice(split, n)]
    loss, acc = np.full((len(parts), K), np.nan), np.full((len(parts), K), np.nan)
    if n == 0:
        return loss, acc
    for chunk in chunks(K, X.shape[-2], max(arch.hidden)):
        result = forward_states(arch, flat_params[chunk], X[chunk] if per_state else X,
                                None if buffers is None else buffers[chunk])
        with np.errstate(all="ignore"):
            for i, rows in enumerate(parts):
                if rows.stop > rows.start:
                    z, t = result.logits[..., rows], (y[chunk] if per_state else y)[..., rows]
                    loss[i, chunk] = bce_with_logits_forward(z, t)[0]
                    acc[i, chunk] = ((z > 0.0) == (t > 0.5)).mean(-1)
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
