"""What a screen reader reads for each chart (bnviz.figures.speech), written out word for word for
made-up runs, figures and views whose numbers are chosen by hand."""
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest

from bnviz.figures import speech
from bnviz.figures.speech import (by_batch_size_sentence, describe, finite_ends, number, plain_text, run_words,
                                  sample, spread_sentence, training_curves_speech, watch_panel_sentences,
                                  watch_table)

NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("x, said", [
    (NAN, "n/a"), (INF, "∞"), (-INF, "−∞"), (0.0, "0"), (-0.0, "0"),
    (1e5, "1.00e+05"), (-1e5, "-1.00e+05"), (99999.25, "99,999"), (123456.0, "1.23e+05"),
    (1e-3, "0.001"), (np.nextafter(1e-3, 0), "1.00e-03"), (-0.0005, "-5.00e-04"), (2e-4, "2.00e-04"),
    (3.0, "3"), (-3.0, "-3"), (1000.0, "1,000"), (12345.0, "12,345"), (12345.6, "12,346"), (1234.4, "1,234"),
    (1000.5, "1,000"), (-1000.5, "-1,000"), (999.5, "1,000"),
    (0.123456, "0.123"), (2.5, "2.5"), (-0.0456789, "-0.0457"), (999.25, "999"), (np.float32(0.5), "0.5"),
])
def test_a_number_as_the_sentences_say_it(x, said):
    assert number(x) == said


@pytest.mark.parametrize("x, said", [
    (0.6931, "0.69"), (0.01, "0.01"), (0.005, "0.005"), (-0.5, "-0.50"), (999.994, "999.99"), (1000.0, "1,000"),
    (1500.5, "1,500"), (NAN, "n/a"), (INF, "∞"), (0.0, "0"), (1e-5, "1.00e-05"),
])
def test_a_loss_has_two_decimals_unless_tiny_or_huge(x, said):
    assert speech.loss(x) == said


def test_sample_keeps_both_ends_evenly_spread():
    assert list(sample(5)) == [0, 1, 2, 3, 4]
    assert list(sample(40)) == list(range(40))
    assert list(sample(10, most=4)) == [0, 3, 6, 9]
    assert list(sample(11, most=4)) == [0, 3, 7, 10]                 # 0, 3.33, 6.67, 10
    assert list(sample(4, most=4)) == [0, 1, 2, 3]
    index = sample(41)
    assert len(index) == 40 and index[0] == 0 and index[-1] == 40


def test_markup_goes_and_entities_become_characters():
    assert plain_text("<b>Loss</b><br>over  steps") == "Loss over steps"
    assert plain_text("a<br/>b<br />c") == "a b c"
    assert plain_text("x&#95;1 &lt;= 2") == "x_1 <= 2"
    assert plain_text(None) == "" and plain_text("  \n ") == ""
    assert plain_text(3) == "3"


def test_trend_words_follow_the_sign():
    assert speech._trend(1.0, 0.5) == "falls"
    assert speech._trend(0.5, 1.0) == "rises"
    assert speech._trend(0.5, 0.5) == "stays"
    assert speech._trend(NAN, 0.5) == "goes" and speech._trend(0.5, INF) == "goes"


def runs_of(*norms):
    return [SimpleNamespace(config=SimpleNamespace(norm=n)) for n in norms]


def test_runs_are_called_by_what_tells_them_apart():
    assert run_words(runs_of("batch")) == ["with BN"]
    assert run_words(runs_of("layer")) == ["with layer norm"]
    assert run_words(runs_of("none")) == ["without BN"]
    assert run_words(runs_of("batch", "none")) == ["with BN", "without BN"]
    assert run_words(runs_of("none", "batch")) == ["without BN", "with BN"]
    assert run_words(runs_of("layer", "none")) == ["with layer norm", "without normalization"]
    assert run_words(runs_of("none", "layer")) == ["without normalization", "with layer norm"]
    assert run_words(runs_of("batch", "layer")) == ["with BN", "with layer norm"]
    assert run_words(runs_of("batch", "batch")) == ["in A", "in B"]
    assert run_words(runs_of("none", "none")) == ["in A", "in B"]


