"""The "Watch it train" view on the page: one clock for every panel of runs A and B.

Playback happens in the browser: a small component (watch.js) draws five
panels per run in SVG and canvas and redraws their moving parts frame by frame
from arrays sent once. A component rather than Plotly's animation frames: the
view needs step forward and back, a speed control and panels that restack on a
phone, which one figure with ten subplots cannot give, and st.plotly_chart
remounts on every streamed update. Not on Plotly.js either, measured: a second
copy of Plotly (4.8 MB, besides the one Streamlit bundles) took longer to
start than everything else the view does, and a Plotly redraw per panel per
frame held playback near 10 frames a second; plain SVG draws a frame of all
ten panels in a few milliseconds.

``draw_view`` draws finished runs (the replay); ``draw_partial`` draws runs
still training, from whatever source reports a partial Run.
"""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from ..figures.colours import norm_meaning
from ..figures.watch import watch_spec
from ..visitor_text import shown
from ..watch import (
    MAX_FRAMES,
    PLANE_SIZE,
    final_accuracy,
    generalization_gap,
    summary,
    watch_join,
    watch_pair,
)
from .access import page_css, table_html
from .runs import wait_for
from .tabs import cached

_STREAMED = "watch_streamed"   # set while this script run streams a training, read by the replay
LIVE_FRAMES = 40          # frames computed for a run still training: cheap enough for twice a second
LIVE_PLANE = 21           # and a coarser loss surface
SECONDS = 10.0            # one pass of the replay at normal speed: a pace a class can follow

# one module: the page's keyboard and screen-reader helpers (access.js), then the player
_JS = "\n".join((Path(__file__).with_name(name)).read_text() for name in ("access.js", "watch.js"))
_player = st.components.v2.component("bnviz_watch", js=_JS, isolate_styles=False)


def page_style() -> None:
    """Less empty space above the headline, so the view's panels fit on the first screen; the page's
    readable colours and focus rings (bnviz.ui.access)."""
    st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 3.4rem; }</style>" + page_css())


def run_names(a, b) -> list:
    """Short labels for the view's rows: what each run is, and how B differs from A."""
    if b is None:
        return [f"A · {_norm_label(a)}"]
    fields = a.config.differences(b.config)
    if not fields or "bn" in fields or "norm" in fields:
        return [f"A · {_norm_label(a)}", f"B · {_norm_label(b)}"]
    shown = fields[:2]
    return [f"{x} · " + ", ".join(f"{k} {_value(getattr(r.config, k))}" for k in shown)
            for x, r in (("A", a), ("B", b))]


def _norm_label(run) -> str:
    """The words of the run's colour (bnviz.figures.colours): "BN on", "layer norm", "BN off"."""
    return norm_meaning(run.config.norm).words


def sentence_names(a, b) -> list:
    if b is not None and a.config.norm != b.config.norm:
        plain = "without BN" if "batch" in (a.config.norm, b.config.norm) else "without normalization"
        names = {"batch": "with BN", "layer": "with layer norm", "none": plain}
        return [f"{names[r.config.norm]} ({x})" for x, r in (("A", a), ("B", b))]
    return ["in A", "in B"][: 1 if b is None else 2]


