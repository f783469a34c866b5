"""Charts in words: each sentence checked by value, its numbers recomputed plainly from the Run here."""
import numpy as np
import plotly.graph_objects as go
import pytest

from bnviz import Config, load_for, train
from bnviz.compare import shared_start
from bnviz.figures import all_figures, training_curves
from bnviz.figures.common import placeholder
from bnviz.figures.lessons import spread_svg
from bnviz.figures.speech import (describe, number, sample, spread_sentence, training_curves_speech,
                                  watch_panel_sentences, watch_table)
from bnviz.figures.watch import watch_spec
from bnviz.train import architecture, initial_params
from bnviz.ui.access import sentence_html, speech_for, table_html, table_markdown
from bnviz.ui.controls import greyed_note
from bnviz.config import FIELD_BY_NAME
from bnviz.watch import watch_pair


@pytest.fixture(scope="module")
def pair():
    a_cfg, b_cfg = Config(epochs=6), Config(epochs=6, bn=False)
    data = load_for(a_cfg)
    a = train(a_cfg, data)
    b = train(b_cfg, data, shared_start(a.initial_params, initial_params(b_cfg, architecture(b_cfg)), a_cfg, b_cfg))
    return a, b, data


def trailing_mean(values, window):
    """The mean of the last `window` values at each step (fewer at the start), by a plain loop."""
    return np.array([np.mean(values[max(0, i + 1 - window): i + 1]) for i in range(len(values))])


def test_the_loss_curves_sentence_says_the_runs_numbers(pair):
    a, b, _ = pair
    ends = []
    for run in (a, b):
        mean = trailing_mean(np.asarray(run.train_loss, dtype=float), run.steps_per_epoch)
        ends.append((mean[0], mean[-1]))
    verbs = ["falls" if last < first else "rises" for first, last in ends]
    second = "" if verbs[1] == verbs[0] else f" {verbs[1]}"
    accs = [run.epoch_metrics["test_acc_eval"][-1] for run in (a, b)]
    expected = (f"Mini-batch loss over {a.n_steps:,} steps (mean over one epoch): with BN it {verbs[0]} from "
                f"{ends[0][0]:.2f} to {ends[0][1]:.2f}, without it{second} from {ends[1][0]:.2f} to "
                f"{ends[1][1]:.2f}. Test accuracy after the last epoch: {accs[0]:.1%} with BN, "
                f"{accs[1]:.1%} without BN.")
    said = training_curves_speech(training_curves(a, b), a, b)
    assert said.sentence == expected
    assert said.name == "Training curves: loss and accuracy"
    # the table: evenly spread steps, the first and the last among them, with both runs' means
    steps = [row[0] for row in said.rows]
    assert steps[0] == 0 and steps[-1] == a.n_steps - 1 and len(steps) <= 40
    plain_a = trailing_mean(np.asarray(a.train_loss, dtype=float), a.steps_per_epoch)
    plain_b = trailing_mean(np.asarray(b.train_loss, dtype=float), b.steps_per_epoch)
    for row in said.rows:
        assert row[1] == pytest.approx(plain_a[row[0]], rel=1e-12)
        assert row[2] == pytest.approx(plain_b[row[0]], rel=1e-12)


def test_one_run_alone_is_named_by_its_bn(pair):
    a, b, _ = pair
    alone = training_curves_speech(training_curves(b), b).sentence
    mean = trailing_mean(np.asarray(b.train_loss, dtype=float), b.steps_per_epoch)
    assert alone.startswith(f"Mini-batch loss over {b.n_steps:,} steps (mean over one epoch): without BN it "
                            f"falls from {mean[0]:.2f} to {mean[-1]:.2f}.")


def test_any_figure_is_described_from_its_traces():
    fig = go.Figure([go.Scatter(x=[0, 1, 2, 3], y=[3.0, 1.0, 0.5, 2.0], mode="lines", name="loss"),
                     go.Scatter(x=[0, 1, 2, 3], y=[1.0, 1.5, 2.5, 2.0], mode="lines", name="gap")],
                    layout=dict(title=dict(text="Two lines<br><span>a subtitle</span>"),
                                xaxis=dict(title=dict(text="step")), yaxis=dict(title=dict(text="value"))))
    said = describe(fig)
    assert said.name == "Two lines"
    assert said.sentence == ("Two lines. Y axis: value. loss: from 3 to 2 (step 0 to 3), lowest 0.5, highest 3; "
                             "gap: from 1 to 2 (step 0 to 3), lowest 1, highest 2.5.")
    assert said.columns == ["step", "loss", "gap"]
    assert said.rows == [[0.0, 3.0, 1.0], [1.0, 1.0, 1.5], [2.0, 0.5, 2.5], [3.0, 2.0, 2.0]]