def test_finite_ends():
    assert finite_ends([NAN, 2.0, INF, 3.0, NAN]) == (2.0, 3.0)
    assert finite_ends([5]) == (5.0, 5.0)
    first, last = finite_ends([NAN, -INF])
    assert np.isnan(first) and np.isnan(last)


# ------------------------------------------------------------------ the training curves


def fake_run(norm, loss, window=2, acc=0.875, stride=1):
    return SimpleNamespace(config=SimpleNamespace(norm=norm), n_steps=len(loss), train_loss=np.array(loss, float),
                           epoch_window=window, epoch_metrics={"test_acc_eval": np.array([0.1, 0.2, acc])}, stride=stride)


def test_the_curves_with_and_without_bn_in_words():
    a = fake_run("batch", [1.0, 0.8, 0.6, 0.4], acc=0.875)          # 1-epoch means 1.0, 0.9, 0.7, 0.5
    b = fake_run("none", [0.5, 0.7, 0.9, 1.1], acc=0.5)             # 0.5, 0.6, 0.8, 1.0
    said = training_curves_speech(go.Figure(), a, b)
    assert said.name == "Training curves: loss and accuracy"
    assert said.sentence == ("Mini-batch loss over 4 steps (mean over one epoch): with BN it falls from 1.00 to 0.50, "
                             "without it rises from 0.50 to 1.00. Test accuracy after the last epoch: 87.5% with BN, "
                             "50.0% without BN.")
    assert said.columns == ["step", "mini-batch loss with BN (1-epoch mean)",
                            "mini-batch loss without BN (1-epoch mean)"]
    assert said.rows == [[0, 1.0, 0.5], [1, 0.9, pytest.approx(0.6)], [2, 0.7, pytest.approx(0.8)],
                         [3, pytest.approx(0.5), 1.0]]
    assert said.table_note == ""
    # B first, without BN: "without BN it", and the second, with BN, is named in full
    said = training_curves_speech(go.Figure(), b, a)
    assert said.sentence.startswith("Mini-batch loss over 4 steps (mean over one epoch): without BN it rises from "
                                    "0.50 to 1.00, with BN it falls from 1.00 to 0.50.")


def test_a_verb_said_once_is_not_repeated():
    a = fake_run("batch", [1.0, 0.8, 0.6, 0.4], acc=NAN)
    b = fake_run("none", [2.0, 1.0, 1.0, 1.0], acc=0.5)              # 2.0, 1.5, 1.0, 1.0
    said = training_curves_speech(go.Figure(), a, b).sentence
    assert said == "Mini-batch loss over 4 steps (mean over one epoch): with BN it falls from 1.00 to 0.50, without it from 2.00 to 1.00."
    c = fake_run("batch", [1.0, 1.0], acc=0.5)
    d = fake_run("batch", [1.0, 1.0], acc=0.25)
    said = training_curves_speech(go.Figure(), c, d).sentence
    assert said == ("Mini-batch loss over 2 steps (mean over one epoch): in A stays from 1.00 to 1.00, in B from 1.00 "
                    "to 1.00. Test accuracy after the last epoch: 50.0% in A, 25.0% in B.")


def test_runs_of_different_lengths_say_their_steps():
    a = fake_run("layer", [1.0, 0.5], window=1, acc=0.5)
    b = fake_run("none", [1.0, 2.0, 3.0], window=1, acc=0.75)
    said = training_curves_speech(go.Figure(), a, b)
    assert said.sentence == ("Mini-batch loss (mean over one epoch): with layer norm falls from 1.00 to 0.50 over 2 "
                             "steps, without normalization rises from 1.00 to 3.00 over 3 steps. Test accuracy after "
                             "the last epoch: 50.0% with layer norm, 75.0% without normalization.")
    assert said.rows == [[0, 1.0, 1.0], [1, 0.5, 2.0], [2, "", 3.0]]
    one = training_curves_speech(go.Figure(), fake_run("batch", [0.5, 0.75, 0.25], window=1, acc=0.5))
    assert one.sentence == ("Mini-batch loss over 3 steps (mean over one epoch): with BN it falls from 0.50 to 0.25. "
                            "Test accuracy after the last epoch: 50.0% with BN.")
    single = training_curves_speech(go.Figure(), fake_run("none", [0.5], window=1, acc=0.25))
    assert single.sentence.endswith(" (mean over one epoch): without BN it stays from 0.50 to 0.50. Test accuracy "
                                    "after the last epoch: 25.0% without BN.")
    gone = training_curves_speech(go.Figure(), fake_run("batch", [np.nan, np.nan], window=1, acc=NAN))
    assert gone.sentence == "Mini-batch loss over 2 steps (mean over one epoch): with BN it goes from n/a to n/a."


