"""The settings behind the lessons: a non-zero starting bias, noisy BN, ensembles whose
members each train on their own split, and the loss's smoothness along the gradient.
Checked against plain recomputations (tests/plain.py) and centred differences."""
import math

import numpy as np
import pytest

import plain
from bnviz import Config, load_for, train, train_ensemble
from bnviz.nn import Architecture, init_params, loss_and_grads, noise_pairs
from bnviz.overseeds import datasets, over_seeds
from bnviz.smoothness import along_gradient
from gradcheck import assert_gradient_close, numerical_gradient

SHORT = Config(epochs=3)


# ------------------------------------------------------------------ the Config fields


def test_new_settings_default_to_what_links_meant_before():
    cfg = Config()
    assert cfg.bias_init == 0.0 and cfg.bn_noise == 0.0
    assert cfg.to_query() == {}
    old_link = {"lr": "0.5", "bn": "0", "keep_bias": "1"}
    assert Config.from_query(old_link) == (Config(lr=0.5, bn=False, keep_bias=True), [])


def test_new_settings_round_trip_through_links():
    cfg = Config(bias_init=-1.5, bn_noise=0.3, keep_bias=True)
    query = cfg.to_query()
    assert query["bias_init"] == "-1.5" and query["bn_noise"] == "0.3"
    assert Config.from_query(query) == (cfg, [])
    fixed, warnings = Config.from_query({"bn_noise": "9", "bias_init": "x"})
    assert fixed.bn_noise == 2.0 and fixed.bias_init == 0.0 and len(warnings) == 2
    with pytest.raises(ValueError):
        Config(bn_noise=-0.1)


# ------------------------------------------------------------------ bias


def test_bias_init_sets_the_hidden_biases_and_nothing_else():
    data = load_for(SHORT)
    kept = train(SHORT.replace(keep_bias=True, bias_init=1.5, epochs=1), data)
    zero = train(SHORT.replace(keep_bias=True, epochs=1), data)
    for name, value in kept.initial_params.items():
        if name in ("b1", "b2"):
            np.testing.assert_array_equal(value, 1.5)
        else:
            np.testing.assert_array_equal(value, zero.initial_params[name])
    assert np.all(kept.initial_params["b3"] == 0.0)
    plain_net = train(SHORT.replace(bn=False, bias_init=-0.5, epochs=1), data)
    assert np.all(plain_net.initial_params["b1"] == -0.5) and np.all(plain_net.initial_params["b3"] == 0.0)


