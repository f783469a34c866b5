"""What a colour means: the table's colours and words written out, and drawn figures that say the same."""
from types import SimpleNamespace

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz import figures as F
from bnviz.activations import layer_histograms, unit_percentiles
from bnviz.classes import held_out_sheet, image_side
from bnviz.figures.colours import (COLOURS, NORM_MEANINGS, OKABE_ITO, RUN_LETTERS, Meaning, _meaning, class_scale,
                                   norm_meaning)
from bnviz.figures.lessons import GROUP_COLOURS
from bnviz.figures.watch import watch_spec
from bnviz.inference import accuracy_by_statistics, boundary_replay, one_student_in_batches
from bnviz.watch import watch_pair

BLUE, VERMILLION, GREEN, ORANGE, BLACK = "#0072B2", "#D55E00", "#009E73", "#E69F00", "#000000"


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


@pytest.fixture(scope="module")
def runs(data):
    """Tiny runs, one per normalization, and one that differs from the BN run only in lr."""
    out = {"batch": train(Config(epochs=3), data), "none": train(Config(bn=False, epochs=3), data),
           "layer": train(Config(norm="layer", bn=False, epochs=3), data),
           "fast": train(Config(epochs=3, lr=0.5), data)}
    assert (out["batch"].config.norm, out["none"].config.norm, out["layer"].config.norm) == ("batch", "none", "layer")
    return out


# ---- the table itself, literally


def test_the_run_colours_and_their_words():
    assert (COLOURS["bn on"].hex, COLOURS["bn on"].words, COLOURS["bn on"].short) == ("#0072B2", "BN on", "BN")
    assert (COLOURS["bn off"].hex, COLOURS["bn off"].words, COLOURS["bn off"].short) == ("#D55E00", "BN off",
                                                                                         "BN off")
    assert (COLOURS["layer norm"].hex, COLOURS["layer norm"].words, COLOURS["layer norm"].short) == (
        "#009E73", "layer norm", "LN")
    assert (COLOURS["bn on"].scale, COLOURS["bn off"].scale, COLOURS["layer norm"].scale) == (
        "Blues", "Oranges", "Greens")
    assert (COLOURS["bn on"].name, COLOURS["bn off"].name, COLOURS["layer norm"].name) == (
        "blue", "vermillion", "green")
    assert NORM_MEANINGS == {"batch": "bn on", "layer": "layer norm", "none": "bn off"}
    assert [norm_meaning(n).hex for n in ("batch", "layer", "none")] == ["#0072B2", "#009E73", "#D55E00"]
    with pytest.raises(KeyError):
        norm_meaning("group")


def test_a_row_is_made_from_a_colour_s_name():
    # the table is built once, on import; the helper that builds each row, called here
    assert _meaning("vermillion", "BN off", short="BN off", scale="Oranges") == Meaning(
        "#D55E00", "BN off", "vermillion", "BN off", "Oranges")
    assert _meaning("sky blue", "input") == Meaning("#56B4E9", "input", "sky blue", "", None)
    with pytest.raises(KeyError):
        _meaning("#0072B2", "a hex is no colour's name")


def test_the_class_colours_and_their_scale():
    assert (COLOURS["class 0"].hex, COLOURS["class 0"].words, COLOURS["class 0"].name) == ("#B47B00", "class 0",
                                                                                           "orange")
    assert (COLOURS["class 1"].hex, COLOURS["class 1"].words, COLOURS["class 1"].name) == ("#009E73", "class 1",
                                                                                           "green")
    assert class_scale() == [[0.0, "#B47B00"], [0.5, "#FFFFFF"], [1.0, "#009E73"]]


def test_every_other_meaning_literally():
    expected = {
        "wrong": ("#D55E00", "wrong (✗, framed)"),
        "batch statistic": ("#2F8FC8", "mini-batch statistic"),
        "running average": ("#0072B2", "running"),
        "cumulative average": ("#009E73", "alternative: cumulative average"),
        "exact statistic": ("#000000", "exact, over all training rows"),
        "current step": ("#B47B00", "replay"),
        "settled": ("#000000", "within 5% from step"),
        "test running": ("#0072B2", "running statistics (evaluation mode)"),
        "test running, layer norm": ("#0072B2", "evaluation mode (layer norm: no running statistics)"),
        "test whole batch": ("#009E73", "the whole test set as one batch"),
        "test alone": ("#D55E00", "one row at a time, own batch statistics"),
        "test alone, layer norm": ("#D55E00", "one row at a time, training mode"),
        "descent step": ("#B47B00", "gradient descent"),
        "start": ("#B47B00", "start"),
        "minimum": ("#000000", "minimum"),
        "final weights": ("#000000", "final weights"),
        "network input": ("#56B4E9", "input"),
        "network activation": ("#CC79A7", "activation"),
        "network output": ("#E69F00", "output"),
    }
    assert {k: (v.hex, v.words) for k, v in COLOURS.items() if k not in ("bn on", "bn off", "layer norm",
                                                                          "class 0", "class 1")} == expected
    assert OKABE_ITO == {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "orange": "#E69F00",
                         "sky blue": "#56B4E9", "purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000"}
    assert RUN_LETTERS == {"run A": ("A", "solid"), "run B": ("B", "dash")}


