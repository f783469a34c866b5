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
