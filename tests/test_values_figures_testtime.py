"""Test-time charts by value: three ways of normalizing at test time, the decision boundary and one student
inside batches, from made-up numbers and the data's rows, every name and sentence written out."""
from types import SimpleNamespace

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.figures.testtime import (_class_name, batch_dependence_figure, decision_boundary_figure,
                                    test_time_figure as time_figure)
from bnviz.inference import AccuracyByStatistics, DecisionGrid, OneStudentInBatches
from bnviz.train import architecture, initial_params


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


@pytest.fixture(scope="module")
def runs(data):
    cfg = Config(epochs=1)
    arch = architecture(cfg, data.n_features)
    params = initial_params(cfg, arch)
    params[f"b{arch.n_dense}"] = np.full(1, np.inf)
    return {"batch": train(Config(epochs=1), data), "none": train(Config(bn=False, epochs=1), data),
            "layer": train(Config(norm="layer", bn=False, epochs=1), data),
            "zero": train(cfg, data, init_params=params),
            "diverged": train(Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=3), data)}


def accuracy(running, whole, alone):
    return AccuracyByStatistics(np.array([0, 32, 64]), np.array(running, float), np.array(whole, float),
                                np.array(alone, float))


def test_three_ways_at_test_time_with_bn(runs):
    acc = accuracy([0.5, 0.8, 0.9], [0.5, 0.7, 0.85], [0.5, 0.5, 0.5])
    fig = time_figure(runs["batch"], acc)
    expected = [("running statistics (evaluation mode)", "#0072B2", "solid", acc.running),
                ("the whole test set as one batch", "#009E73", "dash", acc.whole_batch),
                ("one row at a time, own batch statistics", "#D55E00", "dot", acc.alone)]
    assert len(fig.data) == 3
    for t, (name, colour, dash, y) in zip(fig.data, expected):
        np.testing.assert_array_equal(t.x, [0, 32, 64])
        np.testing.assert_array_equal(t.y, y)
        assert (t.mode, t.name, t.line.color, t.line.width, t.line.dash, t.marker.size, t.cliponaxis) == (
            "lines+markers", name, colour, 2.5, dash, 5, False)
        assert t.hovertemplate == "step %{x}<br>test accuracy %{y:.3f}<extra></extra>"
    assert fig.layout.xaxis.title.text == "step"
    assert (fig.layout.yaxis.title.text, list(fig.layout.yaxis.range)) == ("test accuracy", [0.0, 1.0])
    assert fig.layout.title.text == ("At test time: which statistics normalize?<br><span style='font-size:13px'>a "
                                     "lone row's batch mean is itself, so BN outputs β for every row: one answer "
                                     "for all</span>")
    assert fig.layout.height == 440 + 22


@pytest.mark.parametrize("whole, alone, gap", [([0.5, 0.8, 0.9], [0.5, 0.8, 0.9], "0.0%"),
                                               ([0.5, 0.8, 0.875], [0.5, 0.8, 0.9], "2.5%"),
                                               ([0.5, 0.8, 0.9], [0.5, 0.75, 0.9], "5.0%"),
                                               ([np.nan, 0.8, 0.9], [0.5, 0.8, 0.9], "0.0%"),
                                               ([np.nan] * 3, [np.nan] * 3, "0.0%")])      # nothing measured
def test_layer_norm_says_the_largest_gap(runs, whole, alone, gap):
    acc = accuracy([0.5, 0.8, 0.9], whole, alone)
    fig = time_figure(runs["layer"], acc)
    assert [t.name for t in fig.data] == ["evaluation mode (layer norm: no running statistics)",
                                          "the whole test set as one batch", "one row at a time, training mode"]
    assert fig.layout.title.text == ("At test time: which statistics normalize?<br><span style='font-size:13px'>"
                                     "layer norm normalizes each row by its own units, so the three ways agree "
                                     f"(largest gap {gap})</span>")


def test_without_normalization_the_three_agree_and_no_steps_says_so(runs):
    fig = time_figure(runs["none"], accuracy([0.5] * 3, [0.5] * 3, [0.5] * 3))
    assert fig.layout.title.text.endswith("<span style='font-size:13px'>without BN the three ways agree</span>")
    assert [t.name for t in fig.data][0] == "running statistics (evaluation mode)"
    blank = time_figure(runs["zero"], accuracy([0.5] * 3, [0.5] * 3, [0.5] * 3))
    assert blank.layout.title.text == "At test time: which statistics normalize?"
    assert "no steps to show" in blank.layout.annotations[0].text


