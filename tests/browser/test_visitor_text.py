"""What a link or an upload says, in Chromium: the characters typed, never an image, a link, a heading or a tag.

Every request the page makes and every img/a element is watched: nothing may
point away from the lab's own server. Warnings, labels and chart text must
read as the visitor typed them (on one line, long names shortened).
"""
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnviz.config import FIELDS
from bnviz.csvread import MAX_BYTES
from bnviz.visitor_text import JOINER, plain
from bnviz.ui.state import BOUND_KEYS, PAGE_KEYS
from tests.browser.helpers import CHART, open_tab, wait_idle

pytestmark = pytest.mark.browser

OUTSIDE = "127.0.0.1:9"                    # another port: an address of no server
IMAGE = f"![u](http://{OUTSIDE}/p.png)"
PAYLOADS = [IMAGE, f"<a href=http://{OUTSIDE}/a>go</a>", f"<img src=http://{OUTSIDE}/i.png>",
            "**b** :red[r] $x^2$ :smile:", f"www.example.com a@b.co http://{OUTSIDE}/", "\n\n# Big",
            "<span style=color:red>s</span>", ":material/home: `c` ~~s~~"]
ALERTS = "[data-testid='stAlert']"
SHOWN = """sel => [...document.querySelectorAll(sel)].map(e => e.innerText)"""
ELEMENTS = """() => [...document.querySelectorAll('img[src], a[href], iframe[src], link[href], script[src]')]
                       .map(e => e.src || e.href)"""


def _query(pairs) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def _links() -> list:
    every = [(f.name, PAYLOADS[i % len(PAYLOADS)]) for i, f in enumerate(FIELDS)]
    return [
        every + [(IMAGE, "1"), ("tab", "Training")],                            # every field, and an unknown key
        [("compare", "lr"), ("b", IMAGE), ("epochs", "3")],                    # run B's value
        [("lr", "0.5"), ("lr", IMAGE), ("compare", "\n\n# Big"), ("source", PAYLOADS[1]), ("epochs", "3")],
    ]


class Watch:
    """Every request a page makes; outside(): those, and img/a elements, that leave the lab's server."""

    def __init__(self, page, server):
        self.page, self.host, self.requests = page, urlsplit(server).netloc, []
        page.on("request", lambda request: self.requests.append(request.url))

    def outside(self) -> list:
        urls = self.requests + self.page.evaluate(ELEMENTS)
        return [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about", "javascript")
                and urlsplit(u).netloc != self.host]


def as_seen(texts) -> str:
    return " ".join(t.replace(JOINER, "") for t in texts)


@pytest.mark.parametrize("index", range(len(_links())))
def test_a_links_values_and_keys_show_as_typed(server, page, artifacts, index):
    pairs = _links()[index]
    watch = Watch(page, server)
    page.goto(f"{server}/?{_query(pairs)}")
    page.wait_for_selector(ALERTS, timeout=60000)
    wait_idle(page, 90)
    page.screenshot(path=str(artifacts / f"visitor-text-link-{index + 1}.png"))
    assert watch.outside() == []
    said = as_seen(page.evaluate(SHOWN, ALERTS))
    for key, value in pairs:
        if any(ch in key + value for ch in "<>![:*$`~#@"):
            assert plain(value if key in {f.name for f in FIELDS} | {"compare", "source", "b"} else key) in said, (
                key, value, said)
    inside = page.locator(f"{ALERTS} :is(h1, h2, h3, h4, h5, h6, img, a, strong, em, code, span.katex, del)")
    assert inside.count() == 0
    assert page.locator("[data-testid='stException']").count() == 0


KNOWN = {f.name for f in FIELDS} | set(PAGE_KEYS) | set(BOUND_KEYS)
MARKUP = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \n\twh1"
ANY_TEXT = st.one_of(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40),
                     st.text(alphabet=MARKUP, min_size=1, max_size=40), st.sampled_from(PAYLOADS))


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(ANY_TEXT, min_size=1, max_size=12, unique_by=plain))
def test_any_text_in_a_link_reads_back_as_typed(server, page, keys):
    """Arbitrary keys, each named back in a warning: the browser shows exactly plain(key)."""
    keys = [k for k in keys if plain(k) and k not in KNOWN]
    watch = Watch(page, server)
    page.goto(f"{server}/?{_query([(k, '1') for k in keys] + [('tab', 'Training')])}")
    page.wait_for_selector(ALERTS, timeout=60000)
    wait_idle(page, 90)
    said = [t.replace(JOINER, "") for t in page.evaluate(SHOWN, ALERTS)]
    for key in keys:
        expected = f"The link asked for something this lab cannot do. Ignored the unknown setting '{plain(key)}'."
        assert expected in said, (key, said)
    assert page.locator(f"{ALERTS} :is(h1, h2, h3, h4, h5, h6, img, a, strong, em, code, span.katex, del)").count() == 0
    assert watch.outside() == []


