"""The classroom's goals, measured side by side in one run, each figure with the load average beside it.

    python benchmarks/goals.py [--quick]      (--quick: 10 visitors, one round, no browser)

1. a new default experiment's server CPU (runs A and B, the view, the first screen): benchmarks/experiment.py;
2. 30 visitors, each on a different default-sized experiment, one process: benchmarks/load.py's
   "distinct experiments" scenario (p95 time to page, health latency, memory);
3. slider to curves redrawn in Chromium against the bare Streamlit page: benchmarks/page.py;
4. the first visitor's Lessons tab on a fresh server (no warm start): every card, or still measuring;
5. every lesson's verdicts on seeds 0-9, one core: benchmarks/lessons.py's CPU total (what a server
   whose code differs from the shipped verdicts spends measuring them).

Other work on a shared machine stretches wall-clock figures (2, 3) far more than CPU figures
(1, 4); read them with the load average printed beside them. Nothing here is a test.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


ROUNDS = 3            # of the server-CPU and 30-visitor figures (one with --quick)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} / {five:.2f}"


def spread(values: list, digits: int) -> str:
    """"rounds: low to high" of a list of figures."""
    return f"{len(values)} rounds: {min(values):.{digits}f} to {max(values):.{digits}f}"


def main(argv=None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    quick = "--quick" in args
    rounds = 1 if quick else ROUNDS
    results = []

    import experiment
    from bnviz.ui.serve import Servers

    # the two figures that a shared machine moves most are measured in rounds, each on a fresh server
    # with experiments it has not seen, and given as the median and the range
    cpus = []
    for r in range(rounds):
        with Servers(1, 8795, "127.0.0.1") as servers:
            cpus.append(experiment.server_cpu(servers.url, servers.pids[0], range(1 + 12 * r, 13 + 12 * r))["mean"])
    results.append((f"new default experiment, server CPU (12 visits, {spread(cpus, 3)})",
                    f"{statistics.median(cpus):.3f} s", "<= 0.1 s", load()))

    import load as load_bench
    n = 10 if quick else 30
    rows = [load_bench.scenario("distinct experiments", 1, [f"seed={i + n * r}" for i in range(1, n + 1)], 8796)
            for r in range(rounds)]
    p95 = [row["p95"] for row in rows]
    results.append((f"{n} visitors, different experiments, one process: p95 ({spread(p95, 2)})",
                    f"{statistics.median(p95):.2f} s", "<= 2 s", load()))
    results.append(("  health check, slowest of every round", f"{max(row['health_max'] for row in rows):.3f} s",
                    "< 1 s", load()))
    results.append(("  memory peak / settled, highest of every round",
                    f"{max(row['peak_mb'] for row in rows):.0f} / {max(row['settled_mb'] for row in rows):.0f} MB",
                    "as before", load()))

    if not quick:
        import page
        changes, floor = page_figures(page)
        results.append(("slider -> curves redrawn (median of 5)", f"{statistics.median(changes):.2f} s", "", load()))
        results.append(("  bare Streamlit page opened (median of 5)", f"{statistics.median(floor):.2f} s", "", load()))
        results.append(("  the difference", f"{statistics.median(changes) - statistics.median(floor):.2f} s",
                        "<= 0.25 s", load()))

    from bnviz.ui.lessons import MEASURING
    from bnviz.ui.visit import visit_sync
    with Servers(1, 8797, "127.0.0.1", warm_start=False) as servers:        # a fresh server, nothing measured
        first = visit_sync(servers.url, "tab=Lessons")
    waiting = any(text.startswith(MEASURING) for text in first.texts("info"))
    results.append(("first visitor on a fresh server: Lessons tab, every card",
                    f"{first.seconds:.2f} s" + (" (measuring)" if waiting else ""), "no wait", load()))

    import lessons
    started = time.process_time()
    lessons.one_pass()
    results.append(("every lesson, both experiments, seeds 0-9, one core (CPU)",
                    f"{time.process_time() - started:.2f} s", "< 1 s", load()))

    print()
    width = max(len(name) for name, *_ in results)
    print(f"| {'goal':{width}s} | {'measured':>13s} | {'target':>9s} | {'while':>18s} |")
    print(f"|{'-' * (width + 2)}|{'-' * 15}|{'-' * 11}|{'-' * 20}|")
    for name, value, goal, while_ in results:
        print(f"| {name:{width}s} | {value:>13s} | {goal:>9s} | {while_:>18s} |")


def page_figures(page, notches: int = 5) -> tuple:
    """(slider-to-redraw seconds, bare page open seconds) as benchmarks/page.py measures them."""
    from playwright.sync_api import sync_playwright

    from browser.helpers import open_page, wait_idle

    floor, _ = page.floor_times(5)
    proc, base = page.serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=page.CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            tab = context.new_page()
            open_page(tab, base + "/?tab=Training", charts=2)
            slider = tab.locator("[data-testid='stSidebar'] [data-testid='stSlider']").filter(
                has_text="Learning rate").get_by_role("slider")
            changes = []
            for _ in range(notches):
                before = tab.evaluate("() => JSON.stringify(Array.from(document.querySelector('.js-plotly-plot')"
                                      "._fullData[0].y).slice(0, 30).map(Number))")
                started = time.perf_counter()
                slider.press("ArrowLeft")
                tab.wait_for_function(page.CURVES_CHANGED, arg=before, timeout=60000)
                changes.append(time.perf_counter() - started)
                wait_idle(tab)
            browser.close()
    finally:
        proc.terminate()
    return changes, floor


if __name__ == "__main__":
    main()
