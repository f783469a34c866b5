"""The compiled training loop (bnviz.compiled) against the NumPy loop, the reference: every option
gives the same parameters, gradients and running statistics to 1e-12 over whole runs, the same
divergence, and the same Run; without numba, or with BNVIZ_ENGINE=numpy, training runs the NumPy loop."""
import logging

import numpy as np
import pytest

from bnviz import Config, compiled, load_dataset, load_for, train
from bnviz.run import replay
from bnviz.train import run_loop

TOLERANCE = 1e-12
needs_numba = pytest.mark.skipif(compiled.kernel() is None, reason="numba cannot be had here")

# (name, configs of one run or ensemble, stride); short runs that still cover every branch of the kernel
SHORT = Config(epochs=4)
DIGITS = Config(dataset="digits", hidden=(12, 10), activation="sigmoid", batch_size=60, epochs=2, lr=0.5)
CASES = [
    ("default", [Config()], 1),
    *[(f"activation-{g}", [SHORT.replace(activation=g)], 1) for g in ("relu", "tanh", "sigmoid", "linear")],
    *[(f"optimizer-{o}", [SHORT.replace(optimizer=o, lr=0.05)], 1) for o in ("sgd", "momentum", "rmsprop", "adam")],
    ("no-bn", [SHORT.replace(bn=False)], 1),
    ("no-bn-tanh-adam", [SHORT.replace(bn=False, activation="tanh", optimizer="adam", lr=0.01)], 1),
    ("bn-after", [SHORT.replace(bn_position="after")], 1),
    ("bn-after-sigmoid-momentum", [SHORT.replace(bn_position="after", activation="sigmoid", optimizer="momentum")], 1),
    ("keep-bias", [SHORT.replace(keep_bias=True, bias_init=0.5)], 1),
    ("cumulative", [SHORT.replace(running_avg="cumulative")], 1),
    ("unbiased", [SHORT.replace(running_var="unbiased", bn_momentum=0.9)], 1),
    ("cumulative-unbiased-after", [SHORT.replace(running_avg="cumulative", running_var="unbiased",
                                                 bn_position="after")], 1),
    ("noisy-bn", [SHORT.replace(bn_noise=0.3)], 1),
    ("noisy-bn-after-tanh", [SHORT.replace(bn_noise=0.5, bn_position="after", activation="tanh")], 1),
    ("deep-wide", [Config(hidden=(16, 9, 5, 3), epochs=3, optimizer="adam", lr=0.01)], 1),
    ("one-layer", [SHORT.replace(hidden=(1,))], 1),
    ("eight-layers", [Config(hidden=(4,) * 8, epochs=2, activation="tanh")], 1),
    ("batch-of-one", [Config(batch_size=1, epochs=1)], 1),
    ("full-batch", [SHORT.replace(batch_size=10_000, epochs=20)], 1),
    ("big-batches", [SHORT.replace(batch_size=100)], 1),
    ("trailing-row-folded", [SHORT.replace(batch_size=7)], 1),
    ("raw-inputs", [SHORT.replace(standardize=False, lr=0.01)], 1),
    ("moons", [Config(dataset="moons", epochs=3, hidden=(8, 8))], 1),
    ("stride", [Config(epochs=20)], 7),
    ("stride-noise-adam", [Config(epochs=12, bn_noise=0.2, optimizer="adam", lr=0.02)], 5),
    ("ensemble", [SHORT.replace(lr=lr, init_scale=scale, seed=seed)
                  for lr, scale, seed in ((0.1, 1.0, 0), (0.3, 0.5, 1), (0.05, 2.0, 2), (1.0, 1.0, 3))], 1),
    ("ensemble-rmsprop-after", [SHORT.replace(optimizer="rmsprop", bn_position="after", lr=lr, seed=s)
                                for lr, s in ((0.01, 0), (0.001, 5))], 1),
    # Layer norm over two or three units is nearly a step function of their differences (1 / sqrt(eps)
    # magnifies them where they are close), so on such layers a rounding apart grows to O(1) within a
    # few epochs in either loop alone (a perturbation of 1e-15 in the initial weights grows to 1e-9 in four
    # epochs with (4, 4), to O(1) with (3, 2), and stays at 1e-15 with (8, 8)): the cases train layers of
    # eight units where they run for epochs, and narrower ones briefly.
    ("layer-notes-net", [Config(norm="layer", epochs=1)], 1),
    ("layer", [SHORT.replace(norm="layer", hidden=(8, 8))], 1),
    ("layer-four-units-briefly", [Config(norm="layer", hidden=(4, 4), epochs=1)], 1),
    ("layer-after-tanh-adam", [SHORT.replace(norm="layer", bn_position="after", activation="tanh",
                                             optimizer="adam", lr=0.01, hidden=(8, 8))], 1),
    ("layer-sigmoid-momentum-eps", [SHORT.replace(norm="layer", activation="sigmoid", optimizer="momentum",
                                                  eps=1e-5, hidden=(6, 4))], 1),
    ("layer-deep-wide", [Config(norm="layer", hidden=(16, 9, 5, 4), epochs=3, optimizer="sgd", lr=0.05)], 1),
    ("layer-one-unit", [SHORT.replace(norm="layer", hidden=(1, 4))], 1),
    ("layer-batch-of-one", [Config(norm="layer", batch_size=1, epochs=1, hidden=(8, 8), lr=0.05)], 1),
    ("layer-keep-bias-stride", [Config(norm="layer", keep_bias=True, bias_init=0.5, epochs=12, hidden=(8, 8))], 5),
    ("layer-moons", [Config(norm="layer", dataset="moons", epochs=3, hidden=(8, 8))], 1),
    ("layer-ensemble", [SHORT.replace(norm="layer", hidden=(8, 8), lr=lr, init_scale=scale, seed=seed)
                        for lr, scale, seed in ((0.1, 1.0, 0), (0.3, 0.5, 1), (1.0, 2.0, 2))], 1),
    ("layer-ensemble-after", [SHORT.replace(norm="layer", bn_position="after", optimizer="adam", hidden=(8, 8),
                                            lr=lr, seed=s) for lr, s in ((0.01, 0), (0.05, 4))], 1),
    ("diverging-member", [Config(standardize=False, activation="linear", bn=False, epochs=6, init_scale=scale)
                          for scale in (1.0, 100.0)], 1),
    # ten classes and 64 inputs: the softmax's cross-entropy in the kernel
    ("digits-softmax", [DIGITS], 1),
    ("digits-softmax-after-adam", [DIGITS.replace(bn_position="after", optimizer="adam", lr=0.01,
                                                  activation="tanh")], 1),
    ("digits-softmax-no-bn", [DIGITS.replace(bn=False)], 1),
    ("digits-softmax-layer-norm", [DIGITS.replace(norm="layer", activation="tanh")], 1),
    ("digits-softmax-layer-norm-after", [DIGITS.replace(norm="layer", bn_position="after", optimizer="adam",
                                                        lr=0.01)], 1),
    ("digits-softmax-noisy-bn", [DIGITS.replace(bn_noise=0.3, running_avg="cumulative")], 1),
    ("digits-softmax-stride", [DIGITS.replace(epochs=4)], 5),
    ("digits-softmax-ensemble", [DIGITS.replace(lr=lr, init_scale=scale, seed=seed)
                                 for lr, scale, seed in ((0.5, 1.0, 0), (0.1, 2.0, 1), (1.0, 0.5, 2))], 1),
    ("digits-softmax-diverging-member", [DIGITS.replace(standardize=False, activation="linear", bn=False,
                                                       init_scale=scale, lr=lr)
                                         for scale, lr in ((1.0, 0.001), (30.0, 0.5))], 1),
    ("diverging-all", [Config(standardize=False, activation="linear", init_scale=100.0, bn=False, epochs=6)], 1),
    ("diverging-ensemble-strided", [Config(standardize=False, activation="linear", bn=False, epochs=12,
                                           init_scale=scale) for scale in (1.0, 100.0)], 3),
]


