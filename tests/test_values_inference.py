"""What the page derives from a trained network, checked by value against plain recomputations:
"predict one student", one row at a time, the decision grid, the batch calculator, the model
summary, the percentile bands and the sweeps' points."""
import math

import numpy as np
import pytest

import plain
from bnviz import Config, train
from bnviz import figures as F
from bnviz.activations import unit_percentiles
from bnviz.inference import batch_calculation, decision_grid, one_row_at_a_time, predict
from bnviz.sweeps import sweep
from bnviz.tables import batch_table, model_summary

CONFIGS = {
    "default": Config(epochs=3),
    "after-sigmoid-raw": Config(epochs=3, bn_position="after", activation="sigmoid", standardize=False,
                                hidden=(4, 2), lr=0.01),
    "no-bn": Config(epochs=3, bn=False),
}


def make_case(name, data):
    """A trained run of CONFIGS[name], its data and its running statistics recomputed plainly."""
    run = train(CONFIGS[name], data)
    return run, data, plain.running_statistics(run, data)


def sigmoid(z):
    return np.array([1.0 / (1.0 + math.exp(-v)) for v in np.atleast_1d(z)])


STUDENTS = np.array([[8.5, 120.0], [5.5, 80.0], [7.0, 100.0], [9.9, 60.0]])


