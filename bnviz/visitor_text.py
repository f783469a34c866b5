"""Text a visitor controls (a link's keys and values, an upload's header names and
label values), made safe to show: on one line, of bounded length, and plain
characters wherever the page renders markup.

``plain(text)`` is that text on one line, shortened with an ellipsis: for
places that set text as text (a DOM node's textContent, a table's column
names) and for quoting inside a sentence. ``shown(text)`` is the same text as
Markdown, HTML and Plotly's text markup all display it literally: the one way
such text, or a sentence quoting it, reaches a rendered page.

Imports only the standard library, so the engine's message builders, the
figures and the page can all use it.
"""
from __future__ import annotations

import re

NAME_CHARS = 40          # a name or a value longer than this is cut, with "…"
JOINER = "\u2060"        # WORD JOINER: invisible, and not a letter, space or punctuation
# Every ASCII punctuation character: each starts some construct in Markdown (* _ [ ] ! # $ : | ~ ...),
# HTML (< & ") or Plotly's text (<br>, %{x}). Written as a numeric character reference, each is
# plain text to all three: CommonMark, the browser and Plotly decode it after finding the markup.
_MARKUP = re.compile(r"[!-/:-@\[-`{-~]")
# Streamlit's Markdown links bare URLs (http://, www.) and e-mail addresses after parsing,
# in the decoded text, so references alone do not stop it: a joiner right after the
# scheme or "www", and right before "@", leaves nothing that looks like an address.
_ADDRESS = re.compile(r"(?i)(?:https?|www)(?=[:.])|(?=@)")


def plain(text, limit: int | None = NAME_CHARS) -> str:
    """str(text) on one line: every run of whitespace (newlines, tabs, Unicode
    separators) one space, ends trimmed, other invisible or control characters
    "?", and at most `limit` characters (the last one "…"; None: no limit)."""
    kept = "".join(ch if ch.isprintable() or ch.isspace() else "?" for ch in str(text))
    line = " ".join(kept.split())
    if limit is not None and len(line) > limit:
        line = line[: max(limit - 1, 0)].rstrip() + "…"
    return line


def shown(text, limit: int | None = NAME_CHARS) -> str:
    """plain(text, limit) as Streamlit's Markdown, HTML and Plotly show it character for
    character: no image, link, heading, emphasis, colour, icon, formula or tag survives.

    Undone by html.unescape and removing JOINER."""
    line = _ADDRESS.sub(lambda m: m.group() + JOINER, plain(text, limit))
    return _MARKUP.sub(lambda m: f"&#{ord(m.group())};", line)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st: n with its English ordinal suffix."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"