def grid_for(data, states=(0, 10, 20)):
    x = np.linspace(data.X_train[:, 0].min(), data.X_train[:, 0].max(), 4)
    y = np.linspace(data.X_train[:, 1].min(), data.X_train[:, 1].max(), 3)
    prob = np.random.default_rng(0).random((len(states), 3, 4))
    return DecisionGrid(x, y, prob, np.array(states))


@pytest.mark.parametrize("norm, sentence", [
    ("batch", "evaluation mode: BN with the running statistics of each step"),
    ("layer", "layer norm: each point normalized over its own units, as in training"),
    ("none", "no normalization: each point on its own")])
def test_the_decision_boundary(runs, data, norm, sentence):
    run = runs[norm]
    g = grid_for(data)
    fig = decision_boundary_figure(run, g, data)
    shade, line = fig.data[:2]
    for t in (shade, line):
        np.testing.assert_array_equal(t.x, g.x)
        np.testing.assert_array_equal(t.y, g.y)
        np.testing.assert_array_equal(np.asarray(t.z), g.prob[-1].astype(np.float32))
    assert np.asarray(shade.z).dtype == np.float32
    assert (shade.zmin, shade.zmax, shade.contours.start, shade.contours.end, shade.contours.size, shade.line.width,
            shade.colorbar.title.text, shade.opacity) == (0, 1, 0.0, 1.0, 0.1, 0.5, "P(placed)", 0.8)
    assert [list(s) for s in shade.colorscale] == [[0.0, "#B47B00"], [0.5, "#FFFFFF"], [1.0, "#009E73"]]
    assert shade.hovertemplate == "cgpa %{x:.3g}<br>iq %{y:.3g}<br>P %{z:.2f}<extra></extra>"
    assert (line.showscale, line.contours.start, line.contours.end, line.contours.size, line.contours.coloring,
            line.line.color, line.line.width, line.name, line.hoverinfo) == (
        False, 0.5, 0.5, 1, "none", "#000000", 3, "P = 0.5", "skip")
    points = fig.data[2:]
    assert len(points) == 4
    for t, (split, X, y, cls) in zip(points, (("train", data.X_train, data.y_train, 0),
                                              ("train", data.X_train, data.y_train, 1),
                                              ("test", data.X_test, data.y_test, 0),
                                              ("test", data.X_test, data.y_test, 1))):
        np.testing.assert_array_equal(t.x, X[y == cls, 0])
        np.testing.assert_array_equal(t.y, X[y == cls, 1])
        assert (t.mode, t.name, t.marker.color) == ("markers", f"{split}: placed = {cls}",
                                                    ("#B47B00", "#009E73")[cls])
        if split == "train":
            assert (t.marker.symbol, t.marker.size, t.marker.line.color, t.marker.line.width) == ("circle", 7, "white",
                                                                                                  1)
        else:
            assert (t.marker.symbol, t.marker.size, t.marker.line.width) == ("x", 9, 0)
        assert t.hovertemplate == f"cgpa %{{x}}<br>iq %{{y}}<extra>{split}</extra>"
    assert [f.name for f in fig.frames] == ["0", "10", "20"]
    for frame, p in zip(fig.frames, g.prob):
        assert list(frame.traces) == [0, 1] and len(frame.data) == 2
        for t in frame.data:
            np.testing.assert_array_equal(np.asarray(t.z), p.astype(np.float32))
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "10", "20"]
    assert (fig.layout.xaxis.title.text, list(fig.layout.xaxis.range)) == ("cgpa", [g.x[0], g.x[-1]])
    assert (fig.layout.yaxis.title.text, list(fig.layout.yaxis.range)) == ("iq", [g.y[0], g.y[-1]])
    assert fig.layout.title.text == ("Decision boundary over raw cgpa and iq<br><span style='font-size:13px'>"
                                     f"{sentence}</span>")
    assert (fig.layout.height, fig.layout.legend.y) == (600, 1.01)