def check_predict_one_student_in_evaluation_mode(case):
    run, data, running = case
    for state in (0, run.n_steps // 2, run.n_steps):
        buffers = plain.buffers_after(run, running, state) or None
        for student in STUDENTS:
            logit, _ = plain.forward(run, plain.params_at(run, state), plain.inputs(run, data, [student]), buffers)
            assert predict(run, data, [student], state=state)[0] == pytest.approx(sigmoid(logit)[0], rel=1e-12)
    # the default state is the final one; rows are independent of each other in evaluation mode
    np.testing.assert_allclose(predict(run, data, STUDENTS),
                               [predict(run, data, [s], state=run.n_steps)[0] for s in STUDENTS], rtol=1e-13)


def check_predict_in_batch_mode_uses_the_rows_own_statistics(case):
    run, data, _ = case
    logits, _ = plain.forward(run, plain.params_at(run, run.n_steps), plain.inputs(run, data, STUDENTS))
    np.testing.assert_allclose(predict(run, data, STUDENTS, mode="batch"), sigmoid(logits), rtol=1e-12)
    alone = [predict(run, data, [s], mode="batch")[0] for s in STUDENTS]
    expected = [sigmoid(plain.forward(run, plain.params_at(run, run.n_steps), plain.inputs(run, data, [s]))[0])[0]
                for s in STUDENTS]
    np.testing.assert_allclose(alone, expected, rtol=1e-12)


def check_one_row_at_a_time(case):
    run, data, _ = case
    states = [0, run.n_steps // 3, run.n_steps]
    X = plain.inputs(run, data, data.X_test)
    expected = []
    for state in states:
        params = plain.params_at(run, state)
        right = sum((plain.forward(run, params, X[i:i + 1])[0][0] > 0) == (data.y_test[i] > 0.5) for i in range(len(X)))
        expected.append(right / len(X))
    np.testing.assert_array_equal(one_row_at_a_time(run, data, states), expected)


def check_decision_grid(case):
    run, data, running = case
    states = [0, run.n_steps]
    grid = decision_grid(run, data, states, size=6, margin=0.1)
    both = np.vstack([data.X_train, data.X_test])
    for f, axis in ((0, grid.x), (1, grid.y)):
        low, high = both[:, f].min(), both[:, f].max()
        pad = (high - low) * 0.1
        np.testing.assert_allclose(axis, [low - pad + i * (high - low + 2 * pad) / 5 for i in range(6)], rtol=1e-12)
    for s, state in enumerate(states):
        buffers = plain.buffers_after(run, running, state) or None
        for i in range(6):
            for j in range(6):
                point = plain.inputs(run, data, [[grid.x[j], grid.y[i]]])
                logit, _ = plain.forward(run, plain.params_at(run, state), point, buffers)
                assert grid.prob[s, i, j] == pytest.approx(sigmoid(logit)[0], rel=1e-11, abs=1e-15)


def check_batch_calculation_and_table(case, step, layer):
    run, data, _ = case
    if not run.n_bn:
        with pytest.raises(ValueError, match="no batch norm"):
            batch_calculation(run, data, step, layer)
        return
    rows = plain.batch_rows(run, step)
    params = plain.params_at(run, step)
    _, layers = plain.forward(run, params, plain.inputs(run, data, data.X_train[rows]))
    mine = layers[layer - 1]
    table = batch_table(run, data, step, layer)
    units = run.arch.hidden[layer - 1]
    assert len(table) == len(rows) * units
    for r, row in enumerate(rows):
        for u in range(units):
            line = table.iloc[r * units + u]
            assert line["row"] == row and line["unit"] == u + 1
            assert line["cgpa"] == data.X_train[row, 0] and line["iq"] == data.X_train[row, 1]
            expected = {"z": mine["z"][r, u], "μ_B": mine["mean"][u], "σ²_B": mine["var"][u],
                        "ẑ": (mine["bn_in"][r, u] - mine["mean"][u]) / math.sqrt(mine["var"][u] + run.arch.eps),
                        "γ": params[f"gamma{layer}"][u], "β": params[f"beta{layer}"][u], "γ·ẑ + β": mine["bn"][r, u]}
            if run.arch.bn_position == "before":
                expected[f"{run.arch.activation}(γ·ẑ + β)"] = mine["act"][r, u]
            else:
                expected["g(z)"] = mine["bn_in"][r, u]
            assert set(expected) | {"row", "unit", "cgpa", "iq"} == set(table.columns)
            for name, value in expected.items():
                assert line[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    calc = batch_calculation(run, data, step, layer)
    assert (calc.step, calc.layer, calc.eps) == (step, layer, run.arch.eps)
    # and these are the statistics the run recorded for that step
    np.testing.assert_allclose(run.batch_mean[layer - 1][step], mine["mean"], rtol=1e-11, atol=1e-14)


def check_model_summary_counts(case):
    run, _, _ = case
    table = model_summary(run)
    arch = run.arch
    sizes = {name: stop - start for name, (start, stop, _) in run.param_slices.items()}
    expected = []
    for k in range(1, arch.n_dense + 1):
        dense = sizes[f"W{k}"] + sizes.get(f"b{k}", 0)
        expected.append((dense, 0))
        if f"gamma{k}" in sizes:
            expected.append((sizes[f"gamma{k}"] + sizes[f"beta{k}"], 2 * arch.hidden[k - 1]))
    body = table.iloc[:-1]
    assert list(zip(body["trainable"], body["non_trainable"])) == expected
    assert list(body["params"]) == [a + b for a, b in expected]
    total = table.iloc[-1]
    assert total["layer"] == "total"
    assert total["trainable"] == run.params.shape[1]
    assert total["non_trainable"] == sum(2 * u for u in arch.hidden) * arch.bn
    assert total["params"] == total["trainable"] + total["non_trainable"]
    assert list(body["output"]) == [f"(None, {w})" for w in arch.widths[1:] for _ in range(2 if arch.bn and w != 1 else 1)]


def check_percentile_bands_are_the_snapshot_percentiles(case):
    run, data, _ = case
    layer, unit = len(run.arch.hidden), 1
    fig = F.activation_percentiles(run, unit_percentiles([run], layer, unit, "act_in"))
    X = plain.inputs(run, data, data.X_train)
    stage = "bn" if run.n_bn and run.arch.bn_position == "before" else "z"
    expected = {q: [] for q in (15, 50, 85)}
    for state in run.snapshot_steps:
        values = plain.forward(run, plain.params_at(run, state), X)[1][layer - 1][stage][:, unit]
        for q in expected:
            expected[q].append(plain.percentile(values, q))
    lines = {t.name.split(": ")[-1]: t for t in fig.data if t.mode == "lines"}
    for q, name in ((15, "15th"), (50, "median"), (85, "85th")):
        np.testing.assert_array_equal(lines[name].x, run.snapshot_steps)
        np.testing.assert_allclose(lines[name].y, expected[q], rtol=1e-10, atol=1e-12, err_msg=name)


def test_sweep_points_are_single_trainings(data):
    cfg = Config(epochs=2, activation="linear")
    values = [0.001, 0.03, 10.0]
    result = sweep(cfg.replace(standardize=False), data, "lr", values, n_seeds=1)
    np.testing.assert_array_equal(result.values, values)
    for bn in (True, False):
        for i, lr in enumerate(values):
            single = cfg.replace(standardize=False, bn=bn, lr=lr)
            run = train(single, data)
            assert result.diverged_count[bn][i] == (run.diverged_at is not None)
            steps = run.n_steps
            np.testing.assert_array_equal(result.loss[bn][:steps, i], run.train_loss)
            assert np.all(np.isnan(result.loss[bn][steps:, i]))
            running = plain.running_statistics(run, data)
            buffers = plain.buffers_after(run, running, steps) or None
            params = plain.params_at(run, steps)
            for split, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
                with np.errstate(all="ignore"):
                    logits, _ = plain.forward(run, params, plain.inputs(run, data, X), buffers)
                for what, fn in (("loss", plain.bce), ("acc", plain.accuracy)):
                    value = result.metrics[bn][f"{split}_{what}_eval"][i]
                    if run.diverged_at is not None:
                        assert np.isnan(value)
                    else:
                        # a finite network can still overflow its logits: then both sides are NaN
                        np.testing.assert_allclose(value, fn(logits, y), rtol=1e-10, err_msg=f"{bn} {lr} {split}")
    assert result.diverged_count[False].tolist() == [0, 1, 1]


def test_model_summary_reads_like_keras(data):
    table = model_summary(train(Config(epochs=1), data))
    assert table.to_dict("list") == {
        "layer": ["dense_1 (relu)", "batch_norm_1", "dense_2 (relu)", "batch_norm_2", "dense_3 (sigmoid)", "total"],
        "output": ["(None, 3)", "(None, 3)", "(None, 2)", "(None, 2)", "(None, 1)", ""],
        "holds": ["W1 (6)", "γ1, β1 (3 each); running μ, σ² (3 each)", "W2 (6)",
                  "γ2, β2 (2 each); running μ, σ² (2 each)", "W3 (2), b3 (1)", ""],
        "trainable": [6, 6, 6, 4, 3, 25], "non_trainable": [0, 6, 0, 4, 0, 10], "params": [6, 12, 6, 8, 3, 35]}
    assert list(table.index) == list(range(6))
    plain_net = model_summary(train(Config(epochs=1, bn=False, activation="tanh"), data))
    assert list(plain_net["layer"]) == ["dense_1 (tanh)", "dense_2 (tanh)", "dense_3 (sigmoid)", "total"]
    assert list(plain_net["holds"]) == ["W1 (6), b1 (3)", "W2 (6), b2 (2)", "W3 (2), b3 (1)", ""]


def test_batch_calculation_refuses_what_does_not_exist(data):
    run = train(Config(epochs=1), data)
    last = run.n_steps - 1
    assert batch_calculation(run, data, last, 2).step == last
    for step, layer, message in ((run.n_steps, 1, f"step must be 0 to {last}, got {run.n_steps}"),
                                 (-1, 1, f"step must be 0 to {last}, got -1"),
                                 (0, 3, "layer must be 1 to 2, got 3"), (0, 0, "layer must be 1 to 2, got 0")):
        with pytest.raises(ValueError) as error:
            batch_calculation(run, data, step, layer)
        assert str(error.value) == message
    with pytest.raises(ValueError) as error:
        batch_calculation(train(Config(epochs=1, bn=False), data), data, 0, 1)
    assert str(error.value) == "this run has no batch norm"


def test_ensemble_with_each_seeds_own_data(data):
    """Members on their own splits: every final metric equals a plain recomputation on that member's data."""
    from bnviz import load_for, train_ensemble

    configs = [Config(epochs=2, seed=seed, lr=lr) for seed, lr in ((0, 0.1), (1, 0.3), (2, 0.05))]
    datasets = [load_for(c) for c in configs]
    assert not np.array_equal(datasets[0].X_test, datasets[1].X_test)
    ensemble = train_ensemble(configs, datasets)
    metrics = ensemble.final_metrics()
    for i, (cfg, own) in enumerate(zip(configs, datasets)):
        run = ensemble.member(i)
        running = plain.running_statistics(run, own)
        params, buffers = plain.params_at(run, run.n_steps), plain.buffers_after(run, running, run.n_steps)
        np.testing.assert_allclose(ensemble.train_loss[:, i], run.train_loss, rtol=1e-13)
        for split, X, y in (("train", own.X_train, own.y_train), ("test", own.X_test, own.y_test)):
            for mode, bufs in (("eval", buffers), ("batch", None)):
                logits, _ = plain.forward(run, params, plain.inputs(run, own, X), bufs)
                assert metrics[f"{split}_loss_{mode}"][i] == pytest.approx(plain.bce(logits, y), rel=1e-10)
                assert metrics[f"{split}_acc_{mode}"][i] == plain.accuracy(logits, y)


def test_a_run_without_test_rows(data):
    from bnviz import load_dataset

    notes = load_dataset("notes4")
    run = train(Config(dataset="notes4", batch_size=2, epochs=2), notes)
    assert len(notes.y_test) == 0
    out = one_row_at_a_time(run, notes, [0, 1, run.n_steps])
    assert out.shape == (3,) and np.all(np.isnan(out))
    assert np.all(np.isnan(run.epoch_metrics["test_acc_eval"])) and np.all(np.isnan(run.epoch_metrics["test_loss_batch"]))
    assert np.all(np.isfinite(run.epoch_metrics["train_loss_eval"]))


def test_zero_logits_count_as_not_placed(data):
    """With all-zero weights every logit is exactly 0: P = 0.5, predicted 'not placed'."""
    run = train(Config(epochs=1, init="zeros", bn=False), data)
    assert np.all(run.params[0] == 0)
    not_placed = np.mean(data.y_train == 0)
    assert run.train_acc[0] == plain.accuracy(np.zeros(10), data.y_train[plain.batch_rows(run, 0)])
    assert run.epoch_metrics["train_acc_eval"][0] == not_placed
    assert run.epoch_metrics["train_acc_batch"][0] == not_placed
    assert one_row_at_a_time(run, data, [0])[0] == np.mean(data.y_test == 0)
    np.testing.assert_array_equal(predict(run, data, STUDENTS, state=0), 0.5)


def check_decision_grid_defaults_and_states(case):
    run, data, _ = case
    grid = decision_grid(run, data, [run.n_steps])
    assert grid.prob.shape == (1, 45, 45)
    np.testing.assert_array_equal(grid.states, [run.n_steps])
    both = np.vstack([data.X_train, data.X_test])
    low, high = both.min(axis=0), both.max(axis=0)
    assert grid.x[0] == pytest.approx(low[0] - 0.08 * (high[0] - low[0]), rel=1e-12)
    assert grid.y[-1] == pytest.approx(high[1] + 0.08 * (high[1] - low[1]), rel=1e-12)


def test_batch_table_defaults_to_the_first_layer(data):
    run = train(Config(epochs=1), data)
    table = batch_table(run, data, 4)
    assert len(table) == len(plain.batch_rows(run, 4)) * run.arch.hidden[0]
    # the table recomputes the batch in NumPy; the run kept what the compiled loop computed: equal to rounding
    np.testing.assert_allclose(table["μ_B"].to_numpy()[:3], run.batch_mean[0][4], rtol=1e-12, atol=1e-15)


def check_accuracy_three_ways_at_test_time(case):
    from bnviz.inference import accuracy_by_statistics

    run, data, running = case
    got = accuracy_by_statistics(run, data)
    np.testing.assert_array_equal(got.steps, run.epoch_steps)
    X = plain.inputs(run, data, data.X_test)
    for i, state in enumerate(run.epoch_steps):
        params = plain.params_at(run, state)
        evaluated = plain.forward(run, params, X, plain.buffers_after(run, running, state) or None)[0]
        assert got.running[i] == plain.accuracy(evaluated, data.y_test)
        assert got.whole_batch[i] == plain.accuracy(plain.forward(run, params, X)[0], data.y_test)
        alone = [plain.forward(run, params, X[j:j + 1])[0][0] for j in range(len(X))]
        assert got.alone[i] == plain.accuracy(alone, data.y_test)


def check_spread_states_and_the_boundary_replay(case):
    from bnviz.inference import boundary_replay, spread_states

    run, data, _ = case
    snaps = list(run.snapshot_steps)
    for count in (1, 2, 5, len(snaps), len(snaps) + 10):
        n = min(count, len(snaps))
        expected = sorted({snaps[int(np.round(i * (len(snaps) - 1) / (n - 1)))] for i in range(n)} if n > 1
                          else {snaps[0]})
        assert list(spread_states(run, count)) == expected, count
    replay = boundary_replay(run, data, frames=4, size=5)
    np.testing.assert_array_equal(replay.states, spread_states(run, 4))
    direct = decision_grid(run, data, replay.states, 5)
    np.testing.assert_array_equal(replay.prob, direct.prob)
    assert boundary_replay(run, data, frames=3).prob.shape == (3, 40, 40)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_number_derived_from_a_network(name, data):
    """Every check above on one configuration, trained inside the test."""
    case = make_case(name, data)
    check_predict_one_student_in_evaluation_mode(case)
    check_predict_in_batch_mode_uses_the_rows_own_statistics(case)
    check_one_row_at_a_time(case)
    check_decision_grid(case)
    for step, layer in [(0, 1), (7, 2), (95, 1)]:
        check_batch_calculation_and_table(case, step, layer)
    check_model_summary_counts(case)
    check_percentile_bands_are_the_snapshot_percentiles(case)
    check_decision_grid_defaults_and_states(case)
    check_accuracy_three_ways_at_test_time(case)
    check_spread_states_and_the_boundary_replay(case)


# ------------------------------------------------------------------ layer norm, row by row


def _plain_layer_norm_logit(run, params, x):
    """One row through a layer-norm network with Python floats: each layer's mean and variance
    are the row's own, over its units."""
    g = {"relu": lambda v: max(v, 0.0), "tanh": math.tanh, "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
         "linear": lambda v: v}[run.config.activation]
    a = [float(v) for v in x]
    for k in range(1, len(run.arch.hidden) + 1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        z = [sum(a[i] * W[i, j] for i in range(len(a))) + b[j] for j in range(W.shape[1])]

        def ln(v):
            mu = sum(v) / len(v)
            var = sum((t - mu) ** 2 for t in v) / len(v)
            return [params[f"gamma{k}"][j] * (t - mu) / math.sqrt(var + run.config.eps) + params[f"beta{k}"][j]
                    for j, t in enumerate(v)]

        a = [g(t) for t in ln(z)] if run.config.bn_position == "before" else ln([g(t) for t in z])
    L = run.arch.n_dense
    return sum(a[i] * params[f"W{L}"][i, 0] for i in range(len(a))) + params[f"b{L}"][0]


@pytest.mark.parametrize("position", ["before", "after"])
def test_with_layer_norm_one_student_is_the_same_alone_and_inside_any_batch(data, position):
    from bnviz.inference import one_student_in_batches

    run = train(Config(norm="layer", hidden=(5, 4), epochs=3, bn_position=position, activation="tanh"), data)
    params = run.params_at(run.n_steps)
    for student in STUDENTS[:2]:
        result = one_student_in_batches(run, data, student)
        expected = sigmoid(_plain_layer_norm_logit(run, params, plain.inputs(run, data, [student])[0]))[0]
        assert result.alone_train == pytest.approx(expected, rel=1e-12)
        assert result.alone_eval == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(result.in_batches, expected, rtol=1e-12)
        np.testing.assert_allclose(result.in_batches_eval, expected, rtol=1e-12)
        assert len(result.in_batches) == 20 and result.batch_size == 10 and result.spread < 1e-12


def test_with_batch_norm_one_student_depends_on_its_batch_in_training_mode(data):
    from bnviz.inference import one_student_in_batches

    run = train(Config(epochs=5), data)
    result = one_student_in_batches(run, data, STUDENTS[2])
    # the same batches, drawn again, through predict's batch mode: the student is the first row of each
    rng = np.random.default_rng(0)
    for k in range(len(result.in_batches)):
        others = rng.choice(len(data.y_train), 9, replace=False)
        rows = np.vstack([STUDENTS[2], data.X_train[others]])
        assert result.in_batches[k] == pytest.approx(predict(run, data, rows, mode="batch")[0], rel=1e-12)
    np.testing.assert_allclose(result.in_batches_eval, predict(run, data, [STUDENTS[2]])[0], rtol=1e-12)
    assert result.alone_train == pytest.approx(predict(run, data, [STUDENTS[2]], mode="batch")[0], rel=1e-12)
    assert result.in_batches.max() - result.in_batches.min() > 0.05 and result.spread > 0.05


def test_without_normalization_rows_never_meet(data, plain_run):
    from bnviz.inference import one_student_in_batches

    result = one_student_in_batches(plain_run, data, STUDENTS[0])
    assert result.spread < 1e-12
    assert result.alone_eval == pytest.approx(predict(plain_run, data, [STUDENTS[0]])[0], rel=1e-12)


def test_layer_norm_row_calculation_by_hand(data):
    from bnviz.inference import row_calculation
    from bnviz.tables import row_table

    run = train(Config(norm="layer", hidden=(5, 4), epochs=2, bn_position="after"), data)
    calc = row_calculation(run, data, 7, 2)
    np.testing.assert_array_equal(calc.rows, run.step_rows(7))
    params = run.params_at(7)
    for i in range(len(calc.rows)):
        x = calc.ln_input[i]
        mu = sum(x) / len(x)
        var = sum((t - mu) ** 2 for t in x) / len(x)
        assert calc.mean[i] == pytest.approx(mu, rel=1e-12, abs=1e-15)
        assert calc.var[i] == pytest.approx(var, rel=1e-12)
        for j in range(len(x)):
            xhat = (x[j] - mu) / math.sqrt(var + 1e-3)
            assert calc.xhat[i, j] == pytest.approx(xhat, rel=1e-10, abs=1e-12)
            assert calc.out[i, j] == pytest.approx(params["gamma2"][j] * xhat + params["beta2"][j], rel=1e-10,
                                                   abs=1e-12)
    table = row_table(run, data, 7, 2)
    assert len(table) == len(calc.rows) * 4 and "g(z)" in table.columns
    np.testing.assert_allclose(table["μ of the row"].to_numpy()[::4], calc.mean, rtol=0, atol=0)
    with pytest.raises(ValueError, match="no layer norm"):
        row_calculation(train(Config(epochs=1), data), data, 0, 1)


def test_layer_norm_test_time_accuracies_agree_three_ways(data):
    from bnviz.inference import accuracy_by_statistics

    run = train(Config(norm="layer", hidden=(8, 8), epochs=4), data)
    acc = accuracy_by_statistics(run, data)
    np.testing.assert_array_equal(acc.alone, acc.running)
    np.testing.assert_array_equal(acc.whole_batch, acc.running)
    assert acc.running[-1] > 0.7
    figure = F.test_time_figure(run, acc)
    assert "agree (largest gap 0.0%)" in figure.layout.title.text
