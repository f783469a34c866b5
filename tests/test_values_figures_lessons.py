"""The lesson cards' SVG charts (bnviz.figures.lessons) by value: every element's attributes and
words read back from the SVG and compared with positions recomputed by hand in the test."""
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from bnviz.figures import lessons as fl
from bnviz.figures.lessons import axis, by_batch_size_svg, figure1_svg, group_colour, jitter, spread_svg, tick_label

NS = "{http://www.w3.org/2000/svg}"
BLUE, VERMILLION, GREEN, PURPLE, SKY, ORANGE = "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00"
GRID, TEXT = "#E5ECF6", "#444444"
STYLE = "font-family:Inter, Helvetica, Arial, sans-serif;font-size:12px;max-width:644px"
NAN = float("nan")


def parse(svg):
    """(root attributes, [(tag, attributes, text, title)] of every element under the root, in order)."""
    root = ET.fromstring(svg)
    assert root.text is None                              # nothing between the elements
    out = []
    for el in root:
        assert el.tail is None
        title = el.find(NS + "title")
        out.append((el.tag.replace(NS, ""), dict(el.attrib), el.text, None if title is None else title.text))
    return root.attrib, out


def test_group_colours():
    assert [group_colour(n, 9) for n in ("BN on", "BN off", "batch norm", "no normalization", "layer norm")] == [
        BLUE, VERMILLION, BLUE, VERMILLION, GREEN]
    assert [group_colour("noisy", i) for i in range(5)] == [GREEN, PURPLE, SKY, ORANGE, GREEN]


def test_jitter_spreads_rows_in_a_fixed_order():
    assert list(jitter(0)) == [] and list(jitter(1)) == [0.0]
    np.testing.assert_allclose(jitter(2), [-0.28, 0.28])
    # (0, 7, 14, 21, 28) mod 5 = (0, 2, 4, 1, 3): the k-th value takes the place of its rank in that list
    np.testing.assert_allclose(jitter(5), [-0.28, 0.14, -0.14, 0.28, 0.0], atol=1e-15)
    np.testing.assert_allclose(jitter(3, width=1.0), [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("span, target, step", [
    (0.75, 5, 0.2), (1.0, 5, 0.2), (10.0, 5, 2.0), (12.0, 5, 2.5), (30.0, 5, 10.0), (5.0, 5, 1.0), (2.6, 5, 1.0),
    (10.0, 2, 5.0), (0.002, 5, 0.0005), (25.0, 5, 5.0), (11.0, 5, 2.5),
])
def test_nice_steps(span, target, step):
    assert fl._nice_step(span, target) == pytest.approx(step)


def test_a_linear_axis_covers_the_values_in_round_steps():
    lo, hi, ticks = axis(np.array([0.5, 1.0, 0.25, 0.75]))
    assert (lo, hi) == pytest.approx((0.2, 1.0)) and ticks == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    lo, hi, ticks = axis(np.array([-3.0, 7.0]))
    assert (lo, hi) == (-4.0, 8.0) and ticks == [-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0]


def test_a_single_value_gets_a_narrow_axis_inside_its_bounds():
    # 0.5 +- 0.025: a span of 0.05 whose fifth is a hair above 0.01 in floating point, so steps of 0.02
    lo, hi, ticks = axis(np.array([0.5]))
    assert (lo, hi) == pytest.approx((0.46, 0.54)) and ticks == pytest.approx([k * 0.02 for k in range(23, 28)])
    lo, hi, ticks = axis(np.array([200.0]))                       # 5% of the value either side
    assert (lo, hi) == pytest.approx((190.0, 210.0)) and ticks == pytest.approx([190, 195, 200, 205, 210])
    # slid down, not past 1: 0.9 to 1.0, a span a hair over 0.1, so steps of 0.025
    lo, hi, ticks = axis(np.array([1.0]), bounds=(0.0, 1.0))
    assert (lo, hi) == pytest.approx((0.875, 1.0)) and ticks == pytest.approx([k * 0.025 for k in range(35, 41)])
    lo, hi, ticks = axis(np.array([0.0]), bounds=(0.0, 1.0))       # slid up, not below 0
    assert (lo, hi) == pytest.approx((0.0, 0.002)) and ticks == pytest.approx([0, 0.0005, 0.001, 0.0015, 0.002])
    lo, hi, ticks = axis(np.array([1.0]))
    assert (lo, hi) == pytest.approx((0.925, 1.05)) and ticks == pytest.approx([k * 0.025 for k in range(37, 43)])
    lo, hi, _ = axis(np.array([0.0]))
    assert (lo, hi) == pytest.approx((-0.001, 0.001))


def test_bounds_keep_the_axis_and_ticks_inside():
    lo, hi, ticks = axis(np.array([0.05, 0.97]), bounds=(0.0, 1.0))
    assert (lo, hi) == pytest.approx((0.0, 1.0)) and ticks == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    lo, hi, ticks = axis(np.array([0.85, 0.97]), bounds=(0.0, 1.0))
    # steps of 0.025 (a fifth of the span 0.12 is 0.024), from 0.85 to 0.975: inside the bounds already
    assert (lo, hi) == pytest.approx((0.85, 0.975)) and ticks == pytest.approx([k * 0.025 for k in range(34, 40)])
    lo, hi, ticks = axis(np.array([0.0, 0.97]), bounds=(-0.5, 0.97))
    # steps of 0.2 up to 1.0, cut at the upper bound: the last tick 0.8, the axis to 0.8
    assert (lo, hi) == pytest.approx((0.0, 0.8)) and ticks == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])


