"""A server has every lesson verdict before its first visitor: the shipped ones, or (where it measures
them itself) those its warm start measured; without either the first visitor finds them being measured."""
import socket

import pytest

from bnviz.shipped_verdicts import ENV
from bnviz.ui.lessons import MEASURING
from bnviz.ui.serve import Servers
from bnviz.ui.visit import visit_sync

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _measuring(visit) -> list:
    return [text for text in visit.texts("info") if text.startswith(MEASURING)]


@pytest.mark.parametrize("warm_start, shipped", [(True, "off"), (False, "off"), (False, "on")])
def test_lesson_verdicts_are_ready_after_warm_start(monkeypatch, warm_start, shipped):
    monkeypatch.setenv(ENV, shipped)                     # the replicas inherit it
    with Servers(1, _free_port(), "127.0.0.1", warm_start=warm_start) as servers:
        first = visit_sync(servers.url, "tab=Lessons")
    assert first.ok and first.exception is None
    assert bool(_measuring(first)) is (not warm_start and shipped == "off")
