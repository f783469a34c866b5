"""The figures' common look, by value: names, labels, the layout every figure gets, the sentences a run
that lacks something gets instead of a chart."""
import dataclasses
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from bnviz import Config, load_for, train
from bnviz.figures import common as C
from bnviz.train import architecture, initial_params


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


@pytest.fixture(scope="module")
def runs(data):
    cfg = Config(epochs=2)
    arch = architecture(cfg, data.n_features)
    params = initial_params(cfg, arch)
    params[f"b{arch.n_dense}"] = np.full(1, np.inf)          # a loss past float64 at the first step
    zero = train(cfg, data, init_params=params)
    return {"batch": train(Config(epochs=2), data), "none": train(Config(bn=False, epochs=2), data),
            "layer": train(Config(norm="layer", bn=False, epochs=2, bn_position="after", activation="tanh"), data),
            "after": train(Config(epochs=2, bn_position="after", activation="tanh"), data),
            "lr": train(Config(epochs=2, lr=0.5, batch_size=20, seed=3), data),
            "zero": zero, "unstarted": dataclasses.replace(zero, diverged_at=None),
            "diverged": train(Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=3), data)}


LOGITS = "its logits, and so its loss, went past the largest number float64 holds"


def test_text_colours_are_the_darker_shades_for_words():
    assert [C.text_colour(c) for c in ("#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7")] == [
        "#B84F00", "#007A5A", "#8F6300", "#1F6E9C", "#A6487D"]
    assert C.text_colour("#0072B2") == "#0072B2" and C.text_colour("#123456") == "#123456"


def test_run_colours_and_labels(runs):
    assert [C.run_colour(runs[k]) for k in ("batch", "none", "layer", "after")] == [
        "#0072B2", "#D55E00", "#009E73", "#0072B2"]
    assert [C.run_label(runs[k]) for k in ("batch", "none", "layer", "after")] == [
        "BN before relu", "BN off", "LN after tanh", "BN after tanh"]


def test_stage_names(runs):
    assert C.stage_name("bn", runs["layer"]) == "layer-norm output γ·x̂ + β (each row by its own units)"
    assert C.stage_name("bn", runs["batch"]) == "BN output γ·ẑ + β"
    assert C.stage_name("bn") == "BN output γ·ẑ + β"
    assert C.stage_name("z", runs["layer"]) == "z = a·W (+ b), the Dense output"
    assert C.stage_name("act") == "activation output g(·)"
    assert C.stage_name("act_in") == "input to the activation"
    assert C.stage_name("other") == "other"


def test_pair_labels(runs):
    a = runs["batch"]
    assert C.pair_labels(a, None) == [(a, "BN before relu", "solid")]
    assert C.pair_labels(a, runs["none"]) == [(a, "A: BN before relu", "solid"), (runs["none"], "B: BN off", "solid")]
    assert C.pair_labels(a, runs["layer"])[1][1:] == ("B: LN after tanh", "solid")
    # one colour: the first two settings that differ, in the table's order (batch_size, lr, seed differ)
    assert C.pair_labels(a, runs["lr"]) == [(a, "A: lr=0.1, batch_size=10", "solid"),
                                            (runs["lr"], "B: lr=0.5, batch_size=20", "dash")]
    # nothing differs: the run's own label on both sides
    assert C.pair_labels(a, a) == [(a, "A: BN before relu", "solid"), (a, "B: BN before relu", "dash")]


def test_wrap_breaks_at_the_width():
    assert C.wrap("aaa bbb ccc", 7) == "aaa bbb<br>ccc"          # "aaa bbb" is exactly 7
    assert C.wrap("aaa bbb ccc", 6) == "aaa<br>bbb<br>ccc"
    assert C.wrap("aaa bbb ccc", 11) == "aaa bbb ccc"
    assert C.wrap("aaa bbb ccc", 10) == "aaa bbb<br>ccc"
    assert C.wrap("abcdefghij", 3) == "abcdefghij"               # one long word stays whole
    assert C.wrap("") == ""
    assert C.wrap("a  b", 4) == "a  b"                           # two spaces are kept: only " " splits
    assert C.wrap("a" * 50 + " " + "b" * 54) == "a" * 50 + " " + "b" * 54          # exactly 105: one line
    assert C.wrap("a" * 50 + " " + "b" * 55) == "a" * 50 + "<br>" + "b" * 55       # 106: two
    words = " ".join(["word"] * 30)                              # 149 characters: 21 words fit 104
    assert C.wrap(words) == " ".join(["word"] * 21) + "<br>" + " ".join(["word"] * 9)


