"""The page on the handwritten digits (64 inputs, 10 classes): every tab opens, and the views that need
two inputs show what fits instead."""
import html
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bnviz import load_dataset
from bnviz.ui.tabs import TABS

APP = str(Path(__file__).resolve().parent.parent / "app.py")
QUERY = {"dataset": "digits", "compare": "bn", "epochs": "3"}


def opened(tab: str, **extra) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in {**QUERY, **extra, "tab": tab}.items():
        at.query_params[key] = value
    return at.run()


def chart_titles(at) -> list:
    return [json.loads(el.proto.spec)["layout"]["title"]["text"] for el in at.get("plotly_chart")]


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_opens_on_the_digits(tab):
    at = opened(tab)
    assert not at.exception, at.exception
    assert not at.error
    assert at.session_state["last_good"].dataset == "digits"
    assert not any("cannot be drawn" in w.value for w in at.warning)


def test_test_time_tab_shows_digits_and_confusion_matrices():
    at = opened("Running statistics & test time")
    titles = chart_titles(at)
    assert any(t.startswith("Confusion matrix on the test rows") for t in titles)
    sheets = [t for t in titles if "first 5 test images per class" in t]
    assert len(sheets) == 2                                  # runs A (BN on) and B (BN off), side by side
    assert any(t.startswith("One held-out row") for t in titles)
    assert not any(t.startswith("Decision boundary") for t in titles)
    confusion = [json.loads(el.proto.spec) for el in at.get("plotly_chart")
                 if "Confusion" in json.loads(el.proto.spec)["layout"]["title"]["text"]][0]
    heatmaps = [t for t in confusion["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == 2
    data_rows = len(load_dataset("digits").y_test)           # every held-out digit counted once
    for h in heatmaps:
        cells = h["text"]                                    # each count as written on its cell, blank for 0
        assert len(cells) == 10 and sum(int(c) for row in cells for c in row if c) == data_rows


def test_landscape_tab_says_why_there_are_no_input_contours():
    at = opened("Loss landscape")
    assert any("two features; this data has 64" in i.value for i in at.info)
    assert not any(t.startswith("Input scaling") for t in chart_titles(at))


def test_with_layer_norm_one_digit_is_the_same_alone_and_inside_any_batch():
    """Off the feature plane too: the picked held-out digit alone and inside random batches, layer norm
    against batch norm (run B); the chart's y axis names the digit class the numbers are for."""
    at = opened("Running statistics & test time", norm="layer", hidden="16,16")
    assert not at.exception and not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "With layer norm this row's prediction is **the same alone as inside each of 20 random" in text
    spec = [json.loads(el.proto.spec) for el in at.get("plotly_chart")
            if json.loads(el.proto.spec)["layout"]["title"]["text"].startswith("One student, alone")][0]
    assert html.unescape(spec["layout"]["yaxis"]["title"]["text"]).startswith("P(digit = ")
    layer, batch = [np.asarray(plotly_array(t["y"]), dtype=float) for t in spec["data"]]
    assert len(layer) == len(batch) == 42
    assert layer.max() - layer.min() < 1e-9                  # layer norm: every dot the same number
    assert batch.max() - batch.min() > 1e-3                  # batch norm in training mode: the batch moves it


def plotly_array(value):
    """A trace's array from a chart's JSON: a list, or Plotly's typed array {"dtype", "bdata" (base64)}."""
    if isinstance(value, dict):
        import base64

        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return value
