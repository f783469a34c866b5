"""The page's settings: the URL query, widget state, and the page's own keys.

The URL holds every Config field under its own name (only those that differ
from the default) plus the page's keys: compare (the field run B changes, or
"off"), b (B's value of it) and source ("upload" when the data came from a
file). The active tab ("tab") and the training curves' x axis ("x") are bound
to the URL by their widgets themselves.
"""
from __future__ import annotations

import math

import streamlit as st

from ..compare import COMPARE_FIELDS, default_value
from ..config import Config
from ..visitor_text import plain

PAGE_KEYS = ("compare", "b", "source")
TAB_KEY = "tab"
CURVES_X_KEY = "x"
BOUND_KEYS = (TAB_KEY, CURVES_X_KEY)     # widgets that keep their own URL key (bind="query-params")
WIDGET_PREFIX = "cfg_"


def widget_key(name: str) -> str:
    return WIDGET_PREFIX + name


def log_options(low: float, high: float, extra=()) -> list:
    """1-2-5 steps from low to high, with any extra values slotted in."""
    values = set()
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in (1, 2, 5):
            v = float(f"{m}e{exponent}")
            if low * (1 - 1e-12) <= v <= high * (1 + 1e-12):
                values.add(v)
    values.update(float(x) for x in extra if low <= x <= high)
    return sorted(values)


def read_url() -> tuple:
    """(Config, page settings, warnings) from the current URL; never raises."""
    query = {k: st.query_params.get_all(k)[-1] for k in st.query_params.keys() if st.query_params.get_all(k)}
    page = {k: query.pop(k) for k in PAGE_KEYS if k in query}
    for key in BOUND_KEYS:
        query.pop(key, None)
    cfg, warnings = Config.from_query(query)
    compare = page.get("compare", "bn")
    if compare not in COMPARE_FIELDS and compare != "off":
        warnings.append(f"compare='{plain(compare)}' is not a setting run B can change; comparing BN on and off.")
        compare = "bn"
    source = page.get("source", "builtin")
    if source not in ("builtin", "upload"):
        warnings.append(f"source='{plain(source)}' is not known; using the built-in data.")
        source = "builtin"
    return cfg, {"compare": compare, "b": page.get("b"), "source": source}, warnings


def page_query(cfg: Config, page: dict) -> dict:
    """The URL keys for these settings: changed Config fields and non-default page settings."""
    wanted = dict(cfg.to_query())
    compare = page.get("compare", "bn")
    if compare != "bn":
        wanted["compare"] = compare
    if compare != "off" and page.get("b") is not None and str(page["b"]) != default_value(cfg, compare):
        wanted["b"] = str(page["b"])
    if page.get("source") == "upload":
        wanted["source"] = "upload"
    return wanted


def write_url(cfg: Config, page: dict) -> None:
    """Make the URL describe exactly these settings (the tab key is st.tabs' own)."""
    wanted = page_query(cfg, page)
    for key in list(st.query_params.keys()):
        if key not in BOUND_KEYS and key not in wanted:  # stale settings, and keys a mangled link brought
            del st.query_params[key]
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def share_query(cfg: Config, page: dict) -> str:
    """The query string of a link that reproduces this page."""
    from urllib.parse import urlencode

    params = page_query(cfg, page)
    params.pop("source", None)  # an upload cannot travel in a link
    return urlencode(params)