def test_a_long_and_a_strided_run_say_how_the_table_was_sampled():
    long = fake_run("batch", np.linspace(1.0, 0.5, 100), window=1, acc=0.5)
    said = training_curves_speech(go.Figure(), long)
    assert said.table_note == "40 of 100 steps, evenly spread."
    assert [row[0] for row in said.rows] == list(np.unique(np.round(np.linspace(0, 99, 40)).astype(int)))
    assert said.sentence.startswith("Mini-batch loss over 100 steps (mean over one epoch): with BN it falls from 1.00 "
                                    "to 0.50.")
    strided = training_curves_speech(go.Figure(), fake_run("batch", np.linspace(1.0, 0.5, 100), window=1, stride=3))
    assert strided.table_note == ("40 of 100 steps, evenly spread. Steps are positions in the run's record, which "
                                  "kept every 3rd step.")
    short = training_curves_speech(go.Figure(), fake_run("batch", [1.0, 0.5], window=1, stride=2))
    assert short.table_note == "Steps are positions in the run's record, which kept every 2nd step."
    exact = training_curves_speech(go.Figure(), fake_run("batch", np.ones(40), window=1))
    assert exact.table_note == "" and len(exact.rows) == 40


def test_no_run_with_a_step_describes_the_figure():
    fig = go.Figure(layout=dict(title="Empty"))
    empty = fake_run("batch", [], acc=0.5)
    assert training_curves_speech(fig, empty).sentence == "Empty: nothing drawn."
    a = fake_run("none", [1.0, 0.5], window=1, acc=0.5)
    assert training_curves_speech(fig, empty, a).sentence.startswith(
        "Mini-batch loss over 2 steps (mean over one epoch): without BN it falls")


# -------------------------------------------------------------------------- any figure


def line_figure():
    fig = go.Figure(layout=dict(title="Loss<br>a subtitle", xaxis_title="step", yaxis_title="<i>loss</i>"))
    fig.add_scatter(x=[0, 1, 2], y=[3.0, 1.0, 2.0], name="train", mode="lines")
    return fig


def test_a_line_in_words_and_as_a_table():
    said = describe(line_figure())
    assert said.name == "Loss"
    assert said.sentence == "Loss. Y axis: loss. train: from 3 to 2 (step 0 to 2), lowest 1, highest 3."
    assert said.columns == ["step", "train"] and said.rows == [[0.0, 3.0], [1.0, 1.0], [2.0, 2.0]]
    assert said.table_note == ""


def test_kinds_of_traces_in_words():
    fig = go.Figure(layout=dict(title="Mixed?", xaxis_title="x", yaxis_title="y"))
    fig.add_scatter(x=[2, 0, 1], y=[1.0, 5.0, 3.0], name="rows", mode="lines")            # x not in order
    fig.add_scatter(x=[0, 1, 2], y=[1.0, 5.0, 3.0], name="dots", mode="markers")          # no lines
    fig.add_bar(x=[1, 2, 3], y=[0.5, 4.0, 2.0], name="bars")
    fig.add_scatter(x=[7], y=[0.25], name="one")
    fig.add_scatter(y=[4.0, 2.0, 3.0], name="no x")
    fig.add_scatter(x=[0, 1], y=[9.0, 8.0], name="faint", showlegend=False, opacity=0.3)  # under a bold line
    fig.add_scatter(x=[0, 1], y=[9.0, 8.0], name="hidden", visible=False)
    fig.add_scatter(x=[0, 1], y=[np.nan, np.nan], name="empty")
    fig.add_heatmap(z=[[0.0, 1.0, 2.0], [3.0, np.nan, 5.0]], name="surface")
    fig.add_heatmap(z=[[np.nan]], name="blank")
    said = describe(fig)
    assert said.sentence == ("Mixed? Y axis: y. rows: 3 points, x from 0 to 2, y from 1 to 5; dots: 3 points, x from "
                             "0 to 2, y from 1 to 5; bars: 3 bars over x 1 to 3, the highest 4 at 2; one: 0.25; no x: "
                             "from 4 to 3, lowest 2, highest 4; surface: values from 0 to 5 over a 3 by 2 grid.")
    assert said.columns == ["line", "x", "value"]
    assert said.table_note == ""


