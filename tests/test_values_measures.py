"""The lessons' measurements by value, on tiny experiments: every number recomputed by hand from single
trainings (tests/plain.py), one seed, step and row at a time, and the small formulas on made-up numbers."""
import math

import numpy as np
import pytest

import plain
from bnviz import Config, load_for, train
from bnviz import measures as M

# 40 points, 32 of them training rows (batches of 10, 10, 10 and 2), one hidden layer of 2
TINY = Config(dataset="moons", data_size=40, hidden=(2,), epochs=3)
SEEDS = (0, 1)


def trained(cfg):
    """A single training and its data (what a link with this Config opens)."""
    data = load_for(cfg)
    return train(cfg, data), data


def plain_learn_bar(data):
    """Halfway from chance to a logistic regression with intercept (Newton's method), by hand."""
    y = data.y_train
    chance = max(y.mean(), 1 - y.mean())
    X = (data.X_train - data.X_train.mean(0)) / data.X_train.std(0)
    Z = np.column_stack([np.ones(len(X)), X])
    w = np.zeros(Z.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-Z @ w))
        H = (Z * (p * (1 - p))[:, None]).T @ Z / len(y) + 1e-6 * np.eye(Z.shape[1])
        w -= np.linalg.solve(H, Z.T @ (p - y) / len(y) + 1e-6 * w)
    logistic = ((Z @ w > 0) == (y > 0.5)).mean()
    return (chance + max(logistic, chance)) / 2


def final_eval(run, data, split="train"):
    """(loss, accuracy) in evaluation mode at the end (running averages recomputed by hand)."""
    X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
    buffers = None
    if run.arch.bn:
        buffers = plain.buffers_after(run, plain.running_statistics(run, data), run.n_steps)
    logits, _ = plain.forward(run, plain.params_at(run, run.n_steps), plain.inputs(run, data, X), buffers)
    return plain.loss(logits, y), plain.accuracy(logits, y)


def layer_norm(run, W, name):
    a, b, _ = run.param_slices[name]
    return np.sqrt(np.sum(W[a:b] ** 2))


# ------------------------------------------------------------------ words and small formulas


def test_seed_lists_at_their_bounds():
    assert M.seed_list(np.array([3, 0])) == [3, 0] and type(M.seed_list([2.0])[0]) is int
    assert M.seed_list(range(30)) == list(range(30))
    for seeds, words in (([], "measure over at least one seed"),
                         (range(31), "measure over at most 30 seeds at once, not 31"),
                         ([0, -1], "seeds are whole numbers from 0")):
        with pytest.raises(ValueError) as error:
            M.seed_list(seeds)
        assert str(error.value) == words


def test_seed_text():
    assert M.seed_text([]) == "no seed"
    assert M.seed_text([4]) == "seed 4"
    assert M.seed_text(range(2)) == "seeds 0 and 1"
    assert M.seed_text([5, 6, 7]) == "seeds 5, 6 and 7"


@pytest.mark.parametrize("x, text", [
    (float("nan"), "n/a"), (float("inf"), "∞"), (-float("inf"), "−∞"), (0.0, "0"), (-0.0, "0"),
    (1.0, "1"), (7.0, "7"), (-12.0, "-12"), (999_999.0, "999,999"), (1234.0, "1,234"), (-1000.0, "-1,000"), (999.0, "999"), (1e6, "1,000,000"), (2_500_000.4, "2,500,000"),
    (1234.6, "1,235"), (-1000.2, "-1,000"), (1000.5, "1,000"), (999.4, "999"), (999.5, "1,000"),
    (-999.7, "-1,000"), (12.345, "12.3"), (0.5, "0.5"), (0.01, "0.01"), (-0.0123, "-0.0123"),
    (0.00999, "0.01"), (0.0042, "0.0042"), (1e-4, "0.0001"), (-0.00031, "-0.00031"),
    (9.9e-5, "9.9e-05"), (1.23e-7, "1.2e-07"), (3, "3"),
])
def test_numbers_as_the_sentences_print_them(x, text):
    assert M.fmt(x) == text


def test_the_spread_of_a_batch_mean():
    assert M.sampling_spread(4, 10) == math.sqrt(6 / 36)
    assert M.sampling_spread(1, 10) == 1.0
    assert M.sampling_spread(10, 10) == 0.0 and M.sampling_spread(12, 10) == 0.0


