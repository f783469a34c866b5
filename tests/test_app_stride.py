"""A run whose record is kept at a stride, on the page: every tab and the training view draw, and the page says
what was thinned, in a sentence written from the run."""
import base64
import json
import re

import numpy as np
import pytest
from test_app import fresh

from bnviz import Config, load_for, train
from bnviz.budget import fit, record_stride

# a deep, wide network at batch size 1: its full record would not fit, the budget allows ~15 epochs
HEAVY = {"hidden": "16,16,16,16,16,16,16,16", "batch_size": "1", "epochs": "12", "compare": "off"}
TABS = ["Training", "Loss landscape", "Activations", "Running statistics & test time", "Batch calculator",
        "Parameters", "The math"]


def heavy_run():
    cfg = Config.from_query(HEAVY)[0]
    data = load_for(cfg)
    return train(cfg, data, stride=record_stride(cfg, len(data.y_train)))


def thinning(at) -> list:
    return [i.value for i in at.info if "keeps every" in i.value]


@pytest.fixture(scope="module")
def run():
    return heavy_run()


def test_the_link_fits_without_cuts_and_trains_at_a_stride(run):
    cfg = Config.from_query(HEAVY)[0]
    plan = fit(cfg, len(load_for(cfg).y_train))
    assert not plan.changes and plan.note is None
    assert run.stride == plan.cost.stride > 1


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_of_a_strided_run_draws_and_says_what_was_kept(tab, run):
    at = fresh(HEAVY | {"tab": tab})
    assert not at.exception and not at.error, [e.value for e in at.error]
    # the sentence is the run's own: its numbers, not a fixed text
    said = thinning(at)
    assert said == [f"This run took {run.n_steps:,} updates; its record keeps every {run.stride}th step "
                    f"({len(run.params):,} states) so it fits the server's memory."]
    warnings = [w.value for w in at.warning if "cannot be drawn" in w.value]
    assert not warnings
    if tab == "Batch calculator":
        assert len(at.dataframe) == 1 and len(at.latex) == 4
        slider = at.slider(key="calc_step")
        assert slider.step == run.stride and slider.max == (run.n_steps - 1) // run.stride * run.stride
        slider.set_value(3 * run.stride).run()
        assert not at.exception and f"at step {3 * run.stride:,}" in " ".join(c.value for c in at.caption)
    elif tab != "The math":
        assert len(at.get("plotly_chart")) >= 1


def test_the_training_view_of_a_strided_run_plays_kept_states(run):
    at = fresh(HEAVY)
    assert not at.exception
    players = [el for el in at.get("bidi_component") if el.proto.component_name == "bnviz_watch"]
    assert len(players) == 1
    spec = json.loads(players[0].proto.bytes or players[0].proto.json)     # the page sends it as JSON bytes
    assert spec["runs"][0]["note"] == f"{run.n_steps:,} steps"
    # every frame the view shows is a state the record kept, the first and the last among them
    frames = np.frombuffer(base64.b64decode(spec["runs"][0]["frames"]["states"]), dtype="<f4").astype(int)
    assert len(frames) > 10 and frames[0] == 0 and frames[-1] == run.n_steps
    assert set(frames) <= set(run.axis_states("state"))


def test_the_steps_csv_of_a_strided_run_has_the_real_step_numbers(run):
    from bnviz.tables import step_table

    table = step_table(run)
    np.testing.assert_array_equal(table["step"], np.arange(0, run.n_steps, run.stride))
    np.testing.assert_array_equal(table["epoch"], table["step"] // run.steps_per_epoch)
    np.testing.assert_array_equal(table["batch_loss"], run.train_loss)


def test_a_cut_link_still_names_what_was_changed_and_the_thinning():
    at = fresh({"batch_size": "1", "epochs": "500", "hidden": "16,16,16,16,16,16,16,16", "compare": "off"})
    assert not at.exception
    note = " ".join(i.value for i in at.info if "nearest experiment" in i.value)
    assert re.search(r"epochs [\d,]+ instead of 500", note)
    assert len(thinning(at)) == 1