def test_other_kinds_of_traces_in_words():
    fig = go.Figure(layout=dict(title="Feature X", xaxis_title="x"))
    fig.add_trace(go.Contour(z=[[1.0, 2.0], [3.0, 4.0]], name="contour"))
    fig.add_trace(go.Surface(z=[[0.5, 1.5, 2.5]], name="surface"))
    fig.add_trace(go.Scattergl(x=[0, 1], y=[2.0, 1.0], name="gl", mode="lines"))
    fig.add_trace(go.Box(x=[0, 0, 0], y=[1.0, 3.0, 2.0], name="box"))
    fig.add_trace(go.Histogram(y=[4.0, 5.0], name="hist"))
    fig.add_bar(x=["a", "b", "c"], y=[1.0, 3.0, 2.0], name="cats")                   # x not numbers
    fig.add_bar(x=[1, 2, 3, 4], y=[0.5, np.nan, 4.0, 2.0], name="gap")
    said = describe(fig).sentence
    assert said == ("Feature X. Y axis: y. gl: from 2 to 1 (x 0 to 1), lowest 1, highest 2; box: from 1 to 2 (x 0 to "
                    "0), lowest 1, highest 3; hist: from 4 to 5, lowest 4, highest 5; cats: from 1 to 2, lowest 1, "
                    "highest 3; gap: 4 bars over x 1 to 4, the highest 4 at 3; contour: values from 1 to 4 over a 2 by 2 "
                    "grid; surface: values from 0.5 to 2.5 over a 3 by 1 grid.")
    # x in order, with ties or steps under 1: a line from its first to its last value
    fig = go.Figure(layout=dict(title="T", xaxis_title="x"))
    fig.add_scatter(x=[0, 1, 1, 2], y=[1.0, 2.0, 3.0, 4.0], name="ties", mode="lines")
    fig.add_scatter(x=[0, 0.5, 1], y=[1.0, 2.0, 3.0], name="halves", mode="lines")
    assert describe(fig).sentence == ("T. Y axis: y. ties: from 1 to 4 (x 0 to 2), lowest 1, highest 4; halves: from 1 "
                                      "to 3 (x 0 to 1), lowest 1, highest 3.")
    only_words = go.Figure(layout=dict(title="T"))
    only_words.add_bar(x=["a", "b"], y=[1.0, 2.0], name="cats")
    said = describe(only_words)
    assert said.sentence == "T. Y axis: y. cats: from 1 to 2, lowest 1, highest 2."
    assert (said.columns, said.rows, said.table_note) == ([], [], "")


def test_points_leave_out_infinite_x():
    fig = go.Figure(layout=dict(title="T", xaxis_title="x", yaxis_title="y"))
    fig.add_scatter(x=[0.0, np.inf, 1.0, np.nan], y=[1.0, 2.0, 3.0, 4.0], name="pts", mode="markers")
    assert describe(fig).sentence == "T. Y axis: y. pts: 4 points, x from 0 to 1, y from 1 to 4."


def test_a_line_on_second_axes_is_named_by_them():
    fig = go.Figure(layout=dict(title="T", xaxis=dict(title="step"), yaxis=dict(title="loss"),
                                xaxis2=dict(title="width", anchor="y2"), yaxis2=dict(title="height", anchor="x2")))
    fig.add_scatter(x=[1, 2], y=[3.0, 4.0], name="line", xaxis="x2", yaxis="y2", mode="lines")
    said = describe(fig)
    assert said.sentence == "T. Y axis: height. line: from 3 to 4 (width 1 to 2), lowest 3, highest 4."
    assert said.columns == ["width", "line"]
    fig.add_scatter(x=[0, 2, 1], y=[5.0, 6.0, 7.0], name="dots", xaxis="x2", yaxis="y2", mode="markers")
    assert "dots: 3 points, width from 0 to 2, height from 5 to 7" in describe(fig).sentence


