"""What the training view's player receives (bnviz.figures.watch.watch_spec), by value: every array
decoded and compared with the WatchRun's, every axis range recomputed plainly, every note written out."""
import base64
import hashlib
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from bnviz import Config, train
from bnviz.compare import shared_start
from bnviz.data import Dataset
from bnviz.figures import watch as fw
from bnviz.figures.watch import share_y_ranges, watch_spec
from bnviz.train import architecture, initial_params
from bnviz.watch import watch_pair

BLUE, VERMILLION, DARK_VERMILLION = "#0072B2", "#D55E00", "#B84F00"
ORANGE, GREEN, BLACK = "#E69F00", "#009E73", "#000000"
KEY = ("Grey band: the middle 70% of rows (15th to 85th percentile); black line: the median. Solid: the running "
       "averages BN keeps for test time; dashed: the exact values over the training rows. P(placed): orange 0, "
       "green 1.")


def floats(text):
    return np.frombuffer(base64.b64decode(text), "<f4").astype(float)


def bytes_(text):
    return np.frombuffer(base64.b64decode(text), np.uint8)


def close(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-300)


def as_f32(values):
    return np.asarray(values, dtype=np.float32).astype(float)


def padded(values, pad=0.08):
    """A panel's range by hand: 1st to 99th percentile of the finite values (their ends for 50 or
    fewer), widened by 8% of the span on each side."""
    v = np.concatenate([np.ravel(x) for x in values])
    v = np.sort(v[np.isfinite(v)])
    if len(v) > 50:
        low, high = np.percentile(v, 1), np.percentile(v, 99)
    else:
        low, high = v[0], v[-1]
    span = max(high - low, 1e-6)
    return [low - pad * span, high + pad * span]


@pytest.fixture(scope="module")
def pair(data):
    """Two epochs (64 steps) with BN (A) and without (B), one start, and their views (65 frames)."""
    a_cfg, b_cfg = Config(epochs=2), Config(epochs=2, bn=False)
    a = train(a_cfg, data)
    b = train(b_cfg, data, shared_start(a.initial_params, initial_params(b_cfg, architecture(b_cfg)), a_cfg, b_cfg))
    return watch_pair(a, b, data, labels=("A", "B"))


# ---------------------------------------------------------------------------- small pieces


def test_float_arrays_travel_as_float32_held_inside_its_range():
    out = floats(fw.f32([1.5, np.nan, 1e39, -1e39, np.inf, -np.inf, 3.0e38]))
    assert out[0] == 1.5 and np.isnan(out[1])
    close(out[2:], as_f32([3.0e38, -3.0e38, 3.0e38, -3.0e38, 3.0e38]))
    assert np.isfinite(out[2:]).all()
    assert fw.f32([1.0]) == base64.b64encode(np.float32(1.0).tobytes()).decode() == "AACAPw=="
    assert list(bytes_(fw.u8([0, 7, 255]))) == [0, 7, 255]


def test_axes_hold_finite_ranges():
    axes = fw._axes([np.nan, np.inf], [-np.inf, 2e30], "x title", "y title")
    assert axes == dict(x=[0.0, 1e30], y=[-1e30, 1e30], x_title="x title", y_title="y title", low=0.0, high=1.0,
                        x_ticks=True)
    axes = fw._axes([-5e30, 3.5], [0.25, 1e30], "a", "b", 0.56, 0.9, False)
    assert axes["x"] == [-1e30, 3.5] and axes["y"] == [0.25, 1e30]
    assert (axes["low"], axes["high"], axes["x_ticks"]) == (0.56, 0.9, False)
    assert all(type(v) is float for v in axes["x"] + axes["y"])


