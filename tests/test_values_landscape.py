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
        z = x @ w
        p = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0     # exp(700) is near the float limit
        g += (p - t) * x
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


def test_a_big_data_sets_surface_is_scored_on_evenly_spread_rows_and_says_so():
    """Past CONTOUR_WORK rows x grid points the surface uses evenly spread rows (the path and the
    optimum still use every row); the note names how many."""
    from bnviz.landscape import CONTOUR_MIN_ROWS, CONTOUR_WORK

    rng = np.random.default_rng(5)
    n, size = 3000, 41
    X = rng.normal(size=(n, 2)) * [1.0, 3.0]
    y = (X @ [1.0, -0.4] + rng.normal(size=n) > 0).astype(float)
    grid = logistic_contours(X, y, 0.5, 5, ("gpa", "iq"), size=size)
    used = max(CONTOUR_MIN_ROWS, int(CONTOUR_WORK // size**2))
    assert used < n
    rows = sorted({round(i * (n - 1) / (used - 1)) for i in range(used)})
    for i, j in ((0, 0), (7, 30), (40, 40), (20, 3)):
        w = np.array([grid.a[j], grid.b[i]])
        assert grid.loss[i, j] == pytest.approx(logistic_loss(w, X[rows], y[rows]), rel=1e-10)
    assert grid.path_loss[-1] == pytest.approx(logistic_loss(grid.path[-1], X, y), rel=1e-10)
    assert grid.note.endswith(f"; surface on {len(rows):,} of {n:,} training rows (evenly spread)")


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


def test_contours_of_a_diverging_descent_and_a_negative_optimum(data):
    """Raw features at a large rate: the path leaves every sensible range and stops; the frame is
    capped around the optimum. Flipped labels put the optimum at negative weights."""
    X = data.X_train - data.X_train.sum(axis=0) / len(data.X_train)
    for y in (data.y_train, 1 - data.y_train):
        grid = logistic_contours(X, y, 100.0, 200)
        assert grid.loss.shape == (61, 61)
        path = [np.zeros(2)]
        for _ in range(200):
            w = path[-1] - 100.0 * logistic_gradient(path[-1], X, y)
            if not np.all(np.isfinite(w)) or np.abs(w).max() > 1e6:
                break
            path.append(w)
        # a diverging walk magnifies rounding: compare its start, its length and where it stopped
        assert len(grid.path) == len(path)
        np.testing.assert_allclose(grid.path[:5], path[:5], rtol=1e-9, atol=1e-12)
        assert np.abs(grid.path[-1]).max() <= 1e6
        path = list(grid.path)
        points = np.array(path + [grid.optimum])
        centre = (points.max(axis=0) + points.min(axis=0)) / 2
        half = min(max((points.max(axis=0) - points.min(axis=0)).max() * 0.6, 1e-3),
                   4 * np.abs(grid.optimum).max() + 1)
        assert half == 4 * np.abs(grid.optimum).max() + 1        # the frame is capped: the path leaves it
        np.testing.assert_allclose([grid.a[0], grid.a[-1], grid.b[0], grid.b[-1]],
                                   [centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half],
                                   rtol=1e-12)
    assert np.all(grid.optimum < 0)


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


def make_trained(name, data):
    """A short run with or without BN, its data and its running statistics."""
    run = train(Config(epochs=2, bn=name == "bn"), data)
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


def check_network_plane_random_directions(trained):
    run, data, running = trained
    grid = network_plane(run, data, "random", size=4, seed=3, path_points=6)
    rng = np.random.default_rng(3)
    basis = np.stack([filter_normalized(run, rng), filter_normalized(run, rng)])
    np.testing.assert_array_equal(grid.path_steps, np.unique(np.round(np.linspace(0, run.n_steps, 6)).astype(int)))
    check_plane(run, data, running, grid, basis)
    assert (grid.a_label, grid.b_label) == ("direction 1", "direction 2")
    assert ("evaluation mode" in grid.note) == bool(run.n_bn)
    assert "spanned by two filter-normalized random directions" in grid.note


def check_network_plane_principal_directions(trained):
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
    assert (grid.a_label, grid.b_label) == ("PC 1", "PC 2") and np.allclose(grid.path[-1], 0.0, atol=1e-12)
    # given states: the principal directions of the path through them
    states = np.array([0, 5, 20, run.n_steps])
    given = network_plane(run, data, "pca", size=3, states=states)
    np.testing.assert_array_equal(given.path_steps, states)
    picked = offsets[states] - offsets[states].mean(axis=0)
    values, vectors = np.linalg.eigh(picked.T @ picked)
    top = vectors[:, ::-1][:, :2].T
    signs = np.sign([(given.path[:, i] * (offsets[states] @ top[i])).sum() for i in range(2)])
    check_plane(run, data, running, given, top * signs[:, None])
    # one state has no principal directions: the plane of the first two parameters
    alone = network_plane(run, data, "pca", size=3, states=np.array([run.n_steps // 2]))
    check_plane(run, data, running, alone, np.eye(2, run.params.shape[1]))
    with pytest.raises(ValueError, match="unknown directions 'sideways'"):
        network_plane(run, data, "sideways")


def check_plane_losses_on_some_rows(trained):
    run, data, running = trained
    flats = run.params[[0, run.n_steps // 2, run.n_steps]]
    rows = np.array([0, 5, 17, 200])
    X = plain.inputs(run, data, data.X_train)[rows]
    for flat, loss in zip(flats, plane_losses(run, data, flats, rows)):
        params = {name: flat[a:b].reshape(shape) for name, (a, b, shape) in run.param_slices.items()}
        logits, _ = plain.forward(run, params, X, plain.buffers_after(run, running, run.n_steps) or None)
        assert loss == pytest.approx(plain.bce(logits, data.y_train[rows]), rel=1e-10)


@pytest.mark.parametrize("name", ["bn", "plain"])
def test_every_plane_of_a_network(name, data):
    """Every plane check above on one run, trained inside the test."""
    trained = make_trained(name, data)
    check_network_plane_random_directions(trained)
    check_network_plane_principal_directions(trained)
    check_plane_losses_on_some_rows(trained)


def test_plane_defaults_and_a_path_shorter_than_one(data):
    """150 path points by default; a path whose variance is far below 1 still reports its true share."""
    run = train(Config(epochs=1, lr=1e-4), data)
    grid = network_plane(run, data, "pca", size=3)
    assert len(grid.path_steps) == run.n_steps + 1 == 33
    offsets = run.params - run.params[-1]
    centred = offsets - offsets.mean(axis=0)
    values = np.linalg.eigvalsh(centred.T @ centred)[::-1]
    assert values.sum() < 1e-3
    assert f"({values[:2].sum() / values.sum():.0%} of its variance)" in grid.note
    longer = network_plane(train(Config(epochs=5), data), data, "random", size=2)
    assert len(longer.path_steps) == 150 and longer.loss.shape == (2, 2)
    assert network_plane(run, data, "random").loss.shape == (41, 41)


def test_input_scaling_defaults(data):
    scaling = input_scaling(data)
    for grid in (scaling.raw, scaling.standardized):
        assert grid.loss.shape == (61, 61) and len(grid.path) == 101
        assert grid.note.endswith("100 steps of gradient descent at lr 0.03")


def test_a_big_network_on_many_rows_is_scored_on_evenly_spread_rows(data):
    """Past the work budget the plane is scored on fewer rows, evenly spread, and the note says how many."""
    from bnviz import load_for
    from bnviz.budget import plane_sampling

    cfg = Config(dataset="moons", data_size=1400, epochs=1, batch_size=280, hidden=(16, 16))
    big = load_for(cfg)
    run = train(cfg, big)
    n_rows = len(big.y_train)
    size, used = plane_sampling(n_rows, run.params.shape[1], 41, 4)
    assert used < n_rows
    grid = network_plane(run, big, "random", size=41, path_points=4)
    assert len(grid.a) == size
    rows = sorted({int(np.round(i * (n_rows - 1) / (used - 1))) for i in range(used)})
    assert f"; loss on {len(rows):,} of {n_rows:,} training rows (evenly spread)" in grid.note
    running = plain.running_statistics(run, big)
    X = plain.inputs(run, big, big.X_train)[rows]
    rng = np.random.default_rng(0)
    basis = np.stack([filter_normalized(run, rng), filter_normalized(run, rng)])
    for i, j in ((0, 0), (2, 3), (size - 1, size - 1)):
        flat = run.params[-1] + grid.a[j] * basis[0] + grid.b[i] * basis[1]
        params = {name: flat[a:b].reshape(shape) for name, (a, b, shape) in run.param_slices.items()}
        logits, _ = plain.forward(run, params, X, plain.buffers_after(run, running, run.n_steps))
        assert grid.loss[i, j] == pytest.approx(plain.bce(logits, big.y_train[rows]), rel=1e-9)
    assert len(grid.path_loss) == len(grid.path_steps) == 4
    plain_net = train(cfg.replace(bn=False), big)
    assert plain_net.population_mean == [] and plain_net.population_var == []