def test_lines_of_one_length_on_different_x_or_with_nan_x():
    fig = go.Figure(layout=dict(title="T", xaxis_title="x"))
    fig.add_scatter(x=[0, 1], y=[1.0, 2.0], name="a")
    fig.add_scatter(x=[5, 6], y=[3.0, 4.0], name="b")
    said = describe(fig)
    assert said.columns == ["line", "x", "value"]
    assert said.rows == [["a", 0.0, 1.0], ["a", 1.0, 2.0], ["b", 5.0, 3.0], ["b", 6.0, 4.0]]
    fig = go.Figure(layout=dict(title="T", xaxis_title="x"))
    fig.add_scatter(x=[0, np.nan, 2], y=[1.0, 2.0, 3.0], name="a")
    fig.add_scatter(x=[0, np.nan, 2], y=[4.0, 5.0, 6.0], name="b")
    said = describe(fig)
    assert said.columns == ["x", "a", "b"] and len(said.rows) == 3
    assert said.rows[0] == [0.0, 1.0, 4.0] and said.rows[2] == [2.0, 3.0, 6.0] and np.isnan(said.rows[1][0])


def test_a_faint_line_is_left_out_only_when_hidden_from_the_legend_and_faint():
    fig = go.Figure(layout=dict(title="T"))
    fig.add_scatter(x=[0, 1], y=[1.0, 2.0], name="kept", showlegend=False, opacity=1)
    fig.add_scatter(x=[0, 1], y=[1.0, 2.0], name="shown", showlegend=True, opacity=0.3)
    fig.add_scatter(x=[0, 1], y=[1.0, 2.0], name="plain")
    fig.add_scatter(x=[0, 1], y=[1.0, 2.0], name="gone", showlegend=False, opacity=0.3)
    said = describe(fig).sentence
    assert said == ("T. Y axis: y. kept: from 1 to 2 (x 0 to 1), lowest 1, highest 2; shown: from 1 to 2 (x 0 to 1), "
                    "lowest 1, highest 2; plain: from 1 to 2 (x 0 to 1), lowest 1, highest 2.")


def test_more_than_six_lines_are_counted_and_frames_are_mentioned():
    fig = go.Figure(layout=dict(title="Many lines."))
    for i in range(8):
        fig.add_scatter(x=[0, 1], y=[float(i), float(i + 1)], name=f"L{i}")
    fig.frames = [go.Frame(name="1"), go.Frame(name="2"), go.Frame(name="3")]
    said = describe(fig)
    parts = "; ".join(f"L{i}: from {i} to {i + 1} (x 0 to 1), lowest {i}, highest {i + 1}" for i in range(6))
    assert said.sentence == (f"Many lines. Y axis: y. {parts}; and 2 more lines. It has 3 frames to step through; "
                             "this describes the one shown first.")
    assert said.columns == ["x"] + [f"L{i}" for i in range(8)] and len(said.rows) == 2
    fig = go.Figure(layout=dict(title="Six"))
    for i in range(6):
        fig.add_scatter(x=[0, 1], y=[1.0, 2.0], name=f"L{i}")
    assert "more lines" not in describe(fig).sentence


def test_two_axes_name_each_line_by_its_axis():
    fig = go.Figure(layout=dict(title="", yaxis=dict(title="loss"), yaxis2=dict(title="accuracy"),
                                xaxis=dict(title="epoch")))
    fig.add_scatter(x=[1, 2], y=[0.5, 0.25], name="train")
    fig.add_scatter(x=[1, 2], y=[0.75, 0.875], name="test", yaxis="y2")
    said = describe(fig)
    assert said.name == "Chart"
    assert said.sentence == ("Chart. loss, train: from 0.5 to 0.25 (epoch 1 to 2), lowest 0.25, highest 0.5; "
                             "accuracy, test: from 0.75 to 0.875 (epoch 1 to 2), lowest 0.75, highest 0.875.")
    assert said.columns == ["epoch", "loss, train", "accuracy, test"]
    assert said.rows == [[1.0, 0.5, 0.75], [2.0, 0.25, 0.875]]