def test_the_noise_an_ewma_of_batch_statistics_keeps():
    shrink = math.sqrt(0.1 / 1.9)
    assert M.ewma_noise(4, 10, 0.9) == pytest.approx((math.sqrt(6 / 36) * shrink, math.sqrt(2 / 3) * shrink),
                                                     rel=1e-15)
    assert M.ewma_noise(2, 10, 0.9)[1] == pytest.approx(math.sqrt(2) * shrink, rel=1e-15)
    assert M.ewma_noise(1, 10, 0.5) == pytest.approx((math.sqrt(1 / 3), math.sqrt(2 / 3)), rel=1e-15)


# ------------------------------------------------------------------ claim 1


@pytest.mark.parametrize("base", [Config(seed=7), Config(dataset="moons", data_size=60, data_noise=0.6,
                                                           test_fraction=0.3, seed=7)])
def test_input_scaling_curvatures_by_hand(base):
    measured = M.input_scaling(SEEDS, base)
    for i, seed in enumerate(SEEDS):
        data = load_for(base.replace(seed=seed))
        for name, X in (("raw", data.X_train - data.X_train.mean(0)),
                        ("std", (data.X_train - data.X_train.mean(0)) / data.X_train.std(0))):
            y = data.y_train
            w = np.zeros(2)
            for _ in range(60):
                p = 1 / (1 + np.exp(-X @ w))
                H = (X * (p * (1 - p))[:, None]).T @ X / len(X)
                w -= np.linalg.solve(H + 1e-12 * np.eye(2), X.T @ (p - y) / len(X))
            p = 1 / (1 + np.exp(-X @ w))
            H = (X * (p * (1 - p))[:, None]).T @ X / len(X)
            mean, det = (H[0, 0] + H[1, 1]) / 2, H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]
            low, high = mean - math.sqrt(mean * mean - det), mean + math.sqrt(mean * mean - det)
            assert measured[f"elongation_{name}"][i] == pytest.approx(math.sqrt(high / low), rel=1e-6)
            assert measured[f"lr_limit_{name}"][i] == pytest.approx(2 / high, rel=1e-6)


# ------------------------------------------------------------------ claims 2 and 3


def test_a_learning_rate_sweep_is_single_trainings_against_the_bar():
    grid = [0.05, 1.5, 30.0]
    m = M.learning_rate_sweep(SEEDS, TINY, grid)
    np.testing.assert_array_equal(m["grid"], grid)
    assert m["probe_lr"] == 1.5                                   # the rate nearest 2
    learned_any = set()
    for bn in (True, False):
        for i, seed in enumerate(SEEDS):
            for j, lr in enumerate(grid):
                run, data = trained(TINY.replace(bn=bn, seed=seed, lr=lr))
                acc = run.epoch_metrics["train_acc_eval"][-1] if run.diverged_at is None else np.nan
                np.testing.assert_equal(m["acc"][bn][i, j], acc)
                assert m["learned"][bn][i, j] == (acc >= plain_learn_bar(data) - 1e-12)
                learned_any.add(bool(m["learned"][bn][i, j]))
            row = [lr for lr, ok in zip(grid, m["learned"][bn][i]) if ok]
            assert m["best_lr"][bn][i] == (max(row) if row else 0.0)
        np.testing.assert_array_equal(m["at_probe"][bn], m["learned"][bn][:, 1])
    assert learned_any == {True, False}


def test_the_probe_is_the_rate_nearest_two():
    m = M.learning_rate_sweep([0], TINY.replace(epochs=1), [0.5, 1.0, 3.5, 8.0])
    assert m["probe_lr"] == 1.0                                   # 1 from 2, against 1.5 from 2
    np.testing.assert_array_equal(m["at_probe"][True], m["learned"][True][:, 1])
    assert m["best_lr"][True].shape == (1,)


