"""The training view in headless Chromium: one clock moves every panel, scrubbing shows the Run's
numbers, the first screen holds it, and a phone gets it without sideways scrolling."""
import time

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.compare import shared_start
from bnviz.inference import predict
from bnviz.train import architecture, initial_params
from bnviz.watch import MAX_FRAMES
from tests.browser.helpers import wait_idle
from tests.test_watch import plain_forward

pytestmark = pytest.mark.browser

PANELS = """() => [...document.querySelectorAll('.bnw-plot')].map(d => ({
    run: +d.dataset.run, panel: +d.dataset.panel, frame: +d.dataset.frame, step: +d.dataset.step,
    top: d.getBoundingClientRect().top, bottom: d.getBoundingClientRect().bottom,
    left: d.getBoundingClientRect().left, right: d.getBoundingClientRect().right,
    values: d.bnwValues && Object.fromEntries(Object.entries(d.bnwValues).map(
        ([k, v]) => [k, (v && v.length !== undefined) ? Array.from(v) : v]))}))"""


def open_view(page, url):
    page.goto(url)
    page.wait_for_selector(".bnw-plot", timeout=90000)
    wait_idle(page, 90)
    page.wait_for_function("document.querySelectorAll('.bnw-plot').length >= 5", timeout=30000)


def pause(page):
    if page.locator(".bnw-play").inner_text().strip() == "❚❚":
        page.locator(".bnw-play").click()


@pytest.fixture(scope="module")
def runs():
    """The default page's runs, trained here the same way: A with BN, B without, same start."""
    a_cfg, b_cfg = Config(), Config(bn=False)
    data = load_for(a_cfg)
    a = train(a_cfg, data)
    b = train(b_cfg, data, shared_start(a.initial_params, initial_params(b_cfg, architecture(b_cfg)), a_cfg, b_cfg))
    return a, b, data


def test_one_clock_moves_every_panel_and_scrubbing_shows_the_runs_numbers(server, browser, artifacts, runs):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    open_view(page, server + "/")
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "watch-1280x720.png"))

    # the first screen: every panel and the sentence under the view, without scrolling
    panels = page.evaluate(PANELS)
    assert len(panels) == 10 and {p["run"] for p in panels} == {0, 1}
    assert max(p["bottom"] for p in panels) <= 720
    sentence = page.get_by_text("Watch the histogram")
    assert sentence.bounding_box()["y"] + sentence.bounding_box()["height"] <= 720

    # play: every panel moves on, together
    pause(page)
    page.locator(".bnw-slider").fill("0")
    before = page.evaluate(PANELS)
    assert {p["step"] for p in before} == {0}
    page.locator(".bnw-play").click()
    for i in range(4):                                    # a short sequence of frames, to look at
        time.sleep(0.6)
        page.screenshot(path=str(artifacts / f"watch-frame-{i + 1}.png"), clip=dict(x=300, y=150, width=980,
                                                                                     height=500))
    after = page.evaluate(PANELS)
    steps = {p["step"] for p in after}
    assert len(steps) == 1 and steps.pop() > 0, after
    assert all(a["frame"] > b["frame"] for a, b in zip(after, before))

    # scrub: the numbers drawn are the Run's at that step
    pause(page)
    page.locator(".bnw-slider").fill("57")
    shown = page.evaluate(PANELS)
    a, b, data = runs
    X = data.standardize(data.X_train)
    for r, run in enumerate((a, b)):
        mine = {p["panel"]: p for p in shown if p["run"] == r}
        t = mine[0]["step"]
        assert t == round(57 * run.n_steps / (MAX_FRAMES - 1)) and all(p["step"] == t for p in mine.values())
        assert mine[0]["values"]["loss"] == pytest.approx(run.train_loss[t - 1], rel=1e-6)
        _, layers = plain_forward(run, run.params_at(t), X)
        z, bn_out, _, bn_in = layers[1]
        values = (bn_out if run.n_bn else z)[:, 0]
        hist = mine[2]["values"]
        assert hist["median"] == pytest.approx(np.percentile(values, 50), rel=1e-5, abs=1e-6)
        assert [hist["p15"], hist["p85"]] == pytest.approx(np.percentile(values, [15, 85]), rel=1e-5, abs=1e-6)
        stats = mine[3]["values"]
        exact = (bn_in if run.n_bn else z)[:, 0]
        assert stats["exact_mean"] == pytest.approx(exact.mean(), rel=1e-5, abs=1e-6)
        if run.n_bn:
            assert stats["running_mean"] == pytest.approx(run.running_mean[1][t - 1, 0], rel=1e-5, abs=1e-6)
            assert stats["running_var"] == pytest.approx(run.running_var[1][t - 1, 0], rel=1e-5, abs=1e-6)
        else:
            assert "running_mean" not in stats
        grid = mine[4]["values"]
        G = grid["grid"]
        prob = np.array(grid["prob"]).reshape(G, G) / 255
        gx = np.linspace(*_grid_span(data, 0), G)
        gy = np.linspace(*_grid_span(data, 1), G)
        expected = predict(run, data, [[gx[9], gy[20]]], state=t)[0]
        assert prob[20, 9] == pytest.approx(expected, abs=0.5 / 255 + 1e-9)
    assert page.locator(".bnw-step").inner_text().startswith(f"step {shown[0]['step']:,} of")
    assert not errors
    context.close()