def test_a_diverged_run_has_no_boundary(runs, data):
    fig = decision_boundary_figure(runs["diverged"], None, data)
    assert fig.layout.title.text == "Decision boundary"
    assert fig.layout.annotations[0].text.startswith("This run diverged at step 6")


def test_class_names_of_numbers_and_of_words():
    numbers = SimpleNamespace(label_values=(0.0, 1.0), label_name="placed")
    assert [_class_name(numbers, c) for c in (0, 1)] == ["placed = 0", "placed = 1"]
    words = SimpleNamespace(label_values=("no", "y<e>s"), label_name="h*ired")
    assert [_class_name(words, c) for c in (0, 1)] == ["h&#42;ired = no", "h&#42;ired = y&#60;e&#62;s"]
    halves = SimpleNamespace(label_values=(np.int64(2), np.float32(2.5)), label_name="grade")
    assert [_class_name(halves, c) for c in (0, 1)] == ["grade = 2", "grade = 2&#46;5"]


def student(alone_train, alone_eval, batches, batches_eval, size=10, label="placed = 1"):
    return OneStudentInBatches(alone_train, alone_eval, np.array(batches, float), np.array(batches_eval, float),
                               size, 1, label)


def test_one_student_alone_and_in_batches(runs):
    a = runs["batch"]
    res = student(0.3, 0.6, [0.2, 0.7, 0.65], [0.6, 0.6, 0.6])
    fig = batch_dependence_figure(a, res)
    t = fig.data[0]
    np.testing.assert_array_equal(t.x, [0, 1, 2, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(t.y, [0.3, 0.6, 0.2, 0.7, 0.65, 0.6, 0.6, 0.6])
    assert (t.mode, t.name, t.marker.color, t.marker.size, t.marker.opacity, t.marker.symbol) == (
        "markers", "BN before relu (spread 0.5)", "#0072B2", 9, 0.7, "circle")
    assert t.hovertemplate == "P %{y:.4f}<extra>BN before relu</extra>"
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2, 3]
    assert list(fig.layout.xaxis.ticktext) == ["alone, training mode", "alone, test time",
                                               "in each batch, training mode", "in each batch, test time"]
    assert (list(fig.layout.xaxis.range), fig.layout.xaxis.title.text) == ([-0.5, 3.5],
                                                                           "where the student is, and in which mode")
    assert (fig.layout.yaxis.title.text, list(fig.layout.yaxis.range)) == ("P(placed &#61; 1)", [-0.03, 1.03])
    assert fig.layout.title.text == (
        "One student, alone and inside other batches<br><span style='font-size:13px'>each dot in a batch column: "
        "the student with 9 training rows drawn at random; with layer norm (or none)<br>every dot is the same "
        "number</span>")
    assert (fig.layout.height, fig.layout.legend.y) == (420, 1.01)


def test_two_runs_sit_either_side_of_each_column(runs):
    a, b = runs["batch"], runs["layer"]
    res_a = student(0.3, 0.6, [0.2], [0.6], size=32, label="h<i>red = 1")
    res_b = student(0.5, 0.5, [0.5], [0.5], size=32)
    fig = batch_dependence_figure(a, res_a, b, res_b)
    np.testing.assert_allclose(fig.data[0].x, [-0.12, 0.88, 1.88, 2.88])
    np.testing.assert_allclose(fig.data[1].x, [0.12, 1.12, 2.12, 3.12])
    assert [(t.name, t.marker.color, t.marker.symbol) for t in fig.data] == [
        ("A: BN before relu (spread 0.4)", "#0072B2", "circle"), ("B: LN before relu (spread 0)", "#009E73",
                                                                  "diamond")]
    assert fig.layout.yaxis.title.text == "P(h&#60;i&#62;red &#61; 1)"
    assert "the student with 31 training rows" in fig.layout.title.text
    only_a = batch_dependence_figure(a, res_a, runs["zero"], res_b)
    assert len(only_a.data) == 1 and list(only_a.data[0].x) == [0, 1, 2, 3]
    no_b = batch_dependence_figure(a, res_a, b, None)
    assert len(no_b.data) == 1 and no_b.data[0].name == "A: BN before relu (spread 0.4)"
    blank = batch_dependence_figure(runs["zero"], res_a)
    assert blank.layout.title.text == "One student, alone and inside other batches"
    assert "no steps to show" in blank.layout.annotations[0].text