def test_an_image_is_shades_of_255_with_nan_as_the_top():
    image = fw._image(np.array([[np.nan, 0.5, 0.25], [-1.0, 2.0, 1.0]]), [1, 2, 3, 4], "grey")
    assert image["size"] == [3, 2] and image["grid"] == [1.0, 2.0, 3.0, 4.0] and image["palette"] == "grey"
    assert list(bytes_(image["values"])) == [255, 128, 64, 0, 255, 255]      # 127.5 rounds to even 128
    assert (image["kind"], image["axis"]) == ("image", 0)


def test_a_range_is_the_middle_98_percent_padded_by_8_percent():
    assert fw._finite_range(np.array([1.0, 3.0, np.nan])) == pytest.approx([1 - 0.16, 3 + 0.16])
    assert fw._finite_range(np.array([np.nan]), None) == [0.0, 1.0]
    low, high = fw._finite_range(np.full(3, 2.0))
    assert low == pytest.approx(2.0 - 0.08e-6) and high == pytest.approx(2.0 + 0.08e-6)
    fifty = np.r_[np.arange(49.0), 1000.0]                               # 50 values: their ends
    assert fw._finite_range(fifty) == pytest.approx([-0.08 * 1000, 1000 + 0.08 * 1000])
    many = np.r_[np.arange(50.0), 1000.0]                                # 51: 1st to 99th percentile
    low, high = np.percentile(many, 1), np.percentile(many, 99)
    assert fw._finite_range(many) == pytest.approx([low - 0.08 * (high - low), high + 0.08 * (high - low)])
    assert fw._finite_range(np.array([0.0, 10.0]), pad=0.5) == pytest.approx([-5.0, 15.0])
    assert fw._finite_range(np.array([0.0]), np.array([10.0])) == pytest.approx([-0.8, 10.8])
    assert all(type(v) is float for v in fw._finite_range(np.array([0.0, 1.0])))


def loss_view(curve, loss_at=(np.nan,)):
    return SimpleNamespace(curve_step=np.arange(1, len(curve) + 1), curve_loss=np.array(curve, dtype=float),
                           curve_smooth=np.array(curve, dtype=float), loss_at=np.array(loss_at, dtype=float))


def test_the_loss_axis_starts_at_zero_and_caps_an_explosion():
    panel = fw._loss_panel(loss_view([0.5, 0.4, 0.3, 0.2]), BLUE, 10)
    assert panel["axes"][0]["y"] == pytest.approx([0.2 - 0.08 * 0.3, 0.5 + 0.08 * 0.3])    # above 0: kept
    panel = fw._loss_panel(loss_view([1.0, 0.05]), BLUE, 10)
    assert panel["axes"][0]["y"] == pytest.approx([0.0, 1.0 + 0.08 * 0.95])      # 0.05 - 0.076: held at 0
    panel = fw._loss_panel(loss_view([2.0, 1.5, 1.9, 1.8]), BLUE, 10)
    assert panel["axes"][0]["y"] == pytest.approx([1.5 - 0.04, 2.0 + 0.04])
    # an explosion: at most 10 times the median of the first three (at least 0.7)
    panel = fw._loss_panel(loss_view([0.5, 0.6, 0.4, 100.0]), BLUE, 10)
    assert panel["axes"][0]["y"][1] == pytest.approx(7.0)
    panel = fw._loss_panel(loss_view([2.0, 1.0, 3.0, 100.0]), BLUE, 10)
    assert panel["axes"][0]["y"][1] == pytest.approx(20.0)
    panel = fw._loss_panel(loss_view([0.7, 0.69, 3.0, 100.0]), BLUE, 10)
    assert panel["axes"][0]["y"][1] == pytest.approx(7.0)                        # an early spike lifts no cap
    panel = fw._loss_panel(loss_view([np.nan, 2.0, 4.0, 100.0, 1.0]), BLUE, 10)
    assert panel["axes"][0]["y"][1] == pytest.approx(30.0)                       # median of 2 and 4
    panel = fw._loss_panel(loss_view([np.nan, np.nan, np.nan, 100.0, 1.0]), BLUE, 10)
    assert panel["axes"][0]["y"][1] == pytest.approx(100 + 0.08 * 99)            # nothing to cap by
    panel = fw._loss_panel(loss_view([0.5, 0.4], loss_at=[np.nan, 0.9]), BLUE, 10)
    assert panel["axes"][0]["y"] == pytest.approx([0.4 - 0.04, 0.9 + 0.04])      # the markers count too
    assert panel["axes"][0]["x"] == [0.0, 10.0] and panel["axes"][0]["x_title"] == "step"
    assert panel["axes"][0]["y_title"] == "mini-batch loss"