def test_an_init_scale_sweep_is_single_trainings_against_the_bar():
    grid = [0.01, 1.0, 100.0]
    m = M.init_scale_sweep(SEEDS, TINY, grid)
    np.testing.assert_array_equal(m["grid"], grid)
    for bn in (True, False):
        for i, seed in enumerate(SEEDS):
            for j, scale in enumerate(grid):
                run, data = trained(TINY.replace(bn=bn, seed=seed, init_scale=scale))
                acc = run.epoch_metrics["train_acc_eval"][-1]
                assert m["acc"][bn][i, j] == acc
                assert m["learned"][bn][i, j] == (acc >= plain_learn_bar(data) - 1e-12)


def test_epochs_to_learn_by_hand():
    """The first step after which the last epoch's worth of mini-batches, taken together, is classified
    past the bar (in training mode, before each step's update), in epochs; NaN if none is."""
    cfg = TINY.replace(epochs=4, lr=0.2, bn=False)
    m = M.epochs_to_learn(range(4), cfg)
    assert m["lr"] == 0.2
    found = []
    for bn in (True, False):
        for i, seed in enumerate(range(4)):
            run, data = trained(cfg.replace(bn=bn, seed=seed))
            X, bar, spe = plain.inputs(run, data, data.X_train), plain_learn_bar(data), len(run.bounds)
            right, sizes, when = [], [], np.nan
            for s in range(run.n_steps):
                rows = plain.batch_rows(run, s)
                logits, _ = plain.forward(run, plain.params_at(run, s), X[rows])
                right.append(plain.accuracy(logits, data.y_train[rows]) * len(rows))
                sizes.append(len(rows))
                if s + 1 >= spe and sum(right[-spe:]) / sum(sizes[:spe]) >= bar - 1e-12:
                    when = (s + 1) / spe
                    break
            np.testing.assert_allclose(m["epochs"][bn][i], when, rtol=1e-12)
            found.append(when)
    assert np.isnan(found[0]) and np.isnan(found[4]) and 1.0 in found and 1.25 in found
    assert m["epochs"][True][2] != m["epochs"][False][2]


# ------------------------------------------------------------------ claim 4


