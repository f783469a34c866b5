"""WCAG 2.1 A and AA in Chromium, checked by axe-core's own engine on every view of the lab.

The views: the first screen, each tab, compare mode on another setting, and the page
after a CSV upload. Each view's violations are written to artifacts/browser/axe.json
(rule id -> number of elements), so a failure names what broke where.
"""
import json
import time

import pytest

from bnviz.lessons import LESSONS
from bnviz.ui.tabs import TABS
from tests.browser.helpers import CHART, open_page, open_tab, wait_idle

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CARD = ".bnviz-card"
COUNTS: dict = {}
DETAILS: dict = {}


def axe_violations(page) -> dict:
    """{rule id: [the offending elements' selectors]} for WCAG 2.1 A and AA on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    return {v["id"]: [f"{' '.join(map(str, n['target']))}: {n.get('failureSummary', '')}" for n in v["nodes"]]
            for v in result.response["violations"]}


def record(artifacts, view: str, found: dict) -> None:
    COUNTS[view] = {rule: len(nodes) for rule, nodes in found.items()}
    (artifacts / "axe.json").write_text(json.dumps(COUNTS, indent=1))
    DETAILS[view] = found
    (artifacts / "axe-details.json").write_text(json.dumps(DETAILS, indent=1))


def upload_csv(page) -> None:
    rows = "".join(f"{5 + (i % 40) * 0.1:.2f},{80 + (i * 7) % 50},{int((i * 13) % 10 > 4)}\n" for i in range(120))
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "students.csv", "mimeType": "text/csv", "buffer": ("cgpa,iq,placed\n" + rows).encode()}])
    wait_idle(page, 90)


def settle(page, label: str) -> None:
    """Until the tab has drawn what it draws (charts, formulas, its table)."""
    if label == "Sweeps":
        page.get_by_role("button", name="Learning-rate sweep").click()
        page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 1", timeout=90000)
    elif label == "Batch calculator":
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30000)
    elif label == "Lessons":               # every card measured: its verdicts, strip charts and tables
        charts = sum(1 if lesson.same_experiment else 2 for lesson in LESSONS)
        page.wait_for_function(f"document.querySelectorAll(\"{CARD} svg[data-lo]\").length >= {charts}",
                               timeout=600000)
    elif label == "The math":
        page.locator(".katex").first.wait_for(timeout=30000)
    else:
        page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 1", timeout=60000)
    wait_idle(page)


# off the feature plane and with layer norm, the test-time tab draws what only those draw: the digit
# sheets, confusion matrices, one digit's probabilities, one row alone and inside batches
OTHER_DATA = {"digits: test time": "dataset=digits&hidden=16,16&epochs=3",
              "layer norm: test time": "norm=layer&hidden=8,8&epochs=10"}
VIEWS = (["first screen"] + [f"tab: {t}" for t in TABS] + ["compare: learning rate", "after an upload"]
         + list(OTHER_DATA))


@pytest.mark.parametrize("view", VIEWS)
def test_no_wcag_21_aa_violation(server, page, artifacts, view):
    if view == "first screen":
        open_page(page, server + "/", charts=0)
        page.wait_for_selector(".bnw-plot", timeout=90000)
        wait_idle(page, 90)
    elif view.startswith("tab: "):
        label = view[5:]
        open_page(page, server + "/?epochs=20", charts=0)
        open_tab(page, label)
        settle(page, label)
    elif view in OTHER_DATA:
        open_page(page, f"{server}/?{OTHER_DATA[view]}&tab=Running+statistics+%26+test+time", charts=3, timeout=90)
        settle(page, "Running statistics & test time")
    elif view.startswith("compare"):
        open_page(page, server + "/?epochs=20&compare=lr&b=0.3&tab=Training", charts=1)
    else:
        page.goto(server + "/?source=upload&epochs=5&tab=Training")
        page.wait_for_selector("[data-testid='stFileUploaderDropzoneInput']", state="attached", timeout=60000)
        wait_idle(page, 90)
        upload_csv(page)
        page.wait_for_function("[...document.querySelectorAll(\"[data-testid='stCaptionContainer']\")]"
                               ".some(e => e.innerText.includes('cgpa'))", timeout=60000)
        settle(page, "Training")
    assert page.locator("[data-testid='stException']").count() == 0
    found = axe_violations(page)
    record(artifacts, view, found)
    page.screenshot(path=str(artifacts / f"axe-{VIEWS.index(view):02d}.png"))
    assert found == {}, json.dumps(found, indent=1)[:4000]


# ------------------------------------------------------------------ the keyboard

ACTIVE = """() => { const e = document.activeElement; const s = getComputedStyle(e);
    return {cls: e.className, id: e.id, label: e.getAttribute('aria-label'), outline: s.outlineStyle,
            width: parseFloat(s.outlineWidth)}; }"""
FRAME = "() => +document.querySelector('.bnw').parentElement.dataset.frame"


def keyboard_view(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(server + "/")
    page.wait_for_function("document.querySelectorAll('.bnw-plot').length >= 5", timeout=90000)
    wait_idle(page, 90)
    return context, page


def test_play_is_a_few_tab_presses_away_and_the_keyboard_drives_the_view(server, browser, artifacts):
    context, page = keyboard_view(browser, server)
    presses = 0
    while presses < 10:
        page.keyboard.press("Tab")
        presses += 1
        if page.evaluate(ACTIVE)["id"] == "bnviz-skip":
            break
    assert page.evaluate(ACTIVE)["id"] == "bnviz-skip", presses
    page.screenshot(path=str(artifacts / "keyboard-skip-link.png"), clip=dict(x=0, y=0, width=640, height=120))
    page.keyboard.press("Enter")
    play = page.evaluate(ACTIVE)
    assert "bnw-play" in play["cls"] and presses <= 10
    assert play["outline"] != "none" and play["width"] >= 2          # a visible focus ring
    page.screenshot(path=str(artifacts / "keyboard-play-focused.png"), clip=dict(x=200, y=100, width=900, height=120))

    if page.evaluate(ACTIVE)["label"] == "Pause":                    # a short run starts on its own
        page.keyboard.press("Space")
    assert page.evaluate(ACTIVE)["label"] == "Play"
    page.keyboard.press("Home")                                      # on a button: the first frame
    assert page.evaluate(FRAME) == 0
    page.keyboard.press("ArrowRight")
    assert page.evaluate(FRAME) == 1

    # play from the keyboard, and count what the polite live region says: at most once a second
    page.evaluate("""() => { window.__said = []; const live = document.querySelector('.bnw-live');
        new MutationObserver(() => window.__said.push([performance.now(), live.textContent]))
            .observe(live, {childList: true, characterData: true, subtree: true}); }""")
    page.keyboard.press("Space")
    assert page.evaluate(ACTIVE)["label"] == "Pause"
    time.sleep(3.2)
    page.keyboard.press("Space")
    assert page.evaluate(ACTIVE)["label"] == "Play"
    stopped = page.evaluate(FRAME)
    assert stopped > 1
    said = page.evaluate("window.__said")
    times = [t for t, _ in said]
    assert 2 <= len(said) <= 5, said                                 # 3.2 s of playing, then where it stopped
    assert all(b - a >= 990 for a, b in zip(times[:-2], times[1:-1])), times
    step = int(page.evaluate("document.querySelector('.bnw').parentElement.dataset.step"))
    assert said[-1][1].startswith(f"Step {step:,} of ")
    assert page.locator(".bnw-live").get_attribute("aria-live") == "polite"

    # step with the frame buttons, scrub with the slider
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)["label"] == "one frame forward"
    page.keyboard.press("Enter")
    assert page.evaluate(FRAME) == stopped + 1
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(ACTIVE)["label"] == "one frame back"
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.evaluate(FRAME) == stopped - 1
    for _ in range(3):
        page.keyboard.press("Tab")
    assert "bnw-slider" in page.evaluate(ACTIVE)["cls"]
    page.keyboard.press("End")
    last = page.evaluate(FRAME)
    assert last == int(page.locator(".bnw-slider").get_attribute("max"))
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(FRAME) == last - 1
    assert page.locator(".bnw-slider").get_attribute("aria-valuetext").startswith("step ")
    context.close()


# ------------------------------------------------------------- charts that speak

NAMES = """() => ({
    plotly: [...document.querySelectorAll("[data-testid='stPlotlyChart']")].map(c => {
        const said = document.getElementById(c.getAttribute('aria-describedby') || '');
        return {role: c.getAttribute('role'), name: c.getAttribute('aria-label'), said: said && said.textContent}; }),
    panels: [...document.querySelectorAll('.bnw-plot')].map(p => ({role: p.getAttribute('role'),
                                                                  name: p.getAttribute('aria-label')})),
    tables: document.querySelectorAll("[class*='st-key-chart-'] table").length,
    view_rows: document.querySelectorAll("table.bnviz-unseen tbody tr").length})"""


@pytest.mark.parametrize("tab", ["Training", "Parameters", "Running statistics & test time", "Activations",
                                 "Loss landscape"])
def test_every_chart_has_a_name_and_a_sentence_from_its_numbers(server, page, tab):
    open_page(page, server + "/?epochs=20", charts=0)
    open_tab(page, tab)
    settle(page, tab)
    page.wait_for_function("[...document.querySelectorAll(\"[data-testid='stPlotlyChart']\")]"
                           ".every(c => c.getAttribute('aria-label'))", timeout=10000)
    found = page.evaluate(NAMES)
    assert found["plotly"] and len(found["panels"]) == 10
    for chart in found["plotly"]:
        assert chart["role"] == "figure" and chart["name"], chart
        assert chart["said"] and any(ch.isdigit() for ch in chart["said"]), chart
    for panel in found["panels"]:
        assert panel["role"] == "img" and any(ch.isdigit() for ch in panel["name"]), panel
    assert found["tables"] >= 1                      # the numbers as tables (in collapsed expanders)
    assert found["view_rows"] >= 10                  # the training view's, for a screen reader only
    if tab == "Training":
        said = found["plotly"][0]["said"]
        assert said.startswith("Mini-batch loss over ") and "with BN it " in said and "without it " in said
