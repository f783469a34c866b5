"""Loss surfaces checked by value: every contour, path and plane point recomputed plainly, one point at a time."""
import math

import numpy as np
import pytest

import plain
from bnviz import Config, train
from bnviz.landscape import input_scaling, logistic_contours, logistic_curvatures, network_plane, plane_losses


def logistic_loss(w, X, y):
    return plain.bce([x @ w for x in X], y)


def logistic_gradient(w, X, y):
    g = np.zeros(2)
    for x, t in zip(X, y):
        g += (1.0 / (1.0 + math.exp(-(x @ w))) - t) * x
    return g / len(y)


def hessian(w, X):
    H = np.zeros((2, 2))
    for x in X:
        p = 1.0 / (1.0 + math.exp(-(x @ w)))
        H += p * (1 - p) * np.outer(x, x)
    return H / len(X)


def eigenvalues_2x2(H):
    """Smallest and largest eigenvalue of a symmetric 2 x 2 matrix, by the quadratic formula."""
    mean, det = (H[0, 0] + H[1, 1]) / 2, H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]
    root = math.sqrt(max(mean * mean - det, 0.0))
    return np.array([mean - root, mean + root])


@pytest.mark.parametrize("lr, steps", [(0.5, 12), (30.0, 40)])
def test_logistic_contours_equal_a_direct_loop(data, lr, steps):
    X, y = data.standardize(data.X_train), data.y_train
    grid = logistic_contours(X, y, lr, steps, ("gpa", "iq"), size=7, unit=" (z)")
    # the optimum: the gradient vanishes there
    np.testing.assert_allclose(logistic_gradient(grid.optimum, X, y), 0.0, atol=1e-10)
    # the path: plain gradient descent from (0, 0), stopped when it leaves any sensible range
    path = [np.zeros(2)]
    for _ in range(steps):
        w = path[-1] - lr * logistic_gradient(path[-1], X, y)
        if not np.all(np.isfinite(w)) or np.abs(w).max() > 1e6:
            break
        path.append(w)
    np.testing.assert_allclose(grid.path, path, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grid.path_loss, [logistic_loss(w, X, y) for w in path], rtol=1e-10)
    # the frame: square, centred on the path and optimum, 60 % of their extent on each side, capped
    points = np.array(path + [grid.optimum])
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    half = min(max((points.max(axis=0) - points.min(axis=0)).max() * 0.6, 1e-3), 4 * np.abs(grid.optimum).max() + 1)
    for axis, c in ((grid.a, centre[0]), (grid.b, centre[1])):
        np.testing.assert_allclose(axis, [c - half + 2 * half * i / 6 for i in range(7)], rtol=1e-12, atol=1e-12)
    for i in range(7):
        for j in range(7):
            assert grid.loss[i, j] == pytest.approx(logistic_loss(np.array([grid.a[j], grid.b[i]]), X, y), rel=1e-10)
    curvatures = eigenvalues_2x2(hessian(grid.optimum, X))
    np.testing.assert_allclose(logistic_curvatures(X, y), curvatures, rtol=1e-8)
    np.testing.assert_allclose(logistic_curvatures(X, y, np.zeros(2)), eigenvalues_2x2(hessian(np.zeros(2), X)),
                               rtol=1e-10)
    assert grid.lr_limit == pytest.approx(2 / curvatures[1], rel=1e-8)
    assert (grid.a_label, grid.b_label) == ("w_gpa (z)", "w_iq (z)")
    assert grid.note == f"one logistic unit, no bias, {len(path) - 1} steps of gradient descent at lr {lr:g}"


def test_input_scaling_uses_centred_raw_and_standardized_features(data):
    scaling = input_scaling(data, lr=0.02, steps=5, size=5)
    X = data.X_train
    centred = X - X.sum(axis=0) / len(X)
    z = plain.standardized(data, X)
    for grid, inputs, prefix in ((scaling.raw, centred, "raw units (centred): "),
                                 (scaling.standardized, z, "standardized: ")):
        assert grid.note.startswith(prefix) and grid.note.endswith("at lr 0.02")
        assert len(grid.path) == 6 and grid.loss.shape == (5, 5)
        assert grid.loss[1, 3] == pytest.approx(logistic_loss(np.array([grid.a[3], grid.b[1]]), inputs, data.y_train),
                                                rel=1e-10)
        np.testing.assert_allclose(grid.path[1], -0.02 * logistic_gradient(np.zeros(2), inputs, data.y_train),
                                   rtol=1e-10)
        assert grid.a_label == "w_cgpa" and grid.b_label == "w_iq"


@pytest.fixture(scope="module", params=["bn", "plain"])
def trained(request, data):
    run = train(Config(epochs=2, bn=request.param == "bn"), data)
    return run, data, plain.running_statistics(run, data)