def test_a_span_too_small_to_show_is_widened_by_the_values_size():
    # under 1e-12 of the largest value's size (at least 1): 5% of 1000 either side, in steps of 25
    lo, hi, ticks = axis(np.array([1000.0, 1000.0 + 1e-10]))
    assert (lo, hi) == (925.0, 1075.0) and ticks == [925.0 + 25 * k for k in range(7)]
    lo, hi, _ = axis(np.array([0.5, 0.5 + 1.5e-12]))                  # over 1e-12: kept as it is
    assert hi - lo < 1e-11
    lo, hi, ticks = axis(np.array([-0.97, 0.97]), bounds=(-1.0, 1.0))
    assert (lo, hi, ticks) == (-1.0, 1.0, [-1.0, -0.5, 0.0, 0.5, 1.0])


def test_a_log_axis_in_decades():
    lo, hi, ticks = axis(np.array([1.0, 10.0, 100.0]), log=True)
    assert (lo, hi) == pytest.approx((-0.12, 2.12)) and ticks == [0, 1, 2]
    lo, hi, ticks = axis(np.array([2.0, 8.0]), log=True)
    span = math.log10(8) - math.log10(2)
    assert (lo, hi) == pytest.approx((math.log10(2) - 0.06 * span, math.log10(8) + 0.06 * span))
    assert ticks == pytest.approx([math.log10(2), math.log10(5)])
    lo, hi, ticks = axis(np.array([10.0]), log=True)
    assert (lo, hi) == pytest.approx((0.44, 1.56)) and ticks == pytest.approx([math.log10(5), 1, 1 + math.log10(2)])
    lo, hi, ticks = axis(np.array([1e-3, 1e6]), log=True)          # ten ticks: every other one
    assert ticks == [-3, -1, 1, 3, 5]
    _, _, ticks = axis(np.array([1.0, 1e6]), log=True)             # seven ticks: all of them
    assert ticks == [0, 1, 2, 3, 4, 5, 6]
    _, _, ticks = axis(np.array([1.0, 1e7]), log=True)             # eight: every other one
    assert ticks == [0, 2, 4, 6]
    lo, hi, ticks = axis(np.array([1.0, 50.0]), log=True)          # under two decades, padding too: 1, 2, 5
    assert ticks == pytest.approx([0, math.log10(2), math.log10(5), 1, 1 + math.log10(2), 1 + math.log10(5)])


def test_x_positions():
    assert fl.x_position(0.6, 0.2, 1.0) == pytest.approx(118 + 0.5 * 328)
    assert fl.x_position(100.0, 0.0, 4.0, log=True) == pytest.approx(118 + 0.5 * 328)
    assert fl.x_position(0.2, 0.2, 1.0) == 118 and fl.x_position(1.0, 0.2, 1.0) == pytest.approx(446)


