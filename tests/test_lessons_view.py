"""The Lessons view's parts: the spread chart drawn by value, and the board that measures once per process."""
import math
import threading
import xml.etree.ElementTree as ET
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


def parse(svg: str):
    """(root, {group: [(seed, value, cx)]}, {group: (median, x)}) read back from the chart."""
    root = ET.fromstring(svg)
    dots, medians = {}, {}
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag == "circle":
            dots.setdefault(el.get("data-group"), []).append(
                (int(el.get("data-seed")), float(el.get("data-value")), float(el.get("cx")), el.get("fill")))
        elif tag == "line" and el.get("data-median") is not None:
            medians[el.get("data-group")] = (float(el.get("data-median")), float(el.get("x1")))
    return root, dots, medians


def where(value, root):
    """The x a value must sit at, from the axis the chart declares (a plain linear map)."""
    lo, hi = float(root.get("data-lo")), float(root.get("data-hi"))
    v = math.log10(value) if root.get("data-log") == "1" else value
    return 118 + (v - lo) / (hi - lo) * (460 - 118 - 14)


def test_spread_chart_draws_every_seed_and_the_median():
    on = [0.9, 0.85, 0.95, float("nan"), 0.9]
    off = [0.5, 0.6, 0.55, 0.52, 0.7]
    root, dots, medians = parse(F.spread_svg({"BN on": on, "BN off": off}, "test accuracy", seeds=[3, 4, 5, 6, 7]))
    assert [(seed, value) for seed, value, _, _ in dots["BN on"]] == [(3, 0.9), (4, 0.85), (5, 0.95), (7, 0.9)]
    assert [value for _, value, _, _ in dots["BN off"]] == off
    assert {fill for *_, fill in dots["BN on"]} == {BN_ON} and {fill for *_, fill in dots["BN off"]} == {BN_OFF}
    for group in dots.values():
        for _, value, cx, _ in group:
            assert cx == pytest.approx(where(value, root), abs=0.01)
            assert 118 <= cx <= 446
    assert medians["BN on"][0] == slow_median([0.9, 0.85, 0.95, 0.9])
    assert medians["BN off"][0] == slow_median(off)
    assert medians["BN off"][1] == pytest.approx(where(slow_median(off), root), abs=0.01)
    texts = " ".join(t.text for t in root.iter() if t.tag.endswith("text") and t.text)
    assert "(1 of 5 no value)" in texts and "test accuracy" in texts


def test_spread_chart_on_a_log_axis_leaves_out_what_it_cannot_place():
    root, dots, medians = parse(F.spread_svg({"noisy BN": [1e-3, 0.0, 10.0]}, "ratio", log=True))
    assert root.get("data-log") == "1"
    assert [value for _, value, _, _ in dots["noisy BN"]] == [1e-3, 10.0]
    assert dots["noisy BN"][0][3] not in (BN_ON, BN_OFF)                    # a third group, its own colour
    for _, value, cx, _ in dots["noisy BN"]:
        assert cx == pytest.approx(where(value, root), abs=0.01)
    assert medians["noisy BN"][0] == pytest.approx((1e-3 + 10.0) / 2)


def test_spread_chart_with_no_spread_at_all():
    root, dots, _ = parse(F.spread_svg({"BN on": [1.0] * 10}, "accuracy"))
    assert float(root.get("data-lo")) < 1.0 < float(root.get("data-hi"))
    assert len(dots["BN on"]) == 10 and len({cx for _, _, cx, _ in dots["BN on"]}) == 1


def test_spread_chart_refuses_mismatched_input():
    with pytest.raises(ValueError, match="seeds"):
        F.spread_svg({"BN on": [1, 2, 3]}, "x", seeds=[0, 1])
    with pytest.raises(ValueError, match="nothing"):
        F.spread_svg({}, "x")


@dataclass
class FakeLesson:
    id: str
    claim: str = "a claim"
    sources: tuple = ("001",)
    compares: tuple = ("BN on", "BN off")
    query: str = "tab=Parameters"
    same_experiment: bool = False


@dataclass
class FakeVerdict:
    status: str
    sentence: str
    spread: dict
    spread_label: str = "accuracy"
    seeds: tuple = (0, 1)
    spread_log: bool = False
    spread_bounds: tuple | None = None
    fails: str = ""
    numbers: dict = field(default_factory=dict)


def test_board_measures_each_experiment_once_and_keeps_errors_apart():
    calls, gate = [], threading.Event()

    def measure(lesson, seeds, experiment):
        gate.wait(10)
        calls.append((lesson.id, seeds, experiment))
        if lesson.id == "broken":
            raise RuntimeError("no data")
        values = [0.5, 0.7] if experiment == "shows" else [0.1, 0.2]
        return FakeVerdict("holds", f"{lesson.id} {experiment}", {"BN on": values, "BN off": [0.4, 0.6]})

    lessons = [FakeLesson("a"), FakeLesson("broken"), FakeLesson("b"), FakeLesson("one", same_experiment=True)]
    board = Board(lessons, measure, seeds=(0, 1)).start()
    board.start()                                         # a second start does nothing
    assert board.verdict(lessons[0]) is None and board.figure(lessons[0]) is None and not board.done
    gate.set()
    assert board.wait(10)
    assert calls == [("a", (0, 1), "notes"), ("a", (0, 1), "shows"), ("broken", (0, 1), "notes"),
                     ("b", (0, 1), "notes"), ("b", (0, 1), "shows"), ("one", (0, 1), "notes")]
    assert board.verdict(lessons[2], "shows").sentence == "b shows"
    assert board.verdict(lessons[2], "notes").sentence == "b notes"
    assert board.verdict(lessons[3], "shows") is board.verdict(lessons[3], "notes")    # one experiment, measured once
    assert board.verdict(lessons[1]) is None and "no data" in board.error(lessons[1])
    assert board.ready() == 4
    svg = board.figure(lessons[0], "shows")
    assert board.figure(lessons[0], "shows") is svg       # built once, shared
    assert [v for _, v, _, _ in parse(svg)[1]["BN on"]] == [0.5, 0.7]
    assert [v for _, v, _, _ in parse(board.figure(lessons[0], "notes"))[1]["BN on"]] == [0.1, 0.2]


def test_spread_chart_draws_the_verdicts_values():
    verdict = FakeVerdict("partly", "s", {"BN on": np.array([1.0, 2.0]), "BN off": np.array([3.0, np.nan])},
                          spread_log=True)
    root, dots, _ = parse(spread_chart(verdict))
    assert [v for _, v, _, _ in dots["BN on"]] == [1.0, 2.0] and [v for _, v, _, _ in dots["BN off"]] == [3.0]
    assert root.get("data-log") == "1"


def test_markdown_text_keeps_subscripts_literal():
    assert markdown_text("β = μ_B and σ²_B") == "β = μ\\_B and σ²\\_B"
    assert markdown_text("2*3 costs $5") == "2\\*3 costs \\$5"


def test_board_hands_each_lesson_to_the_pool_one_at_a_time():
    from concurrent.futures import ThreadPoolExecutor

    running, most = [0], [0]
    lock = threading.Lock()

    def measure(lesson, seeds, experiment):
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
    assert [board.verdict(FakeLesson(str(i)), e).sentence for i in range(5) for e in ("notes", "shows")] == \
        [str(i) for i in range(5) for _ in range(2)]