def train_both(monkeypatch, configs, stride, data=None):
    data = load_for(configs[0]) if data is None else data
    runs = {}
    for engine in ("numpy", "compiled"):
        monkeypatch.setenv(compiled.ENGINE_ENV, engine)
        assert compiled.engine() == engine
        runs[engine] = run_loop(configs, data, stride=stride)
    return runs["numpy"], runs["compiled"]


def worst_difference(reference, fast) -> float:
    """The largest difference over the states and steps each member's record covers, each against
    the size of its state (the largest entry of that vector, at least 1); raises when the two records
    differ by more than TOLERANCE so measured, or in divergence or what they kept."""
    np.testing.assert_array_equal(fast.diverged_at, reference.diverged_at)
    assert fast.diverged_why == reference.diverged_why and fast.steps_done == reference.steps_done
    np.testing.assert_array_equal(fast.states, reference.states)
    np.testing.assert_array_equal(fast.steps, reference.steps)
    worst = 0.0
    for m in range(len(reference.configs)):
        covered = reference.member_steps(m)
        states = reference.states <= covered
        steps = reference.steps < covered
        for name, where in (("params", states), ("running", states), ("grads", steps)):
            want, got = getattr(reference, name)[where, m], getattr(fast, name)[where, m]
            if not want.size:
                continue
            scale = np.maximum(np.abs(want).max(axis=1, keepdims=True), 1.0)
            difference = float(np.max(np.abs(got - want) / scale))
            assert difference <= TOLERANCE, f"{name} of member {m} differ by {difference:.3g}"
            worst = max(worst, difference)
        worst = max(worst, seen_difference(reference, fast, m, covered))
    return worst