def test_style_with_a_legend_underneath():
    fig = go.Figure([go.Scatter(x=[1], y=[1], name=str(i)) for i in range(4)]
                    + [go.Scatter(x=[1], y=[1], showlegend=False)])
    out = C.style(fig, "Title", 300, "a subtitle")
    assert out is fig
    lay = fig.layout
    assert lay.title.text == "Title<br><span style='font-size:13px'>a subtitle</span>"
    assert (lay.title.x, lay.title.xanchor) == (0.01, "left")
    rows = 1 + 4 // 4                                            # four traces in the legend: two rows
    assert (lay.margin.l, lay.margin.r, lay.margin.t, lay.margin.b) == (70, 30, 95, 80 + 22 * rows)
    assert lay.height == 300 + 22 * rows
    assert (lay.legend.orientation, lay.legend.x, lay.legend.xanchor, lay.legend.y, lay.legend.yref,
            lay.legend.yanchor, lay.legend.font.size) == ("h", 0.0, "left", 0.0, "container", "bottom", 13)
    assert lay.template.layout.font.family == "Inter, Helvetica, Arial, sans-serif"
    shown = C.style(go.Figure([go.Scatter(x=[1], y=[1], showlegend=True) for _ in range(4)]), "T")
    assert shown.layout.margin.b == 80 + 22 * 2                  # four traces asked into the legend: two rows
    three = C.style(go.Figure([go.Scatter(x=[1], y=[1]) for _ in range(3)]), "T")
    assert (three.layout.margin.b, three.layout.height, three.layout.margin.t) == (80 + 22, 440 + 22, 60)
    assert three.layout.title.text == "T"


def test_style_margins_follow_subplot_titles_and_subtitle_lines():
    fig = make_subplots(rows=1, cols=2, subplot_titles=("a", "b"))
    long = " ".join(["word"] * 30)                               # wraps onto two lines: one <br>
    C.style(fig, "T", 400, long, legend="right")
    assert fig.layout.margin.t == 95 + 34 + 24
    assert (fig.layout.legend.orientation, fig.layout.legend.x, fig.layout.legend.xanchor, fig.layout.legend.y,
            fig.layout.legend.yanchor, fig.layout.legend.font.size) == ("v", 1.02, "left", 1.0, "top", 13)
    assert fig.layout.height == 400
    top = C.style(go.Figure(), "T", 400, legend="top")
    assert top.layout.margin.t == 60 + 30
    assert (top.layout.legend.orientation, top.layout.legend.x, top.layout.legend.xanchor, top.layout.legend.y,
            top.layout.legend.yanchor, top.layout.legend.font.size) == ("h", 0.0, "left", 1.01, "bottom", 13)
    none = C.style(go.Figure(), "T", 400, legend="none")
    assert none.layout.showlegend is False and none.layout.margin.b == 70 and none.layout.height == 400
    assert C.style(go.Figure(), "T", 400, legend="right").layout.showlegend is None


def test_subplot_titles_are_told_from_other_notes():
    fig = go.Figure()
    fig.add_annotation(text="a", x=0.5, y=0.99, xref="paper", yref="paper", showarrow=False)
    assert C._has_subplot_titles(fig)
    for y, yref, arrow in ((0.98, "paper", False), (0.99, "y", False), (0.99, "paper", True)):
        other = go.Figure()
        other.add_annotation(text="a", x=0.5, y=y, xref="paper", yref=yref, showarrow=arrow)
        assert not C._has_subplot_titles(other)
    unplaced = go.Figure()
    unplaced.add_annotation(text="a", x=0.5, xref="paper", yref="paper", showarrow=False)
    assert not C._has_subplot_titles(unplaced)


def test_accuracy_axis():
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[1], y=[1]), 1, 1)
    fig.add_trace(go.Scatter(x=[1], y=[1]), 1, 2)
    fig.add_trace(go.Bar(x=[1], y=[1]), 1, 2)
    C.accuracy_axis(fig, "test accuracy", low=0.25, row=1, col=2)
    assert list(fig.layout.yaxis2.range) == [0.25, 1.0] and fig.layout.yaxis2.title.text == "test accuracy"
    assert fig.layout.yaxis.range is None
    assert [t.cliponaxis for t in fig.data] == [None, False, None]
    one = go.Figure(go.Scatter(x=[1], y=[1]))
    C.accuracy_axis(one)
    assert list(one.layout.yaxis.range) == [0.0, 1.0] and one.layout.yaxis.title.text == "accuracy"
    C.accuracy_axis(one, low=0.5)
    C.accuracy_axis(one, low=-0.05)
    assert list(one.layout.yaxis.range) == [0.0, 1.0]
    grid = make_subplots(rows=2, cols=2)
    for r in (1, 2):
        for c in (1, 2):
            grid.add_trace(go.Scatter(x=[1], y=[1]), r, c)
    C.accuracy_axis(grid, "a", low=0.5, row=2, col=2)              # only the bottom-right panel
    assert [grid.layout[f"yaxis{i}"].range for i in ("", 2, 3)] == [None, None, None]
    assert list(grid.layout.yaxis4.range) == [0.5, 1.0]
    assert [t.cliponaxis for t in grid.data] == [None, None, None, False]
    C.accuracy_axis(grid, "b", low=0.25, row=1, col=1)
    assert [grid.layout[f"yaxis{i}"].title.text for i in ("", 2, 3, 4)] == ["b", None, None, "a"]
    assert [t.cliponaxis for t in grid.data] == [False, None, None, False]
    C.accuracy_axis(one, low=0.0)
    assert list(one.layout.yaxis.range) == [0.0, 1.0]


