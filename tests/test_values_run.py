"""Every number a Run records, checked by value against plain step-by-step recomputations (tests/plain.py)."""
import numpy as np
import pytest

import plain
from bnviz import Config, train
from bnviz.recording import BY_NAME, RECORDED
from bnviz.tables import step_table

CONFIGS = {
    "default": Config(epochs=3),
    "after-tanh-unbiased": Config(epochs=3, bn_position="after", activation="tanh", running_var="unbiased",
                                  hidden=(4, 3, 2), optimizer="momentum"),
    "cumulative-bias-odd-batches": Config(epochs=2, running_avg="cumulative", keep_bias=True, batch_size=29,
                                          bn_momentum=0.9, standardize=False, lr=0.01),
    "no-bn": Config(epochs=3, bn=False, activation="sigmoid", optimizer="adam", lr=0.01, init_scale=4.0),
}


def make_case(name, data):
    """A trained run of CONFIGS[name], its data and its running statistics recomputed plainly."""
    run = train(CONFIGS[name], data)
    return run, data, plain.running_statistics(run, data)


def close(actual, expected, rtol=1e-11, atol=1e-13, what=""):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


# --------------------------------------- each recorded quantity, recomputed plainly
# One function per entry of bnviz.recording.RECORDED, returning the value in the
# Run's shape: a new recorded quantity needs its plain recomputation here.


_PASSES = {}     # the plain passes of the run being checked, shared by its quantities


def step_passes(run, data):
    """[(rows, logits, layers)] the plain forward pass of every step's batch, before its update."""
    X = plain.inputs(run, data, data.X_train)
    out = []
    for s in range(run.n_steps):
        rows = plain.batch_rows(run, s)
        out.append((rows,) + plain.forward(run, plain.params_at(run, s), X[rows]))
    return out


def per_step_bn(run, value):
    """[(S, units) per BN layer] from value(step, k) (k 1-based)."""
    return [np.array([value(s, k) for s in range(run.n_steps)]).reshape(run.n_steps, run.arch.hidden[k - 1])
            for k in range(1, run.n_bn + 1)]


def weight_norms(run, of_change):
    out = np.empty((run.n_steps, run.arch.n_dense))
    for s in range(run.n_steps):
        before, after = plain.params_at(run, s), plain.params_at(run, s + 1)
        for l in range(1, run.arch.n_dense + 1):
            if of_change:
                change = after[f"W{l}"] - before[f"W{l}"]
                out[s, l - 1] = np.sqrt((change ** 2).sum()) / np.sqrt((before[f"W{l}"] ** 2).sum())
            else:
                start, stop, _ = run.param_slices[f"W{l}"]
                out[s, l - 1] = np.sqrt(sum(v * v for v in run.grads[s, start:stop]))
    return out


def snapshot_layers(run, data):
    X = plain.inputs(run, data, data.X_train)
    return [plain.forward(run, plain.params_at(run, t), X)[1] for t in run.snapshot_steps]


def epoch_values(run, data, running):
    splits = {"train": (plain.inputs(run, data, data.X_train), data.y_train),
              "test": (plain.inputs(run, data, data.X_test), data.y_test)}
    out = {}
    for state in run.epoch_steps:
        params = plain.params_at(run, state)
        for split, (X, y) in splits.items():
            logits = {"eval": plain.forward(run, params, X, plain.buffers_after(run, running, state) or None)[0],
                      "batch": plain.forward(run, params, X)[0]}
            for mode in ("eval", "batch"):
                out.setdefault(f"{split}_loss_{mode}", []).append(plain.loss(logits[mode], y))
                out.setdefault(f"{split}_acc_{mode}", []).append(plain.accuracy(logits[mode], y))
    return {name: np.array(values) for name, values in out.items()}


def flat(activation, a):
    """Whether one activation value sits where its function is flat."""
    if activation == "relu":
        return a <= 0
    if activation == "tanh":
        return abs(a) > 0.97
    if activation == "sigmoid":
        return a < 0.03 or a > 0.97
    return False