def seen_difference(reference, fast, member: int, covered: int) -> float:
    """The largest difference between what the recorded steps' forward passes saw, replayed from the
    NumPy loop's states and kept by the compiled loop as it trained (each against its size, at least 1):
    loss, accuracy, flat activations, batch statistics, and whether every logit was finite."""
    assert reference.seen is None and fast.seen is not None
    want, got = replay(reference, [member], covered), replay(fast, [member], covered)
    assert set(got) == set(want)
    np.testing.assert_array_equal(got["logits_ok"], want["logits_ok"])
    worst = 0.0
    for name in sorted(set(want) - {"logits_ok"}):
        pairs = zip(want[name], got[name]) if isinstance(want[name], list) else [(want[name], got[name])]
        for w, g in pairs:
            assert w.shape == g.shape, name
            np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=name)
            both = ~np.isnan(w)
            if both.any():
                difference = float(np.max(np.abs(g[both] - w[both]) / np.maximum(np.abs(w[both]), 1.0)))
                assert difference <= TOLERANCE, f"{name} of member {member} differs by {difference:.3g}"
                worst = max(worst, difference)
    return worst


@needs_numba
@pytest.mark.parametrize("name, configs, stride", CASES, ids=[c[0] for c in CASES])
def test_the_compiled_loop_equals_the_numpy_loop(monkeypatch, name, configs, stride):
    reference, fast = train_both(monkeypatch, configs, stride)
    assert worst_difference(reference, fast) <= TOLERANCE
    if name.startswith("diverging"):
        assert (reference.diverged_at >= 0).any()