def test_a_started_bias_leaves_training_mode_outputs_unchanged():
    data = load_for(SHORT)
    kept = train(SHORT.replace(keep_bias=True, bias_init=2.0), data)
    none = train(SHORT, data)
    X = plain.inputs(kept, data, data.X_train)
    for state in (0, kept.n_steps // 2, kept.n_steps):
        with_bias, _ = plain.forward(kept, plain.params_at(kept, state), X)
        without, _ = plain.forward(none, plain.params_at(none, state), X)
        assert np.abs(with_bias - without).max() <= 1e-12 * max(1.0, np.abs(without).max())
    # and the two trainings walk the same path: same mini-batch losses
    np.testing.assert_allclose(kept.train_loss, none.train_loss, rtol=1e-12, atol=1e-14)


def test_a_started_bias_shifts_evaluation_outputs_until_the_running_mean_catches_up():
    data = load_for(Config())
    kept = train(Config(keep_bias=True, bias_init=1.0), data)
    none = train(Config(), data)
    running_kept, running_none = plain.running_statistics(kept, data), plain.running_statistics(none, data)
    X = plain.inputs(kept, data, data.X_train)
    shift = []
    for state in (kept.steps_per_epoch, kept.n_steps):
        a, _ = plain.forward(kept, plain.params_at(kept, state), X, plain.buffers_after(kept, running_kept, state))
        b, _ = plain.forward(none, plain.params_at(none, state), X, plain.buffers_after(none, running_none, state))
        shift.append(np.abs(a - b).max())
    assert shift[0] > 0.1 and shift[1] < 1e-3 * shift[0]


def test_the_bias_gradient_is_computed_and_tiny():
    run = train(SHORT.replace(keep_bias=True, bias_init=1.0), load_for(SHORT))
    weights = np.concatenate([run.grads[:, a:b] for n, (a, b, _) in run.param_slices.items() if n[0] == "W"], axis=1)
    biases = np.concatenate([run.grads[:, run.param_slices[n][0]:run.param_slices[n][1]] for n in ("b1", "b2")],
                            axis=1)
    # rounding noise, not a written-in zero ...
    assert np.abs(biases).max() > 0.0
    # ... and far below the weights' gradients at every step
    assert np.all(np.abs(biases).max(axis=1) < 1e-12 * np.abs(weights).max(axis=1))


# ------------------------------------------------------------------ noisy BN


def test_noisy_bn_is_deterministic_per_seed_and_differs_between_seeds():
    data = load_for(SHORT)
    a = train(SHORT.replace(bn_noise=0.5), data)
    b = train(SHORT.replace(bn_noise=0.5), data)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    quiet = train(SHORT, data)
    assert not np.allclose(a.params[-1], quiet.params[-1])
    other = train(SHORT.replace(bn_noise=0.5, seed=1), load_for(SHORT.replace(seed=1)))
    assert not np.allclose(other.train_loss[:5], a.train_loss[:5])
    # without BN there is nothing to perturb: the setting changes nothing
    np.testing.assert_array_equal(train(SHORT.replace(bn=False, bn_noise=0.5), data).params,
                                  train(SHORT.replace(bn=False), data).params)


def _plain_noise(seed, steps, hidden, size):
    """The noise drawn by hand: the fifth child of the seed's SeedSequence, standard normals
    per step, per layer scales exp(size * n) then shifts size * n."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[4])
    normal = rng.standard_normal((steps, 2 * sum(hidden)))
    out, start = [], 0
    for units in hidden:
        out.append((np.exp(size * normal[:, start:start + units]), size * normal[:, start + units:start + 2 * units]))
        start += 2 * units
    return out


@pytest.mark.parametrize("position", ["before", "after"])
def test_noisy_bn_losses_and_gradients_agree_with_a_plain_recomputation(position):
    cfg = SHORT.replace(bn_noise=0.7, bn_position=position, seed=3)
    data = load_for(cfg)
    run = train(cfg, data)
    noise = _plain_noise(3, run.n_steps, cfg.hidden, 0.7)
    X = plain.inputs(run, data, data.X_train)
    for s in (0, 1, run.n_steps // 2, run.n_steps - 1):
        rows = plain.batch_rows(run, s)
        step_noise = {k + 1: (scale[s], shift[s]) for k, (scale, shift) in enumerate(noise)}
        params = plain.params_at(run, s)
        logits, _ = plain.forward(run, params, X[rows], noise=step_noise)
        assert run.train_loss[s] == pytest.approx(plain.bce(logits, data.y_train[rows]), rel=1e-12)
        # the stored gradient is that of this noisy loss: a centred difference along a random direction
        direction = np.random.default_rng(s).standard_normal(run.params.shape[1])
        h = 1e-6

        def loss_at(flat):
            p = {n: flat[a:b].reshape(shape) for n, (a, b, shape) in run.param_slices.items()}
            return plain.bce(plain.forward(run, p, X[rows], noise=step_noise)[0], data.y_train[rows])

        numeric = (loss_at(run.params[s] + h * direction) - loss_at(run.params[s] - h * direction)) / (2 * h)
        assert run.grads[s] @ direction == pytest.approx(numeric, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_noisy_bn_gradient_check_with_the_noise_fixed(position, activation):
    rng = np.random.default_rng(11)
    arch = Architecture(n_in=2, hidden=(4, 3), activation=activation, bn=True, bn_position=position)
    params = init_params(arch, rng, "xavier")
    for name in params:
        if name.startswith(("gamma", "beta")):
            params[name] = rng.normal(0.5, 0.3, size=params[name].shape)
    flat = np.concatenate([np.exp(0.6 * rng.standard_normal(4)), 0.6 * rng.standard_normal(4),
                           np.exp(0.6 * rng.standard_normal(3)), 0.6 * rng.standard_normal(3)])
    noise = noise_pairs(flat, arch.hidden)
    x, y = rng.normal(size=(10, 2)), (rng.random(10) > 0.5).astype(float)
    _, grads, _ = loss_and_grads(arch, params, x, y, noise=noise)
    for name, p in params.items():
        numeric = numerical_gradient(lambda: float(loss_and_grads(arch, params, x, y, noise=noise)[0]), p)
        assert_gradient_close(grads[name], numeric, name)


# ------------------------------------------------------------------ ensembles over seeds


def test_each_member_trains_on_its_own_split_exactly_as_a_single_training():
    configs = [SHORT.replace(seed=s, bn_noise=0.2) for s in (0, 4, 7)]
    ensemble = train_ensemble(configs, datasets(configs))
    final = ensemble.final_metrics()
    for i, cfg in enumerate(configs):
        alone = train(cfg, load_for(cfg))
        member = ensemble.member(i)
        np.testing.assert_array_equal(member.params, alone.params)
        np.testing.assert_array_equal(member.train_loss, alone.train_loss)
        np.testing.assert_array_equal(ensemble.train_loss[:, i], alone.train_loss)
        for name, values in final.items():
            assert values[i] == pytest.approx(alone.epoch_metrics[name][-1], rel=1e-12, nan_ok=True), name


def test_members_need_data_of_one_shape():
    configs = [SHORT, SHORT.replace(seed=1)]
    with pytest.raises(ValueError, match="one Dataset per member"):
        train_ensemble(configs, [load_for(SHORT)])
    with pytest.raises(ValueError, match="same numbers"):
        train_ensemble(configs, [load_for(SHORT), load_for(SHORT.replace(test_fraction=0.3))])


# ------------------------------------------------------------------ smoothness


def _plain_grad(run, flat, X, y, noise, h=1e-6):
    """The mini-batch loss's gradient by centred differences through the plain reference network."""
    def loss(v):
        p = {n: v[a:b].reshape(shape) for n, (a, b, shape) in run.param_slices.items()}
        return plain.bce(plain.forward(run, p, X, noise=noise)[0], y)
    grad = np.zeros_like(flat)
    for i in range(len(flat)):
        e = np.zeros_like(flat)
        e[i] = h
        grad[i] = (loss(flat + e) - loss(flat - e)) / (2 * h)
    return grad


@pytest.mark.parametrize("cfg", [Config(epochs=2), Config(epochs=2, bn_noise=0.5), Config(epochs=2, bn=False)])
def test_smoothness_along_the_gradient_agrees_with_a_plain_recomputation(cfg):
    """The three step-normalized measures, recomputed with the plain reference network."""
    ensemble, configs = over_seeds(cfg, [0, 1])
    smooth = along_gradient(ensemble.history, probes=3, multiples=(0.5, 2.0))
    noise = None
    for m, c in enumerate(configs):
        run, data = ensemble.member(m), load_for(c)
        if c.bn_noise:
            noise = _plain_noise(c.seed, run.n_steps, c.hidden, c.bn_noise)
        X = plain.inputs(run, data, data.X_train)
        variations, turns, betas = [], [], []
        for t, s in enumerate(smooth.probe_steps):
            rows = plain.batch_rows(run, s)
            step_noise = None if noise is None else {k + 1: (a[s], b[s]) for k, (a, b) in enumerate(noise)}
            g = run.grads[s]
            g2 = float(g @ g)
            p0 = {n: run.params[s][a:b].reshape(shape) for n, (a, b, shape) in run.param_slices.items()}
            loss0 = plain.bce(plain.forward(run, p0, X[rows], noise=step_noise)[0], data.y_train[rows])
            off, turn, beta = [], [], []
            for mult in (0.5, 2.0):
                eta = mult * c.lr
                flat = run.params[s] - eta * g
                p = {n: flat[a:b].reshape(shape) for n, (a, b, shape) in run.param_slices.items()}
                loss = plain.bce(plain.forward(run, p, X[rows], noise=step_noise)[0], data.y_train[rows])
                off.append(abs(loss - (loss0 - eta * g2)) / (eta * g2))
                moved_grad = _plain_grad(run, flat, X[rows], data.y_train[rows], step_noise)
                turn.append(np.linalg.norm(moved_grad - g) / np.sqrt(g2))
                beta.append(np.linalg.norm(moved_grad - g) / (eta * np.sqrt(g2)))
            variations.append(max(off))
            turns.append(max(turn))
            betas.append(max(beta))
            assert smooth.loss_range[t, m] == pytest.approx(variations[-1], rel=1e-6, abs=1e-12)
            assert smooth.grad_range[t, m] == pytest.approx(turns[-1], rel=1e-4)
            assert smooth.beta[t, m] == pytest.approx(betas[-1], rel=1e-4)
        assert smooth.loss_variation[m] == pytest.approx(float(np.median(variations)), rel=1e-6, abs=1e-12)
        assert smooth.grad_change[m] == pytest.approx(float(np.median(turns)), rel=1e-4)
        assert smooth.beta_smoothness[m] == pytest.approx(float(np.median(betas)), rel=1e-4)
    assert math.isfinite(float(smooth.beta_smoothness.sum()))