def plain_plane_loss(run, data, running, flat):
    params = {name: flat[start:stop].reshape(shape) for name, (start, stop, shape) in run.param_slices.items()}
    X = plain.inputs(run, data, data.X_train)
    logits, _ = plain.forward(run, params, X, plain.buffers_after(run, running, run.n_steps) or None)
    return plain.bce(logits, data.y_train)


def filter_normalized(run, rng):
    final = run.params[-1]
    direction = np.zeros_like(final)
    for name in run.param_names:
        if name.startswith("W"):
            start, stop, shape = run.param_slices[name]
            W, d = final[start:stop].reshape(shape), rng.standard_normal(shape)
            for column in range(shape[1]):
                d[:, column] *= np.sqrt((W[:, column] ** 2).sum()) / (np.sqrt((d[:, column] ** 2).sum()) + 1e-12)
            direction[start:stop] = d.ravel()
    return direction


def check_plane(run, data, running, grid, basis):
    """Path, frame and every grid point against the given basis (2, P)."""
    final = run.params[-1]
    gram = basis @ basis.T
    for t, point in zip(grid.path_steps, grid.path):
        coords = np.linalg.solve(gram, basis @ (run.params[t] - final))       # least squares, 2 x 2 normal equations
        np.testing.assert_allclose(point, coords, rtol=1e-7, atol=1e-9)
    low, high = np.minimum(grid.path.min(axis=0), 0), np.maximum(grid.path.max(axis=0), 0)
    size = len(grid.a)
    for axis, lo, hi in ((grid.a, low[0], high[0]), (grid.b, low[1], high[1])):
        pad = max((hi - lo) * 0.2, 1e-6 if grid.a_label == "PC 1" else 0.5)
        np.testing.assert_allclose(axis, [lo - pad + (hi - lo + 2 * pad) * i / (size - 1) for i in range(size)],
                                   rtol=1e-9, atol=1e-12)
    for i in range(size):
        for j in range(size):
            flat = final + grid.a[j] * basis[0] + grid.b[i] * basis[1]
            assert grid.loss[i, j] == pytest.approx(plain_plane_loss(run, data, running, flat), rel=1e-9)
    for t, point, loss in zip(grid.path_steps, grid.path, grid.path_loss):
        flat = final + point[0] * basis[0] + point[1] * basis[1]
        assert loss == pytest.approx(plain_plane_loss(run, data, running, flat), rel=1e-9)


def test_network_plane_random_directions(trained):
    run, data, running = trained
    grid = network_plane(run, data, "random", size=4, seed=3, path_points=6)
    rng = np.random.default_rng(3)
    basis = np.stack([filter_normalized(run, rng), filter_normalized(run, rng)])
    np.testing.assert_array_equal(grid.path_steps, np.unique(np.round(np.linspace(0, run.n_steps, 6)).astype(int)))
    check_plane(run, data, running, grid, basis)
    assert (grid.a_label, grid.b_label) == ("direction 1", "direction 2")
    assert ("evaluation mode" in grid.note) == bool(run.n_bn)


def test_network_plane_principal_directions(trained):
    run, data, running = trained
    grid = network_plane(run, data, "pca", size=4, path_points=7)
    offsets = run.params - run.params[-1]
    centred = offsets - offsets.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)            # the covariance's eigenvectors
    top = vectors[:, ::-1][:, :2].T
    # a principal direction is defined up to its sign: take the engine's
    coords = grid.path
    signs = np.sign([(coords[:, i] * (offsets[grid.path_steps] @ top[i])).sum() for i in range(2)])
    check_plane(run, data, running, grid, top * signs[:, None])
    share = values[::-1][:2].sum() / values.sum()
    assert f"({share:.0%} of its variance)" in grid.note
    assert grid.a_label == "PC 1" and np.allclose(grid.path[-1], 0.0, atol=1e-12)
    given = network_plane(run, data, "pca", size=3, states=np.array([0, 5, run.n_steps]))
    np.testing.assert_array_equal(given.path_steps, [0, 5, run.n_steps])
    with pytest.raises(ValueError, match="unknown directions 'sideways'"):
        network_plane(run, data, "sideways")


def test_plane_losses_on_some_rows(trained):
    run, data, running = trained
    flats = run.params[[0, run.n_steps // 2, run.n_steps]]
    rows = np.array([0, 5, 17, 200])
    X = plain.inputs(run, data, data.X_train)[rows]
    for flat, loss in zip(flats, plane_losses(run, data, flats, rows)):
        params = {name: flat[a:b].reshape(shape) for name, (a, b, shape) in run.param_slices.items()}
        logits, _ = plain.forward(run, params, X, plain.buffers_after(run, running, run.n_steps) or None)
        assert loss == pytest.approx(plain.bce(logits, data.y_train[rows]), rel=1e-10)