def test_the_surface_is_twelve_bands_from_the_lowest_to_the_95th_percentile():
    loss = np.array([[0.0, 1.0, 2.0], [3.0, np.inf, 4.0], [5.0, 6.0, 100.0]])
    plane = SimpleNamespace(loss=loss, a=np.array([-1.0, 0.0, 2.0]), b=np.array([-3.0, 0.0, 3.0]), a_label="PC 1",
                            b_label="PC 2")
    panel = fw._surface_panel(SimpleNamespace(plane=plane), BLUE)
    finite = loss[np.isfinite(loss)]
    low, top = finite.min(), np.percentile(finite, 95)
    expected = np.floor(np.clip((np.where(np.isfinite(loss), loss, np.nan) - low) / (top - low), 0, 1) * 12) / 12
    expected = np.nan_to_num(expected, nan=1.0)
    (image,) = panel["items"]
    assert list(bytes_(image["values"])) == list(np.round(expected * 255).astype(int).ravel())
    assert bytes_(image["values"])[4] == 255 and bytes_(image["values"])[0] == 0
    assert image["grid"] == [-1.0, 2.0, -3.0, 3.0] and image["palette"] == "grey"
    assert panel["axes"][0]["x"] == [-1.0, 2.0] and panel["axes"][0]["y"] == [-3.0, 3.0]
    assert (panel["axes"][0]["x_title"], panel["axes"][0]["y_title"]) == ("PC 1", "PC 2")
    # a span under 1, away from 0, with every band used: 20 losses from 2 to 2.5 and one infinite
    loss = 2.0 + np.linspace(0.0, 0.5, 20).reshape(4, 5)
    loss[0, 1] = -np.inf
    finite = loss[np.isfinite(loss)]
    low, top = finite.min(), np.percentile(finite, 95)
    expected = np.floor(np.clip((np.where(np.isfinite(loss), loss, np.nan) - low) / (top - low), 0, 1) * 12) / 12
    expected = np.round(np.nan_to_num(expected, nan=1.0) * 255).astype(int)
    plane = SimpleNamespace(loss=loss, a=np.arange(5.0), b=np.arange(4.0), a_label="a", b_label="b")
    values = bytes_(fw._surface_panel(SimpleNamespace(plane=plane), BLUE)["items"][0]["values"])
    assert list(values) == list(expected.ravel()) and len(set(values)) == 13          # 0/12 .. 12/12
    nothing = SimpleNamespace(loss=np.full((2, 2), np.nan), a=np.array([0.0, 1.0]), b=np.array([0.0, 1.0]),
                              a_label="a", b_label="b")
    assert list(bytes_(fw._surface_panel(SimpleNamespace(plane=nothing), BLUE)["items"][0]["values"])) == [255] * 4
    flat = SimpleNamespace(loss=np.full((2, 2), 3.0), a=np.array([0.0, 1.0]), b=np.array([0.0, 1.0]),
                           a_label="a", b_label="b")
    assert list(bytes_(fw._surface_panel(SimpleNamespace(plane=flat), BLUE)["items"][0]["values"])) == [0] * 4
    assert fw._surface_panel(SimpleNamespace(plane=None), BLUE) == dict(
        axes=[], items=[], message="The weights left the finite range: no surface to draw.")


