"""The views of data off the two-feature plane (the handwritten digits): every number a chart shows,
recomputed plainly from the Run's parameters with tests/plain.py's loop over layers."""
import base64
import json

import numpy as np
import pytest

import plain
from bnviz import Config, load_for, train
from bnviz import figures as F
from bnviz.classes import confusion, held_out, held_out_sheet, image_side, sheet_rows
from bnviz.figures.classes import ROW_GAP, caption, mosaic
from bnviz.figures.watch import watch_spec
from bnviz.watch import watch_pair

CFG = Config(dataset="digits", hidden=(12,), activation="sigmoid", batch_size=60, epochs=2, lr=0.5)


@pytest.fixture(scope="module")
def runs():
    data = load_for(CFG)
    return train(CFG, data), train(CFG.replace(bn=False), data), data


def plain_classes(run, data, X, state=None):
    """(n,) the class with the largest logit for raw rows X in evaluation mode, by the plain loop."""
    state = run.n_steps if state is None else state
    buffers = None
    if run.n_bn:
        buffers = {k + 1: (run.running_mean[k][state - 1], run.running_var[k][state - 1]) if state else
                   (np.zeros(run.config.hidden[k]), np.ones(run.config.hidden[k])) for k in range(run.n_bn)}
    logits, _ = plain.forward(run, plain.params_at(run, state), plain.inputs(run, data, X), buffers)
    return np.argmax(logits, axis=1), logits


def test_image_side_only_for_square_pictures():
    assert image_side(64) == 8 and image_side(16) == 4
    assert image_side(2) is None and image_side(9) is None and image_side(10) is None and image_side(63) is None


def test_confusion_matrix_counts_every_test_row(runs):
    for run in runs[:2]:
        data = runs[2]
        m = confusion(run, data)
        predicted, _ = plain_classes(run, data, data.X_test)
        expected = np.zeros((10, 10), dtype=int)
        for truth, guess in zip(data.y_test.astype(int), predicted):
            expected[truth, guess] += 1
        np.testing.assert_array_equal(m.counts, expected)
        assert m.counts.sum() == len(data.y_test) and m.split == "test"
        assert m.accuracy == pytest.approx(run.epoch_metrics["test_acc_eval"][-1], abs=1e-12)


def test_sheet_holds_the_first_rows_of_each_class_with_their_predictions(runs):
    run, _, data = runs
    sheet = held_out_sheet(run, data, per_class=3)
    y = data.y_test.astype(int)
    expected_rows = [i for k in range(10) for i in [j for j in range(len(y)) if y[j] == k][:3]]
    np.testing.assert_array_equal(sheet.rows, expected_rows)
    np.testing.assert_array_equal(sheet.labels, y[expected_rows])
    predicted, logits = plain_classes(run, data, data.X_test[expected_rows])
    np.testing.assert_array_equal(sheet.predicted, predicted)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(sheet.probability, (e / e.sum(axis=1, keepdims=True)).max(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(sheet.wrong, predicted != y[expected_rows])
    np.testing.assert_array_equal(sheet_rows(np.array([1, 0, 1, 1, 0]), 2, 2), [1, 4, 0, 2])


def test_mosaic_puts_image_i_at_its_row_and_column():
    images = np.arange(5 * 16, dtype=float).reshape(5, 16)
    picture = mosaic(images, per_row=2, side=4)
    cell, row_cell = 4 + F.classes.GAP, 4 + ROW_GAP
    assert picture.shape == (3 * row_cell, 2 * cell - F.classes.GAP)
    for i in range(5):
        r, c = divmod(i, 2)
        np.testing.assert_array_equal(picture[r * row_cell:r * row_cell + 4, c * cell:c * cell + 4],
                                      images[i].reshape(4, 4))
    assert np.isnan(picture[:, 4:cell]).all() and np.isnan(picture[2 * row_cell:, cell:]).all()


def test_sheet_figure_marks_wrong_images_with_a_cross_and_a_frame(runs):
    run, _, data = runs
    sheet = held_out_sheet(run, data)
    fig = F.digit_sheet_figure(sheet, 8, data)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z, dtype=float),
                                  mosaic(data.X_test[sheet.rows], sheet.per_row, 8))
    texts = [a.text for a in fig.layout.annotations]
    assert texts == [caption(sheet, i, [str(k) for k in range(10)]) for i in range(len(sheet.rows))]
    wrong = int(sheet.wrong.sum())
    assert sum(t.startswith("✗") for t in texts) == wrong == len(fig.layout.shapes)
    assert all(s.line.dash == "dash" for s in fig.layout.shapes)         # not colour alone
    assert f"{wrong} of {len(sheet.rows)} wrong" in fig.layout.title.text
    i = int(np.flatnonzero(~sheet.wrong)[0])
    assert texts[i] == f"{sheet.predicted[i]} · {sheet.probability[i]:.2f}"