def test_lines_on_different_x_give_a_row_per_point():
    fig = go.Figure(layout=dict(title="T", xaxis_title="lr"))
    fig.add_scatter(x=np.arange(30.0), y=np.arange(30.0), name="a")
    fig.add_scatter(x=np.arange(5.0), y=np.arange(5.0) * 2, name="b")
    said = describe(fig)
    assert said.columns == ["line", "lr", "value"]
    # at most 40 // 2 = 20 points per line: 20 of a's 30, all 5 of b's
    keep = list(np.unique(np.round(np.linspace(0, 29, 20)).astype(int)))
    assert said.rows == [["a", float(i), float(i)] for i in keep] + [["b", float(i), 2.0 * i] for i in range(5)]
    assert said.table_note == "At most 20 points per line, evenly spread."
    fig = go.Figure(layout=dict(title="T"))
    for i in range(20):                                   # 40 // 20 = 2, but never fewer than 3 a line
        fig.add_scatter(x=[0.0, 1.0, 2.0, 3.0][: 3 + (i == 0)], y=[1.0, 2.0, 3.0, 4.0][: 3 + (i == 0)], name=f"L{i}")
    said = describe(fig)
    assert said.table_note == "At most 3 points per line, evenly spread."
    assert said.rows[:3] == [["L0", 0.0, 1.0], ["L0", 2.0, 3.0], ["L0", 3.0, 4.0]]      # 3 of 4: 0, 1.5 -> 2, 3
    assert len(said.rows) == 3 + 19 * 3


def test_a_many_point_table_is_sampled():
    fig = go.Figure(layout=dict(title="T", xaxis_title="step"))
    fig.add_scatter(x=np.arange(100.0), y=np.arange(100.0) / 2, name="a")
    said = describe(fig)
    assert said.table_note == "40 of 100 points, evenly spread." and len(said.rows) == 40
    assert said.rows[0] == [0.0, 0.0] and said.rows[-1] == [99.0, 49.5]


def test_a_figure_with_nothing_drawn_says_its_notes():
    fig = go.Figure(layout=dict(title="<b>Sweep</b>"))
    fig.add_annotation(text="No run finished.")
    fig.add_annotation(text="<i>Try</i> a smaller rate")
    fig.add_annotation(text=" ")
    said = describe(fig)
    assert said == speech.Speech("Sweep", "Sweep: No run finished.; Try a smaller rate.")
    assert describe(go.Figure()).sentence == "Chart: nothing drawn."
    fig = go.Figure(layout=dict(title="T"))
    fig.add_annotation(text="Nothing to show.")
    assert describe(fig).sentence == "T: Nothing to show."
    fig = go.Figure(layout=dict(title="T"))
    fig.add_annotation(text="...sorted by X")
    assert describe(fig).sentence == "T: ...sorted by X."
    fig = go.Figure(layout=dict(title="T"))
    fig.add_scatter(x=[0, 1], y=[np.nan, np.nan])
    assert describe(fig).sentence == "T: nothing drawn."


def test_a_trace_without_a_name_and_a_grid_without_rows():
    fig = go.Figure(layout=dict(title="T"))
    fig.add_scatter(x=[0, 1], y=[1.0, 2.0])
    fig.add_heatmap(z=[1.0, 2.0])
    said = describe(fig)
    assert said.sentence == "T. Y axis: y. line: from 1 to 2 (x 0 to 1), lowest 1, highest 2; shading: values from 1 to 2."


# ------------------------------------------------------------------- lessons over seeds


def test_the_spread_over_seeds_in_words():
    said = spread_sentence({"with BN": [0.5, 0.25, 1.0, NAN], "without BN": [NAN, NAN], "plain": [2.0, 2.0]},
                           "<b>Test</b> accuracy")
    assert said == ("Test accuracy. with BN: median 0.5 over 3 seeds, from 0.25 to 1, 1 without a value; without BN: "
                    "no value in 2 seeds; plain: median 2 over 2 seeds, from 2 to 2.")
    logged = spread_sentence({"a": [0.0, -1.0, 4.0, 16.0]}, "steps", log=True)
    assert logged == "steps. a: median 10 over 2 seeds, from 4 to 16, 2 without a value."
    assert spread_sentence({"a": [0.5, 2.0, 0.0]}, "s", log=True) == "s. a: median 1.25 over 2 seeds, from 0.5 to 2, 1 without a value."
    assert spread_sentence({"a": [0.0, -1.0, 4.0]}, "x") == "x. a: median 0 over 3 seeds, from -1 to 4."