def test_the_histogram_axis_tops_at_108_percent_of_the_tallest_bar():
    view = SimpleNamespace(hist=np.array([[0.5, np.nan], [0.25, 0.0]]), stage="bn", norm="batch", unit=2,
                           edges=np.array([-2.0, 0.0, 3.0]))
    axes = fw._histogram_panel(view)["axes"][0]
    assert axes["y"] == pytest.approx([0.0, 0.54]) and axes["x"] == [-2.0, 3.0]
    assert (axes["x_title"], axes["y_title"]) == ("BN output, unit 3", "share of rows")
    view.hist = np.array([[0.04, 0.01]])
    assert fw._histogram_panel(view)["axes"][0]["y"] == [0.0, 0.05]              # never under 0.05
    view.hist = np.array([[0.05 / 1.08 + 1e-9]])
    assert fw._histogram_panel(view)["axes"][0]["y"][1] > 0.05
    view.norm = "layer"
    assert fw._histogram_panel(view)["axes"][0]["x_title"] == "layer-norm output, unit 3"
    view.stage = "z"
    assert fw._histogram_panel(view)["axes"][0]["x_title"] == "Dense output z, unit 3"
    view.norm = "batch"
    assert fw._histogram_panel(view)["axes"][0]["x_title"] == "Dense output z, unit 3"
    assert fw._histogram_panel(view)["items"] == []


def test_y_ranges_are_shared_where_both_runs_measure_the_same_thing():
    def run(y):
        return {"panels": [{"axes": [{"y": list(y[i])}] + ([{"y": [0.0, 1.0]}] if i == 3 else [])}
                           for i in range(5)]}

    a, b = run([[0, 1], [0, 9], [-1, 2], [5, 6], [0, 1]]), run([[0.5, 3], [1, 2], [0, 4], [4, 5.5], [0.2, 0.3]])
    share_y_ranges([a, b])
    for r in (a, b):
        assert [p["axes"][0]["y"] for p in r["panels"]] in ([[0, 3], [0, 9], [-1, 4], [4, 6], [0, 1]],
                                                            [[0, 3], [1, 2], [-1, 4], [4, 6], [0.2, 0.3]])
    assert a["panels"][1]["axes"][0]["y"] == [0, 9] and b["panels"][4]["axes"][0]["y"] == [0.2, 0.3]
    alone = run([[0, 1]] * 5)
    share_y_ranges([alone])
    assert alone["panels"][0]["axes"][0]["y"] == [0, 1]
    # a panel without axes in one run (no surface) or with a different count is left alone
    c, d = run([[0, 1]] * 5), run([[2, 3]] * 5)
    d["panels"][2]["axes"] = []
    d["panels"][3]["axes"] = d["panels"][3]["axes"][:1]
    share_y_ranges([c, d])
    assert c["panels"][2]["axes"][0]["y"] == [0, 1] and c["panels"][3]["axes"][0]["y"] == [0, 1]
    assert c["panels"][0]["axes"][0]["y"] == [0, 3] == d["panels"][0]["axes"][0]["y"]
    # a panel left alone does not stop the ones after it from being shared
    e, f = run([[0, 1]] * 5), run([[2, 3]] * 5)
    f["panels"][2]["axes"] = []
    share_y_ranges([e, f])
    assert e["panels"][3]["axes"][0]["y"] == [0, 3] == f["panels"][3]["axes"][0]["y"]
    assert e["panels"][2]["axes"][0]["y"] == [0, 1]


# ------------------------------------------------------------------------ the whole spec


