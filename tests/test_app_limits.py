"""The page under links that ask for too much: a note naming the nearest experiment, never a crash."""
import re
from urllib.parse import parse_qsl

import pytest
from test_app import fresh, used_config
from test_budget import BAD_LINKS

from bnviz import Config


@pytest.mark.parametrize("query", BAD_LINKS[:3])
def test_a_costly_link_runs_the_nearest_experiment_and_links_to_it(query):
    at = fresh(dict(parse_qsl(query)) | {"compare": "off"})
    assert not at.exception
    note = " ".join(i.value for i in at.info if "nearest experiment" in i.value)
    assert note, [i.value for i in at.info]
    link = re.search(r"\]\(\?([^)]*)\)", note).group(1)
    # the link opens exactly the experiment that ran, and that one fits without a note
    again = fresh(dict(parse_qsl(link)))
    assert not again.exception
    assert not any("nearest experiment" in i.value for i in again.info)
    assert isinstance(used_config(again), Config)


def test_runs_a_and_b_share_one_runs_budget():
    """With run B beside it, each run gets half a budget (a page costs at most one run's budget);
    alone, run A gets all of it, and so keeps more epochs of the same heavy request."""
    from bnviz import load_for
    from bnviz.budget import Budget, cost

    heavy = {"hidden": "16,16,16,16,16,16,16,16", "batch_size": "1", "epochs": "500"}
    paired = fresh(heavy)
    assert not paired.exception
    note = " ".join(i.value for i in paired.info if "nearest experiment" in i.value)
    assert "Runs A and B share one run's budget, half each." in note
    a = used_config(paired)                                   # what the visitor asked for
    run_a = Config.from_query(dict(parse_qsl(re.search(r"\]\(\?([^)]*)\)", note).group(1))))[0]
    rows = len(load_for(run_a).y_train)
    half, less = Budget().times(0.5), Budget().times(0.4)      # each record's stride chosen for its memory share
    assert cost(run_a, rows, max_bytes=half.max_bytes).share(half) <= 1.0 < \
        cost(run_a, rows, max_bytes=less.max_bytes).share(less)
    alone = fresh(heavy | {"compare": "off"})
    note_alone = " ".join(i.value for i in alone.info if "nearest experiment" in i.value)
    assert "share" not in note_alone
    run_alone = Config.from_query(dict(parse_qsl(re.search(r"\]\(\?([^)]*)\)", note_alone).group(1))))[0]
    assert run_alone.epochs > run_a.epochs and a.epochs == 500