PLAIN = {
    "train_loss": lambda run, data, running, passes: np.array(
        [plain.loss(logits, data.y_train[rows]) for rows, logits, _ in passes]),
    "train_acc": lambda run, data, running, passes: np.array(
        [plain.accuracy(logits, data.y_train[rows]) for rows, logits, _ in passes]),
    "batch_mean": lambda run, data, running, passes: per_step_bn(run, lambda s, k: passes[s][2][k - 1]["mean"]),
    "batch_var": lambda run, data, running, passes: per_step_bn(run, lambda s, k: passes[s][2][k - 1]["var"]),
    "saturated": lambda run, data, running, passes: np.array(
        [[np.mean([[flat(run.arch.activation, a) for a in row] for row in layer["act"]]) for layer in layers]
         for _, _, layers in passes]).reshape(run.n_steps, len(run.arch.hidden)),
    "running_mean": lambda run, data, running, passes: per_step_bn(run, lambda s, k: running[k][s][0]),
    "running_var": lambda run, data, running, passes: per_step_bn(run, lambda s, k: running[k][s][1]),
    "gamma": lambda run, data, running, passes: per_step_bn(run, lambda s, k: plain.params_at(run, s + 1)[f"gamma{k}"]),
    "beta": lambda run, data, running, passes: per_step_bn(run, lambda s, k: plain.params_at(run, s + 1)[f"beta{k}"]),
    "grad_norm": lambda run, data, running, passes: weight_norms(run, of_change=False),
    "update_ratio": lambda run, data, running, passes: weight_norms(run, of_change=True),
    "population_mean": lambda run, data, running, passes: [
        np.array([layers[k]["mean"] for layers in snapshot_layers(run, data)]) for k in range(run.n_bn)],
    "population_var": lambda run, data, running, passes: [
        np.array([layers[k]["var"] for layers in snapshot_layers(run, data)]) for k in range(run.n_bn)],
    "snapshots": lambda run, data, running, passes: {
        stage: [np.array([layers[k][stage] for layers in snapshot_layers(run, data)])
                for k in range(len(run.arch.hidden))]
        for stage in (("z", "bn", "act") if run.n_bn else ("z", "act"))},
    "epoch_metrics": lambda run, data, running, passes: epoch_values(run, data, running),
}


def test_every_recorded_quantity_has_a_plain_recomputation():
    assert set(PLAIN) == set(BY_NAME)