def test_rows_phrase():
    assert C.rows_phrase(SimpleNamespace(snapshot_rows=np.arange(160), n_train_rows=160)) == "all training rows"
    assert C.rows_phrase(SimpleNamespace(snapshot_rows=np.arange(161), n_train_rows=160)) == "all training rows"
    assert C.rows_phrase(SimpleNamespace(snapshot_rows=np.arange(1000), n_train_rows=1001)) == (
        "1,000 of the 1,001 training rows (a fixed random sample; BN with the statistics of all)")


def test_check_run_and_check_layer(runs):
    with pytest.raises(TypeError, match="^expected a Run, got SimpleNamespace$"):
        C.check_run(SimpleNamespace())
    C.check_run(runs["batch"])
    run = runs["batch"]                                          # two hidden layers, both with BN
    for layer in (1, 2):
        C.check_layer(run, layer)
        C.check_layer(run, layer, need_bn=True)
    for layer in (0, 3):
        with pytest.raises(ValueError, match=f"^layer must be 1 to 2, got {layer}$"):
            C.check_layer(run, layer)
    with pytest.raises(ValueError, match="^layer must be 1 to 0, got 1$"):
        C.check_layer(runs["none"], 1, need_bn=True)
    C.check_layer(runs["none"], 2)


def sentence(fig):
    return fig.layout.annotations[0].text


def test_missing_says_what_a_run_lacks(runs):
    for run, need in ((runs["unstarted"], {}), (runs["zero"], {}), (runs["layer"], {"need_bn": True}),
                      (runs["none"], {"need_bn": True}), (runs["diverged"], {"need_finite": True})):
        assert C.missing(run, "The chart's title", **need).layout.title.text == "The chart's title"
    assert sentence(C.missing(runs["unstarted"], "T")) == "This run has no steps to show yet."
    assert sentence(C.missing(runs["zero"], "T")) == (
        f"This run has no steps to show: at its first step {LOGITS}.<br>Lower the learning rate or the init "
        "scale, or standardize the inputs.")
    assert sentence(C.missing(runs["layer"], "T", need_bn=True)) == (
        "This run uses layer norm: each student is normalized over its own units, one mean and variance per "
        "row,<br>so there are no batch statistics per unit and no running averages: training and test time "
        "compute the same thing.")
    assert sentence(C.missing(runs["none"], "T", need_bn=True)) == (
        "This run has no batch norm, so there is nothing of BN's to show here.<br>Turn batch normalization on "
        "to see it.")
    diverged = runs["diverged"]
    assert sentence(C.missing(diverged, "T", need_finite=True)) == (
        f"This run diverged at step 6: {LOGITS}, so this picture cannot be drawn.<br>Lower the learning rate, "
        "turn batch norm on, or standardize the inputs.")
    assert C.missing(diverged, "T") is None and C.missing(diverged, "T", need_bn=True) is not None
    assert C.missing(runs["batch"], "T", need_bn=True, need_finite=True) is None
    assert C.missing(runs["none"], "T", need_finite=True) is None
    assert C.missing(runs["layer"], "T") is None
    with pytest.raises(TypeError):
        C.missing(SimpleNamespace(), "T")


def test_placeholder():
    fig = C.placeholder("A title", "One sentence.")
    note = fig.layout.annotations[0]
    assert (note.text, note.x, note.y, note.xref, note.yref, note.showarrow, note.font.size) == (
        "One sentence.", 0.5, 0.5, "paper", "paper", False, 15)
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert (fig.layout.title.text, fig.layout.height, fig.layout.showlegend) == ("A title", 300, False)