def test_the_old_names_are_the_table_s_colours():
    assert (F.BN_ON, F.BN_OFF, F.LN_ON) == ("#0072B2", "#D55E00", "#009E73")
    assert GROUP_COLOURS == {"BN on": "#0072B2", "BN off": "#D55E00", "layer norm": "#009E73",
                             "batch norm": "#0072B2", "no normalization": "#D55E00"}


# ---- drawn figures: each trace's colour beside its legend words

def legend_traces(fig):
    return [t for t in fig.data if t.type == "scatter" and t.name]


@pytest.mark.parametrize("norm, colour, label", [("batch", BLUE, "BN before relu"), ("none", VERMILLION, "BN off"),
                                                 ("layer", GREEN, "LN before relu")])
def test_one_run_s_curves_are_in_its_colour_and_named_by_its_words(runs, norm, colour, label):
    run = runs[norm]
    assert F.run_colour(run) == colour and F.run_label(run) == label
    fig = F.training_curves(run)
    traces = legend_traces(fig)
    assert len(traces) == 6
    for t in traces:
        assert t.line.color == colour
        assert t.name.split(":")[0] == label
    for t in traces[2:]:
        assert t.marker.color == colour


def test_a_compared_pair_of_different_normalizations(runs):
    fig = F.training_curves(runs["batch"], runs["layer"])
    a = [t for t in legend_traces(fig) if t.name.startswith("A: ")]
    b = [t for t in legend_traces(fig) if t.name.startswith("B: ")]
    assert len(a) == len(b) == 6
    for t in a:
        assert t.line.color == "#0072B2" and t.name.startswith("A: BN before relu: ")
    for t in b:
        assert t.line.color == "#009E73" and t.name.startswith("B: LN before relu: ")
    # told apart by colour, so B is not dashed: the 1-epoch mean is solid in both
    assert a[1].line.dash == "solid" and b[1].line.dash == "solid"


def test_a_compared_pair_with_one_colour_is_told_apart_by_dashes_and_words(runs):
    fig = F.training_curves(runs["batch"], runs["fast"])
    a = [t for t in legend_traces(fig) if t.name.startswith("A: ")]
    b = [t for t in legend_traces(fig) if t.name.startswith("B: ")]
    assert {t.line.color for t in a + b} == {"#0072B2"}
    assert a[1].name == "A: lr=0.1: batch loss, 1-epoch mean" and b[1].name == "B: lr=0.5: batch loss, 1-epoch mean"
    assert (a[1].line.dash, b[1].line.dash) == ("solid", "dash")
    assert [t.line.dash for t in b[2:]] == ["dot", "dot", "dash", "dash"]    # train dotted, test in B's dash


def test_bn_on_against_bn_off_everywhere_a_pair_is_drawn(runs, data):
    a, b = runs["batch"], runs["none"]
    pct = F.activation_percentiles(a, unit_percentiles([a, b], 2, 0, "act_in"), b)
    for t in pct.data:
        if t.fill == "toself":
            assert t.fillcolor == ("rgba(0,114,178,0.18)" if t.name.startswith("A: BN before relu")
                                   else "rgba(213,94,0,0.18)")
            assert t.name.startswith(("A: BN before relu", "B: BN off"))
        else:
            assert (t.line.color, t.name.startswith("A: BN before relu")) in (("#0072B2", True), ("#D55E00", False))
            assert t.name.startswith(("A: BN before relu", "B: BN off"))
    replay = F.activation_histogram_replay(a, layer_histograms([a, b], 1, "act_in"), b)
    assert [(t.name, t.marker.color) for t in replay.data] == [("A: BN before relu", "#0072B2"),
                                                               ("B: BN off", "#D55E00")]
    heat = F.activation_heatmap(a, layer_histograms([a, b], 1, "act_in"), b)
    scales = [t.colorscale for t in heat.data]
    assert scales[0][-1][1] == "rgb(8,48,107)" and scales[1][-1][1] == "rgb(127,39,4)"   # Blues' end, Oranges'
    grads = F.gradient_norm_figure(a, b)
    assert {t.line.color for t in grads.data if t.name.startswith("A: BN before relu: W")} == {"#0072B2"}
    assert {t.line.color for t in grads.data if t.name.startswith("B: BN off: W")} == {"#D55E00"}
    assert len(grads.data) == 6


