"""The Lessons view through AppTest: a card per lesson, each with its measured verdict, sentence and chart."""
import threading

import numpy as np
import pytest

from bnviz.lessons import LESSONS
from bnviz.ui import lessons as view
from test_app import fresh
from test_lessons_view import parse, slow_median, where

MEASURE_TIMEOUT = 600


@pytest.fixture(scope="module")
def measured():
    """The page's own board (one per process), once every lesson is measured."""
    at = fresh({"epochs": "2", "compare": "off"})       # the first page view starts the measuring
    assert not at.exception
    board = view.lesson_board()
    assert board.wait(MEASURE_TIMEOUT), "the lessons were not measured in time"
    return board


def card_texts(at) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_every_lesson_has_a_card_with_both_verdicts(measured):
    from bnviz.lessons import contrast

    at = fresh({"tab": "Lessons", "epochs": "2", "compare": "off"})
    assert not at.exception and not at.error
    texts = card_texts(at)
    assert len(measured.lessons) == len(LESSONS)
    for lesson in LESSONS:
        notes, shows = measured.verdict(lesson, "notes"), measured.verdict(lesson, "shows")
        assert notes is not None and shows is not None, measured.error(lesson)
        for verdict in {id(notes): notes, id(shows): shows}.values():
            assert view.markdown_text(verdict.sentence) in texts
            assert view.badge_markdown(verdict.status) in texts
        assert view.markdown_text(shows.rule) in texts                            # the card states its rule
        assert view.markdown_text(contrast(lesson, notes, shows)) in texts        # and what differs
        assert view.markdown_text(lesson.claim) in texts
        assert f"[Open this experiment](?{lesson.experiments['shows']})" in texts
        if not lesson.same_experiment:
            assert f"[Open the notes' one](?{lesson.experiments['notes']})" in texts
    shown = "\n".join(m.value for m in at.markdown)
    for lesson in LESSONS:                                          # one chart per verdict, as the board built it
        assert measured.figure(lesson, "notes") in shown and measured.figure(lesson, "shows") in shown
    assert not at.get("plotly_chart")                               # only the open tab draws
    assert "measuring" not in texts


@pytest.mark.parametrize("experiment", ["notes", "shows"])
def test_each_cards_chart_draws_the_verdicts_numbers(measured, experiment):
    for lesson in LESSONS:
        verdict = measured.verdict(lesson, experiment)
        root, dots, medians = parse(measured.figure(lesson, experiment))
        assert list(dots) == [name for name, v in verdict.spread.items()
                              if (np.isfinite(v) & ((v > 0) if verdict.spread_log else True)).any()]
        for name, values in verdict.spread.items():
            values = np.asarray(values, dtype=float)
            keep = np.isfinite(values) & ((values > 0) if verdict.spread_log else True)
            drawn = dots.get(name, [])
            assert [v for _, v, _, _ in drawn] == list(values[keep])
            assert [seed for seed, _, _, _ in drawn] == list(np.asarray(verdict.seeds)[keep])
            for _, value, cx, _ in drawn:
                assert cx == pytest.approx(where(value, root), abs=0.01)
            if keep.any():
                assert medians[name][0] == slow_median(list(values[keep]))


def test_the_experiments_box_lists_every_lesson_with_both_badges(measured):
    at = fresh({"epochs": "2", "compare": "off"})
    texts = card_texts(at)
    for lesson in LESSONS:
        notes, shows = measured.verdict(lesson, "notes"), measured.verdict(lesson, "shows")
        line = next(line for line in texts.split("\n\n") if view.markdown_text(lesson.claim) in line)
        if lesson.setting:                      # measured on the source's own network only
            assert f"(?{lesson.query}) {view.badge_markdown(shows.status)}" in line
            continue
        assert f"notes' network {view.badge_markdown(notes.status)}" in line
        assert f"[where it shows](?{lesson.query}) {view.badge_markdown(shows.status)}" in line


def test_cards_wait_politely_while_measuring(monkeypatch):
    gate = threading.Event()

    def slow(lesson, seeds, experiment):
        gate.wait(30)
        raise RuntimeError("stopped")

    board = view.Board(LESSONS, slow).start()
    monkeypatch.setattr(view, "lesson_board", lambda: board)
    try:
        at = fresh({"tab": "Lessons", "epochs": "2", "compare": "off"})
        assert not at.exception
        texts = card_texts(at)
        assert texts.count(view.badge_markdown(None)) >= len(LESSONS)
        assert any("0 of" in i.value for i in at.info)
    finally:
        gate.set()
    assert board.wait(30)
    at = fresh({"tab": "Lessons", "epochs": "2", "compare": "off"})
    assert not at.exception
    assert card_texts(at).count("could not be measured") == len(LESSONS)


def test_tabs_show_the_generated_sentences(measured):
    from bnviz.lessons import lesson_by_id

    for tab, lesson_id in (("Parameters", "vanishing-gradients"), ("Activations", "santurkar"),
                           ("Loss landscape", "input-scaling")):
        at = fresh({"tab": tab, "epochs": "2", "compare": "off"})
        assert not at.exception
        verdict = measured.verdict(lesson_by_id(lesson_id), "shows")
        assert view.markdown_text(verdict.sentence) in card_texts(at), tab


def test_undo_switch_in_the_batch_calculator():
    at = fresh({"tab": "Batch calculator", "epochs": "2", "compare": "off"})
    at.toggle(key="calc_undo").set_value(True).run()
    assert not at.exception
    assert any("gives back its input" in s.value for s in at.success)
    table = at.dataframe[0].value
    np.testing.assert_allclose(table["γ·ẑ + β"], table["z"], rtol=1e-12, atol=1e-12)


def test_parameters_tab_shows_the_bias_and_its_gradient():
    at = fresh({"tab": "Parameters", "epochs": "2", "keep_bias": "1", "compare": "keep_bias", "b": "0"})
    assert not at.exception
    texts = card_texts(at)
    assert "b1: over" in texts and "zero up to rounding" in texts
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert len(keys) >= 5                      # γ/β, gradient norms, update ratios, the bias, eval vs batch mode


def test_batch_size_compare_draws_curves_by_epochs():
    at = fresh({"epochs": "3", "batch_size": "4", "compare": "batch_size", "b": "64", "tab": "Training"})
    assert not at.exception
    assert at.radio(key="x").value == "epochs"
    curves = at.get("plotly_chart")[0].proto.spec
    assert "epoch (passes over the training rows)" in curves
    at = fresh({"epochs": "3", "batch_size": "4", "compare": "batch_size", "b": "64", "x": "steps", "tab": "Training"})
    assert at.radio(key="x").value == "steps"                       # a link's choice is kept
    assert any("different batch sizes" in c.value for c in at.caption)


def test_santurkar_and_bias_links_set_up_their_comparisons():
    at = fresh({"bn_noise": "0.5", "compare": "bn_noise", "b": "0", "epochs": "3"})
    assert not at.exception and not at.warning
    assert at.session_state["last_good"].bn_noise == 0.5
    at = fresh({"keep_bias": "1", "bias_init": "1", "compare": "keep_bias", "b": "0", "epochs": "3"})
    assert not at.exception and not at.warning
    assert at.session_state["last_good"].bias_init == 1.0
