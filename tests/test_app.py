"""The page's logic through Streamlit's own test harness (no browser)."""
import html
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bnviz import Config
from bnviz.ui.state import widget_key

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120


def fresh(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def used_config(at) -> Config:
    return at.session_state["last_good"]


def summary_total(at) -> int:
    """Trainable parameters in the model summary's total row."""
    table = [m.value for m in at.markdown if m.value.startswith("| layer")][0]
    total = [line for line in table.splitlines() if line.startswith("| total")][0]
    return int(total.split("|")[4])


def plotly_specs(at) -> list:
    return [el.proto.spec for el in at.get("plotly_chart")]


@pytest.fixture(scope="module")
def default_page():
    return fresh()


def test_default_page_renders(default_page):
    at = default_page
    assert not at.exception
    # the Lessons tab opens first: no Plotly on the first screen, so the training view draws sooner
    assert [t.label for t in at.tabs][:3] == ["Lessons", "Training", "Loss landscape"] and len(at.tabs) == 9
    assert not at.get("plotly_chart") and any(m.value.startswith("**1.") for m in at.markdown)
    assert not at.warning and not at.error
    assert dict(at.query_params) == {}
    assert used_config(at) == Config()


def test_training_tab_renders():
    at = fresh({"tab": "Training"})
    assert not at.exception and not at.warning and not at.error
    assert len(at.get("plotly_chart")) >= 2                  # training curves and the network diagram
    assert [m.label for m in at.metric][0] == "Run A: test accuracy"
    assert used_config(at) == Config()


def test_query_parameters_restore_a_config():
    at = fresh({"lr": "0.5", "bn": "0", "hidden": "4,3", "optimizer": "adam", "epochs": "5", "compare": "lr",
                "b": "0.05"})
    assert not at.exception and not at.warning
    assert used_config(at) == Config(lr=0.5, bn=False, hidden=(4, 3), optimizer="adam", epochs=5)
    assert at.session_state[widget_key("lr")] == 0.5 and at.session_state[widget_key("hidden")] == "4,3"
    assert at.session_state["page_b"] == "0.05"
    assert at.query_params["lr"] == "0.5" and at.query_params["b"] == "0.05"


def test_mangled_links_warn_and_still_draw():
    at = fresh({"lr": "fast", "epochs": "9999", "hidden": "3,,0", "colour": "red", "compare": "nonsense",
                "batch_size": "-3", "tab": "Training"})
    assert not at.exception
    text = html.unescape(" ".join(w.value for w in at.warning))      # visitor text arrives as references
    for name in ("lr", "epochs", "hidden", "colour", "compare", "batch_size"):
        assert name in text
    cfg = used_config(at)
    assert cfg.lr == 0.1 and cfg.epochs == 500 and cfg.hidden == (3, 2) and cfg.batch_size == 1
    assert len(at.get("plotly_chart")) >= 2
    assert "colour" not in at.query_params                  # the link is cleaned up


CHANGES = [
    ("toggle", "bn", False), ("toggle", "standardize", False), ("toggle", "keep_bias", True),
    ("select_slider", "lr", 0.5), ("select_slider", "init_scale", 10.0), ("select_slider", "eps", 1e-5),
    ("slider", "batch_size", 32), ("slider", "epochs", 7), ("slider", "test_fraction", 0.3),
    ("selectbox", "activation", "tanh"), ("selectbox", "optimizer", "adam"), ("selectbox", "init", "xavier"),
    ("selectbox", "running_avg", "cumulative"), ("selectbox", "running_var", "unbiased"),
    ("radio", "bn_position", "after"), ("text_input", "hidden", "4,4,2"), ("number_input", "seed", 3),
    ("number_input", "bn_momentum", 0.9), ("selectbox", "dataset", "moons"), ("slider", "bn_noise", 0.5),
]


@pytest.mark.parametrize("kind, name, value", CHANGES)
def test_each_control_changes_the_run(kind, name, value):
    at = fresh({"epochs": "3", "tab": "Training"})
    before = plotly_specs(at)[0]
    summary = summary_total(at)
    getattr(at, kind)(key=widget_key(name)).set_value(value).run()
    assert not at.exception
    cfg = used_config(at)
    expected = Config.from_query({name: Config(**{name: value if name != "hidden" else (4, 4, 2)}).to_query()
                                  .get(name, str(value))})[0]
    assert getattr(cfg, name) == getattr(expected, name)
    assert at.query_params[name]                             # the link follows
    if name == "keep_bias":   # the lesson: the curve stays put, only the parameter count grows
        assert summary_total(at) > summary
    else:
        assert plotly_specs(at)[0] != before                 # and so does the chart


def test_toy_set_controls():
    at = fresh({"dataset": "circles", "epochs": "2"})
    at.slider(key=widget_key("data_size")).set_value(200).run()
    at.slider(key=widget_key("data_noise")).set_value(0.5).run()
    assert not at.exception
    assert used_config(at).data_size == 200 and used_config(at).data_noise == 0.5


def test_presets_set_the_conventions():
    at = fresh({"epochs": "2"})
    buttons = [b for b in at.button if b.label == "PyTorch"]
    buttons[0].click().run()
    cfg = used_config(at)
    assert (cfg.bn_momentum, cfg.eps, cfg.running_var) == (0.9, 1e-5, "unbiased")
    [b for b in at.button if b.label == "Keras"][0].click().run()
    cfg = used_config(at)
    assert (cfg.bn_momentum, cfg.eps, cfg.running_var) == (0.99, 1e-3, "biased")


def test_compare_mode_off_and_on():
    at = fresh({"epochs": "2", "compare": "off", "tab": "Training"})
    assert not at.exception and len([m for m in at.metric if m.label.startswith("Run B")]) == 0
    at.selectbox(key="page_compare").set_value("batch_size").run()
    assert not at.exception
    assert at.session_state["page_b"] == "64"
    assert any(m.label.startswith("Run B") for m in at.metric)
    assert at.query_params["compare"] == "batch_size"


def test_run_b_follows_a_while_automatic():
    at = fresh({"epochs": "2"})
    assert at.session_state["page_b"] == "0"
    at.toggle(key=widget_key("bn")).set_value(False).run()
    assert at.session_state["page_b"] == "1"                 # B is still "the other BN setting"


def test_bad_hidden_text_keeps_the_last_good_network():
    at = fresh({"epochs": "2"})
    at.text_input(key=widget_key("hidden")).set_value("3,two").run()
    assert not at.exception
    assert used_config(at).hidden == (3, 2)
    assert any("Hidden layers" in w.value for w in at.warning)


def test_diverging_learning_rate_gives_a_message():
    at = fresh({"lr": "10", "standardize": "0", "bn": "0", "activation": "linear", "epochs": "3", "compare": "off"})
    assert not at.exception
    assert any("diverged" in e.value for e in at.error)


def test_work_cap_shortens_huge_runs(monkeypatch):
    """A request past the budget (priced from the compiled loop) runs fewer epochs and says so."""
    at = fresh({"batch_size": "1", "epochs": "500", "hidden": "16,16,16,16", "compare": "off"})
    assert not at.exception
    assert any("at most" in i.value for i in at.info)


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"cgpa,iq,placed\n7,100,1\n", "at least 8"),
    (b"cgpa,iq,placed\n" + b"".join(b"%d,%d,%d\n" % (5 + i, 90 + i, i % 11) for i in range(33)), "2 to 10 classes"),
    (bytes(range(256)) * 4, "binary"),
])
def test_upload_errors_appear_in_the_page(content, words):
    at = fresh({"epochs": "2", "compare": "off", "tab": "Training"})
    at.selectbox(key=widget_key("dataset")).set_value("upload").run()
    assert not at.exception
    at.get("file_uploader")[0].set_value(("students.csv", content, "text/csv")).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "cannot be used" in errors and words in errors
    assert len(at.get("plotly_chart")) >= 1                # the built-in data still trains