def test_every_frame_array_decodes_to_the_views_numbers(pair, data):
    spec = watch_spec(pair, ["A · BN on", "B · BN off"], data)
    for run, v in zip(spec["runs"], pair):
        frames = run["frames"]
        close(floats(frames["states"]), np.arange(65))
        close(floats(frames["loss"]), as_f32(v.loss_at))
        close(floats(frames["path_x"]), as_f32(v.plane.path[:, 0]))
        close(floats(frames["path_y"]), as_f32(v.plane.path[:, 1]))
        close(floats(frames["hist"]), as_f32(v.hist.ravel()))
        close(floats(frames["pct"]), as_f32(v.percentiles.ravel()))
        close(floats(frames["exact_mean"]), as_f32(v.exact_mean))
        close(floats(frames["exact_var"]), as_f32(v.exact_var))
        close(floats(frames["edges"]), as_f32(v.edges))
        assert frames["bins"] == 30 and frames["grid"] == 28
        prob = bytes_(frames["prob"]).astype(int)
        assert list(prob) == list(np.round(v.prob.ravel() * 255).astype(int))
        assert "accuracy" not in frames
        assert run["grid"] == [v.grid_x[0], v.grid_x[-1], v.grid_y[0], v.grid_y[-1]]
    a, b = spec["runs"]
    close(floats(a["frames"]["running_mean"]), as_f32(pair[0].running_mean))
    close(floats(a["frames"]["running_var"]), as_f32(pair[0].running_var))
    assert "running_mean" not in b["frames"] and "running_var" not in b["frames"]
    assert (a["running"], b["running"]) == (True, False)


def test_each_run_has_its_label_colour_note_and_spoken_panels(pair, data):
    spec = watch_spec(pair, ["A · BN on", "B · BN off"], data)
    a, b = spec["runs"]
    assert (a["label"], a["colour"], a["ink"], a["note"]) == ("A · BN on", BLUE, BLUE, "64 steps")
    assert (b["label"], b["colour"], b["ink"], b["note"]) == ("B · BN off", VERMILLION, DARK_VERMILLION,
                                                             "64 steps · no BN: nothing runs")
    for run, stage in ((a, "BN output"), (b, "Dense output z")):
        starts = ["Loss, {}: ", "Loss surface and path, {}: ", "Input to the activation ({}, layer 2, unit 1), {}: ",
                  "Running μ and σ², {}: ", "P(placed), {}: "]
        assert len(run["panels"]) == 5
        for panel, start in zip(run["panels"], starts):
            words = start.format(stage, run["label"]) if "({}" in start else start.format(run["label"])
            assert panel["said"].startswith(words)
    assert spec["panels"] == ["Loss", "Loss surface and path", "Input to the activation", "Running μ and σ²",
                              "P(placed)"]
    assert spec["key"] == KEY
    assert (spec["autoplay"], spec["live"], spec["seconds"], spec["span"]) == (False, False, 10.0, 64)
    digest = hashlib.sha1(repr([(r["label"], r["frames"]["loss"], r["frames"]["states"]) for r in spec["runs"]])
                          .encode()).hexdigest()[:12]
    assert spec["id"] == digest and len(spec["id"]) == 12
    assert spec["table"]["columns"] == ["step", "A · BN on: mini-batch loss", "A · BN on: median input",
                                        "A · BN on: running mean", "A · BN on: exact mean",
                                        "B · BN off: mini-batch loss", "B · BN off: median input",
                                        "B · BN off: exact mean"]
    assert len(spec["table"]["rows"]) == 40 and spec["table"]["note"] == "40 of the view's 65 frames, evenly spread."
    other = watch_spec(pair[::-1], ["B · BN off", "A · BN on"], data, autoplay=1, live=1, seconds=4, planned_steps=100)
    assert [r["colour"] for r in other["runs"]] == [VERMILLION, BLUE] and other["id"] != spec["id"]
    assert (other["autoplay"], other["live"], other["seconds"], other["span"]) == (True, True, 4.0, 100)
    assert type(other["seconds"]) is float and type(other["span"]) is int
    assert other["runs"][0]["panels"][0]["axes"][0]["x"] == [0.0, 100.0]