@pytest.mark.parametrize("t, log, said", [
    (0.6000000000000001, False, "0.6"), (1234567.0, False, "1.23457e+06"), (-2.5, False, "-2.5"),
    (math.log10(2), True, "2"), (-3.0, True, "0.001"), (3 + math.log10(5), True, "5000"), (4.0, True, "10⁴"),
    (-4.0, True, "10⁻⁴"), (4 + math.log10(2), True, "2×10⁴"), (0.9999999999, True, "10"), (3.0, True, "1000"),
    (-12.0, True, "10⁻¹²"), (-4 + math.log10(5), True, "5×10⁻⁴"),
])
def test_tick_labels(t, log, said):
    assert tick_label(t, log) == said


# ------------------------------------------------------------------------ the strip chart


def test_a_strip_chart_element_by_element():
    svg = spread_svg({"BN on": [0.5, 1.0, NAN], "BN off": [0.25, 0.75, 0.5]}, "Test accuracy")
    root, els = parse(svg)
    lo, hi = 0.2, 1.0                        # steps of 0.2 around 0.25 to 1.0

    def x(v):
        return 118 + (v - lo) / (hi - lo) * 328

    assert root["viewBox"] == "0 0 460 126"                     # 10 + 2 rows of 38 + 24 + one line of 16
    assert root["width"] == "100%" and root["role"] == "img" and root["style"] == STYLE
    assert root["aria-label"] == ("Test accuracy. BN on: median 0.75 over 2 seeds, from 0.5 to 1, 1 without a "
                                  "value; BN off: median 0.5 over 3 seeds, from 0.25 to 0.75.")
    assert float(root["data-lo"]) == pytest.approx(lo) and float(root["data-hi"]) == pytest.approx(hi)
    assert root["data-log"] == "0"
    ticks = els[:10]
    for k, t in enumerate([0.2, 0.4, 0.6, 0.8, 1.0]):
        (line, a, _, _), (text, b, words, _) = ticks[2 * k], ticks[2 * k + 1]
        assert (line, text) == ("line", "text")
        assert a == {"x1": f"{x(t):.2f}", "x2": f"{x(t):.2f}", "y1": "10", "y2": "86", "stroke": GRID}
        assert float(b.pop("data-tick")) == pytest.approx(t)
        assert b == {"x": f"{x(t):.2f}", "y": "101", "text-anchor": "middle", "fill": TEXT}
        assert words == ["0.2", "0.4", "0.6", "0.8", "1"][k]
    assert els[10] == ("text", {"x": "282.0", "y": "120", "text-anchor": "middle", "fill": TEXT, "font-size": "13"},
                       "Test accuracy", None)
    # row 1, centred at 10 + 38 / 2 = 29: its name on two lines, two dots and the median of 0.5 and 1
    assert els[11] == ("text", {"x": "110", "y": "26.0", "text-anchor": "end", "fill": TEXT}, "BN on (1 of 3 no", None)
    assert els[12] == ("text", {"x": "110", "y": "40.0", "text-anchor": "end", "fill": TEXT}, "value)", None)
    offsets = [-0.28 * 38, 0.0, 0.28 * 38]
    for el, (v, seed) in zip(els[13:15], [(0.5, 0), (1.0, 1)]):
        assert el[0] == "circle" and el[3] == f"BN on, seed {seed}: {v:g}"
        assert el[1] == {"cx": f"{x(v):.2f}", "cy": f"{29 + offsets[seed]:.2f}", "r": "5", "fill": BLUE,
                         "fill-opacity": "0.8", "stroke": "white", "stroke-width": "1", "data-group": "BN on",
                         "data-seed": str(seed), "data-value": repr(v)}
    assert els[15] == ("line", {"x1": f"{x(0.75):.2f}", "x2": f"{x(0.75):.2f}", "y1": "16.0", "y2": "42.0",
                                "stroke": "#000000", "stroke-width": "3", "data-group": "BN on", "data-median": "0.75"},
                       None, "BN on: median 0.75")
    # row 2, centred at 67
    assert els[16] == ("text", {"x": "110", "y": "71.0", "text-anchor": "end", "fill": TEXT}, "BN off", None)
    for el, (v, seed) in zip(els[17:20], [(0.25, 0), (0.75, 1), (0.5, 2)]):
        assert el[1]["cx"] == f"{x(v):.2f}" and el[1]["cy"] == f"{67 + offsets[seed]:.2f}"
        assert el[1]["fill"] == VERMILLION and el[3] == f"BN off, seed {seed}: {v:g}"
    assert els[20][1]["data-median"] == "0.5" and els[20][1]["y1"] == "54.0" and els[20][1]["y2"] == "80.0"
    assert len(els) == 21


