"""An upload's header names and label values, and a link's keys and values, reach every tab as text.

Reads everything the page sends to the browser (every string of every element,
a chart's spec read as JSON) and checks that no payload arrives where a
renderer (Markdown, HTML, Plotly) would read it as markup.
"""
import json

import pytest
from google.protobuf.descriptor import FieldDescriptor
from test_app import fresh

from bnviz.config import FIELDS
from bnviz.ui.state import widget_key
from bnviz.ui.tabs import TABS
from bnviz.visitor_text import shown

OUTSIDE = "127.0.0.1:9"                      # an address nothing listens on
FEATURE_A = f"![i](http://{OUTSIDE}/i.png) :red[r]"
FEATURE_B = f"<a href=http://{OUTSIDE}/>**b** $x$</a>" + "x" * 10_000
LABEL = "<span style=color:red>lab</span>"
VALUES = (f"![n](http://{OUTSIDE}/n.png)", ":material/home: <i>yes</i> %{fullData.name}")
# each marks one payload; none occurs in the page's own text
RAW = (f"http://{OUTSIDE}", "<a href", "style=color:red", "<i>", "![", ":red[r]", "$x$", "**b**", ":material/home:",
       "%{fullData", "# Big")
LONG = "x" * 60
PLAYER = "bidi_component"                    # the training view: it sets every text as textContent
# strings a browser shows as they are, never rendered: a text box's value, a code block, the player's script
AS_TYPED = {"text_input": {"value", "default"}, "code": {"code_text"}, PLAYER: {"js_content"}}


def hostile_csv() -> bytes:
    rows = "".join(f"{5 + i * 0.1:.2f},{80 + (i * 7) % 50},{VALUES[i % 2]}\n" for i in range(40))
    return f"{FEATURE_A},{FEATURE_B},{LABEL}\n{rows}".encode()


def _strings(message, skip=()):
    """Every string field of a protobuf message (and JSON sent as bytes), nested ones included, but those
    named in skip."""
    for field, value in message.ListFields():
        items = value if field.is_repeated else [value]
        for item in items:
            if field.type == FieldDescriptor.TYPE_STRING and field.name not in skip:
                yield item
            elif field.type == FieldDescriptor.TYPE_BYTES and item[:1] in (b"{", b"["):    # JSON sent as bytes
                yield item.decode()
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                yield from _strings(item, skip)


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)


def sent(at) -> list:
    """[(element type, text)] for everything the page sends; JSON payloads are opened."""
    out, todo = [], [at._tree]
    while todo:
        node = todo.pop()
        if getattr(node, "children", None):
            todo.extend(node.children.values())
            continue
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        for text in _strings(proto, AS_TYPED.get(node.type, ())):
            try:
                inner = json.loads(text) if text[:1] in "{[" else None
            except ValueError:
                inner = None
            out += [(node.type, t) for t in (_json_strings(inner) if inner is not None else [text])]
    return out


def assert_text_only(at) -> list:
    """No payload as markup anywhere, nothing long; returns the rendered strings."""
    assert not at.exception, at.exception
    pairs = sent(at)
    assert pairs
    for kind, text in pairs:
        assert LONG not in text, (kind, text[:80])
        if kind != PLAYER:
            assert not [m for m in RAW if m in text], (kind, text[:200])
    return [t for k, t in pairs if k != PLAYER]


@pytest.mark.parametrize("tab", TABS)
def test_an_uploads_names_and_values_are_text_on_every_tab(tab):
    at = fresh({"epochs": "2", "compare": "off", "tab": tab})
    at.selectbox(key=widget_key("dataset")).set_value("upload").run()
    at.get("file_uploader")[0].set_value(("names.csv", hostile_csv(), "text/csv")).run()
    rendered = " ".join(assert_text_only(at))
    assert not at.error, [e.value for e in at.error]
    assert shown(FEATURE_A) in rendered and shown(LABEL) in rendered      # shown, as text, not dropped
    if tab == "Running statistics & test time":
        assert [at.number_input(key=k).label for k in ("one_x1", "one_x2")] == [
            shown(FEATURE_A), shown(FEATURE_B)]
        assert all(shown(LABEL) in m.value for m in at.metric)
        assert shown(VALUES[1]) in rendered                                # a label value, in the legend
    if tab == "Batch calculator":
        columns = list(at.dataframe[0].value.columns)
        assert columns[1:3] == [" ".join(FEATURE_A.split()), FEATURE_B[:39] + "…"]


def test_an_upload_that_fails_names_its_columns_as_text():
    bad = f"{FEATURE_A},{FEATURE_B},{LABEL}\n" + "".join(f"1,oops {VALUES[0]},{i % 2}\n" for i in range(20))
    at = fresh({"epochs": "2", "compare": "off", "tab": "Training"})
    at.selectbox(key=widget_key("dataset")).set_value("upload").run()
    at.get("file_uploader")[0].set_value(("bad.csv", bad.encode(), "text/csv")).run()
    assert_text_only(at)
    assert any("cannot be used" in e.value for e in at.error)


def test_a_links_keys_and_values_are_text_in_its_warnings():
    payload = f"![u](http://{OUTSIDE}/p.png)"
    query = {f.name: payload for f in FIELDS if f.name != "epochs"}
    query.update({"epochs": "2", "tab": "Training", f"<span>{payload}": "\n\n# Big", "source": "\n\n# Big"})
    at = fresh(query)
    rendered = " ".join(assert_text_only(at))
    assert shown(payload) in rendered and shown(f"<span>{payload}") in rendered
    assert len(at.warning) >= len(FIELDS)
    at = fresh({"epochs": "2", "tab": "Training", "compare": "lr", "b": payload})
    assert shown(payload) in " ".join(assert_text_only(at))
    at = fresh({"epochs": "2", "tab": "Training", "compare": "\n\n# Big"})
    assert any(shown("# Big") in w.value for w in at.warning) and assert_text_only(at)
