"""Smoothness along the gradient by value: the probed steps on made-up batch plans, and each probe's three
measures recomputed with the plain network, one step size and one member at a time."""
import types

import numpy as np
import pytest

import plain
from bnviz import Config
from bnviz.overseeds import datasets, over_seeds
from bnviz.smoothness import along_gradient, probe_steps
from gradcheck import numerical_gradient


def plan(bounds, steps):
    """What probe_steps reads of a History: the batches of an epoch and the steps done."""
    return types.SimpleNamespace(bounds=bounds, steps_per_epoch=len(bounds), steps_done=steps)


# 32 rows in batches of 10: the fourth batch of each epoch holds 2 rows, so steps 3 and 7 are never probed
UNEVEN = [(0, 10), (10, 20), (20, 30), (30, 32)]


@pytest.mark.parametrize("bounds, steps, probes, expected", [
    (UNEVEN, 8, 3, [0, 2, 6]),              # positions 0, 2.5, 5 of six full steps: 2.5 rounds to even
    (UNEVEN, 8, 2, [0, 6]),                 # the first and the last full step
    (UNEVEN, 8, 1, [0]),
    (UNEVEN, 8, 6, [0, 1, 2, 4, 5, 6]),     # as many probes as full steps: every one
    (UNEVEN, 8, 12, [0, 1, 2, 4, 5, 6]),    # more probes than full steps: still every one
    (UNEVEN, 5, 12, [0, 1, 2, 4]),          # the steps done, not whole epochs
    ([(0, 10), (10, 21)], 4, 12, [0, 2]),   # a one-row remainder joined the last batch: 11 rows is not full
    ([(0, 5), (5, 10)], 10, 4, [0, 3, 6, 9]),
    ([(0, 5), (5, 10)], 10, 3, [0, 4, 9]),  # positions 0, 4.5, 9: 4.5 rounds to even
    ([(0, 5), (5, 10)], 11, 3, [0, 5, 10]),
    (UNEVEN, 0, 12, []),                    # nothing trained, nothing probed
])
def test_probed_steps_are_full_batches_evenly_spread(bounds, steps, probes, expected):
    assert probe_steps(plan(bounds, steps), probes).tolist() == expected


def test_the_default_probes_twelve_steps():
    assert probe_steps(plan([(0, 5), (5, 10)], 30)).tolist() == [
        0, 3, 5, 8, 11, 13, 16, 18, 21, 24, 26, 29]                  # round(29 i / 11), halves to even


def plain_measures(run, data, cfg, noise, step, multiples):
    """The three measures at one step of one member's Run, by hand: the loss and its gradient (centred
    differences) at w - eta g for each eta, on that step's batch with that step's noise."""
    X, y = plain.inputs(run, data, data.X_train), data.y_train
    rows = plain.batch_rows(run, step)
    w, g = run.params[step], run.grads[step]
    norm = np.sqrt(np.sum(g * g))

    def loss_at(flat):
        p = {n: flat[a:b].reshape(shape) for n, (a, b, shape) in run.param_slices.items()}
        return plain.loss(plain.forward(run, p, X[rows], noise=noise)[0], y[rows])

    base = loss_at(w)
    off, turn, beta = [], [], []
    for mult in multiples:
        eta = mult * cfg.lr
        moved = w - eta * g
        grad = numerical_gradient(lambda: loss_at(moved), moved, h=1e-5)
        forecast = base - eta * norm ** 2
        off.append(abs(loss_at(moved) - forecast) / (eta * norm ** 2))
        change = np.sqrt(np.sum((grad - g) ** 2))
        turn.append(change / norm)
        beta.append(change / (eta * norm))
    return max(off), max(turn), max(beta)


def step_noise(history, member, step, hidden):
    """Noisy BN's (scale, shift) of one step, per BN layer (1-based), read from the stored draws."""
    if history.noise is None:
        return None
    flat, out, start = history.noise[step, member], {}, 0
    for k, units in enumerate(hidden, start=1):
        out[k] = (flat[start:start + units], flat[start + units:start + 2 * units])
        start += 2 * units
    return out


def check(ensemble, configs, smooth, multiples, plainly=None):
    """Each probe of each member recomputed by hand (plainly: {member: how many of its first probes},
    for members whose later probes hold numbers too large for centred differences), and each member's
    medians over its finite probes."""
    h = ensemble.history
    for m, (cfg, data) in enumerate(zip(configs, datasets(configs))):
        run = ensemble.member(m)
        for t, s in list(enumerate(smooth.probe_steps))[:(plainly or {}).get(m)]:
            want = plain_measures(run, data, cfg, step_noise(h, m, s, cfg.hidden), s, multiples)
            assert smooth.loss_range[t, m] == pytest.approx(want[0], rel=1e-6, abs=1e-9)
            assert smooth.grad_range[t, m] == pytest.approx(want[1], rel=1e-5)
            assert smooth.beta[t, m] == pytest.approx(want[2], rel=1e-5)
    for median, probes in ((smooth.loss_variation, smooth.loss_range), (smooth.grad_change, smooth.grad_range),
                           (smooth.beta_smoothness, smooth.beta)):
        np.testing.assert_array_equal(median, [np.median(p[np.isfinite(p)]) for p in probes.T])