def test_batch_noise_by_hand():
    sizes = (4, 16, None)
    m = M.batch_noise(SEEDS, sizes, epochs=2, base=TINY)
    np.testing.assert_array_equal(m["batch_sizes"], [4, 16, 32])
    np.testing.assert_array_equal(m["theory"], [math.sqrt(28 / 124), math.sqrt(16 / 496), 0.0])
    assert (m["epochs"], m["train_rows"], m["test_rows"]) == (2, 32, 8)
    for j, size in enumerate((4, 16, 32)):
        for i, seed in enumerate(SEEDS):
            for bn in (True, False):
                run, data = trained(TINY.replace(bn=bn, batch_size=size, epochs=2, seed=seed))
                loss, train_acc = final_eval(run, data)
                _, test_acc = final_eval(run, data, "test")
                assert m["test_acc"][bn][i, j] == pytest.approx(test_acc, abs=1e-12)
                assert m["acc_gap"][bn][i, j] == pytest.approx(train_acc - test_acc, abs=1e-12)
            # BN on: the first layer's batch means over the last epoch against the exact spread
            X, y, spe, S = plain.inputs(run, data, data.X_train), data.y_train, len(run.bounds), run.n_steps
            run, data = trained(TINY.replace(batch_size=size, epochs=2, seed=seed))
            means = np.array([plain.forward(run, plain.params_at(run, s), X[plain.batch_rows(run, s)])[1][0]["mean"]
                              for s in range(S - spe, S)])
            final = plain.params_at(run, S)
            logits, layers = plain.forward(run, final, X)
            spread = np.mean(np.sqrt(((means - means.mean(0)) ** 2).mean(0)) / np.sqrt(layers[0]["var"]))
            assert m["mu_spread"][i, j] == pytest.approx(spread, rel=1e-9, abs=1e-15)
            # the training-mode loss of the last epoch's full batches at the final weights, minus all rows' loss
            full = [(a, b) for a, b in run.bounds if b - a == run.bounds[0][1] - run.bounds[0][0]]
            order = run.orders[(S - 1) // spe]
            batch_losses = [plain.loss(plain.forward(run, final, X[order[a:b]])[0], y[order[a:b]]) for a, b in full]
            assert m["mode_gap"][i, j] == pytest.approx(np.mean(batch_losses) - plain.loss(logits, y), abs=1e-12)
    assert m["mu_spread"][:, 2].tolist() == [0.0, 0.0]


def logits_of(run, params, X, buffers=None):
    """The network's logits on rows X; layer norm written out here (each row over its own units)."""
    if run.arch.norm != "layer":
        return plain.forward(run, params, X, buffers)[0]
    a = X
    for k in range(1, len(run.arch.hidden) + 1):
        z = a @ params[f"W{k}"] + params[f"b{k}"]
        x = z if run.arch.bn_position == "before" else plain.activation(z, run.arch.activation)
        mean = x.mean(axis=1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
        normed = params[f"gamma{k}"] * (x - mean) / np.sqrt(var + run.arch.eps) + params[f"beta{k}"]
        a = plain.activation(normed, run.arch.activation) if run.arch.bn_position == "before" else normed
    logits = a @ params[f"W{k + 1}"] + params[f"b{k + 1}"]
    return logits if logits.shape[1] > 1 else logits[:, 0]


def test_batch_noise_reads_the_rows_of_its_first_seed():
    m = M.batch_noise([3], (8, None), epochs=1, base=TINY.replace(test_fraction=0.25))
    assert (m["train_rows"], m["test_rows"]) == (30, 10) and m["batch_sizes"].tolist() == [8, 30]
    assert m["mu_spread"].shape == (1, 2) and m["acc_gap"][False].shape == (1, 2)


def eval_losses(run, data):
    """The evaluation-mode training loss at each epoch end, by hand."""
    X = plain.inputs(run, data, data.X_train)
    running = plain.running_statistics(run, data) if run.arch.bn else None
    out = []
    for state in range(0, run.n_steps + 1, len(run.bounds)):
        buffers = plain.buffers_after(run, running, state) if running else None
        out.append(plain.loss(logits_of(run, plain.params_at(run, state), X, buffers), data.y_train))
    return out


def test_batch_dependence_by_hand():
    base = TINY.replace(epochs=4)
    m = M.batch_dependence(SEEDS, base, sizes=(2, 8, 64))
    np.testing.assert_array_equal(m["batch_sizes"], [2, 8, 32])
    assert (m["epochs"], m["train_rows"], m["test_rows"]) == (4, 32, 8)
    for norm in ("batch", "layer", "none"):
        for j, size in enumerate((2, 8, 32)):
            for i, seed in enumerate(SEEDS):
                run, data = trained(base.replace(norm=norm, batch_size=size, seed=seed))
                assert m["test_acc"][norm][i, j] == run.epoch_metrics["test_acc_eval"][-1]
                half = eval_losses(run, data)[2:]                     # epoch ends 2, 3 and 4
                jumps = [half[1] - half[0], half[2] - half[1]]
                noise = math.sqrt(((jumps[0] - jumps[1]) / 2) ** 2) / math.sqrt(2)
                assert m["loss_noise"][norm][i, j] == pytest.approx(noise, rel=1e-6, abs=1e-12)
                if j == 0:                                            # batches of 2: each row alone and together
                    X = plain.inputs(run, data, data.X_train)
                    final = plain.params_at(run, run.n_steps)
                    together = logits_of(run, final, X)
                    alone = np.array([logits_of(run, final, X[r:r + 1])[0] for r in range(len(X))])
                    change = np.abs(together - alone).max() / max(np.abs(together).max(), 1.0)
                    assert m["row_change"][norm][i] == pytest.approx(change, rel=1e-9, abs=1e-15)
    assert m["row_change"]["none"].tolist() == [0.0, 0.0] and (m["row_change"]["batch"] > 0.01).all()


def test_the_row_change_of_a_softmax_output_reads_every_class():
    """The digits, ten logits a row: a row's change is its largest over the classes."""
    base = Config(dataset="digits", hidden=(4,), epochs=1)
    m = M.batch_dependence([0], base, sizes=(64,))
    for norm in ("batch", "layer"):
        run, data = trained(base.replace(norm=norm, batch_size=64))
        X = plain.inputs(run, data, data.X_train)
        final = plain.params_at(run, run.n_steps)
        together = logits_of(run, final, X)
        alone = np.array([logits_of(run, final, X[r:r + 1])[0] for r in range(len(X))])
        assert together.shape == alone.shape == (len(X), 10)
        change = np.abs(together - alone).max() / max(np.abs(together).max(), 1.0)
        assert m["row_change"][norm][0] == pytest.approx(change, rel=1e-9, abs=1e-15)
    assert m["row_change"]["batch"][0] > 0.01


def test_loss_noise_needs_three_epoch_ends_in_the_second_half():
    """Two epochs: the second half holds epoch ends 1 and 2, one jump and no spread of jumps: 0."""
    m = M.batch_dependence([0], TINY.replace(epochs=2), sizes=(4,))
    for norm in ("batch", "layer", "none"):
        assert m["loss_noise"][norm].tolist() == [[0.0]]


# ------------------------------------------------------------------ claim 5


@pytest.mark.parametrize("given", [dict(bn=False, bn_position="after", keep_bias=True, bias_init=0.4),
                                   dict(keep_bias=False)])
def test_bias_before_bn_by_hand(given):
    """Whatever the base says of BN and the bias, a kept bias started at 1 against none, BN before."""
    base = TINY.replace(hidden=(3, 2), epochs=2)
    m = M.bias_before_bn(SEEDS, base.replace(**given))
    assert m["bias_init"] == 1.0
    for i, seed in enumerate(SEEDS):
        kept, data = trained(base.replace(seed=seed, bn=True, keep_bias=True, bias_init=1.0))
        plain_run, _ = trained(base.replace(seed=seed, bn=True, keep_bias=False, bias_init=0.0))
        ratio = 0.0
        for g in kept.grads:
            for k in (1, 2):
                a, b, _ = kept.param_slices[f"b{k}"]
                c, d, _ = kept.param_slices[f"W{k}"]
                ratio = max(ratio, np.abs(g[a:b]).max() / max(np.abs(g[c:d]).max(), 1e-300))
        assert m["grad_ratio"][i] == pytest.approx(ratio, rel=1e-9, abs=1e-300)
        X = plain.inputs(kept, data, data.X_train)
        start = [plain.forward(r, plain.params_at(r, 0), X)[0] for r in (kept, plain_run)]
        assert m["train_output_diff"][i] == pytest.approx(np.abs(start[0] - start[1]).max(), abs=1e-15)
        assert m["loss_path_diff"][i] == pytest.approx(np.abs(kept.train_loss - plain_run.train_loss).max(),
                                                       rel=1e-9, abs=1e-15)
        shifts = []
        running = [plain.running_statistics(r, data) for r in (kept, plain_run)]
        for state in range(len(kept.bounds), kept.n_steps + 1, len(kept.bounds)):
            logits = [plain.forward(r, plain.params_at(r, state), X, plain.buffers_after(r, run_avg, state))[0]
                      for r, run_avg in zip((kept, plain_run), running)]
            shifts.append(np.abs(logits[0] - logits[1]).max())
        np.testing.assert_allclose(m["eval_shift"][i], shifts, rtol=1e-7, atol=1e-12)
    assert (m["eval_shift"] > 1e-3).all() and m["eval_shift"].shape == (2, 2)
    assert m["grad_ratio"].shape == m["train_output_diff"].shape == m["loss_path_diff"].shape == (2,)


# ------------------------------------------------------------------ claim 6


@pytest.mark.parametrize("position", ["after", "before"])
def test_gamma_and_beta_undo_the_normalization_by_hand(position):
    cfg = TINY.replace(hidden=(3, 2), bn_position=position, batch_size=50)
    m = M.gamma_beta_identity(SEEDS, cfg)
    assert m["batch_size"] == 32                                  # the whole training set
    for i, seed in enumerate(SEEDS):
        run, data = trained(cfg.replace(seed=seed, epochs=1))
        X = plain.inputs(run, data, data.X_train)
        _, layers = plain.forward(run, run.initial_params, X[plain.batch_rows(run, 0)])
        worst = 0.0
        for layer in layers:
            x, mean, var = layer["bn_in"], layer["mean"], layer["var"]
            back = np.sqrt(var + run.arch.eps) * (x - mean) / np.sqrt(var + run.arch.eps) + mean
            worst = max(worst, np.abs(back - x).max() / np.abs(x).max())
        assert m["error"][i] == pytest.approx(worst, abs=1e-15)
        assert 0 < m["error"][i] < 1e-14


def test_gamma_and_beta_on_the_digits():
    """Sixty-four inputs a row: the identity holds there too (the network is built for them)."""
    m = M.gamma_beta_identity([0], Config(dataset="digits", hidden=(4,)))
    assert m["batch_size"] == 10 and 0 < m["error"][0] < 1e-14


# ------------------------------------------------------------------ claim 7


@pytest.mark.parametrize("momentum, settled", [(0.5, {1, 2}), (0.99, {np.nan})])
def test_running_averages_by_hand(momentum, settled):
    """The last BN layer's running statistics against its exact ones at each epoch end; the epoch from
    which the mean stays within tolerance (NaN: not even at the end)."""
    base = TINY.replace(hidden=(2, 3), bn_momentum=momentum, epochs=4)
    m = M.running_averages(SEEDS, base.replace(bn=False))
    shrink = math.sqrt((1 - momentum) / (1 + momentum))
    assert m["tolerance"] == pytest.approx(3 * math.sqrt(22 / 310) * shrink, rel=1e-15)
    assert m["var_tolerance"] == pytest.approx(3 * math.sqrt(2 / 9) * shrink, rel=1e-15)
    assert (m["batch_size"], m["layer"], m["running_var"]) == (10, 2, "biased")
    found = set()
    for rule in M.RUNNING_RULES:
        for i, seed in enumerate(SEEDS):
            run, data = trained(base.replace(seed=seed, running_avg=rule))
            X = plain.inputs(run, data, data.X_train)
            running = plain.running_statistics(run, data)
            gaps = []
            for state in range(len(run.bounds), run.n_steps + 1, len(run.bounds)):
                exact = plain.forward(run, plain.params_at(run, state), X)[1][1]
                mean, var = plain.buffers_after(run, running, state)[2]
                gaps.append(np.max(np.abs(mean - exact["mean"]) / np.sqrt(exact["var"])))
            error = (var - exact["var"]) / exact["var"]
            assert m[rule]["mean_gap"][i] == pytest.approx(gaps[-1], rel=1e-7)
            assert m[rule]["var_gap"][i] == pytest.approx(np.abs(error).max(), rel=1e-7)
            assert m[rule]["var_error"][i] == pytest.approx(np.median(error), rel=1e-7)
            good = [g < m["tolerance"] for g in gaps]
            first = next((e + 1 for e in range(len(good)) if all(good[e:])), np.nan)
            np.testing.assert_equal(m[rule]["settled_epoch"][i], first)
            found.add(first if first == first else "nan")
    assert found >= {"nan" if s != s else s for s in settled}


def test_the_unbiased_running_variance_is_named():
    m = M.running_averages([0], TINY.replace(epochs=1, running_var="unbiased", batch_size=64))
    assert m["running_var"] == "unbiased" and m["batch_size"] == 32 and m["tolerance"] == 0.0


# ------------------------------------------------------------------ claims 8 and 9


def drift_by_hand(run, data, noise=None):
    """How far the last hidden layer's activation input moves over the epoch ends, by hand."""
    X = plain.inputs(run, data, data.X_train)
    seen = []
    for state in range(0, run.n_steps + 1, len(run.bounds)):
        step_noise = None if noise is None else noise(min(state, run.n_steps - 1))
        layer = plain.forward(run, plain.params_at(run, state), X, noise=step_noise)[1][-1]
        seen.append(layer["bn"] if run.arch.bn and run.arch.bn_position == "before" else layer["z"])
    out = []
    for u in range(seen[0].shape[1]):
        p = [[plain.percentile(s[:, u], q) for q in (15, 50, 85)] for s in seen]
        path = sum(abs(p[t + 1][i] - p[t][i]) for t in range(len(p) - 1) for i in range(3)) / 3
        out.append(path / max(p[-1][2] - p[-1][0], 1e-9))
    return sum(out) / len(out)


def test_covariate_shift_by_hand():
    cfg = TINY.replace(hidden=(2, 3), activation="sigmoid")
    m = M.covariate_shift(SEEDS, cfg)
    for bn in (True, False):
        for i, seed in enumerate(SEEDS):
            run, data = trained(cfg.replace(bn=bn, seed=seed))
            assert m["drift"][bn][i] == pytest.approx(drift_by_hand(run, data), rel=1e-9)
            assert m["test_acc"][bn][i] == run.epoch_metrics["test_acc_eval"][-1]


def test_bn_position_by_hand():
    base = TINY.replace(lr=0.5)
    m = M.bn_position(SEEDS, base.replace(bn=False))
    for position in ("before", "after"):
        for i, seed in enumerate(SEEDS):
            run, data = trained(base.replace(bn=True, bn_position=position, seed=seed))
            acc, bar = run.epoch_metrics["train_acc_eval"][-1], plain_learn_bar(data)
            assert m["acc"][position][i] == acc
            assert m["learned"][position][i] == (acc >= bar - 1e-12)
            assert m["margin"][position][i] == pytest.approx(acc - bar, abs=1e-15)


# ------------------------------------------------------------------ claim 10


def test_gradient_flow_by_hand():
    cfg = TINY.replace(hidden=(3, 3, 3), activation="sigmoid", epochs=6, lr=1.0)
    m = M.gradient_flow(SEEDS, cfg)
    assert m["learned"][False].tolist() == [False, True]
    assert m["depth"] == 3
    for bn in (True, False):
        for i, seed in enumerate(SEEDS):
            run, data = trained(cfg.replace(bn=bn, seed=seed))
            ratios = [layer_norm(run, g, "W4") / layer_norm(run, g, "W1") for g in run.grads[:len(run.bounds)]]
            assert m["ratio"][bn][i] == pytest.approx(np.median(ratios), rel=1e-9)
            assert m["learned"][bn][i] == (run.epoch_metrics["train_acc_eval"][-1] >= plain_learn_bar(data) - 1e-12)


def test_gradient_growth_by_hand():
    cfg = TINY.replace(hidden=(3, 3), init_scale=0.5, epochs=2)
    m = M.gradient_growth(SEEDS, cfg.replace(activation="tanh"), scale=20.0)
    assert m["scale"] == 10.0 and m["depth"] == 2
    for bn in (True, False):
        for i, seed in enumerate(SEEDS):
            run, data = trained(cfg.replace(activation="relu", init_scale=10.0, bn=bn, seed=seed))
            first = max(layer_norm(run, g, "W1") for g in run.grads[:len(run.bounds)])
            last = max(layer_norm(run, g, "W3") for g in run.grads[:len(run.bounds)])
            assert m["first"][bn][i] == pytest.approx(first, rel=1e-9)
            assert m["last"][bn][i] == pytest.approx(last, rel=1e-9)
            assert m["learned"][bn][i] == (run.epoch_metrics["train_acc_eval"][-1] >= plain_learn_bar(data) - 1e-12)
    assert M.gradient_growth([0], cfg.replace(init_scale=900.0, epochs=1), scale=20.0)["scale"] == 1e4


def test_a_gradient_that_overflows_counts_as_infinite():
    """Eight ReLU layers of 50 started 10,000 times too large on raw inputs diverge at step 2 of 4: the
    largest gradient of the first epoch is infinite, never NaN, though steps 0 and 1 had finite ones."""
    cfg = Config(dataset="moons", data_size=40, hidden=(50,) * 8, standardize=False, epochs=1, lr=1.0)
    m = M.gradient_growth([0], cfg, scale=1e4)
    run, _ = trained(cfg.replace(activation="relu", init_scale=1e4, bn=False))
    assert run.diverged_at == 2 and np.isfinite(run.grads[:2]).all()
    assert m["first"][False].tolist() == [np.inf] and m["last"][False].tolist() == [np.inf]
    assert m["learned"][False].tolist() == [False]


# ------------------------------------------------------------------ claim 11


def test_optimizers_by_hand():
    m = M.optimizers(SEEDS, TINY.replace(bn=False))
    assert m["lr"] == {"sgd": 0.1, "momentum": 0.1, "rmsprop": 0.01, "adam": 0.01}
    for name, lr in m["lr"].items():
        for i, seed in enumerate(SEEDS):
            run, data = trained(TINY.replace(bn=True, optimizer=name, lr=lr, seed=seed))
            acc, bar = run.epoch_metrics["train_acc_eval"][-1], plain_learn_bar(data)
            assert m["acc"][name][i] == acc
            assert m["learned"][name][i] == (acc >= bar - 1e-12)
            assert m["margin"][name][i] == pytest.approx(acc - bar, abs=1e-15)


# ------------------------------------------------------------------ Santurkar et al.


@pytest.mark.parametrize("given", [dict(bn=False, bn_noise=0.2), dict(bn=True)])
def test_noisy_bn_by_hand(given):
    """Whatever the base says of BN: plain BN, noisy BN and no BN."""
    from bnviz.smoothness import along_gradient

    base = TINY.replace(hidden=(2, 2), lr=0.5, epochs=5)
    m = M.noisy_bn(SEEDS, noise=0.3, base=base.replace(**given))
    assert m["learned"]["noisy"].tolist() == [False, True] and m["learned"]["plain"].tolist() == [True, False]
    assert m["noise"] == 0.3
    settings = {"bn": base.replace(bn=True, bn_noise=0.0), "noisy": base.replace(bn=True, bn_noise=0.3),
                "plain": base.replace(bn=False, bn_noise=0.0)}
    for name, cfg in settings.items():
        runs = [trained(cfg.replace(seed=seed)) for seed in SEEDS]
        for i, (run, data) in enumerate(runs):
            acc, bar = run.epoch_metrics["train_acc_eval"][-1], plain_learn_bar(data)
            assert m["learned"][name][i] == (acc >= bar - 1e-12)
            assert m["margin"][name][i] == pytest.approx(acc - bar, abs=1e-15)
            noise = noise_of(run) if cfg.bn_noise else None
            assert m["drift"][name][i] == pytest.approx(drift_by_hand(run, data, noise), rel=1e-9)
        from bnviz.overseeds import over_seeds
        smooth = along_gradient(over_seeds(cfg, SEEDS)[0].history)
        for what in ("loss_variation", "grad_change", "beta_smoothness"):
            np.testing.assert_array_equal(m[what][name], getattr(smooth, what))


def noise_of(run):
    """Noisy BN's (scale, shift) per BN layer (1-based) at a step, drawn by hand as bnviz.nn draws them:
    the fifth child of the seed's SeedSequence, per step and layer exp(size n) for the scales, then
    size n for the shifts."""
    cfg = run.config
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed).spawn(5)[4])
    normal = rng.standard_normal((run.n_steps, 2 * sum(cfg.hidden)))

    def at(step):
        out, start = {}, 0
        for k, units in enumerate(cfg.hidden, start=1):
            out[k] = (np.exp(cfg.bn_noise * normal[step, start:start + units]),
                      cfg.bn_noise * normal[step, start + units:start + 2 * units])
            start += 2 * units
        return out

    return at


