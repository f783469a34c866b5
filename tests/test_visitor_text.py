"""Text a visitor controls reaches the page as the characters typed: bnviz.visitor_text, and the limits around it."""
import html
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnviz.csvread import MAX_BYTES, DataError, read_table
from bnviz.visitor_text import JOINER, NAME_CHARS, plain, shown

ROOT = Path(__file__).resolve().parent.parent
# what a line of shown() text may hold: no ASCII punctuation (every Markdown, HTML and Plotly
# construct starts with one), no control character, no line break; punctuation only as &#NN;
SAFE = re.compile(r"(?:[^\x00-\x20\x7f-\x9f!-/:-@\[-`{-~]| (?! )|&#\d{2,3};)*")
# what GFM's autolinking looks for in the text after Markdown has decoded it
ADDRESS = re.compile(r"(?i)https?://|www\.|[-.\w+]@")
PAYLOADS = [
    "![u](http://127.0.0.1:9/p.png)", "<a href=\"http://127.0.0.1:9/\">x</a>", "\n\n# Big", "**b** _i_ `c`",
    ":red[r] :material/home: :smile:", "$x^2$", "<span style='color:red'>s</span>", "a@b.co www.ex.com",
    "%{y} <br> &amp; &#60;", "| a | b |", "> quote", "1. item", "- item", "    indented",
]


def decoded(text: str) -> str:
    """What a page shows for shown() output: references decoded, the invisible joiner gone."""
    return html.unescape(text).replace(JOINER, "")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=st.sampled_from("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \n\tawh")),
                 st.sampled_from(PAYLOADS)),
       st.one_of(st.none(), st.integers(1, 80)))
def test_shown_text_holds_no_markup_and_decodes_to_the_text(text, limit):
    line = plain(text, limit)
    out = shown(text, limit)
    assert SAFE.fullmatch(out), out                    # nothing Markdown, HTML or Plotly could read as markup
    assert decoded(out) == line                        # and it reads back as exactly the visitor's text
    assert not ADDRESS.search(html.unescape(out))      # nothing autolinks, even after decoding
    assert "\n" not in line and "  " not in line and line == line.strip()
    assert limit is None or len(line) <= limit
    single = " ".join(text.split())
    if all(ch.isprintable() for ch in single) and (limit is None or len(single) <= limit):
        assert line == single                          # only the whitespace changed


def test_long_names_end_in_an_ellipsis():
    assert plain("x" * 10_000) == "x" * (NAME_CHARS - 1) + "…"
    assert plain("a\u202eb\x00c") == "a?b?c"           # direction overrides and controls are made visible
    assert plain("\n\n# Big\r\n") == "# Big"
    assert shown("\n\n# Big") == "&#35; Big"


def test_every_payload_reads_back_as_typed():
    for payload in PAYLOADS:
        assert decoded(shown(payload, limit=None)) == " ".join(payload.split())


def test_upload_messages_quote_names_on_one_line_and_short():
    name = "![i](http://127.0.0.1:9/i.png)\n# head" + "x" * 10_000
    rows = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20))
    with pytest.raises(DataError) as err:
        read_table(f"a,b,c\n{rows}".encode(), label=name)
    message = str(err.value)
    assert "\n" not in message and len(message) < 300 and plain(name) in message


# ------------------------------------------------------------------ the upload limit


def test_the_upload_limit_is_one_number_in_bytes():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    cap = config["server"]["maxUploadSize"] * 2**20          # Streamlit's cap, in MB of 2**20 bytes
    assert MAX_BYTES < cap <= MAX_BYTES + 2**20               # just above the limit: the page's sentence answers
    nginx = re.search(r"client_max_body_size (\d+)m;", (ROOT / "deploy" / "nginx.conf.template").read_text())
    assert int(nginx.group(1)) * 2**20 > cap                 # and nginx lets Streamlit answer
    from bnviz.csvread import limit_text
    from bnviz.ui.controls import UPLOAD_HELP

    assert limit_text() in UPLOAD_HELP
    for where in ("bnviz/csvread.py", "bnviz/ui/controls.py"):
        assert not re.search(r"\b5 MB\b", (ROOT / where).read_text()), where    # said once, from MAX_BYTES


def test_a_file_over_the_limit_gets_a_sentence():
    with pytest.raises(DataError, match=r"The file is 5\.0 MB \(5,242,9\d\d bytes\); the limit for an upload is 5 MB \(5,242,880 bytes\)"):
        read_table(b"a,b,placed\n" + b"1,2,1\n" * (MAX_BYTES // 6 + 10))


# --------------------------------------------------------------- other text sinks


def test_the_training_view_sets_text_never_html():
    script = (ROOT / "bnviz" / "ui" / "watch.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "outerHTML" not in script


def test_lesson_cards_escape_html_as_well_as_markdown():
    from bnviz.ui.lessons import markdown_text

    assert markdown_text("<img src=x onerror=alert(1)> & μ_B") == "&lt;img src=x onerror=alert(1)&gt; &amp; μ\\_B"