def test_smooth_is_a_trailing_mean():
    values = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    np.testing.assert_allclose(C.smooth(values, 1), values)
    np.testing.assert_allclose(C.smooth(values, 0), values)
    np.testing.assert_allclose(C.smooth(values, 2), [1.0, 1.5, 3.0, 6.0, 12.0])
    np.testing.assert_allclose(C.smooth(values, 2.9), [1.0, 1.5, 3.0, 6.0, 12.0])
    np.testing.assert_allclose(C.smooth(values, 3), [1.0, 1.5, 7 / 3, 14 / 3, 28 / 3])
    np.testing.assert_allclose(C.smooth(values, 5), [1.0, 1.5, 7 / 3, 15 / 4, 31 / 5])
    np.testing.assert_allclose(C.smooth(values, 9), [1.0, 1.5, 7 / 3, 15 / 4, 31 / 5])
    np.testing.assert_allclose(C.smooth([3, 5], 2), [3.0, 4.0])           # whole numbers: a float mean
    np.testing.assert_allclose(C.smooth([1e-20, 3e-20], 1), [1e-20, 3e-20], rtol=1e-12)   # tiny losses stay whole


def test_frame_slider():
    fig = go.Figure()
    C.frame_slider(fig, ["0", "5", "9"], prefix="epoch ")
    slider = fig.layout.sliders[0]
    assert (slider.active, slider.x, slider.len, slider.y, slider.yanchor, slider.pad.t) == (2, 0.08, 0.9, -0.06,
                                                                                            "top", 30)
    assert (slider.currentvalue.prefix, slider.currentvalue.font.size) == ("epoch ", 13)
    assert [s.label for s in slider.steps] == ["0", "5", "9"]
    step = slider.steps[1]
    assert step.method == "animate"
    assert step.args == (("5",), {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                 "transition": {"duration": 0}})
    menu = fig.layout.updatemenus[0]
    assert (menu.type, menu.showactive, menu.x, menu.y, menu.xanchor, menu.yanchor, menu.pad.t, menu.pad.r) == (
        "buttons", False, 0.0, -0.06, "left", "top", 30, 10)
    play, pause = menu.buttons
    assert (play.label, play.method, pause.label, pause.method) == ("▶", "animate", "❚❚", "animate")
    assert play.args == (None, {"frame": {"duration": 120, "redraw": True}, "fromcurrent": True,
                                "transition": {"duration": 0}})
    assert pause.args == ((None,), {"mode": "immediate", "frame": {"duration": 0, "redraw": False}})
    assert fig.layout.margin.b == 140
    plain = go.Figure()
    C.frame_slider(plain, [3])
    assert plain.layout.sliders[0].currentvalue.prefix == "step " and plain.layout.sliders[0].steps[0].label == "3"
    assert plain.layout.sliders[0].steps[0].args[0] == ("3",) and plain.layout.sliders[0].active == 0


def test_mark_divergence(runs):
    diverged = runs["diverged"]
    fig = go.Figure()
    C.mark_divergence(fig, diverged)
    line = fig.layout.shapes[0]
    assert (line.x0, line.x1, line.line.color, line.line.dash, line.line.width) == (6, 6, "#D55E00", "dot", 2)
    note = fig.layout.annotations[0]
    assert (note.text, note.xanchor, note.yanchor) == ("diverged at step 6", "right", "top")     # top left
    where = np.arange(10) * 0.5
    placed = go.Figure()
    C.mark_divergence(placed, diverged, where=where)
    assert placed.layout.shapes[0].x0 == 3.0
    sub = make_subplots(rows=1, cols=2)
    sub.add_trace(go.Scatter(x=[1], y=[1]), 1, 1)
    sub.add_trace(go.Scatter(x=[1], y=[1]), 1, 2)
    C.mark_divergence(sub, diverged, 1, 2)
    assert [s.xref for s in sub.layout.shapes] == ["x2"]
    rows = make_subplots(rows=2, cols=1)
    rows.add_trace(go.Scatter(x=[1], y=[1]), 1, 1)
    rows.add_trace(go.Scatter(x=[1], y=[1]), 2, 1)
    C.mark_divergence(rows, diverged, 2, 1)
    assert [s.xref for s in rows.layout.shapes] == ["x2"]            # the second row's panel only
    quiet = go.Figure()
    C.mark_divergence(quiet, runs["batch"])
    assert not quiet.layout.shapes and not quiet.layout.annotations


def test_alpha():
    assert C.alpha("#0072B2", 0.18) == "rgba(0,114,178,0.18)"
    assert C.alpha("#D55E00", 1) == "rgba(213,94,0,1)"
    assert C.alpha("#FFFFFF", 0.0) == "rgba(255,255,255,0.0)"
