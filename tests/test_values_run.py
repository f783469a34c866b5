"""Every number a Run records, checked by value against plain step-by-step recomputations (tests/plain.py)."""
import numpy as np
import pytest

import plain
from bnviz import Config, train
from bnviz.tables import step_table

CONFIGS = {
    "default": Config(epochs=3),
    "after-tanh-unbiased": Config(epochs=3, bn_position="after", activation="tanh", running_var="unbiased",
                                  hidden=(4, 3, 2), optimizer="momentum"),
    "cumulative-bias-odd-batches": Config(epochs=2, running_avg="cumulative", keep_bias=True, batch_size=29,
                                          bn_momentum=0.9, standardize=False, lr=0.01),
    "no-bn": Config(epochs=3, bn=False, activation="sigmoid", optimizer="adam", lr=0.01),
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request, data):
    run = train(CONFIGS[request.param], data)
    return run, data, plain.running_statistics(run, data)


def close(actual, expected, rtol=1e-11, atol=1e-13, what=""):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def test_each_step_loss_accuracy_and_batch_statistics(case):
    run, data, _ = case
    X = plain.inputs(run, data, data.X_train)
    assert run.n_steps == run.config.epochs * len(run.bounds)
    for s in range(run.n_steps):
        rows = plain.batch_rows(run, s)
        np.testing.assert_array_equal(run.batch_indices[s], rows)
        logits, layers = plain.forward(run, plain.params_at(run, s), X[rows])
        y = data.y_train[rows]
        close(run.train_loss[s], plain.bce(logits, y), what=f"loss at step {s}")
        assert run.train_acc[s] == plain.accuracy(logits, y)
        for k in range(run.n_bn):
            close(run.batch_mean[k][s], layers[k]["mean"], what=f"batch mean, layer {k + 1}, step {s}")
            close(run.batch_var[k][s], layers[k]["var"], what=f"batch var, layer {k + 1}, step {s}")


def bias_before_bn(run, name):
    return name in {f"b{k}" for k in range(1, run.arch.n_dense)} and run.arch.bn and run.arch.bn_position == "before"