def test_three_classes_over_two_features_show_a_confusion_matrix():
    text = "gpa,iq,track\n" + "".join(f"{5 + i * 0.1:.2f},{80 + (i * 7) % 50},{'abc'[i % 3]}\n" for i in range(60))
    at = fresh({"epochs": "2", "compare": "off", "tab": "Running statistics & test time"})
    at.selectbox(key=widget_key("dataset")).set_value("upload").run()
    at.get("file_uploader")[0].set_value(("students.csv", text.encode(), "text/csv")).run()
    assert not at.exception and not at.error
    titles = [json.loads(el.proto.spec)["layout"]["title"]["text"] for el in at.get("plotly_chart")]
    assert any(t.startswith("Confusion matrix") for t in titles)
    assert not any(t.startswith("Decision boundary") for t in titles)     # three classes: no P(label) plane


def test_a_good_upload_trains_on_it():
    text = "gpa,iq,placed\n" + "".join(f"{5 + i * 0.1:.2f},{80 + (i * 7) % 50},{int(i % 3 == 0)}\n"
                                       for i in range(60))
    at = fresh({"epochs": "2", "compare": "off"})
    at.selectbox(key=widget_key("dataset")).set_value("upload").run()
    at.get("file_uploader")[0].set_value(("mine.csv", text.encode(), "text/csv")).run()
    assert not at.exception and not at.error
    assert at.query_params["source"] == "upload"