def test_confusion_figure_shows_both_runs_counts(runs):
    a, b, data = runs
    ma, mb = confusion(a, data), confusion(b, data)
    fig = F.confusion_figure([ma, mb], ["A · BN on", "B · BN off"], data)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), ma.counts)
    np.testing.assert_array_equal(np.asarray(fig.data[1].z), mb.counts)
    titles = [t.text for t in fig.layout.annotations]
    assert titles[:2] == [f"A · BN on: {ma.accuracy:.1%} right", f"B · BN off: {mb.accuracy:.1%} right"]
    assert list(fig.data[0].text[0]) == [str(v) if v else "" for v in ma.counts[0]]


def test_probabilities_figure_draws_the_image_and_each_runs_ten_probabilities(runs):
    from bnviz.inference import predict_proba

    a, b, data = runs
    p = [predict_proba(r, data, data.X_test[[4]])[0] for r in (a, b)]
    fig = F.probabilities_figure(data.X_test[4], 8, p, ["A", "B"], [F.BN_ON, F.BN_OFF], data, int(data.y_test[4]))
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), data.X_test[4].reshape(8, 8))
    for trace, probs in zip(fig.data[1:], p):
        np.testing.assert_array_equal(np.asarray(trace.y), probs)
    assert f"true class: {int(data.y_test[4])}" in fig.layout.xaxis2.title.text


def test_all_figures_swap_the_plane_pictures_for_classes(runs):
    a, b, data = runs
    figs = F.all_figures(a, data, b)
    assert "input_scaling" not in figs and "decision_boundary" not in figs
    assert {"confusion", "test_sheet"} <= set(figs)


def test_watch_view_follows_test_accuracy_off_the_plane(runs):
    a, b, data = runs
    views = watch_pair(a, b, data, frames=7)
    for v, run in zip(views, (a, b)):
        assert v.prob is None and v.accuracy.shape == v.states.shape
        for f in (0, len(v.states) // 2, len(v.states) - 1):
            predicted, _ = plain_classes(run, data, data.X_test, int(v.states[f]))
            assert v.accuracy[f] == pytest.approx(np.mean(predicted == data.y_test), abs=1e-12)
            assert v.at(f)["accuracy"] == v.accuracy[f]
    spec = watch_spec(views, ["A", "B"], data)
    assert spec["panels"][-1] == "Test accuracy" and "orange 0" not in spec["key"]
    assert "stands in for P(digit) over the feature plane" in spec["key"] and "this data has 64" in spec["key"]
    for run_spec, v in zip(spec["runs"], views):
        frames = run_spec["frames"]
        assert "prob" not in frames and frames["grid"] == 0
        sent = np.frombuffer(base64.b64decode(frames["accuracy"]), dtype="<f4")
        np.testing.assert_allclose(sent, v.accuracy, rtol=1e-6)
        assert run_spec["panels"][4]["axes"][0]["y"] == [0.0, 1.0]
    json.dumps(spec)


def test_held_out_falls_back_to_training_rows():
    data = load_for(Config(dataset="notes4"))
    X, y, split = held_out(data)
    assert split == "training" and len(y) == len(data.y_train)
