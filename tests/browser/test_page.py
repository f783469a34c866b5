"""The lab in headless Chromium: it loads, every tab draws, toggles act, links reproduce."""
import pytest

from bnviz.ui.tabs import TABS
from tests.browser.helpers import CHART, chart_count, first_trace, open_page, open_tab, wait_idle

pytestmark = pytest.mark.browser

# what each tab must draw: charts (or, for table and formula tabs, the element that carries them)
EXPECTED = {
    "Training": 2, "Lessons": 0, "Loss landscape": 3, "Activations": 3, "Running statistics & test time": 4,
    "Batch calculator": 0, "Parameters": 3, "Sweeps": 0, "The math": 0,
}


def test_page_loads_and_every_tab_draws(server, page, artifacts):
    page.set_viewport_size({"width": 1400, "height": 2600})   # tall, so a screenshot holds a whole tab
    open_page(page, server + "/?epochs=20", charts=0)          # Lessons, the first tab, has no Plotly
    assert page.title().startswith("bnviz")
    for label in TABS:
        open_tab(page, label)
        if label == "Sweeps":
            page.get_by_role("button", name="Learning-rate sweep").click()
            page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 1", timeout=60000)
            wait_idle(page)
            assert chart_count(page) >= 1
        elif label == "Batch calculator":
            page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30000)   # a lazily loaded component
            assert page.locator("[data-testid='stDataFrame']").count() == 1
            assert page.locator(".katex").count() >= 4
        elif label == "The math":
            assert page.locator(".katex").count() >= 6
        else:
            page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= {EXPECTED[label]}",
                                   timeout=60000)
            assert chart_count(page) >= EXPECTED[label]
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(artifacts / f"tab-{TABS.index(label) + 1}-{label.split()[0].lower()}.png"),
                        full_page=True)


def test_toggling_bn_changes_the_loss_curve(server, page):
    open_page(page, server + "/?epochs=10&compare=off&tab=Training", charts=1)
    before = first_trace(page)
    page.locator("[data-testid='stSidebar']").get_by_text("Batch normalization", exact=True).click()
    page.wait_for_url("**bn=0**", timeout=60000)
    wait_idle(page)
    assert "bn=0" in page.url
    assert first_trace(page) != before


def test_a_shared_link_draws_the_same_charts(server, browser, artifacts):
    link = server + "/?lr=0.3&hidden=4,2&epochs=12&optimizer=momentum&compare=batch_size&tab=Training"
    numbers = []
    for i in range(2):                       # two separate visitors: fresh contexts, no shared state
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        open_page(page, link, charts=2)
        numbers.append([first_trace(page, k) for k in range(4)])
        page.screenshot(path=str(artifacts / f"shared-link-visitor-{i + 1}.png"))
        context.close()
    assert numbers[0] == numbers[1]


def test_copy_link_shows_the_link_to_this_experiment(server, page, artifacts):
    open_page(page, server + "/?lr=0.3&epochs=12&compare=off&tab=Training", charts=1)
    page.get_by_role("button", name="Copy link").click()
    code = page.locator("[data-testid='stCode']").first
    code.wait_for(timeout=30000)
    text = code.inner_text()
    assert "lr=0.3" in text and "epochs=12" in text and "compare=off" in text
    page.screenshot(path=str(artifacts / "copy-link.png"))


def test_a_mangled_link_warns_and_draws(server, page, artifacts):
    open_page(page, server + "/?lr=fast&epochs=-2&hidden=0&banana=1&tab=Training", charts=1)
    warnings = page.locator("[data-testid='stAlert']").all_inner_texts()
    text = " ".join(warnings)
    for name in ("lr", "epochs", "hidden", "banana"):
        assert name in text
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "mangled-link.png"))