@pytest.mark.parametrize("tab", ["Loss landscape", "Activations", "Running statistics & test time",
                                 "Batch calculator", "Parameters", "Sweeps", "The math"])
def test_every_tab_renders(tab):
    at = fresh({"epochs": "3", "tab": tab})
    assert not at.exception and not at.error
    if tab == "Sweeps":
        at.button(key="sweep-lr").click().run()
        assert not at.exception
    if tab == "The math":
        assert len(at.latex) >= 5
    elif tab == "Batch calculator":
        assert len(at.dataframe) == 1 and len(at.latex) == 4
    else:
        assert len(at.get("plotly_chart")) >= 1


def test_predict_one_student():
    at = fresh({"epochs": "5", "tab": "Running statistics & test time", "compare": "off"})
    labels = [m.label for m in at.metric]
    assert "with the running statistics" in labels and "with its own batch statistics" in labels
    alone = [m.value for m in at.metric if m.label == "with its own batch statistics"][0]
    at.number_input(key="one_x1").set_value(9.5).run()
    assert [m.value for m in at.metric if m.label == "with its own batch statistics"][0] == alone


LESSON_QUERIES = [lesson.query for lesson in __import__("bnviz.lessons", fromlist=["LESSONS"]).LESSONS]


@pytest.mark.parametrize("query", LESSON_QUERIES)
def test_every_lesson_link_opens_cleanly(query):
    from urllib.parse import parse_qsl

    query = dict(parse_qsl(query))
    query.setdefault("epochs", "5")
    at = fresh(query)
    assert not at.exception and not at.warning
    assert len(at.get("plotly_chart")) + len(at.latex) + len(at.button) >= 1


def test_link_warnings_clear_once_the_visitor_changes_something():
    at = fresh({"lr": "fast", "epochs": "3"})
    assert any("lr" in w.value for w in at.warning)
    at.slider(key=widget_key("epochs")).set_value(4).run()
    assert not at.exception and not at.warning


def test_a_batch_larger_than_the_data_becomes_a_full_batch():
    at = fresh({"dataset": "notes4", "compare": "off"})
    assert not at.exception
    assert used_config(at).batch_size == 4 and at.session_state[widget_key("batch_size")] == 4


def test_the_page_says_what_went_past_float64():
    from test_overflow import ROWS

    at = fresh({**ROWS.to_query(), "compare": "off"})
    assert not at.exception
    said = " ".join(e.value for e in at.error)
    assert "Run A diverged at step" in said and "(its mini-batches stayed finite)" in said


