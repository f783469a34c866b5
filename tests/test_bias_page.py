"""The bias in front of BN on the page: its recorded gradient, sized and drawn as the run recorded it."""
import math

import numpy as np
import pytest

from bnviz import Config, train
from bnviz import figures as F
from bnviz.bias import biases_before_bn
from bnviz.ui.tabs import bias_sentences


@pytest.fixture(scope="module")
def biased_run(data):
    return train(Config(keep_bias=True, epochs=5), data)


def test_records_are_the_recorded_gradients(biased_run):
    run = biased_run
    records = biases_before_bn(run)
    assert [r.layer for r in records] == [1, 2]
    for rec in records:
        start, stop, _ = run.param_slices[f"b{rec.layer}"]
        w_start, w_stop, _ = run.param_slices[f"W{rec.layer}"]
        for s in (0, 17, run.n_steps - 1):
            db = run.grads[s, start:stop]
            dW = run.grads[s, w_start:w_stop]
            np.testing.assert_array_equal(rec.grads[s], db)
            assert rec.grad_norm[s] == pytest.approx(math.sqrt(sum(v * v for v in db)), rel=1e-12, abs=0)
            assert rec.weight_grad_norm[s] == pytest.approx(math.sqrt(sum(v * v for v in dW)), rel=1e-12)
        ratios = [rec.grad_norm[s] / rec.weight_grad_norm[s] for s in range(run.n_steps)
                  if rec.weight_grad_norm[s] > 0]
        assert rec.relative == max(ratios)
        assert rec.relative < 1e-12                       # zero up to rounding, against the weights
        np.testing.assert_array_equal(rec.values, run.param_history(f"b{rec.layer}"))


def test_no_records_without_a_bias_in_front_of_bn(default_run, data):
    assert biases_before_bn(default_run) == []
    assert biases_before_bn(train(Config(keep_bias=True, bn_position="after", epochs=1), data)) == []
    blank = F.bias_figure(default_run, biases_before_bn(default_run))
    assert not blank.data and "keep_bias" in blank.layout.annotations[0].text


def test_bias_figure_draws_the_records(biased_run):
    records = biases_before_bn(biased_run)
    fig = F.bias_figure(biased_run, records)
    by_name = {t.name: t for t in fig.data}
    for rec in records:
        shown = F.curves.thin(len(rec.values))
        np.testing.assert_array_equal(by_name[f"b{rec.layer}, unit 1"].x, shown)
        np.testing.assert_array_equal(by_name[f"b{rec.layer}, unit 1"].y, rec.values[shown, 0])
        weights = by_name[f"‖∂L/∂W{rec.layer}‖"]
        steps = np.asarray(weights.x, dtype=int)
        np.testing.assert_array_equal(weights.y, rec.weight_grad_norm[steps])
        bias = by_name[f"‖∂L/∂b{rec.layer}‖"]
        assert (np.asarray(bias.y) > 0).all()             # a log axis cannot show 0
        np.testing.assert_array_equal(bias.y, rec.grad_norm[np.asarray(bias.x, dtype=int)])


def test_sentences_state_the_measured_sizes(biased_run):
    for rec, text in zip(biases_before_bn(biased_run), bias_sentences(biased_run, biases_before_bn(biased_run))):
        largest = np.max(np.abs(rec.grads))
        assert text.startswith(f"b{rec.layer}: over {biased_run.n_steps:,} steps")
        assert ("0 at every step" in text) if largest == 0 else (f"at most {largest:.1e}" in text)
        assert "zero up to rounding" in text