def test_a_layer_norm_run_s_shades_are_green(runs):
    run = runs["layer"]
    heat = F.activation_heatmap(run, layer_histograms([run], 1, "act_in"))
    assert heat.data[0].colorscale[-1][1] == "rgb(0,68,27)"         # the end of Plotly's Greens


def test_one_student_in_batches_in_each_run_s_colour(runs, data):
    a, b = runs["batch"], runs["layer"]
    x = np.median(np.vstack([data.X_train, data.X_test]), axis=0)
    fig = F.batch_dependence_figure(a, one_student_in_batches(a, data, x), b, one_student_in_batches(b, data, x))
    assert [t.marker.color for t in fig.data] == ["#0072B2", "#009E73"]
    assert fig.data[0].name.startswith("A: BN before relu (spread ")
    assert fig.data[1].name.startswith("B: LN before relu (spread ")


def test_the_landscape_path_is_in_the_run_s_colour(runs, data):
    from bnviz.landscape import network_plane
    run = runs["none"]
    fig = F.landscape_figure(run, network_plane(run, data, size=5))
    assert [(t.name, t.marker.color) for t in fig.data[1:]] == [("training path", "#D55E00"), ("start", "#B47B00"),
                                                                ("final weights", "#000000")]


def test_the_decision_boundary_s_classes_match_its_key(runs, data):
    run = runs["batch"]
    fig = F.decision_boundary_figure(run, boundary_replay(run, data), data)
    points = [t for t in fig.data if t.type == "scatter"]
    assert [(t.name, t.marker.color) for t in points] == [
        ("train: placed = 0", "#B47B00"), ("train: placed = 1", "#009E73"),
        ("test: placed = 0", "#B47B00"), ("test: placed = 1", "#009E73")]
    for t, split, cls in zip(points, ("train", "train", "test", "test"), (0, 1, 0, 1)):
        X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
        np.testing.assert_array_equal(t.x, X[y == cls, 0])
    shade = fig.data[0].colorscale
    assert [list(s) for s in shade] == [[0.0, "#B47B00"], [0.5, "#FFFFFF"], [1.0, "#009E73"]]
    assert fig.data[0].colorbar.title.text == "P(placed)"


def test_the_decision_boundary_names_a_toy_sets_own_label():
    from dataclasses import replace

    toy = load_for(Config(dataset="moons"))
    run = train(Config(dataset="moons", epochs=1), toy)
    fig = F.decision_boundary_figure(run, boundary_replay(run, toy), toy)
    assert fig.data[0].colorbar.title.text == "P(class)"
    renamed = replace(toy, label_name="passed")
    fig = F.decision_boundary_figure(run, boundary_replay(run, renamed), renamed)
    assert fig.data[0].colorbar.title.text == "P(passed)"
    assert [t.name for t in fig.data if t.type == "scatter"][:2] == ["train: passed = 0", "train: passed = 1"]


def test_test_time_ways_are_named_by_their_colours(runs, data):
    fig = F.test_time_figure(runs["batch"], accuracy_by_statistics(runs["batch"], data))
    assert [(t.name, t.line.color, t.line.dash) for t in fig.data] == [
        ("running statistics (evaluation mode)", "#0072B2", "solid"),
        ("the whole test set as one batch", "#009E73", "dash"),
        ("one row at a time, own batch statistics", "#D55E00", "dot")]
    ln = F.test_time_figure(runs["layer"], accuracy_by_statistics(runs["layer"], data))
    assert [(t.name, t.line.color) for t in ln.data] == [
        ("evaluation mode (layer norm: no running statistics)", "#0072B2"),
        ("the whole test set as one batch", "#009E73"), ("one row at a time, training mode", "#D55E00")]


def test_running_statistics_colours_and_words(runs):
    fig = F.running_stats_figure(runs["batch"], 1, 0)
    named = [(t.name, t.marker.color if t.mode == "markers" else t.line.color) for t in fig.data if t.showlegend
             is not False]
    assert named == [("mini-batch statistic", "#2F8FC8"), ("running (EWMA, m = 0.99)", "#0072B2"),
                     ("exact, over all training rows", "#000000")]
    replay = [t for t in fig.data if t.mode == "markers" and t.marker.size == 12]
    assert [t.marker.color for t in replay] == ["#B47B00", "#B47B00"]
    assert not fig.layout.shapes                     # these three epochs never come within 5%