ALL_TABS = ["Lessons", "Training", "Loss landscape", "Activations", "Running statistics & test time",
            "Batch calculator", "Parameters", "Sweeps", "The math"]


@pytest.mark.parametrize("tab", ALL_TABS)
def test_every_tab_renders_with_layer_norm(tab):
    at = fresh({"norm": "layer", "epochs": "3", "tab": tab})
    assert not at.exception and not at.error and not at.warning
    cfg = used_config(at)
    assert cfg.norm == "layer" and not cfg.bn
    assert at.session_state["page_b"] == "1"                 # run B: batch norm, everything else equal
    text = " ".join(str(e.value) for e in list(at.markdown) + list(at.info) + list(at.caption))
    if tab == "Sweeps":
        at.button(key="sweep-lr").click().run()
        assert not at.exception
    elif tab == "The math":
        assert len(at.latex) >= 9 and "Layer normalization" in text
    elif tab == "Batch calculator":              # layer norm's arithmetic: one student's own statistics
        assert len(at.dataframe) == 1 and len(at.latex) == 4 and "averages each student over the units" in text
        assert "μ of the row" in at.dataframe[0].value.columns
    elif tab == "Running statistics & test time":
        assert "keeps no running statistics" in text and "the same alone as inside each of 20 random batches" in text
        assert len(at.get("plotly_chart")) == 3
    elif tab == "Parameters":
        assert "keeps every Dense bias" in text and len(at.get("plotly_chart")) == 3      # γ and β drawn
    elif tab == "Activations":
        assert "bn" in at.selectbox(key="act_stage").options or any(
            "layer-norm output" in o for o in at.selectbox(key="act_stage").options)
    elif tab != "Lessons":
        assert len(at.get("plotly_chart")) >= 1


def test_predict_one_student_with_layer_norm_is_the_same_alone_and_at_test_time():
    at = fresh({"norm": "layer", "epochs": "5", "tab": "Running statistics & test time", "compare": "off"})
    values = {m.label: m.value for m in at.metric}
    assert values["at test time (layer norm)"] == values["alone, in training mode (layer norm)"]
    at.number_input(key="one_x1").set_value(9.5).run()
    changed = {m.label: m.value for m in at.metric}
    assert changed["at test time (layer norm)"] == changed["alone, in training mode (layer norm)"]
    assert changed["at test time (layer norm)"] != values["at test time (layer norm)"]   # a different student


def test_the_normalization_choice_and_the_bn_toggle_follow_each_other():
    at = fresh({"epochs": "2", "compare": "off"})
    at.radio(key=widget_key("norm")).set_value("layer").run()
    assert not at.exception and used_config(at).norm == "layer"
    assert at.toggle(key=widget_key("bn")).value is False and at.query_params["norm"] == "layer"
    assert "bn" not in at.query_params
    at.toggle(key=widget_key("bn")).set_value(True).run()
    assert used_config(at).norm == "batch" and at.radio(key=widget_key("norm")).value == "batch"
    at.toggle(key=widget_key("bn")).set_value(False).run()
    assert used_config(at).norm == "none" and at.radio(key=widget_key("norm")).value == "none"
    assert at.query_params["bn"] == "0" and not at.warning


def test_a_link_asking_for_two_normalizations_says_so():
    at = fresh({"bn": "1", "norm": "layer", "epochs": "2"})
    assert not at.exception
    assert used_config(at).norm == "layer"
    text = html.unescape(" ".join(w.value for w in at.warning))      # visitor text arrives as references
    assert "bn=1 and norm=layer ask for different normalizations; using norm=layer." in text


def test_compare_mode_puts_batch_norm_against_layer_norm():
    at = fresh({"epochs": "3", "compare": "norm", "tab": "Training"})
    assert not at.exception and at.session_state["page_b"] == "layer"
    labels = [m.label for m in at.metric]
    assert "Run B: test accuracy" in labels
    spec = plotly_specs(at)[0]
    assert "A: BN before relu" in spec and "B: LN before relu" in spec
