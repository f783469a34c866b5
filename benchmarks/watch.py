"""How the training view performs, in headless Chromium (Debian's /usr/bin/chromium).

    python benchmarks/watch.py

Measures, and prints (nothing here is a test):
- payload: the view's JSON for the default experiment (runs A and B), as sent to the page;
- playback: frames the player draws per second at 1x (the pace a class follows: a whole run
  in 10 s) and at 4x (as fast as it can), with requestAnimationFrame callbacks for comparison;
- open: a new visitor, from navigation to every panel drawn at a step, against the bare
  Streamlit page of benchmarks/page.py (the floor) opened the same way;
- streaming: for a run long enough to take a few seconds, how often the view is redrawn
  while it trains (views built per second by the browser).
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from browser.conftest import CHROMIUM  # noqa: E402
from page import floor_times, serve  # noqa: E402

DRAWN = "document.querySelectorAll('.bnw-plot[data-step]').length >= 10"

COUNT_PLAYBACK = """async (seconds) => {
    const player = document.querySelector('.bnw').parentElement.__bnvizWatch;
    player.pause();
    player.show(0);
    let callbacks = 0, counting = true;
    const count = () => { callbacks += 1; if (counting) requestAnimationFrame(count); };
    requestAnimationFrame(count);
    const drawn = player.drawn, started = performance.now();
    player.play();
    await new Promise((done) => setTimeout(done, seconds * 1000));
    counting = false;
    const elapsed = (performance.now() - started) / 1000;
    player.pause();
    return [(player.drawn - drawn) / elapsed, callbacks / elapsed];
}"""


def payload_bytes() -> int:
    from bnviz import Config, load_for, train
    from bnviz.compare import shared_start
    from bnviz.train import architecture, initial_params
    from bnviz.ui.watch import view_spec

    a_cfg, b_cfg = Config(), Config(bn=False)
    data = load_for(a_cfg)
    a = train(a_cfg, data)
    b = train(b_cfg, data, shared_start(a.initial_params, initial_params(b_cfg, architecture(b_cfg)), a_cfg, b_cfg))
    spec, _ = view_spec(a, b, data, autoplay=True)
    return len(json.dumps(spec))


# the first tab (Lessons): every card's chart drawn
TABS_DRAWN = "document.querySelectorAll(\".bnviz-card svg[data-lo]\").length >= 13"
VIEW_COST = """() => {
    const at = (name) => performance.getEntriesByName(name).map((e) => e.startTime).pop();
    return (at('bnviz-watch-drawn') - at('bnviz-watch-mount')) / 1000;
}"""


def open_times(browser, url: str, visits: int, ready: str, then: str | None = None) -> tuple:
    """(seconds to `ready` per new visitor, seconds to `then` as well, seconds the view's own drawing took)."""
    warm = browser.new_context(viewport={"width": 1280, "height": 720})
    first = warm.new_page()
    first.goto(url)
    first.wait_for_function(ready, timeout=120000)
    times, later, cost = [], [], []
    for _ in range(visits):
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function(ready, timeout=120000)
        times.append(time.perf_counter() - started)
        if then:
            cost.append(page.evaluate(VIEW_COST))
            page.wait_for_function(then, timeout=120000)
            later.append(time.perf_counter() - started)
        context.close()
    warm.close()
    return times, later, cost


def playback(browser, base: str, speed: float, seconds: float = 4.0) -> tuple:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(base + "/")
    page.wait_for_function(DRAWN, timeout=120000)
    time.sleep(1.0)
    page.select_option(".bnw-speed", f"{speed:g}")
    fps, raf = page.evaluate(COUNT_PLAYBACK, seconds)
    context.close()
    return fps, raf


STREAMED = "epochs=400&lr=0.11&compare=off"     # about as long a run as one run's budget allows


def streaming(browser, base: str, query: str = STREAMED) -> tuple:
    """(views drawn per second while training, seconds of training seen) for a long run not yet cached."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(base + "/?" + query)
    page.wait_for_function("document.querySelector('.bnw') && !document.querySelector('.bnw-step')"
                           ".textContent.startsWith('training')", timeout=300000)
    built = page.evaluate("window.__bnvizWatchBuilt || []")
    context.close()
    live = [t for t, _, is_live in built if is_live]
    if len(live) < 2:
        return float("nan"), 0.0
    span = (live[-1] - live[0]) / 1000
    return (len(live) - 1) / span, span


def main(visits: int = 5):
    from playwright.sync_api import sync_playwright

    size = payload_bytes()
    floor = floor_times(visits)[0]
    proc, base = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            opens, tabs, cost = open_times(browser, base + "/", visits, DRAWN, TABS_DRAWN)
            normal = playback(browser, base, 1)
            fastest = playback(browser, base, 4)
            stream_rate, stream_span = streaming(browser, base)
            browser.close()
    finally:
        proc.terminate()

    print("bnviz training view, headless Chromium on this machine (default experiment: BN on vs off)")
    print()
    print(f"| {'measure':62s} | {'value':>16s} | {'goal':>12s} |")
    print(f"|{'-' * 64}|{'-' * 18}|{'-' * 14}|")
    print(f"| {'view payload, default runs A and B (JSON)':62s} | {size / 1e6:13.2f} MB | {'<= 2 MB':>12s} |")
    print(f"| {'playback at 1x: frames drawn per second':62s} | {normal[0]:12.1f} fps | {'>= 20':>12s} |")
    print(f"| {'  requestAnimationFrame callbacks meanwhile':62s} | {normal[1]:12.1f} /s | {'':>12s} |")
    print(f"| {'playback at 4x: frames drawn per second (as fast as it can)':62s} | {fastest[0]:12.1f} fps | "
          f"{'>= 20':>12s} |")
    print(f"| {'  requestAnimationFrame callbacks meanwhile':62s} | {fastest[1]:12.1f} /s | {'':>12s} |")
    print(f"| {'open the page -> every panel drawn (median of %d new visitors)' % visits:62s} | "
          f"{statistics.median(opens):14.2f} s | {'':>12s} |")
    print(f"| {'  the bare Streamlit page (two tiny charts), same way':62s} | "
          f"{statistics.median(floor):14.2f} s | {'floor':>12s} |")
    print(f"| {'  difference':62s} | {statistics.median(opens) - statistics.median(floor):14.2f} s | "
          f"{'<= 0.3 s':>12s} |")
    own = "  of which the view's own drawing (mounted -> all drawn)"
    print(f"| {own:62s} | {statistics.median(cost):14.3f} s | {'':>12s} |")
    print(f"| {'  the first tab (Lessons): every card drawn, same visits':62s} | {statistics.median(tabs):14.2f} s | "
          f"{'':>12s} |")
    print(f"| {'streaming a long run: views drawn per second while it trains':62s} | {stream_rate:14.1f} Hz | "
          f"{'>= 2':>12s} |")
    print(f"|   (over {stream_span:.1f} s of training seen){'':36s} | {'':>16s} | {'':>12s} |")


if __name__ == "__main__":
    main()