def hostile_csv() -> bytes:
    values = (IMAGE, "<i>yes</i> :red[r]")
    rows = "".join(f"{5 + i * 0.1:.2f},{80 + (i * 7) % 50},{values[i % 2]}\n" for i in range(40))
    return f"{PAYLOADS[1]},{PAYLOADS[3]} {'x' * 10_000},{PAYLOADS[6]}\n{rows}".encode()


def upload(page, name: str, content: bytes) -> None:
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    wait_idle(page, 90)


def test_an_uploads_names_and_values_show_as_typed(server, page, artifacts):
    watch = Watch(page, server)
    page.goto(server + "/?source=upload&epochs=3&compare=off&tab=Running statistics %26 test time")
    page.wait_for_selector("[data-testid='stFileUploaderDropzoneInput']", state="attached", timeout=60000)
    wait_idle(page, 90)
    upload(page, "names.csv", hostile_csv())
    open_tab(page, "Running statistics & test time")
    page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 4", timeout=60000)
    wait_idle(page)
    page.screenshot(path=str(artifacts / "visitor-text-upload.png"), full_page=True)
    assert watch.outside() == []
    a, b = plain(PAYLOADS[1]), plain(PAYLOADS[3] + " " + "x" * 10_000)
    assert b.endswith("…")
    captions = as_seen(page.evaluate(SHOWN, "[data-testid='stCaptionContainer']"))
    assert f"Features: {a} and {b}; label: {plain(PAYLOADS[6])}." in captions
    labels = as_seen(page.evaluate(SHOWN, "[data-testid='stWidgetLabel']"))
    assert a in labels and b in labels
    metrics = as_seen(page.evaluate(SHOWN, "[data-testid='stMetricValue']"))
    assert f"P({plain(PAYLOADS[6])})" in metrics
    chart_text = as_seen(page.evaluate("""() => [...document.querySelectorAll(
        '.js-plotly-plot .legendtext, .js-plotly-plot .gtitle, .js-plotly-plot .xtitle, .js-plotly-plot .ytitle')]
        .map(e => e.textContent)"""))
    assert f"{plain(PAYLOADS[6])} = {IMAGE}" in chart_text and "<i>yes</i> :red[r]" in chart_text
    assert a in chart_text
    main = "[data-testid='stMain']"
    assert page.locator(f"{main} [data-testid='stMarkdownContainer'] :is(img, h1, span.katex)").count() == 0
    assert page.locator(f"{main} .js-plotly-plot a").count() == 0
    for tab in ("Training", "Loss landscape"):                   # the network diagram, the input-scaling axes
        open_tab(page, tab)
        page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 2", timeout=60000)
        wait_idle(page)
        assert page.locator(f"{main} .js-plotly-plot a").count() == 0
        chart_text = as_seen(page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot text')]
            .map(e => e.textContent)"""))
        assert a in chart_text, tab
    assert watch.outside() == []
    labels = as_seen(page.evaluate(SHOWN, ".bnw-label, .bnw-head"))      # the training view's own text
    assert "P(" + plain(PAYLOADS[6]) + ")" in labels


def test_a_file_over_the_limit_gets_a_sentence(server, page, artifacts):
    page.goto(server + "/?source=upload&epochs=3&compare=off&tab=Training")
    page.wait_for_selector("[data-testid='stFileUploaderDropzoneInput']", state="attached", timeout=60000)
    wait_idle(page, 90)
    line = b"5.5,100,1\n"
    upload(page, "big.csv", b"gpa,iq,placed\n" + line * ((MAX_BYTES + MAX_BYTES // 10) // len(line)))
    page.wait_for_function("[...document.querySelectorAll(\"[data-testid='stAlert']\")]"
                           ".some(e => e.innerText.includes('the limit for an upload is 5 MB'))", timeout=60000)
    page.screenshot(path=str(artifacts / "visitor-text-too-big.png"))
    said = as_seen(page.evaluate(SHOWN, ALERTS))
    assert "That file cannot be used: The file is 5.5 MB" in said