def test_a_measure_against_batch_size_in_words():
    said = by_batch_size_sentence([2, 8.0, 32], {"with BN": [[1.0, 2.0, NAN], [3.0, 4.0, NAN]],
                                                "without BN": [[0.5, -1.0, 6.0]]}, "Loss")
    assert said == ("Loss against batch size. with BN: median 2 at 2, 3 at 8, no value at 32; without BN: median "
                    "0.5 at 2, -1 at 8, 6 at 32.")
    logged = by_batch_size_sentence([4, 16], {"a": [[0.0, 1.0], [4.0, -2.0]]}, "gap", log=True)
    assert logged == "gap against batch size. a: median 4 at 4, 1 at 16."


# -------------------------------------------------------------------------- the training view


def fake_view(**changes):
    view = SimpleNamespace(
        curve_smooth=np.array([NAN, 0.75, 0.5, 0.25]), n_steps=1234, states=np.array([0, 600, 1234]),
        plane=SimpleNamespace(loss=np.array([[0.5, INF], [2.0, 0.25]])),
        percentiles=np.array([[-1.0, 0.5, 2.0], [NAN, NAN, NAN], [-0.5, 1.5, 3.25]]), stage="bn", layer=2, unit=1,
        running_mean=np.array([0.0, 0.2, 0.375]), running_var=np.array([1.0, 0.9, 0.8]),
        exact_mean=np.array([0.1, 0.3, 0.4]), exact_var=np.array([1.5, 1.25, NAN]),
        prob=np.array([np.zeros((2, 2)), [[0.75, 0.5], [0.51, NAN]]]), accuracy=None, accuracy_split="test",
        loss_at=np.array([NAN, 0.8, 0.3]))
    for key, value in changes.items():
        setattr(view, key, value)
    return view


def test_the_five_panels_of_a_run_with_bn_in_words():
    said = watch_panel_sentences(fake_view(), "A · BN on", "placed")
    assert said == [
        "Loss, A · BN on: the mini-batch loss (mean over one epoch) falls from 0.75 to 0.25 over 1,234 steps.",
        "Loss surface and path, A · BN on: on the plane through the path the loss ranges from 0.25 to 2; the path "
        "has 3 points.",
        "Input to the activation (BN output, layer 2, unit 2), A · BN on: the median moves from 0.5 to 1.5; at the "
        "end the middle 70% of rows lie between -0.5 and 3.25.",
        "Running μ and σ², A · BN on: the running mean ends at 0.375 (exact 0.4), the running variance at 0.8 "
        "(exact 1.25).",
        "P(placed), A · BN on: at the last step the network gives P(placed) above 0.5 on 67% of the plane of the "
        "two features.",
    ]


def test_the_five_panels_of_a_run_without_bn_off_the_plane_in_words():
    view = fake_view(curve_smooth=np.array([0.25, 0.5]), plane=None, stage="z", unit=0, running_mean=None,
                     running_var=None, prob=None, accuracy=np.array([NAN, 0.5, 0.875, NAN]), accuracy_split="training",
                     n_steps=7)
    said = watch_panel_sentences(view, "B · BN off", "digit")
    assert said == [
        "Loss, B · BN off: the mini-batch loss (mean over one epoch) rises from 0.25 to 0.5 over 7 steps.",
        "Loss surface, B · BN off: the weights left the finite range, so there is no surface.",
        "Input to the activation (Dense output z, layer 2, unit 1), B · BN off: the median moves from 0.5 to 1.5; "
        "at the end the middle 70% of rows lie between -0.5 and 3.25.",
        "Running μ and σ², B · BN off: no BN, so nothing runs; the exact mean ends at 0.4 and the variance at 1.25.",
        "Training accuracy, B · BN off: in evaluation mode it goes from 50% to 88% over 7 steps.",
    ]


