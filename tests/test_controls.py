"""The sidebar is the field table drawn: every field's widget, label, range and help come from FIELDS."""
import pytest
from streamlit.testing.v1 import AppTest

from bnviz import Config
from bnviz.compare import COMPARE_FIELDS, default_value
from bnviz.config import FIELDS, GROUPS, PRESETS, WIDGETS
from bnviz.ui.controls import preset_help
from bnviz.ui.state import log_options, widget_key
from test_app import APP, TIMEOUT

ELEMENT = {"toggle": "toggle", "select": "selectbox", "radio": "radio", "slider": "slider",
           "log_slider": "select_slider", "number": "number_input", "text": "text_input"}


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["epochs"] = "2"
    return at.run()


def test_the_table_is_complete():
    for f in FIELDS:
        assert f.group in GROUPS and f.label and f.help and f.control in WIDGETS, f.name
        if f.kind in ("int", "float"):
            assert f.low <= f.default <= f.high, f.name
            low = f.low if f.widget_low is None else f.widget_low
            assert f.low <= low, f.name                  # a widget never offers what a link may not hold
            if isinstance(f.widget_high, (int, float)):
                assert f.widget_high <= f.high, f.name
        if f.labels:
            assert len(f.labels) == len(f.choices), f.name
    # the groups appear in the table's order, each field once
    order = [GROUPS.index(f.group) for f in FIELDS]
    assert order == sorted(order)


def test_every_field_has_its_widget_as_the_table_says(page):
    assert not page.exception
    for f in FIELDS:
        widget = getattr(page, ELEMENT[f.control])(key=widget_key(f.name))
        assert widget.label == f.label, f.name
        assert widget.help.startswith(f.help), f.name
        if f.control == "log_slider":
            low, high = f.widget_low, f.widget_high
            assert list(widget.options) == [format(v, "g") for v in log_options(low, high)], f.name
        elif f.control in ("slider", "number") and f.widget_high != "rows":
            low = f.low if f.widget_low is None else f.widget_low
            high = f.high if f.widget_high is None else f.widget_high
            assert (widget.min, widget.max) == (low, high), f.name
        elif f.widget_high == "rows":
            assert widget.max == 320 and "320 training rows" in widget.help     # placement: 320 training rows


def test_toy_fields_are_greyed_out_for_other_data(page):
    for f in FIELDS:
        widget = getattr(page, ELEMENT[f.control])(key=widget_key(f.name))
        assert widget.disabled == (bool(f.only_for) and "placement" not in f.only_for), f.name


def test_a_link_value_outside_a_widget_range_is_shown_and_kept():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"lr": "50", "eps": "1e-11", "epochs": "2"})
    at.run()
    assert not at.exception
    assert at.session_state["last_good"].lr == 50.0 and at.session_state["last_good"].eps == 1e-11
    assert "50" in at.select_slider(key=widget_key("lr")).options


def test_presets_say_what_they_set():
    assert preset_help("pytorch") == "bn_momentum 0.9, running_avg ewma, running_var unbiased, eps 1e-05"
    assert PRESETS["keras"] == {"bn_momentum": 0.99, "running_avg": "ewma", "running_var": "biased", "eps": 1e-3}
    for preset in PRESETS.values():
        Config(**preset)


def test_compare_choices_and_run_b_defaults_come_from_the_table():
    assert COMPARE_FIELDS == tuple(f.name for f in FIELDS if f.compare)
    cfg = Config()
    expected = {"bn": "0", "norm": "layer", "standardize": "0", "keep_bias": "1", "bn_position": "after", "activation": "tanh",
                "lr": "1", "init_scale": "10", "eps": "0.01", "batch_size": "64", "seed": "1",
                "hidden": "3,2,2", "bn_momentum": "0.9", "running_avg": "cumulative", "running_var": "unbiased",
                "optimizer": "momentum", "init": "zeros", "bias_init": "1", "bn_noise": "0.5"}
    assert {name: default_value(cfg, name) for name in COMPARE_FIELDS} == expected
    edge = Config(lr=100.0, batch_size=64, seed=2**31 - 1, hidden=(2,) * 8, bn_momentum=0.0)
    assert default_value(edge, "lr") == "10" and default_value(edge, "batch_size") == "4"
    assert default_value(edge, "seed") == str(2**31 - 2) and default_value(edge, "hidden") == "2,2,2,2,2,2,2"
    assert default_value(edge, "bn_momentum") == "0"
    for name in COMPARE_FIELDS:                   # every default B is a valid setting of its field
        assert Config.from_query({name: default_value(edge, name)})[1] == []


def test_the_field_page_lists_every_field():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "fields.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    for f in FIELDS:
        assert any(f"| {f.name} |" in row or f" {f.name}," in row or f", {f.name} |" in row for row in rows), f.name


def _widget_keys(node):
    """Keys of the setting widgets under node, in the order the page shows them."""
    for child in getattr(node, "children", {}).values():
        key = getattr(child, "key", None)
        if key and key.startswith(widget_key("")):
            yield key
        yield from _widget_keys(child)


def test_the_sidebar_shows_the_fields_in_table_order(page):
    assert list(_widget_keys(page.sidebar)) == [widget_key(f.name) for f in FIELDS]
    headers = [h.value for h in page.sidebar.header]
    assert headers[:len(GROUPS)] == list(GROUPS)


def test_every_field_widget_changes_its_setting():
    """Each widget, set to a value other than the default, reaches the Config and the link."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["epochs"] = "2"
    at.run()
    for f in FIELDS:
        if f.name in ("dataset", "epochs") or f.only_for:     # toy-set fields: test_app.test_toy_set_controls
            continue
        widget = getattr(at, ELEMENT[f.control])(key=widget_key(f.name))
        if f.kind == "bool":
            value = not f.default
        elif f.kind == "choice":
            value = f.choices[1] if f.choices[0] == f.default else f.choices[0]
        elif f.kind == "widths":
            value = "4,3"
        elif f.control == "log_slider":
            value = next(float(v) for v in widget.options if float(v) != f.default)
        else:
            value = widget.min if widget.min != f.default else widget.max
        widget.set_value(value).run()
        assert not at.exception, f.name
        cfg = at.session_state["last_good"]
        assert getattr(cfg, f.name) != f.default, f.name
        assert f.name in at.query_params, f.name


def test_engine_results_and_charts_are_computed_once_per_run_and_settings(default_run, plain_run, data):
    from bnviz.ui.tabs import cached

    calls = []

    def compute(run, *args):
        calls.append(args)
        return object()

    first = cached(compute, default_run, data, "pca")
    assert cached(compute, default_run, data, "pca") is first and len(calls) == 1
    assert cached(compute, default_run, data, "random") is not first             # another setting
    assert cached(compute, plain_run, data, "pca") is not first                  # another run
    records = [object()]
    assert cached(compute, default_run, records) is cached(compute, default_run, records)   # a list, by identity
    assert cached(compute, default_run, [object()]) is not cached(compute, default_run, records)
    assert len(calls) == 5