def test_points_bars_and_shading_are_described_by_where_they_lie():
    fig = go.Figure([go.Scatter(x=[5.0, 4.0, 6.0], y=[90.0, 120.0, 100.0], mode="markers", name="placed"),
                     go.Bar(x=[-1.0, 0.0, 1.0], y=[0.2, 0.5, 0.3], name="share"),
                     go.Heatmap(z=[[0.0, 0.25], [0.5, 1.0], [0.75, 0.1]], name="P")],
                    layout=dict(title=dict(text="Mixed"), xaxis=dict(title=dict(text="gpa")),
                                yaxis=dict(title=dict(text="iq"))))
    assert describe(fig).sentence == (
        "Mixed. Y axis: iq. placed: 3 points, gpa from 4 to 6, iq from 90 to 120; "
        "share: 3 bars over gpa -1 to 1, the highest 0.5 at 0; P: values from 0 to 1 over a 2 by 3 grid.")


def test_a_chart_with_nothing_to_draw_says_its_sentence():
    said = describe(placeholder("Training curves", "This run has no steps to show yet.<br>Lower the rate."))
    assert said.sentence == "Training curves: This run has no steps to show yet. Lower the rate."
    assert said.rows == []


def test_every_chart_of_a_pair_has_a_sentence_with_numbers(pair):
    a, b, data = pair
    for name, fig in all_figures(a, data, b).items():
        said = describe(fig)
        assert said.name and said.sentence.startswith(said.name), (name, said)
        if fig.data:                                # a chart (not a sentence in place of one): numbers
            assert any(ch.isdigit() for ch in said.sentence), (name, said)
    said = speech_for(training_curves(a, b), training_curves, a, b)
    assert said.sentence.startswith("Mini-batch loss over")      # the loss curves: written from the Runs


def test_the_gradient_norm_sentence_quotes_its_lines_ends(pair):
    a, b, data = pair
    fig = all_figures(a, data, b)["gradient_norms"]
    said = describe(fig).sentence
    for trace in fig.data:
        y = np.asarray(trace.y, dtype=float)
        ok = y[np.isfinite(y)]
        assert f"{trace.name}: from {number(ok[0])} to {number(ok[-1])}" in said


def test_the_training_views_panels_speak_the_runs_numbers(pair):
    a, b, data = pair
    views = watch_pair(a, b, data, frames=30, plane_size=9)
    for view, run, name in zip(views, (a, b), ("A · BN on", "B · BN off")):
        loss, surface, hist, running, boundary = watch_panel_sentences(view, name, "placed")
        assert loss.startswith(f"Loss, {name}: the mini-batch loss (mean over one epoch) falls from ")
        assert f"over {run.n_steps:,} steps." in loss
        layer, unit = view.layer, view.unit
        if run.n_bn:
            final = run.running_mean[layer - 1][run.n_steps - 1, unit]    # after the last step, as recorded
            assert f"the running mean ends at {number(final)}" in running
        else:
            assert "no BN, so nothing runs" in running
        assert f"unit {unit + 1}), {name}: the median moves from {number(view.percentiles[0, 1])} to " \
               f"{number(view.percentiles[-1, 1])}" in hist
        share = float(np.mean(np.asarray(view.prob[-1]) > 0.5))
        assert boundary.endswith(f"P(placed) above 0.5 on {share:.0%} of the plane of the two features.")
    spec = watch_spec(views, ["A · BN on", "B · BN off"], data)
    for run_spec, view, name in zip(spec["runs"], views, ("A · BN on", "B · BN off")):
        assert [p["said"] for p in run_spec["panels"]] == watch_panel_sentences(view, name, "placed")
    assert spec["runs"][1]["ink"] == "#B84F00"        # vermillion words, darkened to 5:1 on white


def test_the_training_views_table_holds_the_runs_numbers(pair):
    a, b, data = pair
    views = watch_pair(a, b, data, frames=60, plane_size=9)
    table = watch_table(views, ["A", "B"])
    assert table.columns == ["step", "A: mini-batch loss", "A: median input", "A: running mean", "A: exact mean",
                             "B: mini-batch loss", "B: median input", "B: exact mean"]
    assert len(table.rows) == 40 and table.rows[0][0] == 0 and table.rows[-1][0] == a.n_steps
    layer, unit = views[0].layer, views[0].unit
    for row in table.rows[1:]:
        step = row[0]
        assert row[1] == pytest.approx(a.train_loss[step - 1], rel=1e-12)       # the update that made the state
        assert row[3] == pytest.approx(a.running_mean[layer - 1][step - 1, unit], rel=1e-12)
        assert row[5] == pytest.approx(b.train_loss[step - 1], rel=1e-12)
    assert table.rows[0][1] is None                                            # no loss before the first step
    assert "| n/a |" in table_markdown(table.columns, table.rows[:1])


