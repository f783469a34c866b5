"""The training view on the page, through AppTest: present for every kind of run, first among the charts."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def page(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def view(at) -> tuple:
    """(the player's spec, the sentence under it) from the page."""
    players = [el for el in at.get("bidi_component") if el.proto.component_name == "bnviz_watch"]
    assert len(players) == 1
    spec = json.loads(players[0].proto.bytes or players[0].proto.json)     # the page sends it as JSON bytes
    sentence = [c.value for c in at.caption if c.value.startswith(("Watch the histogram", "The run"))]
    return spec, sentence[0] if sentence else ""


@pytest.mark.parametrize("query, labels", [
    ({"epochs": "5"}, ["A · BN on", "B · BN off"]),
    ({"epochs": "5", "compare": "off"}, ["A · BN on"]),
    ({"epochs": "5", "bn": "0", "compare": "off"}, ["A · BN off"]),
    ({"epochs": "5", "bn": "0"}, ["A · BN off", "B · BN on"]),
    ({"epochs": "5", "compare": "lr"}, ["A · lr 0.1", "B · lr 1"]),
    ({"epochs": "5", "norm": "layer"}, ["A · layer norm", "B · BN on"]),
    ({"epochs": "5", "compare": "norm"}, ["A · BN on", "B · layer norm"]),
])
def test_the_view_is_drawn_for_every_kind_of_run(query, labels):
    at = page(query)
    assert not at.exception
    spec, sentence = view(at)
    assert [r["label"] for r in spec["runs"]] == labels
    assert all(len(r["panels"]) == 5 for r in spec["runs"])
    assert [("running_mean" in r["frames"]) for r in spec["runs"]] == [lab.endswith("on") or "lr" in lab
                                                                      for lab in labels]
    assert "median input" in sentence and "last epoch" in sentence
    assert spec["autoplay"] and not spec["live"]          # short runs replay on their own


def test_a_diverged_run_shows_the_steps_before_it_and_says_so():
    at = page({"lr": "10", "standardize": "0", "bn": "0", "activation": "linear", "epochs": "3"})
    assert not at.exception
    spec, sentence = view(at)
    plain = spec["runs"][0]
    assert plain["label"] == "A · BN off" and plain["note"].startswith("diverged at step")
    assert "diverged at step" in sentence and "steps before it" in sentence
