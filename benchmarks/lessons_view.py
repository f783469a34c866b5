"""How fast the Lessons view is: measuring every verdict, and drawing the cards once measured.

    python benchmarks/lessons_view.py

- measure: ``bnviz.lessons.measure`` of every lesson over 10 seeds, one after
  the other in this process (what the server's background thread does once);
- build: every card's chart built from those verdicts;
- draw: in headless Chromium against `streamlit run app.py` on a free port,
  next to the floor of any tab click (the formulas-only tab: the whole page reruns),
  the server warm and its verdicts computed, from clicking the Lessons tab to
  every card's chart drawn;
- first view: from opening ?tab=Lessons to the first cards on screen while the
  server is still measuring (a fresh server).
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from page import serve  # noqa: E402
from browser.conftest import CHROMIUM  # noqa: E402
from browser.helpers import wait_idle  # noqa: E402

CARD = ".bnviz-card"


def measure_all():
    from bnviz.lessons import LESSONS, measure
    from bnviz.ui.lessons import SEEDS, spread_chart

    verdicts, seconds = [], []
    for lesson in LESSONS:
        started = time.perf_counter()
        verdicts.append(measure(lesson, SEEDS))
        seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    figs = [spread_chart(v) for v in verdicts]
    build = time.perf_counter() - started
    payload = sum(len(f) for f in figs)
    return LESSONS, verdicts, seconds, build, payload


def browser_times(draws: int):
    from playwright.sync_api import sync_playwright

    from bnviz.lessons import LESSONS

    n = sum(1 if lesson.same_experiment else 2 for lesson in LESSONS)      # a chart per experiment
    all_drawn = f"document.querySelectorAll(\"{CARD} svg circle\").length > 0 && " \
                f"document.querySelectorAll(\"{CARD} svg[data-lo]\").length >= {n}"
    proc, base = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            started = time.perf_counter()
            page.goto(base + "/?tab=Lessons")
            page.locator(CARD).first.wait_for(timeout=120000)
            first_view = time.perf_counter() - started
            page.wait_for_function(all_drawn, timeout=900000)
            measured = time.perf_counter() - started
            wait_idle(page)
            times, floor = [], []
            for _ in range(draws):
                page.goto(base + "/?tab=Training")
                page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60000)
                wait_idle(page)
                started = time.perf_counter()
                page.get_by_role("tab", name="The math", exact=True).click()
                page.wait_for_function("document.querySelectorAll('.katex').length >= 6", timeout=60000)
                floor.append(time.perf_counter() - started)
                wait_idle(page)
                page.goto(base + "/?tab=Training")
                page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60000)
                wait_idle(page)
                started = time.perf_counter()
                page.get_by_role("tab", name="Lessons", exact=True).click()
                page.wait_for_function(all_drawn, timeout=60000)
                times.append(time.perf_counter() - started)
                wait_idle(page)
            browser.close()
    finally:
        proc.terminate()
    return first_view, measured, times, floor


def main(draws: int = 5):
    lessons, verdicts, seconds, build, payload = measure_all()
    print("Lessons view speed on this machine (timings are noisy when other work shares the cores)")
    print()
    print("| lesson | status | seconds to measure (10 seeds) |")
    print("|---|---|---:|")
    for lesson, verdict, s in zip(lessons, verdicts, seconds):
        print(f"| {lesson.id} | {verdict.status} | {s:.2f} |")
    print(f"| **all {len(lessons)}** | | **{sum(seconds):.2f}** |")
    print()
    print(f"every card's chart built from the verdicts: {build * 1e3:.0f} ms, {payload / 1e3:.0f} kB of SVG")
    first_view, measured, times, floor = browser_times(draws)
    print(f"fresh server, ?tab=Lessons: first cards on screen after {first_view:.2f} s; "
          f"every card filled in after {measured:.1f} s")
    print(f"click the Lessons tab -> every card's chart drawn (verdicts ready, {draws} times): "
          f"best {min(times):.2f} s, median {statistics.median(times):.2f} s, worst {max(times):.2f} s (goal < 1 s)")
    print(f"  the floor, clicking the formulas-only tab 'The math' -> its formulas drawn: best {min(floor):.2f} s, "
          f"median {statistics.median(floor):.2f} s, worst {max(floor):.2f} s (the page's rerun, shared by every tab)")


if __name__ == "__main__":
    main()