TINY = Config(dataset="xor", data_size=40, hidden=(2,), epochs=2)


@pytest.mark.parametrize("cfg", [TINY, TINY.replace(bn_noise=0.5, bn_position="after"), TINY.replace(bn=False)],
                         ids=["bn", "noisy bn after", "no bn"])
def test_each_probe_and_median_agree_with_a_plain_recomputation(cfg):
    """Two seeds, each at two learning rates (each member steps by its own rate)."""
    ensemble, configs = over_seeds(cfg, range(2), lr=[0.1, 0.5])
    smooth = along_gradient(ensemble.history, probes=3, multiples=(0.5, 2.0))
    assert smooth.probe_steps.tolist() == [0, 2, 6]
    check(ensemble, configs, smooth, (0.5, 2.0))


def test_the_default_step_sizes_and_probes():
    """Half, one, two and four times the learning rate, at twelve steps out of fifteen full ones."""
    ensemble, configs = over_seeds(TINY.replace(epochs=5), [3])
    smooth = along_gradient(ensemble.history)
    assert smooth.probe_steps.tolist() == [0, 1, 4, 5, 6, 8, 10, 12, 13, 14, 17, 18]
    check(ensemble, configs, smooth, (0.5, 1.0, 2.0, 4.0))


@pytest.mark.filterwarnings("error")
def test_a_diverged_member_is_probed_only_before_its_divergence():
    """A deep linear network on raw inputs at rates 1 and 3: two of the four members diverge (at steps 14
    and 9); their probes from there on are NaN and left out of their medians, without a warning."""
    cfg = Config(dataset="xor", data_size=40, hidden=(2, 2, 2), epochs=4, bn=False, activation="linear",
                 standardize=False)
    ensemble, configs = over_seeds(cfg, range(2), lr=[1.0, 3.0])
    assert ensemble.history.diverged_at.tolist() == [-1, 14, -1, 9]
    smooth = along_gradient(ensemble.history, probes=12, multiples=(0.5, 2.0))
    assert smooth.probe_steps.tolist() == [0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14]
    for values in (smooth.loss_range, smooth.grad_range, smooth.beta):
        assert np.isnan(values[:, [0, 2]]).sum() == 0
        assert np.isnan(values[:, 1]).tolist() == [False] * 10 + [True] * 2
        assert np.isnan(values[:, 3]).tolist() == [False] * 6 + [True] * 6    # step 8: its gradient overflows
    check(ensemble, configs, smooth, (0.5, 2.0), plainly={1: 6, 3: 3})


def test_members_sharing_one_data_set():
    """An ensemble trained on one Dataset (inputs (N, d), not one split per member) probes the same way."""
    from bnviz import train_ensemble

    configs = [TINY, TINY.replace(lr=0.5)]
    ensemble = train_ensemble(configs, datasets(configs)[0])
    smooth = along_gradient(ensemble.history, probes=3, multiples=(0.5, 2.0))
    check(ensemble, configs, smooth, (0.5, 2.0))


@pytest.mark.filterwarnings("error")
def test_a_member_marked_diverged_and_a_zero_gradient_are_left_out_without_a_warning():
    """Made-up marks on a trained record: a member marked diverged at step 2 keeps only its probe at
    step 0; one marked at step 0 has no probe (its medians are NaN); a probe whose stored gradient is
    zero has no step to normalize by (NaN, not infinity)."""
    import dataclasses

    ensemble, configs = over_seeds(TINY, range(2), lr=[0.1, 0.5])
    h = ensemble.history
    grads = h.grads.copy()
    grads[6, 3] = 0.0
    marked = dataclasses.replace(h, diverged_at=np.array([2, 0, -1, -1]), grads=grads)
    smooth = along_gradient(marked, probes=3, multiples=(0.5, 2.0))
    honest = along_gradient(h, probes=3, multiples=(0.5, 2.0))
    assert smooth.probe_steps.tolist() == [0, 2, 6]
    for got, want in ((smooth.loss_range, honest.loss_range), (smooth.grad_range, honest.grad_range),
                      (smooth.beta, honest.beta)):
        assert got[0, 0] == want[0, 0] and np.isnan(got[1:, 0]).all()
        assert np.isnan(got[:, 1]).all()
        np.testing.assert_array_equal(got[:, 2], want[:, 2])
        np.testing.assert_array_equal(got[:2, 3], want[:2, 3])
        assert np.isnan(got[2, 3])
    for median, probes in ((smooth.loss_variation, honest.loss_range), (smooth.grad_change, honest.grad_range),
                           (smooth.beta_smoothness, honest.beta)):
        assert median[0] == probes[0, 0] and np.isnan(median[1])
        assert median[2] == np.median(probes[:, 2]) and median[3] == (probes[0, 3] + probes[1, 3]) / 2