def test_seeds_log_axis_and_rows_without_values():
    svg = spread_svg({"noisy BN": [10.0, 1000.0, 0.0], "none": [NAN, NAN, NAN]}, "steps to 90%", seeds=[7, 8, 9],
                     log=True)
    root, els = parse(svg)
    lo, hi = 1 - 0.12, 3 + 0.12
    assert float(root["data-lo"]) == pytest.approx(lo) and float(root["data-hi"]) == pytest.approx(hi)
    assert root["data-log"] == "1"
    circles = [e for e in els if e[0] == "circle"]
    assert [c[1]["data-seed"] for c in circles] == ["7", "8"] and circles[0][1]["fill"] == GREEN
    assert circles[1][1]["cx"] == f"{118 + (3 - lo) / (hi - lo) * 328:.2f}"
    assert circles[1][3] == "noisy BN, seed 8: 1000"
    medians = [e for e in els if e[0] == "line" and "data-median" in e[1]]
    assert len(medians) == 1 and medians[0][1]["data-median"] == "505.0"
    assert medians[0][1]["x1"] == f"{118 + (math.log10(505) - lo) / (hi - lo) * 328:.2f}"
    names = [e[2] for e in els if e[0] == "text" and e[1].get("text-anchor") == "end"]
    assert names == ["noisy BN (1 of 3", "no value)", "none (3 of 3 no", "value)"]
    ticks = [e[2] for e in els if e[0] == "text" and "data-tick" in e[1]]
    assert ticks == ["10", "100", "1000"]


def test_what_a_row_shows_on_each_axis_and_within_bounds():
    root, els = parse(spread_svg({"a": [-1.0, 2.0], "b": [0.5, 4.0, -2.0]}, "x"))
    assert [c[1]["data-value"] for c in els if c[0] == "circle"] == ["-1.0", "2.0", "0.5", "4.0", "-2.0"]
    root, els = parse(spread_svg({"a": [0.5, 4.0, -2.0]}, "x", log=True))
    assert [c[1]["data-value"] for c in els if c[0] == "circle"] == ["0.5", "4.0"]
    assert root["aria-label"] == "x. a: median 2.25 over 2 seeds, from 0.5 to 4, 1 without a value."
    root, _ = parse(spread_svg({"a": [1.0, 1.0]}, "accuracy", bounds=(0.0, 1.0)))
    assert float(root["data-hi"]) == 1.0 and float(root["data-lo"]) == pytest.approx(0.875)
    # a name that breaks after 17 characters, not 18
    _, els = parse(spread_svg({"abcdefghijkl": [1.0, NAN]}, "x"))
    assert [e[2] for e in els if e[0] == "text" and e[1].get("text-anchor") == "end"] == ["abcdefghijkl (1",
                                                                                          "of 2 no value)"]
    # a label that breaks after 58 characters, not 59
    label = "a" * 29 + " " + "b" * 29
    _, els = parse(spread_svg({"a": [1.0]}, label))
    assert [e[2] for e in els if e[1].get("font-size") == "13"] == ["a" * 29, "b" * 29]


def test_nothing_drawable_still_draws_an_axis_and_a_long_label_wraps():
    label = "a measure with a very long name that takes more than fifty-eight characters to say"
    root, els = parse(spread_svg({"BN on": [NAN]}, label))
    # the axis of a stand-in value 1: 0.95 to 1.05 in steps of 0.025 (a fifth of 0.1 is a hair above 0.02)
    assert float(root["data-lo"]) == pytest.approx(0.925) and float(root["data-hi"]) == pytest.approx(1.05)
    assert root["viewBox"] == "0 0 460 104"                        # 10 + 38 + 24 + two lines of 16
    labels = [e for e in els if e[0] == "text" and e[1].get("font-size") == "13"]
    assert [(e[1]["y"], e[2]) for e in labels] == [("82", "a measure with a very long name that takes more than"),
                                                   ("98", "fifty-eight characters to say")]
    assert not [e for e in els if e[0] == "circle"]


def test_a_strip_chart_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match=r"^nothing to draw: no groups of values$"):
        spread_svg({}, "x")
    with pytest.raises(ValueError, match=r"^3 values for 'BN on' but 2 seeds$"):
        spread_svg({"BN on": [1.0, 2.0, 3.0]}, "x", seeds=[0, 1])


