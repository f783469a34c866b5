"""What the page does for people who read it with a screen reader, a keyboard or weak eyes.

WCAG 2.1 AA, checked by axe-core in tests/browser/test_accessibility.py:
- ``PAGE_CSS``: text colours with a contrast of at least 4.5:1 where Streamlit's
  defaults fade them (captions, the labels of greyed-out controls), and a focus
  ring that shows on every control the keyboard reaches;
- ``chart``: every Plotly chart with an accessible name, a sentence written from
  its numbers (bnviz.figures.speech) right under it, and its data as a table;
- the page's script (access.js, loaded with the training view) names the charts
  for assistive technology, makes scrollable formulas reachable by keyboard and
  puts a skip link to the training view's Play button first in the Tab order.
"""
from __future__ import annotations

import hashlib
import math

import streamlit as st

from ..figures import speech
from ..visitor_text import shown

SHOWN_CHARS = 260       # a chart's sentence up to this long is shown under it; a longer one only read out
CAPTION = "#64625f"     # 6.1:1 on white, 5.7:1 on the sidebar's grey (Streamlit's 60% opacity gave 3.9:1)

PAGE_CSS = f"""
[data-testid="stCaptionContainer"] {{ opacity: 1; color: {CAPTION}; }}
/* a greyed-out control keeps a readable label; the caption under it says why it is off */
.stElementContainer:has([disabled], [aria-disabled="true"]) [data-testid="stWidgetLabel"] p {{ color: {CAPTION}; }}
.bnviz-said {{ font-size: 0.875rem; color: {CAPTION}; margin: -0.5rem 0 0.25rem 0; }}
/* a long sentence is for the screen reader: read in its place, not shown (the table holds its numbers) */
.bnviz-said.bnviz-unseen, table.bnviz-unseen {{ position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }}
/* a lesson card: the look of Streamlit's bordered container, around Markdown */
.bnviz-card {{ border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: calc(1rem - 1px);
  margin-bottom: 1rem; }}
.katex-display:focus-visible, [data-testid="stPlotlyChart"]:focus-visible {{
  outline: 3px solid #0072B2; outline-offset: 2px; }}
"""

def page_css() -> str:
    return f"<style>{PAGE_CSS}</style>"


def said_id(key: str) -> str:
    """The id of a chart's sentence: stable per chart key, safe in HTML."""
    return "said-" + hashlib.sha1(key.encode()).hexdigest()[:10]


def sentence_html(key: str, name: str, sentence: str) -> str:
    """The sentence under a chart, as HTML the page's script ties to the chart (aria-describedby),
    with the chart's name on it (aria-label, read by access.js). Both may quote visitor text (a
    feature's or the label's name): shown() writes every punctuation mark as a character
    reference, so nothing in them becomes Markdown or HTML, in the text or in the attribute."""
    seen = "bnviz-said" if len(sentence) <= SHOWN_CHARS else "bnviz-said bnviz-unseen"
    return (f'<p class="{seen}" id="{said_id(key)}" data-chart-name="{shown(name, limit=None)}">'
            f"{shown(sentence, limit=None)}</p>")


def table_html(caption: str, columns: list, rows: list) -> str:
    """A table only a screen reader meets (on one line, so Markdown passes it through as HTML):
    for a chart whose place on the page has no room for an expander. Cells as table_markdown's."""
    head = "".join(f"<th scope='col'>{_cell(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (f"<table class='bnviz-unseen'><caption>{_cell(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"                                            # a step's loss before any step: none
    if isinstance(v, (int, float)):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    return shown(v, limit=None)                                # names may quote visitor text


def table_markdown(columns: list, rows: list) -> str:
    """A Markdown table (real HTML table cells for a screen reader) of `rows` under `columns`,
    each cell shown as typed."""
    head = "| " + " | ".join(_cell(c) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    return "\n".join([head, rule] + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows])


# charts whose sentence is written from the Run itself rather than from the figure's traces
WRITERS = {"training_curves": speech.training_curves_speech}


def speech_for(figure, builder, *args):
    """The Speech of a figure drawn by builder(*args); None if none can be written (the chart is
    still drawn, and still named by the page's script from its title)."""
    writer = WRITERS.get(getattr(builder, "__name__", ""))
    try:
        return writer(figure, *args) if writer else speech.describe(figure)
    except (ValueError, TypeError, IndexError, KeyError, FloatingPointError):
        return None


def chart(key: str, figure, said) -> None:
    """Draw a Plotly figure with its name, its sentence and its data as a table.

    said: a bnviz.figures.speech.Speech (name, sentence, table columns and rows), or None.
    """
    from .tabs import CHART

    with st.container(key=f"chart-{key}"):
        st.plotly_chart(figure, key=key, **CHART)
        if said is None:
            return
        st.markdown(sentence_html(key, said.name, said.sentence), unsafe_allow_html=True)
        if said.rows:
            with st.expander(shown(f"{said.name}: the numbers as a table", limit=None)):
                if said.table_note:
                    st.caption(shown(said.table_note, limit=None))
                st.markdown(table_markdown(said.columns, said.rows))
