"""The lessons' contract: every lesson measured over seeds 0-9, its sentence built from its numbers."""
import re

import numpy as np
import pytest

from bnviz.lessons import LESSONS, STATUSES, Verdict, lesson_by_id, measure
from bnviz.measures import fmt

SEEDS = tuple(range(10))


@pytest.fixture(scope="session")
def verdicts():
    """Every lesson measured once over the fixed seeds, shared by the tests."""
    return {lesson.id: measure(lesson, SEEDS) for lesson in LESSONS}


def test_the_table_covers_the_notes_and_the_two_additions():
    rows = sorted(lesson.notes_row for lesson in LESSONS if lesson.notes_row is not None)
    assert rows == list(range(1, len(rows) + 1)) and len(rows) == 11
    ids = [lesson.id for lesson in LESSONS]
    assert len(set(ids)) == len(ids)
    assert {"santurkar", "worked-example"} <= set(ids)
    for lesson in LESSONS:
        assert re.fullmatch(r"[a-z0-9-]+", lesson.id)
        assert lesson.claim and lesson.sources and all(re.fullmatch(r"\d{3}", s) for s in lesson.sources)
        assert lesson.compares and lesson.query
        assert lesson_by_id(lesson.id) is lesson


def test_every_lesson_gives_a_verdict_over_the_seeds(verdicts):
    assert len(verdicts) == len(LESSONS)
    for lesson in LESSONS:
        v = verdicts[lesson.id]
        assert isinstance(v, Verdict) and v.lesson == lesson.id and v.status in STATUSES
        assert v.seeds == SEEDS
        assert v.numbers and v.sentence.endswith(".")
        for name, values in v.spread.items():
            assert values.shape == (len(SEEDS),), (lesson.id, name)
        if v.status != "holds":
            assert v.fails and v.fails in v.sentence, lesson.id


def test_every_sentence_states_the_numbers_it_is_built_from(verdicts):
    for lesson in LESSONS:
        v = verdicts[lesson.id]
        stated = [name for name, value in v.numbers.items()
                  if isinstance(value, (int, float)) and fmt(value) in v.sentence]
        assert len(stated) >= min(3, len(v.numbers)), (lesson.id, v.numbers, v.sentence)
        # no figure in the sentence that was not measured
        numbers_in_sentence = set(re.findall(r"\d(?:[\d,]*\d)?(?:\.\d+)?(?:e[-+]\d+)?", v.sentence))
        allowed = {fmt(x) for x in v.numbers.values() if isinstance(x, (int, float))}
        allowed |= {str(s) for s in SEEDS} | {"1", "2", "3", "15", "50", "85", "10", "100", "2018"}
        allowed |= {part for x in v.numbers.values() if isinstance(x, str) for part in re.findall(r"[\d.e+-]+", x)}
        for text in numbers_in_sentence:
            assert text in allowed or any(text in a for a in allowed), (lesson.id, text, v.sentence)


def test_other_seeds_can_be_measured():
    v = measure(lesson_by_id("gamma-beta-undo"), [11, 12])
    assert v.seeds == (11, 12) and v.spread["BN on"].shape == (2,)
    with pytest.raises(ValueError):
        measure(lesson_by_id("gamma-beta-undo"), [])


def test_unknown_lesson_is_named():
    with pytest.raises(KeyError, match="no lesson"):
        lesson_by_id("nope")
    assert np.isfinite(len(LESSONS))