def test_names_and_labels_are_escaped():
    root, els = parse(spread_svg({"<b>&": [1.0, 2.0]}, "a < b"))
    assert els[-1][1]["data-group"] == "<b>&" and els[-1][3] == "<b>&: median 1.5"
    assert "a &lt; b" in spread_svg({"x": [1.0]}, "a < b")


# ------------------------------------------------------------------ against batch size


def test_a_measure_against_batch_size_element_by_element():
    series = {"batch norm": [[1.0, 2.0, NAN], [3.0, 4.0, NAN]], "no normalization": [[0.5, 1.0, 6.0]]}
    root, els = parse(by_batch_size_svg([2, 8, 32], series, "Loss"))

    def px(size):                    # log2 of 2..32 is 1..5, over 380 units from 58
        return 58 + (math.log2(size) - 1) / 4 * 380

    def py(v):                       # 0..6 (steps of 2 around 0.5 to 6) over 158 units up from 170
        return 170 - v / 6 * 158

    assert root["viewBox"] == "0 0 460 228" and root["style"] == STYLE and root["data-log"] == "0"
    assert (root["data-lo"], root["data-hi"]) == ("0.0", "6.0")
    assert root["aria-label"] == ("Loss against batch size. batch norm: median 2 at 2, 3 at 8, no value at 32; "
                                  "no normalization: median 0.5 at 2, 1 at 8, 6 at 32.")
    for k, t in enumerate([0, 2, 4, 6]):
        (line, a, _, _), (text, b, words, _) = els[2 * k], els[2 * k + 1]
        assert (line, a) == ("line", {"x1": "58", "x2": "446", "y1": f"{py(t):.2f}", "y2": f"{py(t):.2f}",
                                      "stroke": GRID})
        assert (text, words, float(b.pop("data-tick"))) == ("text", str(t), t)
        assert b == {"x": "52", "y": f"{py(t) + 4:.2f}", "text-anchor": "end", "fill": TEXT}
    for el, size in zip(els[8:11], (2, 8, 32)):
        assert el == ("text", {"x": f"{px(size):.2f}", "y": "185", "text-anchor": "middle", "fill": TEXT}, str(size),
                      None)
    assert els[11] == ("text", {"x": "252.0", "y": "202", "text-anchor": "middle", "fill": TEXT, "font-size": "13"},
                       "batch size", None)
    assert els[12] == ("text", {"x": "12", "y": "91.0", "text-anchor": "middle", "fill": TEXT, "font-size": "13",
                                "transform": "rotate(-90 12 91.0)"}, "Loss", None)
    # batch norm: the band from the highest (3, 4) back along the lowest (2, 1), the medians 2 and 3
    band = [(px(2), py(3)), (px(8), py(4)), (px(8), py(2)), (px(2), py(1))]
    assert els[13] == ("polygon", {"points": " ".join(f"{a:.2f},{b:.2f}" for a, b in band), "fill": BLUE,
                                   "fill-opacity": "0.12", "stroke": "none"}, None, None)
    line = [(px(2), py(2)), (px(8), py(3))]
    assert els[14] == ("polyline", {"points": " ".join(f"{a:.2f},{b:.2f}" for a, b in line), "fill": "none",
                                    "stroke": BLUE, "stroke-width": "2.5"}, None, None)
    for el, (size, m) in zip(els[15:17], [(2, 2.0), (8, 3.0)]):
        assert el == ("circle", {"cx": f"{px(size):.2f}", "cy": f"{py(m):.2f}", "r": "4", "fill": BLUE,
                                 "data-group": "batch norm", "data-batch": str(size), "data-median": repr(m)},
                      None, f"batch norm, batches of {size}: median {m:g}")
    assert els[17] == ("text", {"x": "64", "y": "222", "fill": BLUE, "font-weight": "600"}, "batch norm", None)
    # no normalization: one seed, so the band is the line there and back
    assert els[18][0] == "polygon" and els[18][1]["fill"] == VERMILLION
    assert els[19][1]["points"] == " ".join(f"{px(s):.2f},{py(v):.2f}" for s, v in [(2, 0.5), (8, 1.0), (32, 6.0)])
    assert [e[1]["data-median"] for e in els[20:23]] == ["0.5", "1.0", "6.0"]
    assert els[23] == ("text", {"x": "214", "y": "222", "fill": "#B84F00", "font-weight": "600"}, "no normalization",
                       None)
    assert len(els) == 24


