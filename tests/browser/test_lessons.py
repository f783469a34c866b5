"""The Lessons view in headless Chromium: every card fills in by itself, with no exception."""
import time

import pytest

from bnviz.lessons import LESSONS
from tests.browser.helpers import open_page, wait_idle

pytestmark = pytest.mark.browser
CARD = ".bnviz-card"


def test_lessons_view_fills_in_every_card(server, page, artifacts):
    page.set_viewport_size({"width": 1400, "height": 900})
    started = time.time()
    open_page(page, server + "/?tab=Lessons&epochs=20", charts=0)
    page.locator(CARD).first.wait_for(timeout=60000)
    assert page.locator(CARD).count() == len(LESSONS)
    page.screenshot(path=str(artifacts / "lessons-first-view.png"))
    # the cards refresh themselves until every lesson is measured: one chart per experiment of a card
    charts = sum(1 if lesson.same_experiment else 2 for lesson in LESSONS)
    page.wait_for_function(f"document.querySelectorAll(\"{CARD} svg[data-lo]\").length >= {charts}",
                           timeout=600000)
    wait_idle(page)
    print(f"every card drawn {time.time() - started:.1f} s after opening the page")
    assert page.locator("[data-testid='stException']").count() == 0
    text = page.locator("[data-testid='stMainBlockContainer']").inner_text()
    assert "measuring" not in text
    page.set_viewport_size({"width": 1400, "height": 4200})
    page.screenshot(path=str(artifacts / "lessons-all-cards.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.locator(CARD).nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lessons-card-closeup.png"))