# ------------------------------------------------------------------ the worked example


def test_the_worked_example_by_hand():
    cfg = M.WORKED.replace(epochs=40)
    m = M.worked_example([2, 0, 1], cfg)
    data = load_for(cfg)
    gpa, iq = data.X_train[:, 0], data.X_train[:, 1]
    r = ((gpa - gpa.mean()) * (iq - iq.mean())).sum() / math.sqrt(((gpa - gpa.mean()) ** 2).sum()
                                                                  * ((iq - iq.mean()) ** 2).sum())
    assert m["correlation"] == pytest.approx(r, rel=1e-12)
    assert m["momentum"] == 0.9 and m["seed_shown"] == 2
    assert m["learned"].tolist() == [False, True, False]          # seed 2: every row in its batch, not alone
    for i, seed in enumerate((2, 0, 1)):
        run, data = trained(cfg.replace(seed=seed))
        X = plain.inputs(run, data, data.X_train)
        params = plain.params_at(run, run.n_steps)
        batch_logits = plain.forward(run, params, X)[0]
        eval_acc = final_eval(run, data)[1]
        assert m["acc_batch"][i] == plain.accuracy(batch_logits, data.y_train)
        assert m["acc_eval"][i] == eval_acc
        assert m["learned"][i] == (plain.accuracy(batch_logits, data.y_train) >= 1.0 and eval_acc >= 1.0)
        if i == 0:
            z = X[plain.batch_rows(run, 0)] @ run.initial_params["W1"]
            assert m["mu_B"] == pytest.approx(z[:, 0].mean(), rel=1e-12)
            assert m["var_B"] == pytest.approx(z[:, 0].var(), rel=1e-12)