def assert_same(actual, expected, what):
    """Values of one quantity: arrays, lists of per-layer arrays or dicts of them."""
    if isinstance(expected, dict):
        assert set(actual) == set(expected), what
        for key in expected:
            assert_same(actual[key], expected[key], f"{what}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), what
        for k, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{what}[{k}]")
    else:
        assert np.shape(actual) == np.shape(expected), what
        close(actual, expected, rtol=1e-10, atol=1e-13, what=what)


def check_recorded_quantity_equals_its_plain_recomputation(case, name):
    run, data, running = case
    if _PASSES.get("run") is not run:            # held, so a later run cannot take a freed run's id
        _PASSES.clear()
        _PASSES.update(run=run, passes=step_passes(run, data))
    passes = _PASSES["passes"]
    assert_same(getattr(run, name), PLAIN[name](run, data, running, passes), name)
    assert getattr(run, name) is run.recorded[name]


def check_each_quantity_runs_along_its_declared_axis(case, quantity):
    run, _, _ = case
    value = run.recorded[quantity.name]
    length = len(run.axis_states(quantity.axis))
    if quantity.layers == "bn":
        assert [v.shape for v in value] == [(length, units) for units in (run.arch.hidden if run.n_bn else ())]
    elif quantity.layers in ("dense", "hidden"):
        assert value.shape == (length, run.arch.n_dense if quantity.layers == "dense" else len(run.arch.hidden))
    elif isinstance(value, dict):
        assert all(len(v) == length for part in value.values() for v in (part if isinstance(part, list) else [part]))
    else:
        assert value.shape == (length,)


def check_batch_order_and_axes(case):
    run, _, _ = case
    assert run.n_steps == run.config.epochs * len(run.bounds)
    np.testing.assert_array_equal(run.axis_states("step"), np.arange(run.n_steps))
    for s in range(run.n_steps):
        np.testing.assert_array_equal(run.batch_indices[s], plain.batch_rows(run, s))
    spe, S = len(run.bounds), run.n_steps
    expected_states = list(range(0, S + 1, spe))
    if expected_states[-1] != S:
        expected_states.append(S)
    np.testing.assert_array_equal(run.axis_states("epoch"), expected_states)
    np.testing.assert_array_equal(run.axis_states("snapshot"), run.snapshot_steps)
    assert run.snapshot_steps[0] == 0 and run.snapshot_steps[-1] == S and np.all(np.diff(run.snapshot_steps) > 0)
    np.testing.assert_array_equal(run.snapshot_rows, np.arange(len(run.orders[0])))


def bias_before_bn(run, name):
    return name in {f"b{k}" for k in range(1, run.arch.n_dense)} and run.arch.bn and run.arch.bn_position == "before"


def check_each_gradient_is_that_of_its_step_batch(case):
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
            return plain.loss(plain.forward(run, params, X[rows])[0], data.y_train[rows])

        numeric = (loss_at(run.params[s] + h * direction) - loss_at(run.params[s] - h * direction)) / (2 * h)
        assert run.grads[s] @ direction == pytest.approx(numeric, rel=1e-5, abs=1e-9), f"step {s}"
    weights = np.concatenate([run.grads[:, a:b] for n, (a, b, _) in run.param_slices.items() if n[0] == "W"], axis=1)
    for name, (start, stop, _) in run.param_slices.items():
        if bias_before_bn(run, name):
            # computed, so rounding noise rather than a written-in 0, far below every weight gradient
            assert np.all(np.abs(run.grads[:, start:stop]).max(axis=1) <= 1e-12 * np.abs(weights).max(axis=1))


def check_buffers_at_each_state(case):
    run, _, running = case
    for state in (0, 1, run.n_steps):
        buffers = run.buffers_at(state)
        for k, (mean, var) in plain.buffers_after(run, running, state).items():
            close(buffers[f"mean{k}"], mean)
            close(buffers[f"var{k}"], var)


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


def check_running_gaps_and_the_settled_step(case):
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
        assert run.settled_step(k - 1) == plain_settled(gaps, 0.05)
        for tolerance in (0.05, 0.3, 1.0, 1e6):
            assert run.settled_step(k - 1, tolerance) == plain_settled(gaps, tolerance), (k, tolerance)
        # tolerances at the recorded gaps themselves (checked above to 1e-9): "under" is strict
        recorded = [(t, m, v) for t, m, v in zip(states, mean_gap, var_gap)]
        values = np.sort(np.concatenate([np.r_[m, v] for _, m, v in recorded]))
        for tolerance in values[:: max(1, len(values) // 12)]:
            assert run.settled_step(k - 1, tolerance) == plain_settled(recorded, tolerance), (k, tolerance)


def check_step_table_every_column(case):
    run, data, running = case
    table = step_table(run)
    X = plain.inputs(run, data, data.X_train)
    expected = {name: [] for name in table.columns}
    for s in range(run.n_steps):
        rows = plain.batch_rows(run, s)
        logits, layers = plain.forward(run, plain.params_at(run, s), X[rows])
        row = {"step": s, "epoch": s // len(run.bounds), "batch_loss": plain.loss(logits, data.y_train[rows]),
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
        for l, layer in enumerate(layers, start=1):
            row[f"layer{l}_saturated"] = np.mean([[flat(run.arch.activation, a) for a in r] for r in layer["act"]])
        assert set(row) == set(table.columns), set(row) ^ set(table.columns)
        for name, value in row.items():
            expected[name].append(value)
    for name in table.columns:
        close(table[name].to_numpy(dtype=float), np.array(expected[name], dtype=float), rtol=1e-10, what=name)


def test_chunks_cover_every_state_once_within_the_bound():
    from bnviz.evaluation import CHUNK_NUMBERS, chunks

    assert list(chunks(10, 1, CHUNK_NUMBERS // 3)) == [slice(0, 3), slice(3, 6), slice(6, 9), slice(9, 10)]
    assert list(chunks(3, CHUNK_NUMBERS, 2)) == [slice(0, 1), slice(1, 2), slice(2, 3)]
    assert list(chunks(4, 0, 0)) == [slice(0, 4)]


def test_cumulative_series_is_the_plain_average():
    from bnviz.running import RunningAverage

    rng = np.random.default_rng(0)
    stats, sizes = rng.random((6, 4)), np.array([3, 3, 2, 5, 1, 4])
    is_var = np.array([False, False, True, True])
    for variance in ("biased", "unbiased"):
        folded = stats.copy()
        for t, n in enumerate(sizes):
            if variance == "unbiased" and n > 1:
                folded[t, 2:] *= n / (n - 1)
        got = RunningAverage(is_var, 0.9, "cumulative", variance).series(stats, sizes, np.array([0.0, 0.0, 1.0, 1.0]))
        np.testing.assert_allclose(got, [folded[:t + 1].sum(axis=0) / (t + 1) for t in range(6)], rtol=1e-13)
        ewma = RunningAverage(is_var, 0.9, "ewma", variance).series(stats, sizes, np.array([0.0, 0.0, 1.0, 1.0]))
        expected, running = [], np.array([0.0, 0.0, 1.0, 1.0])
        for t in range(6):
            running = 0.9 * running + 0.1 * folded[t]
            expected.append(running)
        np.testing.assert_allclose(ewma, expected, rtol=1e-13)


def check_nbytes_counts_every_array_once(case):
    run, _, _ = case
    snapshots = sum(a.nbytes for part in run.snapshots.values() for a in part)
    batch = sum(a.nbytes for a in run.batch_mean + run.batch_var + run.running_mean + run.running_var)
    owned = run.params.nbytes + run.grads.nbytes + snapshots + batch
    assert owned <= run.nbytes < owned + 10 * run.params.nbytes + 100_000
    if run.n_bn:       # gamma and beta are views of params: not counted again
        naive = run.nbytes + sum(a.nbytes for a in run.gamma + run.beta)
        assert run.nbytes < naive


def check_the_cumulative_alternative_from_the_same_batches(case):
    from bnviz.running import cumulative_running

    run, data, _ = case
    if not run.n_bn:
        return
    passes = step_passes(run, data)
    for k in range(run.n_bn):
        series = cumulative_running(run, k)
        total_mean, total_var = 0.0, 0.0
        for s, (rows, _, layers) in enumerate(passes):
            n, var = len(rows), layers[k]["var"]
            if run.config.running_var == "unbiased" and n > 1:
                var = var * n / (n - 1)
            total_mean, total_var = total_mean + layers[k]["mean"], total_var + var
            close(series.mean[s], total_mean / (s + 1), rtol=1e-10, what=f"cumulative mean, layer {k + 1}, step {s}")
            close(series.var[s], total_var / (s + 1), rtol=1e-10, what=f"cumulative var, layer {k + 1}, step {s}")


def check_repr_names_steps_end_and_loss(case):
    run, _, _ = case
    text = repr(run)
    assert text.startswith(f"Run({run.n_steps} steps, finished, last batch loss {run.train_loss[-1]:.4f}, "
                           f"{run.nbytes / 1e6:.1f} MB)\n")
    assert text.endswith(run.arch.summary())


def test_repr_of_a_diverged_run(data):
    run = train(Config(epochs=2, lr=10.0, standardize=False, bn=False, activation="linear"), data)
    assert repr(run).startswith(f"Run({run.n_steps} steps, diverged at step {run.diverged_at}, last batch loss")


def check_snapshots_of_a_sample(run, big):
    """The population statistics over every training row; each sampled row's snapshot values
    equal its values in the pass over every row (BN with the statistics of all of them)."""
    X = plain.inputs(run, big, big.X_train)
    for i, state in enumerate(run.snapshot_steps):
        params = plain.params_at(run, state)
        layers = plain.forward(run, params, X)[1]
        for k in range(run.n_bn):
            close(run.population_mean[k][i], layers[k]["mean"], rtol=1e-10, what="exact mean over all rows")
            close(run.population_var[k][i], layers[k]["var"], rtol=1e-10, what="exact var over all rows")
        for stage in ("z", "bn", "act"):
            for k in range(len(run.arch.hidden)):
                if stage in layers[k]:
                    close(run.snapshots[stage][k][i], layers[k][stage][run.snapshot_rows], rtol=1e-10, atol=1e-12,
                          what=f"{stage} of the sampled rows, layer {k + 1}")


@pytest.mark.parametrize("cfg", [Config(dataset="moons", data_size=1400, epochs=1, batch_size=200),
                                 Config(dataset="moons", data_size=1400, epochs=1, batch_size=200, hidden=(4, 3, 2),
                                        bn_position="after", activation="tanh")],
                         ids=["before-relu", "after-tanh-3-layers"])
def test_more_rows_than_a_snapshot_keeps(cfg, data):
    """Snapshots keep 1000 sampled rows; the exact statistics still use every training row."""
    from bnviz import load_for

    big = load_for(cfg)
    run = train(cfg, big)
    assert len(big.y_train) > 1000 and len(run.snapshot_rows) == 1000 and run.n_train_rows == len(big.y_train)
    assert np.all(np.diff(run.snapshot_rows) > 0) and run.snapshot_rows[-1] < len(big.y_train)
    check_snapshots_of_a_sample(run, big)
    from bnviz.activations import layer_histograms, unit_percentiles
    from bnviz.figures import activation_heatmap, activation_percentiles
    said = f"over 1,000 of the {len(big.y_train):,} training rows"
    assert said in activation_heatmap(run, layer_histograms([run], 1, "act_in")).layout.title.text
    assert said in activation_percentiles(run, unit_percentiles([run], 1, 0, "act_in")).layout.title.text
    small = train(Config(epochs=1), data)
    assert "over all training rows" in activation_heatmap(small, layer_histograms([small], 1, "act_in")).layout.title.text


def check_recorded_numbers(case):
    """The checks every kind of run passes: each recorded quantity against its plain recomputation and
    along its declared axis, the batch order, each step's gradient, the buffers and the step table."""
    for quantity_name in BY_NAME:
        check_recorded_quantity_equals_its_plain_recomputation(case, quantity_name)
    for quantity in RECORDED:
        check_each_quantity_runs_along_its_declared_axis(case, quantity)
    check_batch_order_and_axes(case)
    check_each_gradient_is_that_of_its_step_batch(case)
    check_buffers_at_each_state(case)
    check_step_table_every_column(case)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_number_a_run_records(name, data):
    """Every check above on one configuration, trained inside the test."""
    case = make_case(name, data)
    check_recorded_numbers(case)
    check_running_gaps_and_the_settled_step(case)
    check_nbytes_counts_every_array_once(case)
    check_the_cumulative_alternative_from_the_same_batches(case)
    check_repr_names_steps_end_and_loss(case)


def small_digits():
    """The first 200 handwritten digits (64 pixel features, ten classes), split as load_dataset splits."""
    from bnviz.data import DIGIT_FEATURES, digits_table, make_dataset

    X, y = digits_table()
    return make_dataset("digits200", X[:200], y[:200], DIGIT_FEATURES, label_values=tuple(range(10)))


@pytest.mark.parametrize("cfg", [Config(dataset="digits", epochs=2, hidden=(5, 4), batch_size=30, lr=0.3,
                                        activation="sigmoid"),
                                 Config(dataset="digits", epochs=2, hidden=(6,), batch_size=40, bn=False,
                                        optimizer="adam", lr=0.01)],
                         ids=["softmax-bn", "softmax-no-bn"])
def test_every_number_a_softmax_run_records(cfg):
    """Ten classes and 64 inputs: every check above, the loss the softmax's cross-entropy."""
    data = small_digits()
    run = train(cfg, data)
    assert run.arch.n_out == 10 and run.arch.n_in == 64 and run.arch.summary().endswith("-> softmax")
    case = (run, data, plain.running_statistics(run, data))
    check_recorded_numbers(case)
    # a network that knows nothing scores log 10 per row; this one has learnt a little
    assert run.train_loss[0] == pytest.approx(np.log(10), abs=0.6)
    assert run.train_loss[-3:].mean() < run.train_loss[:3].mean()


def test_the_run_docstring_lists_the_table():
    from bnviz import Run
    from bnviz.recording import describe

    lines = describe().split("\n")
    assert len(lines) == len(RECORDED)
    for line, q in zip(lines, RECORDED):
        where = f"{q.axis}, per {q.layers} layer" if q.layers else q.axis
        assert line == f"    {q.name} [{where}]: {q.doc}"
        assert line in Run.__doc__


@pytest.mark.parametrize("bn", [True, False], ids=["bn", "no-bn"])
def test_statistics_over_every_row_in_chunks(monkeypatch, bn):
    """With passes too small for every row at once, the full-data statistics, the snapshots and the
    batch-mode metrics go through the rows in uneven chunks and still equal one plain pass over all."""
    import bnviz.evaluation
    from bnviz import load_for

    from bnviz.train import architecture

    cfg = Config(dataset="moons", data_size=1400, epochs=1, batch_size=200, hidden=(4, 3, 2), bn=bn,
                 bn_position="after", activation="tanh")
    per_row = bnviz.evaluation.row_numbers(architecture(cfg))
    monkeypatch.setattr(bnviz.evaluation, "CHUNK_NUMBERS", 375 * per_row)   # 375 rows a pass
    big = load_for(cfg)
    run = train(cfg, big)
    assert len(big.y_train) % 375 and len(big.y_train) * per_row > bnviz.evaluation.CHUNK_NUMBERS
    check_snapshots_of_a_sample(run, big)
    expected = epoch_values(run, big, plain.running_statistics(run, big))
    for name, values in expected.items():
        close(run.epoch_metrics[name], values, rtol=1e-10, what=name)
    rows_seen, forward_states = [], bnviz.evaluation.forward_states

    def counting(arch, flat_params, X, buffers=None):
        rows_seen.append(X.shape[-2])
        return forward_states(arch, flat_params, X, buffers)

    monkeypatch.setattr(bnviz.evaluation, "forward_states", counting)
    X = plain.inputs(run, big, big.X_train)
    means, variances = bnviz.evaluation.population_stats(run.arch, run.params[run.snapshot_steps], X) if bn else \
        bnviz.evaluation.full_data_stats(run.arch, run.params[run.snapshot_steps], X)
    assert max(rows_seen) == 375 and sum(rows_seen) >= len(X) * len(run.snapshot_steps)
    for i, state in enumerate(run.snapshot_steps):
        layers = plain.forward(run, plain.params_at(run, state), X)[1]
        for k, layer in enumerate(layers):
            bn_in = layer["bn_in"] if bn else layer["z"]
            close(means[k][i], bn_in.sum(axis=0) / len(bn_in), rtol=1e-10, what=f"mean of layer {k + 1}")
            close(variances[k][i], ((bn_in - bn_in.mean(axis=0)) ** 2).mean(axis=0), rtol=1e-10,
                  what=f"variance of layer {k + 1}")
