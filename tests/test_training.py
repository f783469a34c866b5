"""The training loop and the Run it records."""
import numpy as np
import pytest

from bnviz import Config, load_dataset, load_for, train, train_ensemble
from bnviz.nn import forward
from bnviz.run import EPOCH_METRICS, replay
from bnviz.train import batch_bounds, run_loop


def assert_runs_equal(a, b):
    for name in ("params", "grads", "train_loss", "train_acc", "orders", "grad_norm", "update_ratio",
                 "snapshot_steps", "epoch_steps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("batch_mean", "batch_var", "running_mean", "running_var", "population_mean", "population_var"):
        for x, y in zip(getattr(a, name), getattr(b, name)):
            np.testing.assert_array_equal(x, y, err_msg=name)
    for stage in a.snapshots:
        for x, y in zip(a.snapshots[stage], b.snapshots[stage]):
            np.testing.assert_array_equal(x, y)
    for key in a.epoch_metrics:
        np.testing.assert_array_equal(a.epoch_metrics[key], b.epoch_metrics[key])
    assert a.diverged_at == b.diverged_at


def test_same_config_gives_the_identical_run(data, default_run):
    assert_runs_equal(default_run, train(Config(), data))


def test_seed_changes_weights_and_order_but_not_the_other_run(data, default_run):
    other = train(Config(seed=1), load_for(Config(seed=1)))
    assert not np.array_equal(other.initial_params["W1"], default_run.initial_params["W1"])
    assert not np.array_equal(other.orders, default_run.orders)


def test_default_run_shapes_and_contract(data, default_run):
    run = default_run
    S = 50 * 32
    assert run.n_steps == S and run.steps_per_epoch == 32
    assert run.train_loss.shape == (S,) and run.train_acc.shape == (S,)
    assert run.params.shape == (S + 1, len(run.params[0])) and run.grads.shape == (S, run.params.shape[1])
    assert run.param_names == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    assert run.initial_params["W1"].shape == (2, 3) and run.final_params["W3"].shape == (2, 1)
    assert run.n_bn == 2
    K = len(run.snapshot_steps)
    for k, units in enumerate((3, 2)):
        for arr in (run.batch_mean, run.batch_var, run.running_mean, run.running_var, run.gamma, run.beta):
            assert arr[k].shape == (S, units)
        assert run.population_mean[k].shape == run.population_var[k].shape == (K, units)
    assert run.grad_norm.shape == (S, 3) and run.update_ratio.shape == (S, 3)
    assert len(run.batch_indices) == S and all(len(ix) == 10 for ix in run.batch_indices)
    # every epoch visits every training row once
    for epoch in range(50):
        rows = np.concatenate(run.batch_indices[epoch * 32:(epoch + 1) * 32])
        np.testing.assert_array_equal(np.sort(rows), np.arange(len(data.y_train)))
    assert run.snapshot_steps[0] == 0 and run.snapshot_steps[-1] == S and len(run.snapshot_steps) <= 120
    assert set(run.snapshots) == {"z", "bn", "act"}
    assert run.snapshots["z"][0].shape == (len(run.snapshot_steps), len(data.y_train), 3)
    assert set(run.epoch_metrics) == set(EPOCH_METRICS)
    assert all(v.shape == (51,) for v in run.epoch_metrics.values())
    assert run.diverged_at is None
    assert run.nbytes < 20e6


def test_default_run_learns(default_run):
    assert default_run.epoch_metrics["test_acc_eval"][-1] > 0.8
    assert default_run.epoch_metrics["train_loss_eval"][-1] < default_run.epoch_metrics["train_loss_eval"][0]


def test_recorded_losses_and_statistics_are_what_each_step_saw(data, default_run):
    """Recompute a few steps by hand from the stored parameters and batch rows."""
    run, cfg = default_run, default_run.config
    X = data.inputs(data.X_train, cfg.standardize)
    for s in (0, 1, 31, 32, 777, run.n_steps - 1):
        rows = run.step_rows(s)
        result = forward(run.arch, run.params_at(s), X[rows])
        z = result.logits
        y = data.y_train[rows]
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        assert run.train_loss[s] == pytest.approx(loss, rel=1e-13)
        assert run.train_acc[s] == np.mean((z > 0) == (y > 0.5))
        for k, cache in enumerate(result.bn_caches):
            np.testing.assert_allclose(run.batch_mean[k][s], cache.mean, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(run.batch_var[k][s], cache.var, rtol=1e-13)
        # and the gradient stored for the step is the one of that batch
        from bnviz.nn import loss_and_grads
        _, grads, _ = loss_and_grads(run.arch, run.params_at(s), X[rows], y)
        for name in run.param_names:
            start, stop, _ = run.param_slices[name]
            np.testing.assert_allclose(run.grads[s, start:stop], grads[name].ravel(), rtol=1e-12, atol=1e-15)
        # SGD: the next state is this one minus lr times the gradient
        np.testing.assert_allclose(run.params[s + 1], run.params[s] - cfg.lr * run.grads[s], rtol=1e-14, atol=1e-15)


def test_running_statistics_follow_the_ewma_rule(default_run):
    run, m = default_run, default_run.config.bn_momentum
    for k in range(run.n_bn):
        expected_mean, expected_var = np.zeros_like(run.running_mean[k][0]), np.ones_like(run.running_var[k][0])
        for s in range(run.n_steps):
            expected_mean = m * expected_mean + (1 - m) * run.batch_mean[k][s]
            expected_var = m * expected_var + (1 - m) * run.batch_var[k][s]
        np.testing.assert_allclose(run.running_mean[k][-1], expected_mean, rtol=1e-12)
        np.testing.assert_allclose(run.running_var[k][-1], expected_var, rtol=1e-12)


def test_cumulative_average_is_the_plain_mean_of_batch_statistics(data):
    run = train(Config(running_avg="cumulative", epochs=3), data)
    for k in range(run.n_bn):
        np.testing.assert_allclose(run.running_mean[k], np.cumsum(run.batch_mean[k], 0)
                                   / np.arange(1, run.n_steps + 1)[:, None], rtol=1e-11)


@pytest.mark.parametrize("variance", ["biased", "unbiased"])
def test_algorithm_2_replaces_the_final_buffers_with_the_trained_networks_statistics(data, variance):
    """running_avg="population": the EWMA while training, then after the last step each BN layer's
    batch mean and variance of the final network over the last epoch's batches, averaged, by hand."""
    import plain

    cfg = Config(epochs=3, running_avg="population", running_var=variance, hidden=(3, 2, 2))
    run = train(cfg, data)
    ewma = train(cfg.replace(running_avg="ewma"), data)
    expected = plain.running_statistics(run, data)
    X = plain.inputs(run, data, data.X_train)
    for k in range(run.n_bn):
        # every step but the last keeps the EWMA, bit for bit
        np.testing.assert_array_equal(run.running_mean[k][:-1], ewma.running_mean[k][:-1])
        np.testing.assert_array_equal(run.running_var[k][:-1], ewma.running_var[k][:-1])
        mean, var = plain.population(run, X, k + 1)
        np.testing.assert_allclose(run.running_mean[k][-1], mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(run.running_var[k][-1], var, rtol=1e-12)
        np.testing.assert_allclose(run.running_mean[k][-1], expected[k + 1][-1][0], rtol=1e-12, atol=1e-14)
        assert not np.allclose(run.running_var[k][-1], ewma.running_var[k][-1])
    # evaluation mode at the end uses them
    params = plain.params_at(run, run.n_steps)
    buffers = {k + 1: (run.running_mean[k][-1], run.running_var[k][-1]) for k in range(run.n_bn)}
    logits, _ = plain.forward(run, params, X, buffers)
    assert run.epoch_metrics["train_loss_eval"][-1] == pytest.approx(plain.bce(logits, data.y_train), rel=1e-10)


def test_running_statistics_approach_the_population_statistics(data):
    """With a steady network late in training the running mean settles near the
    exact mean over all rows; the biased running variance settles near
    (n-1)/n of the exact variance, as the expected biased batch variance does."""
    run = train(Config(epochs=200, lr=0.02), data)
    k, n = 0, run.config.batch_size
    tail = run.snapshot_steps > run.n_steps - 32 * 20
    gap_mean = np.abs(run.running_mean[k][-1] - run.population_mean[k][tail].mean(0))
    assert np.all(gap_mean < 0.1 * np.sqrt(run.population_var[k][-1]))
    ratio = run.running_var[k][-1] / run.population_var[k][tail].mean(0)
    np.testing.assert_allclose(ratio, (n - 1) / n, rtol=0.1)
    unbiased = train(Config(epochs=200, lr=0.02, running_var="unbiased"), data)
    ratio = unbiased.running_var[k][-1] / unbiased.population_var[k][tail].mean(0)
    np.testing.assert_allclose(ratio, 1.0, rtol=0.1)


def test_population_statistics_are_exact_full_data_statistics(data, default_run):
    run = default_run
    X = data.inputs(data.X_train, True)
    for i in (0, 1, len(run.snapshot_steps) // 2, -1):
        result = forward(run.arch, run.params_at(run.snapshot_steps[i]), X)
        for k, cache in enumerate(result.bn_caches):
            np.testing.assert_allclose(run.population_mean[k][i], cache.mean, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(run.population_var[k][i], cache.var, rtol=1e-12)


def test_eval_metrics_use_the_running_statistics(data, default_run):
    run = default_run
    X_test = data.inputs(data.X_test, True)
    last = run.epoch_steps[-1]
    result = forward(run.arch, run.params_at(last), X_test, run.buffers_at(last))
    acc = np.mean((result.logits > 0) == (data.y_test > 0.5))
    assert run.epoch_metrics["test_acc_eval"][-1] == acc


def test_divergence_stops_cleanly_and_records_the_step(data):
    cfg = Config(lr=10.0, standardize=False, bn=False, activation="linear")
    run = train(cfg, data)
    assert run.diverged_at is not None
    assert run.n_steps == run.diverged_at
    assert np.all(np.isfinite(run.train_loss))
    # the step it names really had a non-finite loss
    seen = replay(run_loop([cfg], data), [0], run.diverged_at + 1)
    assert not np.isfinite(seen["train_loss"][-1, 0])


def test_a_learning_rate_of_100_never_raises(data):
    for cfg in (Config(lr=100.0, standardize=False), Config(lr=100.0, bn=False, optimizer="adam"),
                Config(lr=100.0, init_scale=1e4, bn=False, activation="linear", hidden=(16,) * 8)):
        run = train(cfg.replace(epochs=3), data)
        # the Run covers exactly the steps before any divergence, each with a finite loss
        assert run.n_steps == (3 * run.steps_per_epoch if run.diverged_at is None else run.diverged_at)
        assert np.all(np.isfinite(run.train_loss))
        assert len(run.params) == run.n_steps + 1


def test_batch_bounds_fold_a_trailing_single_row():
    assert batch_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert batch_bounds(11, 3) == [(0, 3), (3, 6), (6, 9), (9, 11)]
    assert batch_bounds(10, 10) == [(0, 10)]
    assert batch_bounds(10, 500) == [(0, 10)]
    assert batch_bounds(4, 1) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_a_trailing_one_row_batch_joins_the_previous_batch(data):
    n = len(data.y_train)                     # 320 rows: batch 29 leaves 1 over
    assert n % 29 == 1
    run = train(Config(batch_size=29, epochs=2), data)
    sizes = [len(ix) for ix in run.batch_indices]
    assert sizes[:10] == [29] * 10 and sizes[10] == 30 and len(sizes) == 22


def test_batch_size_one_with_bn_trains_as_the_formulas_say(data):
    """One row per batch: BN outputs beta, no gradient reaches W1, and the
    running variance heads to 0 (why Keras and PyTorch refuse it)."""
    run = train(Config(batch_size=1, epochs=1), data)
    assert run.diverged_at is None
    np.testing.assert_array_equal(run.grads[:, slice(*run.param_slices["W1"][:2])], 0.0)
    np.testing.assert_array_equal(run.batch_var[0], 0.0)
    np.testing.assert_allclose(run.running_var[0][-1], run.config.bn_momentum ** run.n_steps, rtol=1e-10)


def test_full_batch_when_batch_size_is_at_least_the_rows(data):
    run = train(Config(batch_size=100_000, epochs=5), data)
    assert run.steps_per_epoch == 1 and run.n_steps == 5
    assert len(run.batch_indices[0]) == len(data.y_train)


def test_keep_bias_changes_nothing_but_adds_parameters(data):
    base = train(Config(epochs=3), data)
    kept = train(Config(epochs=3, keep_bias=True), data)
    assert "b1" in kept.param_names and "b1" not in base.param_names
    for k in (1, 2):
        # its gradient is computed: rounding noise only, so the bias barely moves from 0
        np.testing.assert_allclose(kept.param_history(f"b{k}"), 0.0, atol=1e-14)
    np.testing.assert_allclose(kept.train_loss, base.train_loss, rtol=1e-12)
    for name in base.param_names:
        np.testing.assert_allclose(kept.final_params[name], base.final_params[name], rtol=1e-10, atol=1e-12)


def test_init_params_start_the_run(data, default_run):
    start = {name: v * 0.5 for name, v in default_run.initial_params.items()}
    run = train(Config(epochs=1), data, init_params=start)
    for name in start:
        np.testing.assert_array_equal(run.initial_params[name], start[name])


def test_bn_on_and_off_start_from_the_same_weights(data):
    on, off = train(Config(epochs=1), data), train(Config(epochs=1, bn=False), data)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(on.initial_params[f"W{k}"], off.initial_params[f"W{k}"])
    np.testing.assert_array_equal(on.orders, off.orders)


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_and_position_learns(data, position, optimizer):
    lr = {"sgd": 0.1, "momentum": 0.1, "rmsprop": 0.01, "adam": 0.01}[optimizer]
    run = train(Config(bn_position=position, optimizer=optimizer, lr=lr, epochs=15), data)
    assert run.epoch_metrics["test_acc_eval"][-1] > 0.75


def test_ensemble_of_one_is_the_single_run(data, default_run):
    ensemble = train_ensemble([Config()], data)
    assert len(ensemble) == 1
    assert_runs_equal(ensemble.member(0), default_run)


def test_ensemble_members_equal_their_single_runs(data):
    configs = [Config(epochs=4, lr=lr, seed=seed, init_scale=scale)
               for lr, seed, scale in ((0.1, 0, 1.0), (1.0, 3, 0.1), (0.01, 7, 10.0), (30.0, 1, 1.0))]
    ensemble = train_ensemble(configs, data)
    for i, cfg in enumerate(configs):
        assert_runs_equal(ensemble.member(i), train(cfg, data))
    assert ensemble.train_loss.shape == (4 * 32, 4)
    metrics = ensemble.final_metrics()
    assert metrics["test_acc_eval"].shape == (4,)
    assert metrics["test_acc_eval"][0] == ensemble.member(0).epoch_metrics["test_acc_eval"][-1]


def test_ensemble_with_a_diverging_member_keeps_the_others(data):
    base = Config(epochs=3, standardize=False, bn=False, activation="linear")
    configs = [base.replace(lr=1e-4), base.replace(lr=10.0)]
    ensemble = train_ensemble(configs, data)
    assert ensemble.diverged_at[0] is None and ensemble.diverged_at[1] is not None
    assert_runs_equal(ensemble.member(0), train(configs[0], data))
    assert_runs_equal(ensemble.member(1), train(configs[1], data))


def test_ensemble_members_may_differ_only_in_lr_scale_and_seed(data):
    with pytest.raises(ValueError, match="bn"):
        train_ensemble([Config(), Config(bn=False)], data)


def test_progress_reports_partial_runs(data):
    seen = []
    run = train(Config(epochs=3), data, progress=lambda p: seen.append((p.step, p.run().n_steps)),
                progress_seconds=0.0)
    assert seen[-1][0] == run.n_steps
    assert all(step == n for step, n in seen)
    assert len(seen) == run.n_steps + 1   # every step, then once at the end


def test_notes_tables_train(data):
    for name in ("notes4", "notes_students"):
        d = load_dataset(name)
        run = train(Config(dataset=name, batch_size=4, epochs=5), d)
        assert np.all(np.isnan(run.epoch_metrics["test_acc_eval"]))
        assert run.n_steps == 5 * len(batch_bounds(len(d.y_train), 4))


def test_digits_train_loss_is_each_batch_cross_entropy():
    """Ten classes: a softmax output; train_loss[s] is the mean cross-entropy of step s's batch,
    train_acc the share of it whose largest logit is its digit, and the test accuracy in evaluation
    mode is that of the running statistics, all recomputed by hand."""
    import plain

    cfg = Config(dataset="digits", hidden=(12, 12), activation="sigmoid", batch_size=60, epochs=1, lr=0.5)
    data = load_for(cfg)
    run = train(cfg, data)
    assert run.arch.widths == (64, 12, 12, 10) and run.n_steps == 24
    X = plain.inputs(run, data, data.X_train)
    for s in (0, 1, 11, 23):
        rows = plain.batch_rows(run, s)
        logits, _ = plain.forward(run, plain.params_at(run, s), X[rows])
        assert logits.shape == (len(rows), 10) and len(rows) == (60 if s < 23 else 1438 - 23 * 60)
        assert run.train_loss[s] == pytest.approx(plain.cross_entropy(logits, data.y_train[rows]), rel=1e-12)
        assert run.train_acc[s] == pytest.approx(plain.accuracy(logits, data.y_train[rows]), abs=1e-15)
    assert run.train_loss[-5:].mean() < run.train_loss[:5].mean() < np.log(10) + 0.5
    buffers = {k + 1: (run.running_mean[k][-1], run.running_var[k][-1]) for k in range(run.n_bn)}
    logits, _ = plain.forward(run, plain.params_at(run, run.n_steps), plain.inputs(run, data, data.X_test), buffers)
    assert run.epoch_metrics["test_acc_eval"][-1] == pytest.approx(plain.accuracy(logits, data.y_test), abs=1e-15)
    assert run.epoch_metrics["test_loss_eval"][-1] == pytest.approx(plain.cross_entropy(logits, data.y_test),
                                                                    rel=1e-10)


def test_ensemble_of_digits_members_matches_single_runs():
    cfg = Config(dataset="digits", hidden=(8,), batch_size=100, epochs=1)
    data = load_for(cfg)
    ens = train_ensemble([cfg, cfg.replace(seed=1, lr=0.3)], data)
    for i, member in enumerate((cfg, cfg.replace(seed=1, lr=0.3))):
        single = train(member, data)
        np.testing.assert_allclose(ens.member(i).params, single.params, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ens.train_loss[:, i], single.train_loss, rtol=1e-12)
    metrics = ens.final_metrics()
    assert metrics["test_acc_eval"].shape == (2,) and np.all((0 <= metrics["test_acc_eval"])
                                                            & (metrics["test_acc_eval"] <= 1))


def test_layer_norm_trains_with_gamma_and_beta_and_keeps_no_running_statistics():
    cfg = Config(norm="layer", hidden=(8, 8), epochs=5)
    run = train(cfg, load_for(cfg))
    assert run.param_names == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert run.n_bn == 0 and len(run.running_mean) == 0 and run.arch.summary().count("LN(8)") == 2
    assert run.diverged_at is None and run.train_loss[-10:].mean() < 0.6 * run.train_loss[:10].mean()
    # gamma and beta learn: they leave 1 and 0
    assert np.abs(run.final_params["gamma1"] - 1).max() > 1e-3 and np.abs(run.final_params["beta2"]).max() > 1e-3


@pytest.mark.parametrize("cfg", [Config(), Config(dataset="moons", data_size=2600, bn_position="after"),
                                 Config(bn=False, epochs=3)])
def test_a_run_sent_to_another_process_recomputes_its_snapshots_bit_for_bit(cfg):
    import pickle

    data = load_for(cfg)
    run = train(cfg, data)
    sent = pickle.dumps(run)
    kept = sum(a.nbytes for stage in run.snapshots.values() for a in stage)
    assert len(sent) < len(pickle.dumps({k: v for k, v in vars(run).items() if k != "recorded"})) + kept / 2
    received = pickle.loads(sent)
    assert "snapshots" in received.recorded and received.n_steps == run.n_steps
    assert set(received.snapshots) == set(run.snapshots)
    for stage, layers in run.snapshots.items():
        for ours, theirs in zip(layers, received.snapshots[stage]):
            assert np.array_equal(ours, theirs), stage
    again = pickle.loads(pickle.dumps(received))            # sent on again, before or after they were made
    assert np.array_equal(again.snapshots["z"][0], run.snapshots["z"][0])


def test_each_epochs_order_is_the_seeds_next_permutation():
    """Row orders are the shuffle stream's permutations, one an epoch in turn: what a link's seed
    has always trained on (written out here with rng.permutation, epoch by epoch)."""
    from bnviz.seeding import rng_for
    from bnviz.train import epoch_orders

    for seed, n_rows, epochs in ((0, 320, 4), (7, 1, 3), (12345, 57, 2), (3, 2, 9)):
        rng = rng_for(seed, "shuffle")
        expected = np.stack([rng.permutation(n_rows) for _ in range(epochs)])
        orders = epoch_orders(seed, n_rows, epochs)
        assert orders.dtype == np.intp and orders.shape == (epochs, n_rows)
        np.testing.assert_array_equal(orders, expected)