@needs_numba
@pytest.mark.parametrize("stride", [1, 4])
def test_a_run_that_multiplies_rounding_each_step_agrees_until_rounding_dominates(monkeypatch, stride):
    """At lr 100 with linear units every step multiplies the state's rounding error about tenfold, so
    two correct loops that round differently part ways after some twenty steps (so would the NumPy
    loop on another BLAS). They agree while the difference is rounding, and both find the same cause
    of divergence within a few steps of each other."""
    cfg = Config(activation="linear", lr=100.0, epochs=5)
    reference, fast = train_both(monkeypatch, [cfg], stride)
    assert reference.diverged_why == fast.diverged_why == ["statistics"]
    assert abs(int(reference.diverged_at[0]) - int(fast.diverged_at[0])) <= 4
    early = reference.states <= 8
    scale = np.maximum(np.abs(reference.params[early, 0]).max(axis=1, keepdims=True), 1.0)
    assert np.max(np.abs(fast.params[early, 0] - reference.params[early, 0]) / scale) <= TOLERANCE


@needs_numba
def test_members_with_their_own_data_sets_train_alike(monkeypatch):
    configs = [Config(epochs=3, seed=s) for s in range(3)]
    data = [load_for(c) for c in configs]
    reference, fast = train_both(monkeypatch, configs, 1, data)
    assert worst_difference(reference, fast) <= TOLERANCE


@needs_numba
def test_the_run_a_page_draws_is_the_same(monkeypatch):
    cfg = Config(epochs=5)
    data = load_for(cfg)
    monkeypatch.setenv(compiled.ENGINE_ENV, "numpy")
    reference = train(cfg, data)
    monkeypatch.setenv(compiled.ENGINE_ENV, "compiled")
    fast = train(cfg, data)
    np.testing.assert_allclose(fast.train_loss, reference.train_loss, rtol=TOLERANCE, atol=TOLERANCE)
    for k in range(2):
        np.testing.assert_allclose(fast.running_mean[k], reference.running_mean[k], rtol=TOLERANCE, atol=TOLERANCE)
        np.testing.assert_allclose(fast.batch_var[k], reference.batch_var[k], rtol=TOLERANCE, atol=TOLERANCE)
    for name, value in reference.final_params.items():
        np.testing.assert_allclose(fast.final_params[name], value, rtol=TOLERANCE, atol=TOLERANCE)


@needs_numba
def test_progress_comes_in_pieces_and_stops_when_the_callback_raises(monkeypatch):
    monkeypatch.setenv(compiled.ENGINE_ENV, "compiled")
    cfg = Config(epochs=3)
    steps = []

    def stop_at_ten(p):
        steps.append(p.step)
        if p.step >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, load_for(cfg), progress=stop_at_ten, progress_seconds=0.0)
    assert steps == list(range(1, 11))


def test_bnviz_engine_numpy_forces_the_reference_loop(monkeypatch):
    monkeypatch.setenv(compiled.ENGINE_ENV, "numpy")
    assert compiled.engine() == "numpy"
    monkeypatch.setenv(compiled.ENGINE_ENV, "compiled")
    assert compiled.engine() == ("compiled" if compiled.kernel() is not None else "numpy")


