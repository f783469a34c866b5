"""Loss surfaces: what the optimizer walks on.

Two kinds of picture, both computed as whole grids in one batched pass:

- the notes' picture of input scaling: the loss of one logistic unit over its
  two weights (w_gpa, w_iq), on raw and on standardized features, with the
  path full-batch gradient descent takes on each;
- the trained network's landscape: the loss over a plane through its final
  weights, with the training path projected onto that plane.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .budget import plane_sampling
from . import compiled
from .evaluation import states_logits
from .nn import bce_with_logits_forward, output_loss, sigmoid
from .run import Run
from .unsupported import need_two_classes, need_two_features

# activations (points x rows x units) per batched pass: bounds memory, and passes
# this small stay in cache (measured with benchmarks/figures.py: a 41 x 41 plane of
# the default run scores about twice as fast in passes of 30 points as in one pass)
CHUNK_NUMBERS = 50_000
# the compiled forward pass keeps a few numbers per row, whatever the width: only the logits (points x
# rows) bound a pass, and fewer, longer passes save its per-call overhead
COMPILED_CHUNK_LOGITS = 1_000_000
PCA_STATES = 400     # states of a long path its principal directions are computed from


@dataclass
class ContourGrid:
    """loss[i, j] at (a[j], b[i]); path: (T + 1, 2) the optimizer's points and
    path_loss: (T + 1,) the loss at each; optimum: (2,).

    a_label, b_label: axis titles; note: what the picture is, in a sentence;
    path_steps: (T + 1,) the training step of each path point (a network's path).
    """

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    path: np.ndarray
    path_loss: np.ndarray
    optimum: np.ndarray
    a_label: str
    b_label: str
    note: str
    lr_limit: float = float("nan")   # 2 / largest curvature at the optimum: gradient descent is stable below it
    path_steps: np.ndarray | None = None


# --------------------------------------------------------------- input scaling

CONTOUR_WORK = 4e6        # rows x grid points a logistic loss surface may cost (about 0.1 s)
CONTOUR_MIN_ROWS = 256    # never fewer rows than this (all of them when there are fewer)


def _logistic_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean BCE of sigmoid(X @ w) for many weight vectors W (K, 2) at once -> (K,)."""
    with np.errstate(all="ignore"):
        return bce_with_logits_forward(W @ X.T, y)[0]


def _logistic_grad(w, X, y):
    p = sigmoid(X @ w)
    return X.T @ (p - y) / len(y)


def _logistic_optimum(X, y, iterations=50):
    """Newton's method for the two weights; the loss is convex."""
    w = np.zeros(X.shape[1])
    for _ in range(iterations):
        p = sigmoid(X @ w)
        hessian = (X * (p * (1 - p))[:, None]).T @ X / len(y) + 1e-9 * np.eye(X.shape[1])
        w = w - np.linalg.solve(hessian, _logistic_grad(w, X, y))
    return w


def logistic_curvatures(X: np.ndarray, y: np.ndarray, optimum: np.ndarray | None = None) -> np.ndarray:
    """(2,) eigenvalues of the loss's Hessian at the optimum of a logistic unit without bias,
    smallest first. sqrt(largest / smallest) is how much longer than wide the valley is;
    gradient descent is stable for learning rates below 2 / largest."""
    w = _logistic_optimum(X, y) if optimum is None else optimum
    p = sigmoid(X @ w)
    return np.linalg.eigvalsh((X * (p * (1 - p))[:, None]).T @ X / len(y))


def logistic_contours(X: np.ndarray, y: np.ndarray, lr: float, steps: int, names=("gpa", "iq"),
                      size: int = 61, unit: str = "") -> ContourGrid:
    """Loss of sigmoid(w1 x1 + w2 x2) over (w1, w2), and gradient descent's path from (0, 0).

    X: (N, 2) inputs, already centred (a logistic unit without bias); y: (N,).
    The grid is square in weight units, so that equal axes show the true shape.
    """
    optimum = _logistic_optimum(X, y)
    path = [np.zeros(2)]
    with np.errstate(all="ignore"):
        for _ in range(int(steps)):
            w = path[-1] - lr * _logistic_grad(path[-1], X, y)
            if not np.all(np.isfinite(w)) or np.abs(w).max() > 1e6:
                break
            path.append(w)
    path = np.array(path)
    points = np.vstack([path, optimum[None]])
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    half = max((points.max(axis=0) - points.min(axis=0)).max() * 0.6, 1e-3)
    half = min(half, 4 * np.abs(optimum).max() + 1.0)  # a diverging path is shown leaving the frame
    a = np.linspace(centre[0] - half, centre[0] + half, size)
    b = np.linspace(centre[1] - half, centre[1] + half, size)
    A, B = np.meshgrid(a, b)
    # the surface is scored on evenly spread rows when every row would cost too much (the path,
    # the optimum and the curvature always use them all)
    rows = spread_rows(len(y), max(CONTOUR_MIN_ROWS, int(CONTOUR_WORK // (size * size))))
    Xs, ys = (X, y) if rows is None else (X[rows], y[rows])
    loss = _logistic_loss(np.column_stack([A.ravel(), B.ravel()]), Xs, ys).reshape(size, size)
    curvature = logistic_curvatures(X, y, optimum).max()
    sampled = "" if rows is None else f"; surface on {len(rows):,} of {len(y):,} training rows (evenly spread)"
    return ContourGrid(a, b, loss, path, _logistic_loss(path, X, y), optimum,
                       f"w_{names[0]}{unit}", f"w_{names[1]}{unit}",
                       f"one logistic unit, no bias, {len(path) - 1} steps of gradient descent at lr {lr:g}"
                       + sampled, lr_limit=float(2.0 / curvature))


def spread_rows(n_rows: int, n_used: int) -> np.ndarray | None:
    """(n_used,) evenly spread row positions out of n_rows, or None when all of them fit."""
    return np.unique(np.linspace(0, n_rows - 1, n_used).round().astype(int)) if n_used < n_rows else None


@dataclass(eq=False)
class InputScaling:
    """The same logistic unit and the same descent on centred raw and on z-scored features."""

    raw: ContourGrid
    standardized: ContourGrid


def input_scaling(data, lr: float = 0.03, steps: int = 100, size: int = 61) -> InputScaling:
    """Loss contours and descent paths of one logistic unit on raw and on standardized features.

    One logistic unit over two weights: two input features and two classes only; raises
    bnviz.unsupported.Unsupported (a sentence) for any other data."""
    need_two_features(data.n_features, "The input-scaling picture (one logistic unit's loss over its two weights)")
    need_two_classes(data.n_classes, "The input-scaling picture (one logistic unit's loss over its two weights)")
    X, y = data.X_train, data.y_train
    names = data.feature_names
    raw = logistic_contours(X - X.mean(axis=0), y, lr, steps, names, size)
    raw.note = "raw units (centred): " + raw.note
    standardized = logistic_contours(data.standardize(X), y, lr, steps, names, size)
    standardized.note = "standardized: " + standardized.note
    return InputScaling(raw, standardized)


# ------------------------------------------------------------ network landscape


def _filter_normalized(run: Run, rng) -> np.ndarray:
    """A random direction in parameter space, shaped like the weights (Li et al. 2018).

    Each output unit's column of every W gets a Gaussian direction rescaled to
    that column's norm; biases and BN's gamma and beta are not moved.
    """
    final = run.params[-1]
    direction = np.zeros_like(final)
    for name in run.param_names:
        if not name.startswith("W"):
            continue
        start, stop, shape = run.param_slices[name]
        W = final[start:stop].reshape(shape)
        d = rng.standard_normal(shape)
        d *= np.linalg.norm(W, axis=0, keepdims=True) / (np.linalg.norm(d, axis=0, keepdims=True) + 1e-12)
        direction[start:stop] = d.ravel()
    return direction


def _principal_directions(centred: np.ndarray):
    """(basis (2, P) or None, share of variance): the top two right singular vectors of centred (K, P).

    Through the K x K Gram matrix (K <= PCA_STATES states, P up to thousands of
    parameters) or, for a network with fewer parameters than states, the P x P one: a small
    symmetric eigenproblem instead of an SVD of the whole path.
    """
    K, P = centred.shape
    # the smaller of the two eigenproblems: K x K (states) or P x P (parameters, a small network's
    # long path); both have the same non-zero eigenvalues
    gram = centred @ centred.T if K <= P else centred.T @ centred
    values, vectors = np.linalg.eigh(gram)                 # ascending
    values, vectors = values[::-1], vectors[:, ::-1]
    if len(values) < 2 or values[1] <= values[0] * 1e-24 or values[1] <= 0:
        return None, 1.0
    basis = (vectors[:, :2].T @ centred) / np.sqrt(values[:2])[:, None] if K <= P else vectors[:, :2].T.copy()
    return basis, float(values[:2].sum() / max(np.clip(values, 0, None).sum(), 1e-300))


def network_plane(run: Run, data, directions: str = "pca", size: int = 41, seed: int = 0,
                  path_points: int = 150, states=None) -> ContourGrid:
    """Training loss over a plane through the final parameters.

    directions "pca": the top two principal directions of the parameter
    trajectory (the path then lies close to the plane); "random": two
    filter-normalized random directions. BN runs in evaluation mode with the
    final running statistics, for every point of the plane. A big network on
    many rows is scored on evenly spread training rows and a coarser grid, so
    the work stays within the budget (bnviz.budget.plane_sampling); the note says so.
    The path has `path_points` evenly spread states, or exactly the given `states`
    (then the principal directions are those of the path through them).
    """
    final = run.params[-1]
    n_rows = len(data.y_train)
    states_wanted = min(path_points, run.n_steps + 1) if states is None else len(states)
    size, n_used = plane_sampling(n_rows, len(final), size, states_wanted)
    rows = spread_rows(n_rows, n_used)
    offsets = run.params - final
    if directions == "pca":
        # the path through the given states, or a long path sampled at evenly spread states
        # (the cost grows with their number squared)
        if states is not None:
            sampled = offsets[run.state_index(states)]
        elif len(offsets) > PCA_STATES:
            sampled = offsets[np.linspace(0, len(offsets) - 1, PCA_STATES).round().astype(int)]
        else:
            sampled = offsets
        basis, explained = _principal_directions(sampled - sampled.mean(axis=0))
        basis = basis if basis is not None else np.eye(2, len(final))
        how = f"top two principal directions of the path ({explained:.0%} of its variance)"
        a_label, b_label = "PC 1", "PC 2"
    elif directions == "random":
        rng = np.random.default_rng(seed)
        basis = np.stack([_filter_normalized(run, rng), _filter_normalized(run, rng)])
        how = "two filter-normalized random directions"
        a_label, b_label = "direction 1", "direction 2"
    else:
        raise ValueError(f"unknown directions {directions!r}: use 'pca' or 'random'")
    if states is None:
        states = run.even_states(states_wanted)
    coords, *_ = np.linalg.lstsq(basis.T, offsets[run.state_index(states)].T, rcond=None)
    path = coords.T
    # frame the path and the final weights (the origin) with a margin
    low, high = np.minimum(path.min(axis=0), 0.0), np.maximum(path.max(axis=0), 0.0)
    pad = np.maximum((high - low) * 0.2, 1e-6 if directions == "pca" else 0.5)
    a = np.linspace(low[0] - pad[0], high[0] + pad[0], size)
    b = np.linspace(low[1] - pad[1], high[1] + pad[1], size)
    A, B = np.meshgrid(a, b)
    grid_params = final + A.reshape(-1, 1) * basis[0] + B.reshape(-1, 1) * basis[1]
    loss = plane_losses(run, data, grid_params, rows).reshape(size, size)
    path_params = final + path[:, :1] * basis[0] + path[:, 1:] * basis[1]
    sampled = f"; loss on {len(rows):,} of {n_rows:,} training rows (evenly spread)" if rows is not None else ""
    return ContourGrid(a, b, loss, path, plane_losses(run, data, path_params, rows), np.zeros(2), a_label, b_label,
                       f"training loss over a plane through the final weights, spanned by {how}"
                       + ("; BN in evaluation mode with the final running statistics" if run.n_bn else "")
                       + sampled, path_steps=states)


def plane_losses(run: Run, data, flat_params: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """(K,) training loss of K parameter vectors (on the training rows `rows`, default all),
    BN with the run's final running statistics. Scored a chunk of vectors at a time."""
    X, y = data.inputs(data.X_train, run.config.standardize), data.y_train
    if rows is not None:
        X, y = X[rows], y[rows]
    final = run.arch.buffer_layout().pack(run.buffers_at(run.n_steps)) if run.n_bn else None
    if compiled.forward_knows(run.arch) and compiled.forward_kernel() is not None:
        per_chunk = max(1, COMPILED_CHUNK_LOGITS // max(1, len(X)))
    else:
        per_chunk = max(1, CHUNK_NUMBERS // max(1, len(X) * sum(run.arch.hidden)))
    out = np.empty(len(flat_params))
    for start in range(0, len(flat_params), per_chunk):
        chunk = flat_params[start:start + per_chunk]
        buffers = None if final is None else np.broadcast_to(final, (len(chunk), len(final)))
        logits = states_logits(run.arch, chunk, X, buffers)
        # the loss's elementwise passes in cache-sized pieces (twice as fast as over one long array)
        piece = max(1, CHUNK_NUMBERS // max(1, len(X) * (run.arch.n_out + 4)))
        with np.errstate(all="ignore"):
            for at in range(0, len(chunk), piece):
                out[start + at:start + min(at + piece, len(chunk))] = output_loss(run.arch, logits[at:at + piece], y)[0]
    return out
