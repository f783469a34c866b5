"""Waiting for the page the way a person would: until it has finished drawing."""
import time

CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'   # the tabs' charts, not the training view's panels
RUNNING = "[data-testid='stStatusWidget']"


def wait_idle(page, timeout: float = 60.0) -> None:
    """Until Streamlit has finished its script run (no 'Running…' indicator) and the app is connected."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout * 1000)
    deadline = time.time() + timeout
    quiet_since = None
    while time.time() < deadline:
        busy = page.query_selector(RUNNING) is not None and page.is_visible(RUNNING)
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > 0.6:
            return
        time.sleep(0.1)
    raise TimeoutError("the page kept running")


def open_page(page, url: str, charts: int = 1, timeout: float = 60.0) -> None:
    page.goto(url)
    page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= {charts}", timeout=timeout * 1000)
    wait_idle(page, timeout)


def chart_count(page) -> int:
    return page.evaluate(f"document.querySelectorAll('{CHART}').length")


def first_trace(page, index: int = 0) -> list:
    """The y values of one trace of the first chart on the page (the training curves)."""
    return page.evaluate(f"""() => {{
        const gd = document.querySelector('{CHART}');
        return Array.from(gd._fullData[{index}].y).map(Number);   // decoded from Plotly's binary arrays
    }}""")


def open_tab(page, label: str) -> None:
    page.get_by_role("tab", name=label, exact=True).click()
    wait_idle(page)