def test_the_settled_line_is_black_not_the_cumulative_average_s_green(data):
    run = train(Config(epochs=5, running_avg="cumulative", lr=1e-4, batch_size=50, running_var="unbiased"), data)
    assert run.settled_step(0) == 9
    fig = F.running_stats_figure(run, 1, 0)
    assert [(s.x0, s.line.color, s.line.dash) for s in fig.layout.shapes] == [(9, "#000000", "dot")] * 2
    assert [a.text for a in fig.layout.annotations if a.text.startswith("within")] == ["within 5% from step 9"] * 2


def test_the_network_s_normalization_box_is_in_its_runs_colour(runs):
    on = F.network_diagram(runs["batch"])
    ln = F.network_diagram(runs["layer"])
    off = F.network_diagram(runs["none"])
    boxes = lambda fig: [(a.text.split("<br>")[0], s.line.color) for a, s in zip(fig.layout.annotations,
                                                                                  fig.layout.shapes)]
    assert boxes(on) == [("input", "#56B4E9"), ("Dense 3", "#DDDDDD"), ("BN 3", "#0072B2"), ("relu", "#CC79A7"),
                         ("Dense 2", "#DDDDDD"), ("BN 2", "#0072B2"), ("relu", "#CC79A7"), ("Dense 1", "#DDDDDD"),
                         ("sigmoid", "#E69F00")]
    assert [b for b in boxes(ln) if b[0].startswith(("LN", "BN"))] == [("LN 3", "#009E73"), ("LN 2", "#009E73")]
    assert [b for b in boxes(off) if b[0].startswith(("LN", "BN"))] == []


def test_sweep_sides_are_named_by_their_colours():
    values = np.array([0.01, 0.1])
    metric = {True: {"test_acc_eval": np.array([0.8, 0.9]), "train_loss_eval": np.array([0.5, 0.4])},
              False: {"test_acc_eval": np.array([0.7, 0.6]), "train_loss_eval": np.array([0.6, 0.7])}}
    sweep = SimpleNamespace(field="lr", values=values, seeds=(0, 1), metrics=metric, low=metric, high=metric,
                            diverged_count={True: np.array([0, 0]), False: np.array([0, 0])}, config=Config())
    fig = F.sweep_figure(sweep)
    for t in fig.data:
        colour = t.fillcolor if t.fill == "toself" else t.line.color
        expected = {"BN on": ("#0072B2", "rgba(0,114,178,0.18)"), "BN off": ("#D55E00", "rgba(213,94,0,0.18)")}[
            t.name.split(":")[0]]
        assert colour in expected


def test_the_digit_sheet_s_wrong_answers_are_framed_and_written_in_darker_vermillion():
    cfg = Config(dataset="digits", hidden=(8,), activation="sigmoid", batch_size=60, epochs=1, lr=0.1)
    digits = load_for(cfg)
    run = train(cfg, digits)
    sheet = held_out_sheet(run, digits)
    assert sheet.wrong.any() and not sheet.wrong.all()
    fig = F.digit_sheet_figure(sheet, image_side(digits.n_features), digits)
    inks = [a.font.color for a in fig.layout.annotations]
    assert [c for c, w in zip(inks, sheet.wrong) if w] == ["#B84F00"] * int(sheet.wrong.sum())
    assert [c for c, w in zip(inks, sheet.wrong) if not w] == ["#000000"] * int((~sheet.wrong).sum())
    assert [s.line.color for s in fig.layout.shapes] == ["#D55E00"] * int(sheet.wrong.sum())
    assert all(a.text.startswith("✗ ") for a, w in zip(fig.layout.annotations, sheet.wrong) if w)


# ---- the training view: run colours by normalization, class colours in its key


def test_the_watch_view_draws_each_run_in_its_colour_and_names_the_classes(runs, data):
    from bnviz.ui.watch import run_names
    a, b = runs["batch"], runs["layer"]
    names = run_names(a, b)
    assert names == ["A · BN on", "B · layer norm"]
    spec = watch_spec(watch_pair(a, b, data, frames=4, plane_size=5), names, data)
    assert [(r["label"], r["colour"], r["ink"]) for r in spec["runs"]] == [("A · BN on", "#0072B2", "#0072B2"),
                                                                          ("B · layer norm", "#009E73", "#007A5A")]
    assert spec["classes"] == ["#B47B00", "#009E73"]
    assert spec["key"].endswith("P(placed): orange 0, green 1.")
    points = spec["runs"][0]["panels"][4]["items"]
    assert [p["style"]["fill"] for p in points] == ["#B47B00", "#009E73"]
    assert run_names(runs["none"], None) == ["A · BN off"]
