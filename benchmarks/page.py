"""How fast the page answers, in headless Chromium (Debian's /usr/bin/chromium).

    python benchmarks/page.py

Starts `streamlit run app.py` on a free port, then measures
- open: a new visitor (fresh browser context) from navigation to the Training
  tab's charts drawn, with the server already warm;
- change: from moving the learning-rate slider one notch to the training
  curves redrawn with the new run (each notch is a run not yet in the cache).
Prints a table; nothing here is a test.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser.conftest import CHROMIUM, _free_port  # noqa: E402
from browser.helpers import open_page, wait_idle  # noqa: E402

CURVES_CHANGED = """(before) => {
    const gd = document.querySelector('.js-plotly-plot');
    if (!gd || !gd._fullData || !gd._fullData[0]) return false;
    return JSON.stringify(Array.from(gd._fullData[0].y).slice(0, 30).map(Number)) !== before;
}"""


# The floor: the smallest Streamlit page that draws one Plotly chart, served and opened the same way.
REFERENCE_APP = """
import plotly.graph_objects as go
import streamlit as st
st.title("reference")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])), theme=None)
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[2, 1, 3])), theme=None)
"""


def serve(app: Path = ROOT / "app.py"):
    import subprocess
    import urllib.request

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.port",
                             str(port), "--server.headless", "true", "--server.address", "127.0.0.1"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not start")


def open_times(browser, base: str, visits: int, returning: bool = False) -> list:
    """Seconds from navigation to two charts drawn, for `visits` visitors to a warm server:
    new visitors (a fresh browser context each) or one returning visitor (its cache warm)."""
    warm = browser.new_context(viewport={"width": 1400, "height": 900})
    open_page(warm.new_page(), base + "/?tab=Training", charts=2)      # the server's (or this browser's) first visit
    times = []
    for _ in range(visits):
        context = warm if returning else browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        started = time.perf_counter()
        page.goto(base + "/?tab=Training")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60000)
        times.append(time.perf_counter() - started)
        page.close()
        if not returning:
            context.close()
    warm.close()
    return times


def floor_times(visits: int) -> tuple:
    """(new visitors, returning visitor): open_times for the bare reference page, served the same way."""
    import tempfile

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        reference_app = Path(tmp) / "reference.py"
        reference_app.write_text(REFERENCE_APP)
        ref_proc, ref_base = serve(reference_app)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                times = open_times(browser, ref_base, visits), open_times(browser, ref_base, visits, returning=True)
                browser.close()
        finally:
            ref_proc.terminate()
    return times


def main(visits: int = 5, notches: int = 5):
    from playwright.sync_api import sync_playwright

    floor, floor_back = floor_times(visits)

    proc, base = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            opens = open_times(browser, base, visits)
            opens_back = open_times(browser, base, visits, returning=True)

            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            open_page(page, base + "/?tab=Training", charts=2)
            slider = page.locator("[data-testid='stSidebar'] [data-testid='stSlider']").filter(
                has_text="Learning rate").get_by_role("slider")
            changes = []
            for _ in range(notches):
                before = page.evaluate("() => JSON.stringify(Array.from(document.querySelector('.js-plotly-plot')"
                                       "._fullData[0].y).slice(0, 30).map(Number))")
                started = time.perf_counter()
                slider.press("ArrowLeft")
                page.wait_for_function(CURVES_CHANGED, arg=before, timeout=60000)
                changes.append(time.perf_counter() - started)
                wait_idle(page)
            context.close()
            browser.close()
    finally:
        proc.terminate()

    def row(name, values, goal):
        return (f"| {name:58s} | {min(values):6.2f} s | {statistics.median(values):6.2f} s | "
                f"{max(values):6.2f} s | {goal:>6s} |")

    print("bnviz page speed, headless Chromium on this machine (default experiment, BN on vs off)")
    print()
    print(f"| {'measure':58s} | {'best':>8s} | {'median':>8s} | {'worst':>8s} | {'goal':>6s} |")
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 8}|")
    print(row(f"open ?tab=Training -> its charts drawn ({visits} new visitors)", opens, "< 2 s"))
    print(row("  the same for a bare page with two tiny Plotly charts", floor, "floor"))
    print(row("open the page again (browser cache warm)", opens_back, "< 2 s"))
    print(row("  the same for the bare page", floor_back, "floor"))
    print(row(f"move the lr slider -> curves redrawn ({notches} new runs)", changes, "< 1 s"))


if __name__ == "__main__":
    main()
