"""The sidebar: one widget per Config field, grouped, with help; presets; compare mode.

Functions that draw widgets return plain values; nothing here trains or plots.
"""
from __future__ import annotations

import streamlit as st

from ..compare import COMPARE_FIELDS, default_value, variant
from ..config import FIELD_BY_NAME, FIELDS, MAX_LAYERS, MAX_UNITS, PRESETS, Config
from .state import log_options, widget_key

DATASET_LABELS = {
    "placement": "Student placement (GPA, IQ)", "notes4": "The notes' 4 students", "notes_students":
    "The notes' student table", "xor": "XOR (toy)", "circles": "Circles (toy)", "moons": "Moons (toy)",
    "gaussians": "Two Gaussians (toy)", "upload": "Upload a CSV…",
}
TOY = ("xor", "circles", "moons", "gaussians")
LOG_RANGES = {"lr": (1e-4, 10.0), "init_scale": (1e-3, 1e3), "eps": (1e-8, 1e-1), "opt_eps": (1e-12, 1e-4)}


def _to_widget(name: str, value):
    if name == "hidden":
        return ",".join(str(w) for w in value)
    return value


def seed_widgets(cfg: Config, source: str) -> None:
    """Put cfg's values into the widgets' state (on a fresh session, or a preset)."""
    for f in FIELDS:
        st.session_state[widget_key(f.name)] = _to_widget(f.name, getattr(cfg, f.name))
    st.session_state[widget_key("dataset")] = "upload" if source == "upload" else cfg.dataset


def _apply_preset(name: str) -> None:
    for field, value in PRESETS[name].items():
        st.session_state[widget_key(field)] = value


def _choice(name: str, label: str, **kw):
    f = FIELD_BY_NAME[name]
    return st.selectbox(label, f.choices, key=widget_key(name), help=f.help, **kw)


def _toggle(name: str, label: str):
    return st.toggle(label, key=widget_key(name), help=FIELD_BY_NAME[name].help)


def _log_slider(name: str, label: str):
    low, high = LOG_RANGES[name]
    current = st.session_state.get(widget_key(name), FIELD_BY_NAME[name].default)
    options = log_options(low, high, extra=[current])
    if current not in options:  # a hand-written link may hold a value outside the slider's range
        options = sorted(set(options) | {current})
    return st.select_slider(label, options=options, key=widget_key(name), help=FIELD_BY_NAME[name].help,
                            format_func=lambda v: f"{v:g}")


def config_from_state(last_good: Config) -> tuple:
    """(Config, dataset choice, problems) from the widgets' values in session state.

    Pure reading, so the page can train and draw its charts before it draws the
    sidebar. A problem is a sentence about a value that could not be used (the
    last good one is kept in its place).
    """
    state = st.session_state
    values, problems = {}, []
    for f in FIELDS:
        values[f.name] = state.get(widget_key(f.name), _to_widget(f.name, getattr(last_good, f.name)))
    choice = state.get(widget_key("dataset"), last_good.dataset)
    values["dataset"] = last_good.dataset if choice == "upload" else choice
    parsed, warn = Config.from_query({"hidden": str(values["hidden"])})
    if warn:
        problems.append(f"Hidden layers: write 1 to {MAX_LAYERS} whole numbers from 1 to {MAX_UNITS}, "
                        f"separated by commas (like 3,2); kept {','.join(map(str, last_good.hidden))}.")
        values["hidden"] = last_good.hidden
    else:
        values["hidden"] = parsed.hidden
    try:
        return Config(**values), choice, problems
    except ValueError as err:
        problems.append(f"Some settings could not be used ({err}); the last good experiment is shown.")
        return last_good, choice, problems


def fit_batch_size(n_train: int) -> str | None:
    """Keep the batch-size slider inside 1..n_train; a larger batch is full-batch anyway."""
    key = widget_key("batch_size")
    if st.session_state.get(key, 0) > n_train:
        st.session_state[key] = n_train
        return f"Batch size set to {n_train}, the number of training rows (a full batch)."
    return None