def test_each_gradient_is_that_of_its_step_batch(case):
    """A centred difference of the plain loss along a random direction equals gradient · direction."""
    run, data, _ = case
    X = plain.inputs(run, data, data.X_train)
    rng = np.random.default_rng(1)
    for s in (0, 1, run.n_steps // 2, run.n_steps - 1):
        rows = plain.batch_rows(run, s)
        direction = rng.standard_normal(run.params.shape[1])
        for name, (start, stop, _) in run.param_slices.items():
            if bias_before_bn(run, name):
                direction[start:stop] = 0.0      # a bias in front of BN: its true gradient is 0 (tested below)
        h = 1e-6

        def loss_at(flat):
            params = {n: flat[a:b].reshape(shape) for n, (a, b, shape) in run.param_slices.items()}
            return plain.bce(plain.forward(run, params, X[rows])[0], data.y_train[rows])

        numeric = (loss_at(run.params[s] + h * direction) - loss_at(run.params[s] - h * direction)) / (2 * h)
        assert run.grads[s] @ direction == pytest.approx(numeric, rel=1e-5, abs=1e-9), f"step {s}"
    for name, (start, stop, _) in run.param_slices.items():
        if bias_before_bn(run, name):
            assert np.all(run.grads[:, start:stop] == 0.0)


def test_running_statistics_after_each_step(case):
    run, _, running = case
    assert run.n_bn == len(running)
    for k in range(run.n_bn):
        for s in range(run.n_steps):
            mean, var = running[k + 1][s]
            close(run.running_mean[k][s], mean, what=f"running mean, layer {k + 1}, step {s}")
            close(run.running_var[k][s], var, what=f"running var, layer {k + 1}, step {s}")


def test_buffers_at_each_state(case):
    run, _, running = case
    for state in (0, 1, run.n_steps):
        buffers = run.buffers_at(state)
        for k, (mean, var) in plain.buffers_after(run, running, state).items():
            close(buffers[f"mean{k}"], mean)
            close(buffers[f"var{k}"], var)


def test_gamma_and_beta_after_each_update(case):
    run, _, _ = case
    for k in range(run.n_bn):
        for s in range(run.n_steps):
            after = plain.params_at(run, s + 1)
            np.testing.assert_array_equal(run.gamma[k][s], after[f"gamma{k + 1}"])
            np.testing.assert_array_equal(run.beta[k][s], after[f"beta{k + 1}"])


def test_gradient_norms_and_update_ratios(case):
    run, _, _ = case
    L = run.arch.n_dense
    assert run.grad_norm.shape == run.update_ratio.shape == (run.n_steps, L)
    for s in range(run.n_steps):
        before, after = plain.params_at(run, s), plain.params_at(run, s + 1)
        for l in range(1, L + 1):
            start, stop, _ = run.param_slices[f"W{l}"]
            g = run.grads[s, start:stop]
            close(run.grad_norm[s, l - 1], np.sqrt(sum(v * v for v in g)), what=f"|dW{l}| at step {s}")
            change = after[f"W{l}"] - before[f"W{l}"]
            ratio = np.sqrt((change ** 2).sum()) / np.sqrt((before[f"W{l}"] ** 2).sum())
            close(run.update_ratio[s, l - 1], ratio, what=f"update ratio of W{l} at step {s}")


def test_epoch_metrics_in_evaluation_and_batch_mode(case):
    run, data, running = case
    spe, S = len(run.bounds), run.n_steps
    expected_states = list(range(0, S + 1, spe))
    if expected_states[-1] != S:
        expected_states.append(S)
    np.testing.assert_array_equal(run.epoch_steps, expected_states)
    splits = {"train": (plain.inputs(run, data, data.X_train), data.y_train),
              "test": (plain.inputs(run, data, data.X_test), data.y_test)}
    for i, state in enumerate(run.epoch_steps):
        params = plain.params_at(run, state)
        for split, (X, y) in splits.items():
            eval_logits, _ = plain.forward(run, params, X, plain.buffers_after(run, running, state) or None)
            batch_logits, _ = plain.forward(run, params, X)
            for what, fn in (("loss", plain.bce), ("acc", plain.accuracy)):
                close(run.epoch_metrics[f"{split}_{what}_eval"][i], fn(eval_logits, y), rtol=1e-10,
                      what=f"{split}_{what}_eval at state {state}")
                close(run.epoch_metrics[f"{split}_{what}_batch"][i], fn(batch_logits, y), rtol=1e-10,
                      what=f"{split}_{what}_batch at state {state}")


def test_population_statistics_and_snapshots(case):
    run, data, _ = case
    X = plain.inputs(run, data, data.X_train)
    np.testing.assert_array_equal(run.snapshot_rows, np.arange(len(X)))
    assert run.snapshot_steps[0] == 0 and run.snapshot_steps[-1] == run.n_steps
    assert np.all(np.diff(run.snapshot_steps) > 0)
    for i, state in enumerate(run.snapshot_steps):
        _, layers = plain.forward(run, plain.params_at(run, state), X)
        for k, layer in enumerate(layers):
            close(run.snapshots["z"][k][i], layer["z"], what=f"z, layer {k + 1}, state {state}")
            close(run.snapshots["act"][k][i], layer["act"], what=f"activation, layer {k + 1}, state {state}")
            if run.n_bn:
                close(run.snapshots["bn"][k][i], layer["bn"], what=f"BN output, layer {k + 1}, state {state}")
                close(run.population_mean[k][i], layer["mean"], what=f"exact mean, layer {k + 1}, state {state}")
                close(run.population_var[k][i], layer["var"], what=f"exact var, layer {k + 1}, state {state}")
    assert set(run.snapshots) == ({"z", "bn", "act"} if run.n_bn else {"z", "act"})


def plain_gaps(run, data, running, k):
    """[(state, mean gaps, var gaps)] at every snapshot state after the first update (k 1-based)."""
    X = plain.inputs(run, data, data.X_train)
    out = []
    for state in run.snapshot_steps:
        if state == 0:
            continue
        layer = plain.forward(run, plain.params_at(run, state), X)[1][k - 1]
        mean, var = running[k][state - 1]
        out.append((state, abs(mean - layer["mean"]) / np.sqrt(layer["var"]), abs(var - layer["var"]) / layer["var"]))
    return out


def plain_settled(gaps, tolerance):
    """The first state from which every later state's gaps are all under the tolerance."""
    for i, (state, _, _) in enumerate(gaps):
        if all(np.all(m < tolerance) and np.all(v < tolerance) for _, m, v in gaps[i:]):
            return state
    return None


def test_running_gaps_and_the_settled_step(case):
    run, data, running = case
    if not run.n_bn:
        assert run.running_mean == run.running_var == run.population_mean == [] and not running
        return
    for k in range(1, run.n_bn + 1):
        gaps = plain_gaps(run, data, running, k)
        states, mean_gap, var_gap = run.running_gap(k - 1)
        np.testing.assert_array_equal(states, [g[0] for g in gaps])
        close(mean_gap, np.array([g[1] for g in gaps]), rtol=1e-9, what="mean gap")
        close(var_gap, np.array([g[2] for g in gaps]), rtol=1e-9, what="variance gap")
        for tolerance in (0.05, 0.3, 1.0, 1e6):
            assert run.settled_step(k - 1, tolerance) == plain_settled(gaps, tolerance), (k, tolerance)


def test_step_table_every_column(case):
    run, data, running = case
    table = step_table(run)
    X = plain.inputs(run, data, data.X_train)
    expected = {name: [] for name in table.columns}
    for s in range(run.n_steps):
        rows = plain.batch_rows(run, s)
        logits, layers = plain.forward(run, plain.params_at(run, s), X[rows])
        row = {"step": s, "epoch": s // len(run.bounds), "batch_loss": plain.bce(logits, data.y_train[rows]),
               "batch_accuracy": plain.accuracy(logits, data.y_train[rows])}
        before, after = plain.params_at(run, s), plain.params_at(run, s + 1)
        for k in range(1, run.n_bn + 1):
            mean, var = running[k][s]
            for u in range(run.arch.hidden[k - 1]):
                prefix = f"bn{k}_unit{u + 1}_"
                row.update({prefix + "batch_mean": layers[k - 1]["mean"][u], prefix + "batch_var": layers[k - 1]["var"][u],
                            prefix + "running_mean": mean[u], prefix + "running_var": var[u],
                            prefix + "gamma": after[f"gamma{k}"][u], prefix + "beta": after[f"beta{k}"][u]})
        for l in range(1, run.arch.n_dense + 1):
            start, stop, _ = run.param_slices[f"W{l}"]
            row[f"W{l}_grad_norm"] = np.sqrt((run.grads[s, start:stop] ** 2).sum())
            change = after[f"W{l}"] - before[f"W{l}"]
            row[f"W{l}_update_ratio"] = np.sqrt((change ** 2).sum()) / np.sqrt((before[f"W{l}"] ** 2).sum())
        assert set(row) == set(table.columns), set(row) ^ set(table.columns)
        for name, value in row.items():
            expected[name].append(value)
    for name in table.columns:
        close(table[name].to_numpy(dtype=float), np.array(expected[name], dtype=float), rtol=1e-10, what=name)
