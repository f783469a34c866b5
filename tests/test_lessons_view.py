"""The Lessons view's parts: the spread chart drawn by value, and the board that measures once per process."""
import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from bnviz import figures as F
from bnviz.figures.common import BN_OFF, BN_ON
from bnviz.ui.lessons import Board, markdown_text, spread_chart


def slow_median(values):
    ordered = sorted(v for v in values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def test_spread_figure_draws_every_seed_and_the_median():
    on = [0.9, 0.85, 0.95, float("nan"), 0.9]
    off = [0.5, 0.6, 0.55, 0.52, 0.7]
    fig = F.spread_figure({"BN on": on, "BN off": off}, "test accuracy", seeds=[3, 4, 5, 6, 7])
    dots = [t for t in fig.data if t.mode == "markers" and not t.name.endswith("median")]
    medians = [t for t in fig.data if t.name.endswith("median")]
    assert [t.name for t in dots] == ["BN on", "BN off"]
    assert dots[0].marker.color == BN_ON and dots[1].marker.color == BN_OFF
    np.testing.assert_array_equal(dots[0].x, [0.9, 0.85, 0.95, 0.9])          # the diverged seed is left out
    np.testing.assert_array_equal(dots[0].customdata, [3, 4, 5, 7])          # and each dot keeps its seed
    np.testing.assert_array_equal(dots[1].x, off)
    assert medians[0].x[0] == slow_median([0.9, 0.85, 0.95, 0.9])
    assert medians[1].x[0] == slow_median(off)
    assert "(1 of 5 no value)" in fig.layout.yaxis.ticktext[0].replace("<br>", " ")
    assert medians[0].y[0] > medians[1].y[0]                                  # BN on is the top row
    assert all(abs(y - medians[0].y[0]) <= 0.3 for y in dots[0].y)            # jitter stays inside its row
    assert fig.layout.xaxis.title.text == "test accuracy"


def test_spread_figure_on_a_log_axis_leaves_out_what_it_cannot_place():
    fig = F.spread_figure({"noisy BN": [1e-3, 0.0, 10.0]}, "ratio", log=True)
    assert fig.layout.xaxis.type == "log"
    np.testing.assert_array_equal(fig.data[0].x, [1e-3, 10.0])
    assert fig.data[0].marker.color not in (BN_ON, BN_OFF)                     # a third group, its own colour


def test_spread_figure_refuses_mismatched_input():
    with pytest.raises(ValueError, match="seeds"):
        F.spread_figure({"BN on": [1, 2, 3]}, "x", seeds=[0, 1])
    with pytest.raises(ValueError, match="nothing"):
        F.spread_figure({}, "x")


@dataclass
class FakeLesson:
    id: str
    claim: str = "a claim"
    sources: tuple = ("001",)
    compares: tuple = ("BN on", "BN off")
    query: str = "tab=Parameters"


@dataclass
class FakeVerdict:
    status: str
    sentence: str
    spread: dict
    spread_label: str = "accuracy"
    seeds: tuple = (0, 1)
    spread_log: bool = False
    fails: str = ""
    numbers: dict = field(default_factory=dict)


def test_board_measures_each_lesson_once_and_keeps_errors_apart():
    calls, gate = [], threading.Event()

    def measure(lesson, seeds):
        gate.wait(10)
        calls.append((lesson.id, seeds))
        if lesson.id == "broken":
            raise RuntimeError("no data")
        return FakeVerdict("holds", f"{lesson.id} measured", {"BN on": [0.5, 0.7], "BN off": [0.4, 0.6]})

    lessons = [FakeLesson("a"), FakeLesson("broken"), FakeLesson("b")]
    board = Board(lessons, measure, seeds=(0, 1)).start()
    board.start()                                         # a second start does nothing
    assert board.verdict(lessons[0]) is None and board.figure(lessons[0]) is None and not board.done
    gate.set()
    assert board.wait(10)
    assert calls == [("a", (0, 1)), ("broken", (0, 1)), ("b", (0, 1))]
    assert board.verdict(lessons[2]).sentence == "b measured"
    assert board.verdict(lessons[1]) is None and "no data" in board.error(lessons[1])
    assert board.ready() == 3
    fig = board.figure(lessons[0])
    assert board.figure(lessons[0]) is fig                # built once, shared
    np.testing.assert_array_equal(fig.data[0].x, [0.5, 0.7])


def test_spread_chart_draws_the_verdicts_values():
    verdict = FakeVerdict("partly", "s", {"BN on": np.array([1.0, 2.0]), "BN off": np.array([3.0, np.nan])},
                          spread_log=True)
    fig = spread_chart(verdict)
    np.testing.assert_array_equal(fig.data[0].x, [1.0, 2.0])
    np.testing.assert_array_equal(fig.data[2].x, [3.0])
    assert fig.layout.xaxis.type == "log"


def test_markdown_text_keeps_subscripts_literal():
    assert markdown_text("β = μ_B and σ²_B") == "β = μ\\_B and σ²\\_B"
    assert markdown_text("2*3 costs $5") == "2\\*3 costs \\$5"


def test_board_hands_each_lesson_to_the_pool_one_at_a_time():
    from concurrent.futures import ThreadPoolExecutor

    running, most = [0], [0]
    lock = threading.Lock()

    def measure(lesson, seeds):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        threading.Event().wait(0.05)
        with lock:
            running[0] -= 1
        return FakeVerdict("holds", lesson.id, {"BN on": [1.0]})

    with ThreadPoolExecutor(4) as pool:
        board = Board([FakeLesson(str(i)) for i in range(5)], measure, seeds=(0,), submit=pool.submit).start()
        assert board.wait(10)
    assert most[0] == 1                                   # one worker at a time: the others stay free for runs
    assert [board.verdict(FakeLesson(str(i))).sentence for i in range(5)] == ["0", "1", "2", "3", "4"]