def sidebar(n_train: int) -> None:
    """Draw every control; their values live in session state under widget_key(name)."""
    with st.sidebar:
        st.header("Data", divider="gray")
        choice = st.selectbox("Data set", list(DATASET_LABELS), key=widget_key("dataset"),
                              format_func=DATASET_LABELS.get, help=FIELD_BY_NAME["dataset"].help)
        if choice == "upload":
            st.file_uploader("CSV with two numeric columns and a 0/1 label", type=["csv", "txt"], key="upload",
                             help="At most 5 MB and 100,000 rows; a header row; for example cgpa, iq, placed.")
        _toggle("standardize", "Standardize inputs")
        st.slider("Test share", 0.05, 0.5, step=0.05, key=widget_key("test_fraction"),
                  help=FIELD_BY_NAME["test_fraction"].help)
        toy = choice in TOY
        st.slider("Toy set size", 40, 5000, step=20, key=widget_key("data_size"),
                  help=FIELD_BY_NAME["data_size"].help, disabled=not toy)
        st.slider("Toy set noise", 0.0, 2.0, step=0.05, key=widget_key("data_noise"),
                  help=FIELD_BY_NAME["data_noise"].help, disabled=not toy)

        st.header("Network", divider="gray")
        st.text_input("Hidden layers (widths)", key=widget_key("hidden"), help=FIELD_BY_NAME["hidden"].help)
        _choice("activation", "Activation")
        _choice("init", "Weight initialization")
        _log_slider("init_scale", "Init scale")

        st.header("Batch norm", divider="gray")
        _toggle("bn", "Batch normalization")
        st.radio("Where BN sits", FIELD_BY_NAME["bn_position"].choices, horizontal=True,
                 key=widget_key("bn_position"), help=FIELD_BY_NAME["bn_position"].help,
                 format_func={"before": "before the activation", "after": "after the activation"}.get)
        _toggle("keep_bias", "Keep the bias in front of BN")
        st.caption("One click for a framework's BN conventions:")
        left, right = st.columns(2)
        left.button("Keras", on_click=_apply_preset, args=("keras",), width="stretch",
                    help="momentum 0.99, eps 1e-3, biased running variance")
        right.button("PyTorch", on_click=_apply_preset, args=("pytorch",), width="stretch",
                     help="momentum 0.9 (PyTorch's 0.1), eps 1e-5, unbiased running variance")
        st.number_input("Running-average momentum m", 0.0, 0.9999, step=0.01, format="%.4f",
                        key=widget_key("bn_momentum"), help=FIELD_BY_NAME["bn_momentum"].help)
        _choice("running_avg", "Running average")
        _choice("running_var", "Running variance")
        _log_slider("eps", "ε (inside the square root)")

        st.header("Training", divider="gray")
        _choice("optimizer", "Optimizer")
        _log_slider("lr", "Learning rate")
        st.slider("Batch size", 1, max(2, n_train), key=widget_key("batch_size"),
                  help=FIELD_BY_NAME["batch_size"].help + f" This data has {n_train} training rows.")
        st.slider("Epochs", 1, 500, key=widget_key("epochs"), help=FIELD_BY_NAME["epochs"].help)
        st.number_input("Seed", 0, 2**31 - 1, step=1, key=widget_key("seed"), help=FIELD_BY_NAME["seed"].help)
        with st.expander("Optimizer details"):
            st.number_input("β₁", 0.0, 0.9999, step=0.01, format="%.4f", key=widget_key("beta1"),
                            help=FIELD_BY_NAME["beta1"].help)
            st.number_input("β₂", 0.0, 0.99999, step=0.001, format="%.5f", key=widget_key("beta2"),
                            help=FIELD_BY_NAME["beta2"].help)
            _log_slider("opt_eps", "Optimizer ε")


def compare_from_state(cfg: Config, page: dict) -> tuple:
    """(page settings, B's Config or None, warnings) from the compare widgets' state.

    Run B's value follows A: while it is the automatic choice (the opposite of
    A's, or a tenfold change) it is recomputed whenever A changes.
    """
    state = st.session_state
    field = state.get("page_compare", page.get("compare", "bn"))
    if field == "off":
        return {**page, "compare": "off", "b": None}, None, []
    default = default_value(cfg, field)
    if state.get("page_b_field") != field:                 # a new field (or a fresh visitor)
        given = page.get("b") if page.get("compare") == field else None
        state["page_b"] = str(given) if given is not None else default
        state["page_b_field"] = field
    elif state.get("page_b") == state.get("page_b_default"):
        state["page_b"] = default
    state["page_b_default"] = default
    text = state["page_b"]
    b_cfg, warn = variant(cfg, field, text)
    return {**page, "compare": field, "b": text}, b_cfg, [f"Run B: {w}" for w in warn[:1]]


def compare_widgets(field: str) -> None:
    with st.sidebar:
        st.header("Compare", divider="gray")
        st.selectbox("Run B changes", ("off",) + COMPARE_FIELDS, key="page_compare",
                     format_func=lambda f: "nothing (no run B)" if f == "off" else f,
                     help="Run B is run A with one setting changed: same data, same batch order, and "
                          "A's initial weights wherever the shapes agree.")
        if field != "off":
            st.text_input(f"Run B's {field}", key="page_b",
                          help="Type a value as it would appear in a link, e.g. 0 or 1 for on/off.")
