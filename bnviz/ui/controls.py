"""The sidebar, drawn from the field table (bnviz.config.FIELDS): one widget per
setting, in the table's groups and order, with its label, range, step and help;
the framework presets; compare mode.

Functions that draw widgets return plain values; nothing here trains or plots.
"""
from __future__ import annotations

import streamlit as st

from ..compare import COMPARE_FIELDS, default_value, variant
from ..config import (FIELD_BY_NAME, FIELDS, GROUPS, MAX_LAYERS, MAX_UNITS, PRESET_NAMES, PRESETS, Config, Field,
                      allowed, format_value)
from ..csvread import MAX_ROWS, limit_text
from .state import log_options, widget_key

UPLOAD = "upload"            # the data set choice that opens the file box (the page's own, not a Config value)
UPLOAD_HELP = f"At most {limit_text()} and {MAX_ROWS:,} rows; a header row; for example cgpa, iq, placed."
DATASET_LABELS = dict(zip(FIELD_BY_NAME["dataset"].choices, FIELD_BY_NAME["dataset"].labels),
                      **{UPLOAD: "Upload a CSV…"})


def _to_widget(name: str, value):
    if name == "hidden":
        return ",".join(str(w) for w in value)
    return value


def seed_widgets(cfg: Config, source: str) -> None:
    """Put cfg's values into the widgets' state (on a fresh session, or a preset)."""
    for f in FIELDS:
        st.session_state[widget_key(f.name)] = _to_widget(f.name, getattr(cfg, f.name))
    st.session_state[widget_key("dataset")] = UPLOAD if source == UPLOAD else cfg.dataset


def _apply_preset(name: str) -> None:
    for field, value in PRESETS[name].items():
        st.session_state[widget_key(field)] = value


def preset_help(name: str) -> str:
    """What a preset button sets, in link terms: "bn_momentum 0.9, eps 1e-05, ..."."""
    return ", ".join(f"{field} {format_value(FIELD_BY_NAME[field], value)}"
                     for field, value in PRESETS[name].items())


def _widget_range(f: Field, n_train: int) -> tuple:
    """(low, high) of f's widget: its own range if the table gives one, else what a link may
    hold; stretched to hold the current value, so a hand-written link is shown as it is."""
    low = f.low if f.widget_low is None else f.widget_low
    high = f.high if f.widget_high is None else (max(2, n_train) if f.widget_high == "rows" else f.widget_high)
    current = st.session_state.get(widget_key(f.name), f.default)
    if f.widget_high == "rows":          # a larger batch is cut to the data (fit_batch_size)
        return low, high
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        low, high = min(low, current), max(high, current)
    return low, high


def is_greyed(f: Field, dataset: str) -> bool:
    """Whether f's control is off because it does not apply to this data set."""
    return bool(f.only_for) and dataset not in f.only_for


def greyed_note(fields: list, dataset: str) -> str:
    """Why controls are greyed out, in one sentence (a disabled control must say why it is off)."""
    names = " and ".join(f.label for f in fields)
    sets = sorted({d for f in fields for d in f.only_for})
    shown_sets = ", ".join(DATASET_LABELS.get(d, d) for d in sets)
    verb = "are" if len(fields) > 1 else "is"
    return (f"{names} {verb} off: {'they apply' if len(fields) > 1 else 'it applies'} only to the generated "
            f"data sets ({shown_sets}), not to {DATASET_LABELS.get(dataset, dataset)}.")