def test_the_panels_axes_by_hand_and_shared(pair, data):
    spec = watch_spec(pair, ["A", "B"], data, planned_steps=10)
    a, b = spec["runs"]
    # loss: from 0 (the curve stays above its padding) to the higher of the runs' tops
    tops = []
    for v in pair:
        low, high = padded([v.curve_loss, v.loss_at])
        start = v.curve_loss[:3]
        tops.append(min(high, 10 * max(np.median(start), 0.7)))
        assert low > 0
    for run, v in zip((a, b), pair):
        axes = run["panels"][0]["axes"][0]
        assert axes["x"] == [0.0, 64.0]
        assert axes["y"][0] == pytest.approx(min(padded([w.curve_loss, w.loss_at])[0] for w in pair))
        assert axes["y"][1] == pytest.approx(max(tops))
        faint, bold = run["panels"][0]["items"]
        colour = "rgba(0,114,178,0.3)" if v.bn else "rgba(213,94,0,0.3)"
        assert faint["style"] == {"stroke": colour, "stroke-width": 1}
        assert bold["style"] == {"stroke": BLUE if v.bn else VERMILLION, "stroke-width": 2}
        close(floats(faint["x"]), as_f32(v.curve_step))
        close(floats(bold["x"]), as_f32(v.curve_step))
        close(floats(faint["y"]), as_f32(v.curve_loss))
        close(floats(bold["y"]), as_f32(v.curve_smooth))
        assert (faint["kind"], faint["axis"]) == ("line", 0)
        # the surface: each run's own plane
        surface = run["panels"][1]["axes"][0]
        assert surface["x"] == [v.plane.a[0], v.plane.a[-1]] and surface["y"] == [v.plane.b[0], v.plane.b[-1]]
        # the histogram: the shared bins' ends, up to 108% of the tallest bar of either run
        hist = run["panels"][2]["axes"][0]
        assert hist["x"] == [v.edges[0], v.edges[-1]]
        assert hist["y"] == pytest.approx([0.0, max(w.hist.max() for w in pair) * 1.08])
        assert hist["x_title"] == ("BN output, unit 1" if v.bn else "Dense output z, unit 1")
        # running statistics: μ above, σ² below, shared
        mean_axes, var_axes = run["panels"][3]["axes"]
        running = [w for w in pair if w.running_mean is not None]
        mean_ranges = [padded([w.exact_mean] + ([w.running_mean] if w.bn else [])) for w in pair]
        var_ranges = [padded([w.exact_var] + ([w.running_var] if w.bn else [])) for w in pair]
        assert len(running) == 1
        assert mean_axes["y"] == pytest.approx([min(r[0] for r in mean_ranges), max(r[1] for r in mean_ranges)])
        assert var_axes["y"] == pytest.approx([min(r[0] for r in var_ranges), max(r[1] for r in var_ranges)])
        assert (mean_axes["x"], mean_axes["x_title"], mean_axes["y_title"], mean_axes["low"], mean_axes["high"],
                mean_axes["x_ticks"]) == ([0.0, 64.0], "", "μ", 0.56, 1.0, False)
        assert (var_axes["x"], var_axes["x_title"], var_axes["y_title"], var_axes["low"], var_axes["high"],
                var_axes["x_ticks"]) == ([0.0, 64.0], "step", "σ²", 0.0, 0.44, True)
        assert run["panels"][3]["items"] == [] and run["panels"][2]["items"] == []
        # P(placed): the grid's ends, the training rows as points by class
        boundary = run["panels"][4]
        assert boundary["axes"][0]["x"] == [v.grid_x[0], v.grid_x[-1]]
        assert boundary["axes"][0]["y"] == [v.grid_y[0], v.grid_y[-1]]
        assert (boundary["axes"][0]["x_title"], boundary["axes"][0]["y_title"]) == ("cgpa", "iq")
        zero, one = boundary["items"]
        for points, label, colour in ((zero, 0, "#B47B00"), (one, 1, GREEN)):
            rows = data.X_train[data.y_train == label]
            assert len(rows) > 0
            close(floats(points["x"]), as_f32(rows[:, 0]))
            close(floats(points["y"]), as_f32(rows[:, 1]))
            assert points["style"] == {"fill": colour, "stroke": BLACK, "stroke-width": 0.4}
            assert (points["kind"], points["axis"], points["r"]) == ("points", 0, 2.2)