def test_one_batch_size_a_log_axis_and_a_lone_median():
    root, els = parse(by_batch_size_svg([16], {"noisy": [[10.0], [1000.0], [0.0]]}, "steps", log=True))
    # log10 of 10 and 1000 is 1 and 3, padded by 6% of 2
    assert float(root["data-lo"]) == pytest.approx(0.88) and float(root["data-hi"]) == pytest.approx(3.12)
    assert root["data-log"] == "1" and root["aria-label"] == "steps against batch size. noisy: median 505 at 16."
    circle = [e for e in els if e[0] == "circle"]
    assert len(circle) == 1 and circle[0][1]["cx"] == "58.00" and circle[0][1]["fill"] == GREEN
    assert circle[0][1]["cy"] == f"{170 - (math.log10(505) - 0.88) / 2.24 * 158:.2f}"
    assert not [e for e in els if e[0] in ("polyline", "polygon")]     # one point: no line, no band
    ticks = [(e[1]["y1"], tick[2]) for e, tick in zip(els[0::2], els[1::2]) if e[0] == "line"]
    assert ticks == [(f"{170 - (t - 0.88) / 2.24 * 158:.2f}", words)
                     for t, words in ((1, "10"), (2, "100"), (3, "1000"))]
    root, els = parse(by_batch_size_svg([2, 4], {"a": [[-1.0, 2.0]]}, "y"))
    assert [e[1]["data-median"] for e in els if e[0] == "circle"] == ["-1.0", "2.0"]
    root, els = parse(by_batch_size_svg([2, 4], {"a": [[0.5, 2.0]]}, "y", log=True))
    assert [e[1]["data-median"] for e in els if e[0] == "circle"] == ["0.5", "2.0"]
    root, _ = parse(by_batch_size_svg([2, 4], {"a": [[1.0, 1.0]]}, "accuracy", bounds=(0.0, 1.0)))
    assert float(root["data-hi"]) == 1.0
    root, els = parse(by_batch_size_svg([4, 8], {"x": [[NAN, NAN]]}, "y"))
    assert float(root["data-lo"]) == pytest.approx(0.925) and not [e for e in els if e[0] == "circle"]
    with pytest.raises(ValueError, match=r"^nothing to draw: no series or no batch sizes$"):
        by_batch_size_svg([], {"x": []}, "y")
    with pytest.raises(ValueError, match=r"^nothing to draw: no series or no batch sizes$"):
        by_batch_size_svg([2], {}, "y")


def test_a_band_and_a_line_need_two_batch_sizes_with_a_value():
    # one size with a value: two corners (the value there and back) and one point: neither drawn
    _, els = parse(by_batch_size_svg([2, 4], {"BN on": [[1.0, NAN], [3.0, NAN]]}, "y"))
    assert [e[0] for e in els if e[0] in ("polygon", "polyline", "circle")] == ["circle"]
    _, els = parse(by_batch_size_svg([2, 4], {"BN on": [[1.0, NAN], [NAN, 2.0]]}, "y"))
    polygon = [e for e in els if e[0] == "polygon"]
    assert len(polygon) == 1 and len(polygon[0][1]["points"].split(" ")) == 4
    assert [e[0] for e in els if e[0] in ("polygon", "polyline", "circle")] == ["polygon", "polyline", "circle",
                                                                                 "circle"]


# ------------------------------------------------------------------------------- Figure 1