def _value(v) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, tuple):
        return ",".join(map(str, v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def view_spec(a, b, data, autoplay: bool, live: bool = False) -> tuple:
    """(player spec, sentence) for runs a and b (b may be None)."""
    runs = [r for r in (a, b) if r is not None]
    names = run_names(*runs) if len(runs) == 2 else run_names(runs[0], None)
    words = sentence_names(*runs) if len(runs) == 2 else sentence_names(runs[0], None)
    kept = [(r, n, w) for r, n, w in zip(runs, names, words) if r.n_steps > 0]
    if not kept:
        return None, "The run diverged at its very first step, so there is no training to watch."
    first, second = kept[0][0], kept[1][0] if len(kept) > 1 else None
    if live:          # a small view of runs still training: here, at once
        views = watch_pair(first, second, data, frames=LIVE_FRAMES, plane_size=LIVE_PLANE)
    else:             # the replay's frames (up to 240 a run): made where the runs trained, else in the worker pool
        views = replay_views(first, second, data)
    planned = max(r.config.epochs * r.steps_per_epoch for r in runs) if live else 0
    spec = watch_spec(views, [n for _, n, _ in kept], data, autoplay=autoplay, live=live, seconds=SECONDS,
                      planned_steps=planned)
    return spec, summary(views, [w for _, _, w in kept], [final_accuracy(r) for r, _, _ in kept],
                         [generalization_gap(r) for r, _, _ in kept])


def replay_views(first, second, data) -> list:
    """[WatchRun] of the replay: joined from the frames each run brought from the worker that trained
    it (bnviz.workers.prepare_view), or, for a run without them, computed in the worker pool."""
    runs = [r for r in (first, second) if r is not None]
    prepared = [r.__dict__.get("prepared_view") for r in runs]
    if all(p is not None and p.frames == MAX_FRAMES and p.plane_size == PLANE_SIZE for p in prepared):
        return watch_join(prepared, ("A", "B")[:len(runs)])
    return wait_for(("watch", id(first), id(second), id(data)), lambda update: None, watch_pair,
                    first, second, data, ("A", "B"), MAX_FRAMES, PLANE_SIZE)


def _replay_spec(a, b, data, autoplay):
    return view_spec(a, b, data, autoplay=autoplay)


def draw_view(slot, a, b, data) -> None:
    """The replay of finished runs in `slot` (an st.empty), with its sentence underneath.

    Runs too short to have been streamed start playing on their own; runs the
    visitor has just watched train wait at their last step.
    """
    autoplay = not st.session_state.pop(_STREAMED, False)
    try:
        spec, sentence = cached(_replay_spec, a, b, data, autoplay)
    except (ValueError, FloatingPointError) as err:
        slot.warning(shown(f"The training view cannot be drawn for these settings: {err}", limit=None))
        return
    # one key for the replay, so reruns update it in place instead of restarting it
    _show(slot, spec, sentence, key="watch-replay")


def draw_partial(slot, a, b, data) -> None:
    """Runs still training (either may be a partial Run, b may be None): the newest frame, no playback."""
    try:
        spec, sentence = view_spec(a, b, data, autoplay=False, live=True)
    except (ValueError, FloatingPointError):
        return                              # a partial run that cannot be drawn yet: the next one will
    st.session_state[_STREAMED] = True
    _show(slot, spec, "Training… the view fills as the steps come in, then becomes a replay.")


def encoded(spec: dict) -> bytes:
    """The player's spec as UTF-8 JSON, less its table (the page writes that as HTML): Streamlit
    forwards bytes as they are, where a dict would be turned into JSON (twice, with its identity) on
    every rerun of every visitor's page."""
    return json.dumps({k: v for k, v in spec.items() if k != "table"}).encode()


def _show(slot, spec, sentence: str, key: str | None = None) -> None:
    with slot.container():
        table = None
        if spec is not None:
            table = spec.get("table")
            # the replay's bytes are kept with its spec (tabs.cached); a live view's change every time
            _player(data=cached(encoded, spec) if key else encoded(spec), key=key, width="stretch")
        st.caption(sentence)
        if spec is not None:        # apart from the sentence, so the sentence stays on a laptop's first screen
            key = shown(spec["key"], limit=None)                          # the key names the label
            if table and table["rows"] and not spec.get("live"):
                # the view's numbers, for a screen reader only: the first screen has no room for more
                caption = f"Watch it train, the numbers: {table['note'] or 'every frame.'}"
                key += "\n\n" + table_html(caption, table["columns"], table["rows"])
            st.caption(key, unsafe_allow_html=True)