def _grid_span(data, column):
    X = np.vstack([data.X_train, data.X_test])[:, column]
    pad = (X.max() - X.min()) * 0.08
    return X.min() - pad, X.max() + pad


def test_a_phone_gets_the_view_stacked_with_a_thumb_sized_play_button(server, browser, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    open_view(page, server + "/?epochs=20")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    panels = page.evaluate(PANELS)
    assert all(p["right"] <= 390 for p in panels)
    a_loss = next(p for p in panels if p["run"] == 0 and p["panel"] == 0)
    b_loss = next(p for p in panels if p["run"] == 1 and p["panel"] == 0)
    a_surface = next(p for p in panels if p["run"] == 0 and p["panel"] == 1)
    assert a_loss["top"] == b_loss["top"] and a_loss["right"] <= b_loss["left"]     # A beside B
    assert a_surface["top"] >= a_loss["bottom"]                                      # panels stacked
    play = page.locator(".bnw-play").bounding_box()
    assert play["height"] >= 44 and play["width"] >= 44
    page.screenshot(path=str(artifacts / "watch-390x844.png"))
    page.locator(".bnw-play").tap()
    time.sleep(1.0)
    assert len({p["step"] for p in page.evaluate(PANELS)}) == 1
    context.close()


def test_digits_view_follows_test_accuracy_in_its_last_panel(server, browser):
    """64 inputs and 10 classes: no feature plane to paint; the last panel draws each run's test accuracy
    up to the shown step, the numbers the engine computed for that frame."""
    from bnviz.watch import watch_pair

    cfg = Config(dataset="digits", epochs=2)
    data = load_for(cfg)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    open_view(page, server + "/?dataset=digits&epochs=2&compare=bn")
    assert page.locator("[data-testid='stException']").count() == 0 and not errors
    pause(page)
    heads = page.locator(".bnw-head").all_inner_texts()
    assert heads[-1] == "Test accuracy"
    panels = [p for p in page.evaluate(PANELS) if p["panel"] == 4]
    assert len(panels) == 2
    a = train(cfg, data)
    view = watch_pair(a, None, data, frames=MAX_FRAMES)[0]
    shown = panels[0]
    frame = int(np.flatnonzero(view.states == shown["step"])[0])
    assert shown["values"]["accuracy"] == pytest.approx(view.accuracy[frame], abs=1e-6)   # sent as float32
    assert page.locator(".bnw-plot[data-panel='4'] path").count() >= 2
    context.close()