def frame(x0, y0, width, title, x_max, y_lo, y_hi, y_title):
    """The elements a small panel's frame should have, and its (step, value) -> SVG point: 58 units
    left for labels, 12 right, 22 on top, a plot 136 high (170 less 34 for the step labels)."""
    left, right, top, bottom = x0 + 58, x0 + width - 12, y0 + 22, y0 + 158

    def at(s, v):
        return left + s / x_max * (right - left), bottom - (v - y_lo) / (y_hi - y_lo) * 136

    out = [("text", {"x": str(left), "y": str(top - 8), "fill": TEXT, "font-size": "12.5", "font-weight": "600"},
            title),
           ("rect", {"x": str(left), "y": str(top), "width": str(right - left), "height": str(bottom - top), "fill": "none",
                     "stroke": GRID}, None)]
    for v in (y_lo, (y_lo + y_hi) / 2, y_hi):
        out.append(("text", {"x": str(left - 4), "y": f"{at(0, v)[1] + 4:.1f}", "text-anchor": "end", "fill": TEXT,
                             "font-size": "11"}, f"{v:.2g}"))
    if y_lo < 0 < y_hi:
        y = f"{at(0, 0)[1]:.1f}"
        out.append(("line", {"x1": str(left), "x2": str(right), "y1": y, "y2": y, "stroke": GRID}, None))
    for s in (0, x_max / 2, x_max):
        out.append(("text", {"x": f"{at(s, 0)[0]:.1f}", "y": str(bottom + 14), "text-anchor": "middle", "fill": TEXT,
                             "font-size": "11"}, f"{s:.0f}"))
    out.append(("text", {"x": f"{(left + right) / 2:.1f}", "y": str(bottom + 28), "text-anchor": "middle",
                         "fill": TEXT, "font-size": "11.5"}, "training step"))
    middle = f"{(top + bottom) / 2:.1f}"
    out.append(("text", {"x": str(x0 + 10), "y": middle, "text-anchor": "middle", "fill": TEXT, "font-size": "11.5",
                         "transform": f"rotate(-90 {x0 + 10} {middle})"}, y_title))
    return out, at


def path(at, steps, values):
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in (at(s, v) for s, v in zip(steps, values)) if np.isfinite(y))


