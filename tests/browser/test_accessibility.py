"""WCAG 2.1 A and AA in Chromium, checked by axe-core's own engine on every view of the lab.

The views: the first screen, each tab, compare mode on another setting, and the page
after a CSV upload. Each view's violations are written to artifacts/browser/axe.json
(rule id -> number of elements), so a failure names what broke where.
"""
import json

import pytest

from bnviz.ui.tabs import TABS
from tests.browser.helpers import CHART, open_page, open_tab, wait_idle

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
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
    elif label == "The math":
        page.locator(".katex").first.wait_for(timeout=30000)
    elif label not in ("Lessons",):
        page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 1", timeout=60000)
    wait_idle(page)


VIEWS = ["first screen"] + [f"tab: {t}" for t in TABS] + ["compare: learning rate", "after an upload"]


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
