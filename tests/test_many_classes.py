"""Ten classes and 64 inputs through every engine helper: values where there are values, and a
sentence (bnviz.unsupported.Unsupported) where a picture needs two inputs or two classes."""
import numpy as np
import pytest

import plain
from bnviz import Config, load_dataset, load_for, train, train_ensemble
from bnviz.inference import (decision_grid, one_row_at_a_time, predict, predict_class, predict_proba)
from bnviz.landscape import input_scaling, network_plane
from bnviz.unsupported import Unsupported

CFG = Config(dataset="digits", hidden=(10, 10), activation="sigmoid", batch_size=60, epochs=2, lr=0.5)


@pytest.fixture(scope="module")
def digits_run():
    data = load_for(CFG)
    return train(CFG, data), data


def test_predict_gives_ten_probabilities_per_row(digits_run):
    run, data = digits_run
    rows = data.X_test[:7]
    p = predict(run, data, rows)
    assert p.shape == (7, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    buffers = {k + 1: (run.running_mean[k][-1], run.running_var[k][-1]) for k in range(run.n_bn)}
    logits, _ = plain.forward(run, plain.params_at(run, run.n_steps), plain.inputs(run, data, rows), buffers)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(predict_proba(run, data, rows), p)
    np.testing.assert_array_equal(predict_class(run, data, rows), np.argmax(logits, axis=1))
    # an earlier state and batch mode
    first = predict(run, data, rows, state=0, mode="batch")
    assert first.shape == (7, 10) and not np.allclose(first, p)


def test_two_class_probabilities_keep_their_shape(data, default_run):
    rows = data.X_test[:5]
    p = predict(default_run, data, rows)
    assert p.shape == (5,)
    both = predict_proba(default_run, data, rows)
    np.testing.assert_array_equal(both[:, 1], p)
    np.testing.assert_allclose(both.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(predict_class(default_run, data, rows), (p > 0.5).astype(int))


def test_one_row_at_a_time_scores_ten_classes(digits_run):
    run, data = digits_run
    acc = one_row_at_a_time(run, data, [0, run.n_steps])
    X = plain.inputs(run, data, data.X_test)
    for i, state in enumerate((0, run.n_steps)):
        params = plain.params_at(run, state)
        right = [np.argmax(plain.forward(run, params, X[j:j + 1])[0][0]) == data.y_test[j] for j in range(len(X))]
        assert acc[i] == pytest.approx(np.mean(right), abs=1e-15)


def test_pictures_of_the_input_plane_say_why_not(digits_run):
    run, data = digits_run
    with pytest.raises(Unsupported, match="two input features; this data has 64"):
        decision_grid(run, data, [0, run.n_steps])
    with pytest.raises(Unsupported, match="two input features; this data has 64"):
        input_scaling(data)
    assert issubclass(Unsupported, ValueError)


def test_three_classes_over_two_features_say_why_not():
    from bnviz.data import make_dataset

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    data = make_dataset("three", X, np.arange(90) % 3, ("a", "b"), label_values=(0, 1, 2))
    run = train(Config(epochs=1, hidden=(3,)), data)
    with pytest.raises(Unsupported, match="two classes; this data has 3"):
        decision_grid(run, data, [0])
    with pytest.raises(Unsupported, match="two classes; this data has 3"):
        input_scaling(data)


def test_the_loss_plane_is_the_cross_entropy(digits_run):
    run, data = digits_run
    from bnviz.landscape import plane_losses

    plane = network_plane(run, data, "pca", size=5)
    assert plane.loss.shape == (5, 5) and np.isfinite(plane.loss).all() and np.isfinite(plane.path_loss).all()
    # at the final weights: the training loss, BN with the final running statistics
    buffers = {k + 1: (run.running_mean[k][-1], run.running_var[k][-1]) for k in range(run.n_bn)}
    logits, _ = plain.forward(run, plain.params_at(run, run.n_steps), plain.inputs(run, data, data.X_train), buffers)
    assert plane_losses(run, data, run.params[-1:])[0] == pytest.approx(plain.cross_entropy(logits, data.y_train),
                                                                        rel=1e-10)


def test_watch_view_numbers_for_digits(digits_run):
    from bnviz.watch import watch_run

    run, data = digits_run
    view = watch_run(run, data, frames=6)
    assert view.prob is None and view.grid_x is None and "64" in view.grid_note
    assert np.isfinite(view.percentiles).all() and view.plane is not None


def test_smoothness_and_learn_bar_for_ten_classes():
    from bnviz.overseeds import _references, learn_bar
    from bnviz.smoothness import along_gradient

    data = load_dataset("digits")
    chance, linear = _references(data)
    assert chance == pytest.approx(np.bincount(data.y_train.astype(int)).max() / len(data.y_train))
    assert 0.95 < linear <= 1.0 and learn_bar(data) == pytest.approx((chance + linear) / 2)
    ensemble = train_ensemble([CFG, CFG.replace(seed=1)], [load_for(CFG), load_for(CFG.replace(seed=1))])
    smooth = along_gradient(ensemble.history, probes=3)
    assert np.isfinite(smooth.beta).all() and smooth.beta.shape == (3, 2) and (smooth.beta > 0).all()


def test_a_rows_output_alone_and_in_the_whole_batch_over_ten_classes():
    """The batch-dependence measure reads every class's logit of a softmax output: one number per
    member, zero up to rounding with layer norm, of the logits' size with batch norm."""
    from bnviz.measures import _row_change
    from bnviz.overseeds import over_seeds

    for norm, low, high in (("layer", 0.0, 1e-12), ("batch", 0.1, 10.0)):
        ensemble, _ = over_seeds(Config(dataset="digits", hidden=(8,), epochs=1, batch_size=64, norm=norm), [0, 1])
        change = _row_change(ensemble)
        assert change.shape == (2,) and np.all((low <= change) & (change <= high)), (norm, change)