def test_notes_for_a_diverged_run_a_sample_and_layer_norm(pair, data):
    a, b = pair
    odd = [replace(a, diverged_at=1234, rows_used=1000, n_rows=1120, norm="layer"),
           replace(b, diverged_at=5, plane=None)]
    spec = watch_spec(odd, ["A", "B"], data)
    ra, rb = spec["runs"]
    assert ra["note"] == "diverged at step 1,234 · histogram over 1,000 of 1,120 rows, exact statistics over all"
    assert rb["note"] == "diverged at step 5 · no BN: nothing runs"
    assert ra["panels"][2]["axes"][0]["x_title"] == "layer-norm output, unit 1"
    assert rb["panels"][1] == dict(axes=[], items=[], message="The weights left the finite range: no surface to draw.",
                                   said="Loss surface, B: the weights left the finite range, so there is no surface.")
    close(floats(rb["frames"]["path_x"]), np.zeros(65))
    close(floats(rb["frames"]["path_y"]), np.zeros(65))
    assert ra["panels"][1]["axes"] and ra["panels"][2]["axes"][0]["y"] == rb["panels"][2]["axes"][0]["y"]
    one = watch_spec([replace(a, n_steps=1)], ["A"], data)
    assert one["span"] == 1 and one["runs"][0]["panels"][0]["axes"][0]["x"] == [0.0, 1.0]
    # rows_used equal to n_rows: no note of a sample
    assert watch_spec([replace(a, rows_used=1120, n_rows=1120)], ["A"], data)["runs"][0]["note"] == "64 steps"
    prob = replace(a, prob=np.where(np.arange(28)[None, None, :] == 3, np.nan, a.prob))
    assert set(bytes_(watch_spec([prob], ["A"], data)["runs"][0]["frames"]["prob"])[3::28]) == {128}


def test_a_table_of_three_features_follows_the_accuracy():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(float)
    table = Dataset("three", X[:24], y[:24], X[24:], y[24:], ("a", "b", "c"), label_name="good")
    run = train(Config(epochs=2, batch_size=8), table)
    (view,) = watch_pair(run, None, table)
    spec = watch_spec([view], ["A"], table)
    r = spec["runs"][0]
    assert spec["panels"][-1] == "Test accuracy"
    assert spec["key"] == ("Grey band: the middle 70% of rows (15th to 85th percentile); black line: the median. "
                           "Solid: the running averages BN keeps for test time; dashed: the exact values over the "
                           "training rows. Test accuracy (evaluation mode, running statistics) stands in for P(good) "
                           "over the feature plane, which needs two input features; this data has 3.")
    assert spec["panels"][:4] == ["Loss", "Loss surface and path", "Input to the activation", "Running μ and σ²"]
    assert r["grid"] == [0.0, 0.0, 0.0, 0.0] and r["frames"]["grid"] == 0 and "prob" not in r["frames"]
    close(floats(r["frames"]["accuracy"]), as_f32(view.accuracy))
    assert r["panels"][4]["axes"] == [dict(x=[0.0, 6.0], y=[0.0, 1.0], x_title="step", y_title="test accuracy",
                                           low=0.0, high=1.0, x_ticks=True)]
    assert r["panels"][4]["items"] == [] and r["panels"][4]["said"].startswith("Test accuracy, A: ")
    training = replace(view, accuracy_split="training")
    spec = watch_spec([training], ["A"], table)
    assert spec["panels"][-1] == "Training accuracy" and " Training accuracy (evaluation mode" in spec["key"]
    assert spec["runs"][0]["panels"][4]["axes"][0]["y_title"] == "training accuracy"


def test_only_watch_runs_are_drawn(data):
    with pytest.raises(TypeError, match=r"^expected a WatchRun, got SimpleNamespace$"):
        watch_spec([SimpleNamespace(n_steps=5)], ["A"], data)