DETAIL = {
    "figure1_steps": [0, 10, 20],
    "figure1_acc BN off": [[0.2, 0.5, 0.7], [0.4, 0.6, NAN]],
    "figure1_acc BN on": [[0.5, 0.8, 0.9], [0.7, 0.9, 0.95]],
    # (seeds, 3 percentiles, steps)
    "figure1_pct BN off": [[[-1.0, -2.0, -3.0], [0.0, 0.5, 1.0], [1.0, 2.0, 3.0]],
                           [[-1.0, -2.0, NAN], [0.0, 0.5, 1.0], [1.0, 2.0, 3.0]]],
    "figure1_pct BN on": [[[-0.5, -0.5, -0.5], [0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]],
    "figure1_layer": 2,
}


def test_figure_1_element_by_element():
    root, els = parse(figure1_svg(DETAIL))
    els = [(tag, attrs, text) for tag, attrs, text, _ in els]
    assert root["viewBox"] == "0 0 460 358" and root["role"] == "img" and root["width"] == "100%"
    assert root["style"] == "font-family:Inter, Helvetica, Arial, sans-serif;max-width:644px"
    assert root["aria-label"] == ("Ioffe & Szegedy's Figure 1 on the digits: (a) test accuracy, median and range over "
                                  "seeds; (b, c) the 15th, 50th and 85th percentiles of one unit's input to its sigmoid")
    steps = [0, 10, 20]
    expected, at = frame(0, 0.0, 460, "(a) test accuracy, median and range over seeds", 20, 0.0, 1.0, "test accuracy")
    n = len(expected)
    assert els[:n] == expected
    i = n
    for name, colour, dash, low, mid, high in (("BN off", VERMILLION, "6,4", [0.2, 0.5, 0.7], [0.3, 0.55, 0.7],
                                                [0.4, 0.6, 0.7]),
                                               ("BN on", BLUE, "", [0.5, 0.8, 0.9], [0.6, 0.85, 0.925],
                                                [0.7, 0.9, 0.95])):
        band = [at(s, v) for s, v in zip(steps, high)] + [at(s, v) for s, v in zip(steps[::-1], low[::-1])]
        assert els[i] == ("path", {"d": "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in band) + "Z", "fill": colour,
                                   "fill-opacity": "0.15", "stroke": "none", "data-band": name}, None)
        assert els[i + 1] == ("path", {"d": path(at, steps, mid), "fill": "none", "stroke": colour,
                                       "stroke-width": "2.5", "stroke-dasharray": dash, "data-median": name}, None)
        i += 2
    for k, (name, colour, dash) in enumerate((("BN on", BLUE, ""), ("BN off", VERMILLION, "6,4"))):
        x, y = at(15, 0.08 + 0.12 * (1 - k))
        assert els[i] == ("line", {"x1": f"{x:.1f}", "x2": f"{x + 18:.1f}", "y1": f"{y:.1f}", "y2": f"{y:.1f}",
                                   "stroke": colour, "stroke-width": "2.5", "stroke-dasharray": dash}, None)
        assert els[i + 1] == ("text", {"x": f"{x + 22:.1f}", "y": f"{y + 4:.1f}", "fill": TEXT, "font-size": "11"},
                              name)
        i += 2
    # (b) and (c): medians over seeds of each percentile, on one axis from -3 to 3, padded by 5% of 6
    medians = {"BN off": [[-1.0, -2.0, -3.0], [0.0, 0.5, 1.0], [1.0, 2.0, 3.0]],
               "BN on": [[-0.5, -0.5, -0.5], [0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]}
    for k, (name, colour, letter) in enumerate((("BN off", VERMILLION, "b"), ("BN on", BLUE, "c"))):
        expected, at = frame(230 * k, 184, 230, f"({letter}) {name} · layer 2, unit 1", 20, -3.3, 3.3,
                             "sigmoid input")
        assert els[i:i + len(expected)] == expected
        i += len(expected)
        for q, (label, width, dash) in enumerate((("15th", "1.5", "4,3"), ("50th", "2.5", ""), ("85th", "1.5", "4,3"))):
            assert els[i] == ("path", {"d": path(at, steps, medians[name][q]), "fill": "none", "stroke": colour,
                                       "stroke-width": width, "stroke-dasharray": dash, "data-percentile": label,
                                       "data-run": name}, None)
            i += 1
    assert i == len(els)


@pytest.mark.filterwarnings("ignore:All-NaN slice encountered")
def test_figure_1_titles_and_a_missing_percentile():
    detail = dict(DETAIL)
    del detail["figure1_layer"]
    detail["figure1_pct BN on"] = [[[NAN, NAN, NAN]] * 3]
    root = ET.fromstring(figure1_svg(detail))
    titles = [el.find(NS + "title").text for el in root if el.find(NS + "title") is not None]
    assert titles == ["BN off: median over seeds", "BN on: median over seeds", "BN off: 15th percentile",
                      "BN off: 50th percentile", "BN off: 85th percentile", "BN on: 15th percentile",
                      "BN on: 50th percentile", "BN on: 85th percentile"]
    texts = [el.text for el in root if el.tag == NS + "text"]
    assert "(b) BN off · layer 3, unit 1" in texts and "(c) BN on · layer 3, unit 1" in texts
    on = [el.attrib["d"] for el in root if el.attrib.get("data-run") == "BN on"]
    assert on == ["", "", ""]                                         # nothing finite: no path
    nothing = dict(DETAIL, **{"figure1_pct BN off": [[[NAN] * 3] * 3], "figure1_pct BN on": [[[NAN] * 3] * 3]})
    texts = [el.text for el in ET.fromstring(figure1_svg(nothing)) if el.tag == NS + "text"]
    # no percentile at all: the axis of (b) and (c) is 0 to 1, padded by 5% of 1: -0.05 to 1.05
    assert texts.count("-0.05") == 2 and texts.count("0.5") == 3


def test_figure_1_with_a_narrow_spread_around_0():
    # percentiles from -0.4 to 0.4: a span under 1, padded by 5% of 0.8, a line at 0 and none at 1
    detail = dict(DETAIL, **{"figure1_pct BN off": [[[-0.4, -0.4, -0.4], [0.0, 0.0, 0.0], [0.4, 0.4, 0.4]]],
                             "figure1_pct BN on": [[[-0.2, -0.2, -0.2], [0.0, 0.1, 0.2], [0.2, 0.3, 0.4]]]})
    _, els = parse(figure1_svg(detail))
    els = [(tag, attrs, text) for tag, attrs, text, _ in els]
    expected, at = frame(0, 184, 230, "(b) BN off · layer 2, unit 1", 20, -0.44, 0.44, "sigmoid input")
    start = els.index(expected[0])
    assert els[start:start + len(expected)] == expected and expected[5][0] == "line"
    paths = [e[1]["d"] for e in els if e[1].get("data-run") == "BN off"]
    assert paths == [path(at, [0, 10, 20], [v] * 3) for v in (-0.4, 0.0, 0.4)]


def test_a_path_skips_missing_values():
    def at(x, y):
        return x * 2.0, y + 0.25

    assert fl._path(at, [0, 1, 2], [1.0, NAN, 3.0]) == "M0.0,1.2L4.0,3.2"
    assert fl._path(at, [0, 1], [NAN, NAN]) == ""