def test_panels_with_nothing_finite_say_n_a():
    view = fake_view(curve_smooth=np.array([0.5, 0.5]), plane=SimpleNamespace(loss=np.full((2, 2), NAN)),
                     prob=np.full((1, 2, 2), NAN))
    said = watch_panel_sentences(view, "A", "y")
    assert said[0] == "Loss, A: the mini-batch loss (mean over one epoch) stays from 0.5 to 0.5 over 1,234 steps."
    assert said[1] == ("Loss surface and path, A: on the plane through the path the loss ranges from n/a to n/a; the "
                       "path has 3 points.")
    assert said[4] == "P(y), A: at the last step the network gives P(y) above 0.5 on nan% of the plane of the two features."
    half = watch_panel_sentences(fake_view(prob=np.array([[[0.5, 0.5000001], [0.2, 0.9]]])), "A", "y")[4]
    assert "above 0.5 on 50% of the plane" in half                 # exactly 0.5 is not above


def table_view(states, loss, median, exact, running=None):
    return SimpleNamespace(states=np.array(states), loss_at=np.array(loss, float),
                           percentiles=np.column_stack([np.zeros(len(states)), median, np.zeros(len(states))]),
                           exact_mean=np.array(exact, float),
                           running_mean=None if running is None else np.array(running, float))


def test_the_views_table_has_a_row_per_frame_of_the_longer_run():
    a = table_view([0, 2, 4], [NAN, 0.5, 0.25], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], running=[0.0, 0.15, 0.25])
    b = table_view([0, 1, 2, 3, 5, 6], [NAN, 1.0, 0.9, 0.8, 0.7, 0.6], [0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0])
    said = watch_table([a, b], ["A", "B"])
    assert said.name == "Watch it train" and said.sentence == ""
    assert said.columns == ["step", "A: mini-batch loss", "A: median input", "A: running mean", "A: exact mean",
                            "B: mini-batch loss", "B: median input", "B: exact mean"]
    # each row: run A at its last state at or before the step
    assert said.rows == [[0, None, 1.0, 0.0, 0.1, None, 0.0, 5.0],
                         [1, None, 1.0, 0.0, 0.1, 1.0, 1.0, 4.0],
                         [2, 0.5, 2.0, 0.15, 0.2, 0.9, 2.0, 3.0],
                         [3, 0.5, 2.0, 0.15, 0.2, 0.8, 3.0, 2.0],
                         [5, 0.25, 3.0, 0.25, 0.3, 0.7, 4.0, 1.0],
                         [6, 0.25, 3.0, 0.25, 0.3, 0.6, 5.0, 0.0]]
    assert said.table_note == ""
    assert all(type(x) is float for row in said.rows for x in row[1:] if x is not None)
    # the longer run is the one that ends later, whatever its frames before
    c = table_view([0, 5, 6], [NAN, 0.5, 0.4], [0.0, 1.0, 2.0], [0.0, 0.0, 0.0])
    d = table_view([0, 1, 2, 3, 10], [NAN, 1.0, 0.9, 0.8, 0.7], [0, 1, 2, 3, 4], [0, 0, 0, 0, 0])
    assert [row[0] for row in watch_table([c, d], ["A", "B"]).rows] == [0, 1, 2, 3, 10]
    long = table_view(np.arange(50), np.arange(50.0), np.arange(50.0), np.arange(50.0))
    said = watch_table([long], ["A"])
    assert said.table_note == "40 of the view's 50 frames, evenly spread."
    assert [row[0] for row in said.rows] == list(np.unique(np.round(np.linspace(0, 49, 40)).astype(int)))
    assert said.rows[-1] == [49, 49.0, 49.0, 49.0]


def test_counts_of_one_read_in_the_singular():
    from bnviz.figures.speech import counted

    assert [counted(1, "step"), counted(2, "step"), counted(1200, "seed"), counted(1, "more line")] == [
        "1 step", "2 steps", "1,200 seeds", "1 more line"]


def test_a_number_that_rounds_up_to_a_thousand_is_written_out():
    from bnviz.figures.speech import number

    assert [number(999.4), number(999.5), number(-999.7), number(1234.5), number(99.95)] == [
        "999", "1,000", "-1,000", "1,234", "100"]