def test_without_numba_training_falls_back_to_numpy_and_says_so(monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_numba(name, *args, **kwargs):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("No module named 'numba'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(compiled, "_kernel", None)
    monkeypatch.setattr(compiled, "_failed", None)
    monkeypatch.delitem(__import__("sys").modules, "bnviz._kernel", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_numba)
    monkeypatch.delenv(compiled.ENGINE_ENV, raising=False)
    with caplog.at_level(logging.WARNING, logger="bnviz.compiled"):
        assert compiled.engine() == "numpy"
        cfg = Config(epochs=1)
        run = train(cfg, load_for(cfg))
    assert run.n_steps == 32 and run.diverged_at is None
    assert [r.message for r in caplog.records if "NumPy loop" in r.message][:1], caplog.text
    assert "numba" in caplog.text


def test_a_read_only_package_caches_compiled_code_under_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(compiled.os, "access", lambda path, mode: str(path) == str(tmp_path))
    monkeypatch.setattr(compiled.Path, "home", lambda: tmp_path)
    folder = compiled.cache_dir()
    assert folder is not None and folder.startswith(str(tmp_path / ".cache"))
    assert compiled.os.environ["NUMBA_CACHE_DIR"] == folder
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere")
    assert compiled.cache_dir() == "/somewhere"


def test_warm_compiles_once_and_trains_the_default(monkeypatch):
    monkeypatch.setenv(compiled.ENGINE_ENV, "numpy")
    assert compiled.warm() == 0.0
    monkeypatch.delenv(compiled.ENGINE_ENV)
    assert compiled.warm() >= 0.0
    assert load_dataset("placement").n_features == 2


def _fails_to_compile():
    """A numba kernel whose compile fails on its first call, as numba fails when it cannot build one."""
    import numba

    @numba.njit
    def broken(*args):
        return args[0].no_such_attribute

    return broken


@needs_numba
@pytest.mark.parametrize("members", [1, 3])
def test_a_kernel_that_fails_to_compile_at_run_time_falls_back_to_numpy_and_says_so(monkeypatch, caplog, members):
    cfg = Config(epochs=2)
    configs = [cfg.replace(seed=s) for s in range(members)]
    data = load_for(cfg)
    monkeypatch.setenv(compiled.ENGINE_ENV, "numpy")
    reference = run_loop(configs, data)
    monkeypatch.setenv(compiled.ENGINE_ENV, "compiled")
    module = compiled.kernel()
    monkeypatch.setattr(module, "train_steps", _fails_to_compile())      # imports fine, fails on its first call
    monkeypatch.setattr(compiled, "_kernel", module)
    monkeypatch.setattr(compiled, "_failed", None)
    monkeypatch.setattr(compiled, "_forward", None)
    monkeypatch.setattr(compiled, "_proven", set())
    with caplog.at_level(logging.WARNING, logger="bnviz.compiled"):
        history = run_loop(configs, data)
    assert "failed to compile" in caplog.text and "NumPy loop" in caplog.text
    assert compiled.engine() == "numpy"              # and the process stays on the NumPy loop
    for name in ("params", "grads", "running", "diverged_at"):
        assert np.array_equal(getattr(history, name), getattr(reference, name)), name


@needs_numba
def test_the_compiled_forward_pass_equals_numpy_and_falls_back_when_it_fails_to_compile(monkeypatch):
    from bnviz.evaluation import forward_states, states_logits, unit_states
    from bnviz.inference import running_buffers

    for cfg in (Config(), Config(bn=False, activation="tanh"), Config(bn_position="after", activation="sigmoid",
                                                                      hidden=(4, 3, 2), keep_bias=True)):
        data = load_for(cfg)
        run = train(cfg, data)
        X, states = data.inputs(data.X_train, True), run.even_states(40)
        for buffers in (None, running_buffers(run, states)):
            reference = forward_states(run.arch, run.params_of(states), X, buffers)
            logits, watched = compiled.forward_logits(run.arch, run.params_of(states), X, buffers, (1, 1))
            assert np.allclose(logits, reference.logits, rtol=0, atol=TOLERANCE)
            trace = reference.traces[1]
            for i, stage in enumerate(("z", "bn", "act")):
                if getattr(trace, stage) is not None:
                    assert np.allclose(watched[i], getattr(trace, stage)[..., 1], rtol=0, atol=TOLERANCE), stage
            assert np.array_equal(unit_states(run.arch, run.params_of(states), X, 2, 1, buffers)["z"], watched[0])
    module = compiled.forward_kernel()
    monkeypatch.setattr(module, "forward_logits", _fails_to_compile())
    monkeypatch.setattr(compiled, "_proven", set())
    monkeypatch.setattr(compiled, "_kernel", compiled.kernel())
    monkeypatch.setattr(compiled, "_failed", None)
    assert compiled.forward_logits(run.arch, run.params_of(states), X) is None
    assert compiled.engine() == "numpy"
    assert np.array_equal(states_logits(run.arch, run.params_of(states), X),
                          forward_states(run.arch, run.params_of(states), X).logits)