def draw_field(f: Field, n_train: int, dataset: str):
    """The widget of one field, as its table row describes it; returns its value."""
    key, help_text = widget_key(f.name), f.help
    if f.widget_high == "rows":
        help_text += f" This data has {n_train} training rows."
    disabled = is_greyed(f, dataset)
    control = f.control
    if control == "toggle":
        return st.toggle(f.label, key=key, help=help_text, disabled=disabled)
    if control == "text":
        return st.text_input(f.label, key=key, help=help_text, disabled=disabled)
    if control in ("select", "radio"):
        options = f.choices + ((UPLOAD,) if f.name == "dataset" else ())
        names = DATASET_LABELS if f.name == "dataset" else dict(zip(f.choices, f.labels))
        fmt = names.get if names else str
        if control == "radio":
            return st.radio(f.label, options, horizontal=True, key=key, help=help_text, format_func=fmt,
                            disabled=disabled)
        return st.selectbox(f.label, options, key=key, help=help_text, format_func=fmt, disabled=disabled)
    low, high = _widget_range(f, n_train)
    if control == "log_slider":
        current = st.session_state.get(key, f.default)
        options = sorted(set(log_options(low, high)) | {float(current)})
        return st.select_slider(f.label, options=options, key=key, help=help_text, format_func=lambda v: f"{v:g}",
                                disabled=disabled)
    if f.kind == "int":
        low, high = int(low), int(high)
    number = dict(key=key, help=help_text, disabled=disabled)
    if f.step is not None:
        number["step"] = f.step if f.kind == "float" else int(f.step)
    if control == "number":
        return st.number_input(f.label, low, high, format=f.fmt or None, **number)
    return st.slider(f.label, low, high, **number)


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
    values["bn"], values["norm"] = _one_normalization(values["bn"], values["norm"], last_good)
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


def _one_normalization(bn, norm, last_good: Config) -> tuple:
    """(bn, norm) that agree: the BN toggle and the normalization choice say one thing, so the one the
    visitor just changed wins and the other widget is set to match (before either is drawn)."""
    if bool(bn) == (norm == "batch"):
        return bn, norm
    if norm != last_good.norm:                 # the choice moved: the toggle follows
        bn = norm == "batch"
        st.session_state[widget_key("bn")] = bn
    else:                                      # the toggle moved: batch norm on, or none
        norm = "batch" if bn else "none"
        st.session_state[widget_key("norm")] = norm
    return bn, norm


def sidebar(n_train: int) -> None:
    """Draw every control, group by group as the field table orders them; their values
    live in session state under widget_key(name). The preset buttons stand just before
    the first field they set; the file box right after the data set choice."""
    first_preset_field = next(f.name for f in FIELDS if f.presets)
    dataset = st.session_state.get(widget_key("dataset"), FIELD_BY_NAME["dataset"].default)
    with st.sidebar:
        for group in GROUPS:
            st.header(group, divider="gray")
            folds, greyed = {}, []
            for f in (f for f in FIELDS if f.group == group):
                if f.name == first_preset_field:
                    _preset_buttons()
                if f.fold:
                    if f.fold not in folds:
                        folds[f.fold] = st.expander(f.fold)
                    with folds[f.fold]:
                        draw_field(f, n_train, dataset)
                    continue
                value = draw_field(f, n_train, dataset)
                if f.name == "dataset" and value == UPLOAD:
                    st.file_uploader("CSV with two numeric columns and a 0/1 label", type=["csv", "txt"],
                                     key="upload", help=UPLOAD_HELP)
                if is_greyed(f, dataset):
                    greyed.append(f)
            if greyed:
                st.caption(greyed_note(greyed, dataset))


def _preset_buttons() -> None:
    st.caption("One click for a framework's BN conventions:")
    for col, (name, title) in zip(st.columns(len(PRESET_NAMES)), PRESET_NAMES.items()):
        col.button(title, on_click=_apply_preset, args=(name,), width="stretch", help=preset_help(name))


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
                     format_func=lambda f: "nothing (no run B)" if f == "off" else f"{FIELD_BY_NAME[f].label} ({f})",
                     help="Run B is run A with one setting changed: same data, same batch order, and "
                          "A's initial weights wherever the shapes agree.")
        if field != "off":
            f = FIELD_BY_NAME[field]
            st.text_input(f"Run B's {f.label.lower() if f.label[0].isupper() and f.label[1:2].islower() else f.label}",
                          key="page_b", help=f"As it would appear in a link: {field} {allowed(f)}.")