def test_a_lessons_spread_says_median_and_range_per_group():
    groups = {"BN on": np.array([0.1, 0.3, 0.2, np.nan]), "BN off": np.array([0.5, 0.4, 0.6, 0.45])}
    assert spread_sentence(groups, "final loss") == (
        "final loss. BN on: median 0.2 over 3 seeds, from 0.1 to 0.3, 1 without a value; "
        "BN off: median 0.475 over 4 seeds, from 0.4 to 0.6.")
    assert 'aria-label="final loss. BN on: median 0.2 over 3 seeds' in spread_svg(groups, "final loss")


def test_visitor_text_in_a_sentence_stays_text():
    hostile = '![i](http://x/i.png) <b>"x"</b> [a](b) $y$'
    html = sentence_html("k", f"P({hostile})", f"P({hostile}) above 0.5")
    for raw in ("![", "<b>", "](", "$y$", '"x"'):
        assert raw not in html
    table = table_markdown([hostile, "v"], [[hostile, 0.5]])
    assert "![" not in table and "<b>" not in table and table.count("\n") == 2
    hidden = table_html(hostile, [hostile, "v"], [[hostile, 0.5], [None, float("nan")]])
    assert "![" not in hidden and "<b>" not in hidden and "\n" not in hidden
    assert hidden.count("<tr>") == 3 and hidden.count("<td>n/a</td>") == 2 and "<td>0.5</td>" in hidden


def test_a_short_sentence_is_shown_and_a_long_one_read_out_only():
    assert 'class="bnviz-said"' in sentence_html("k", "Loss", "Loss falls from 0.69 to 0.21.")
    assert 'class="bnviz-said bnviz-unseen"' in sentence_html("k", "Loss", "Loss falls. " * 40)


def test_sample_keeps_the_first_and_last_row():
    assert list(sample(5)) == [0, 1, 2, 3, 4]
    rows = sample(1000, 40)
    assert rows[0] == 0 and rows[-1] == 999 and len(rows) == 40 and np.all(np.diff(rows) > 0)


def test_a_greyed_out_control_says_why():
    note = greyed_note([FIELD_BY_NAME["data_size"], FIELD_BY_NAME["data_noise"]], "placement")
    assert note.startswith("Toy set size and Toy set noise are off: they apply only to the generated data sets (")
    assert note.endswith("not to Student placement (GPA, IQ).")


def test_a_lessons_chart_has_its_numbers_per_seed_as_a_table():
    from types import SimpleNamespace

    from bnviz.ui.lessons import spread_table

    verdict = SimpleNamespace(spread={"BN on": np.array([0.125, 0.5]), "BN off": np.array([0.25, np.nan])},
                              seeds=(3, 7), spread_label="final loss")
    assert spread_table(verdict) == (
        "<details><summary>final loss: the numbers per seed</summary><table><thead><tr><th scope='col'>seed</th>"
        "<th scope='col'>BN on</th><th scope='col'>BN off</th></tr></thead><tbody>"
        "<tr><th scope='row'>3</th><td>0.125</td><td>0.25</td></tr>"
        "<tr><th scope='row'>7</th><td>0.5</td><td>n/a</td></tr></tbody></table></details>")


def test_off_the_feature_plane_the_last_panel_speaks_the_test_accuracy():
    """The digits have no two-feature plane: the view's last panel follows test accuracy, and its
    sentence quotes the first and last frame's accuracy, recomputed here from the network's logits."""
    from bnviz.nn import forward
    from bnviz.train import network_inputs

    cfg = Config(dataset="digits", hidden=(8,), epochs=1, batch_size=60)
    data = load_for(cfg)
    run = train(cfg, data)
    (view,) = watch_pair(run, None, data)
    assert view.prob is None and view.states[0] == 0 and view.states[-1] == run.n_steps
    X = network_inputs(cfg, data, data.X_test)

    def accuracy(step):
        logits = forward(run.arch, run.params_at(step), X, run.buffers_at(step)).logits
        return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(data.y_test)))

    first, last = accuracy(0), accuracy(run.n_steps)
    assert last > first + 0.2
    said = watch_panel_sentences(view, "A · BN on", "digit")[-1]
    assert said == (f"Test accuracy, A · BN on: in evaluation mode it goes from {first:.0%} to {last:.0%} "
                    f"over {run.n_steps:,} steps.")
