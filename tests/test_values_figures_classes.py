"""Many-class charts by value: class names, the sheet's layout pixel by pixel, captions, frames, confusion
matrices and one row's probabilities, from made-up numbers written out in the test."""
from types import SimpleNamespace

import numpy as np
import pytest

from bnviz.classes import Confusion, Sheet
from bnviz.figures.classes import (GAP, ROW_GAP, caption, class_names, confusion_figure, digit_sheet_figure, mosaic,
                                   probabilities_figure)


def data_with(values):
    return SimpleNamespace(label_values=list(values))


def test_class_names_are_numbers_without_trailing_zeros_or_text_shown_as_text():
    assert class_names(data_with([0, 1, 2])) == ["0", "1", "2"]
    assert class_names(data_with([np.int64(3), np.float64(2.0), 1.0])) == ["3", "2", "1"]
    assert class_names(data_with([0.5, np.float32(0.25)])) == ["0&#46;5", "0&#46;25"]       # a dot is escaped
    assert class_names(data_with(["yes", "<b>no</b>"])) == ["yes", "&#60;b&#62;no&#60;&#47;b&#62;"]
    assert class_names(data_with([1e20])) == ["1e&#43;20"]


def test_mosaic_places_each_image_and_leaves_the_gaps_blank():
    assert (GAP, ROW_GAP) == (3, 5)
    side = 2
    images = np.arange(5 * 4, dtype=float).reshape(5, 4)         # five 2 x 2 images
    out = mosaic(images, 3, side)
    assert out.shape == (2 * (2 + 5), 3 * (2 + 3) - 3)
    for i in range(5):
        r, c = i // 3, i % 3
        np.testing.assert_array_equal(out[r * 7:r * 7 + 2, c * 5:c * 5 + 2], images[i].reshape(2, 2))
    filled = np.zeros(out.shape, dtype=bool)
    for i in range(5):
        r, c = i // 3, i % 3
        filled[r * 7:r * 7 + 2, c * 5:c * 5 + 2] = True
    assert np.isnan(out[~filled]).all() and np.isfinite(out[filled]).all()
    assert mosaic(np.zeros((0, 4)), 3, 2).shape == (7, 12)             # no images: one blank row
    assert mosaic(np.ones((3, 4)), 3, 2).shape == (7, 12)              # exactly one full row
    assert mosaic(np.ones((4, 4)), 3, 2).shape == (14, 12)
    assert mosaic([[1, 2, 3, 4]], 1, 2).dtype == float


def sheet(predicted, labels, probability, per_row=2, side=2):
    n = len(labels)
    images = np.arange(n * side * side, dtype=float).reshape(n, side * side)
    return Sheet(np.arange(n), images, np.asarray(labels), np.asarray(predicted), np.asarray(probability, float),
                 per_row, "test")


def test_captions():
    s = sheet([1, 0, -1, 2], [1, 1, 0, 2], [0.876, 0.5, np.nan, 0.999])
    names = ["zero", "one", "two"]
    assert caption(s, 0, names) == "one · 0.88"
    assert caption(s, 1, names) == "✗ zero · 0.50"
    assert caption(s, 2, names) == "no answer"
    assert caption(s, 3, names) == "two · 1.00"
    zero = sheet([0], [0], [0.004])
    assert caption(zero, 0, names) == "zero · 0.00"


def test_the_sheet(tmp_path):
    s = sheet([1, 0, 2, 2, -1], [1, 1, 0, 2, 0], [0.9, 0.6, 0.7, 0.8, np.nan], per_row=2)
    data = data_with([0, 1, 2])
    fig = digit_sheet_figure(s, 2, data, note="a note")
    picture = mosaic(s.images, 2, 2)
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z, dtype=float), picture)
    assert (heat.zmin, heat.zmax) == (0.0, 19.0)                       # the images hold 0 to 19
    assert (heat.showscale, heat.hoverinfo, heat.xgap, heat.ygap) == (False, "skip", 0, 0)
    assert heat.colorscale[0][1] == "rgb(255,255,255)" and heat.colorscale[-1][1] == "rgb(0,0,0)"   # Greys
    notes = fig.layout.annotations
    assert [a.text for a in notes] == ["1 · 0.90", "✗ 0 · 0.60", "✗ 2 · 0.70", "2 · 0.80", "no answer"]
    wrong = [False, True, True, False, True]
    for i, (a, w) in enumerate(zip(notes, wrong)):
        r, c = i // 2, i % 2
        x0, y0 = c * 5 - 0.5, r * 7 - 0.5
        assert (a.x, a.y, a.showarrow, a.yanchor) == (x0 + 1, y0 + 2 + 0.3, False, "top")
        assert (a.font.size, a.font.color, a.font.weight) == (12, "#B84F00" if w else "#000000",
                                                              "bold" if w else "normal")
    frames = [(s_.x0, s_.x1, s_.y0, s_.y1, s_.line.color, s_.line.width, s_.line.dash, s_.type)
              for s_ in fig.layout.shapes]
    expected = []
    for i in (1, 2, 4):
        r, c = i // 2, i % 2
        x0, y0 = c * 5 - 0.5, r * 7 - 0.5
        expected.append((x0 - 0.3, x0 + 2 + 0.3, y0 - 0.3, y0 + 2 + 0.3, "#D55E00", 3, "dash", "rect"))
    assert frames == expected
    assert (fig.layout.xaxis.visible, list(fig.layout.xaxis.range), fig.layout.xaxis.constrain) == (
        False, [-1, 10], "domain")
    assert (fig.layout.yaxis.visible, list(fig.layout.yaxis.range), fig.layout.yaxis.scaleanchor,
            fig.layout.yaxis.scaleratio) == (False, [21, -1.5], "x", 1)
    assert fig.layout.title.text == ("Test images and what the network says: 3 of 5 wrong (✗, framed)<br><span "
                                     "style='font-size:13px'>first 2 test images per class; under each: predicted "
                                     "class · probability. a note</span>")
    assert fig.layout.height == 170 + 70 * 3 and fig.layout.showlegend is False


def test_an_empty_or_blank_sheet_still_draws():
    empty = Sheet(np.zeros(0, int), np.zeros((0, 4)), np.zeros(0, int), np.zeros(0, int), np.zeros(0), 3, "training")
    fig = digit_sheet_figure(empty, 2, data_with([0, 1]), title="T")
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.0, 1.0)
    assert fig.layout.title.text == ("T: 0 of 0 wrong (✗, framed)<br><span style='font-size:13px'>first 3 training "
                                     "images per class; under each: predicted class · probability</span>")
    assert fig.layout.height == 170 + 70 and list(fig.layout.yaxis.range) == [7, -1.5]
    assert list(fig.layout.xaxis.range) == [-1, 15]
    one = sheet([0], [0], [0.5], per_row=1)
    one.images = np.full((1, 4), 7.0)
    fig = digit_sheet_figure(one, 2, data_with([0]))
    assert (fig.data[0].zmin, fig.data[0].zmax) == (7.0, 7.0)


def test_confusion_matrices_side_by_side():
    a = Confusion(np.array([[3, 1], [0, 4]]), "test")
    b = Confusion(np.array([[2, 2], [1, 5]]), "test")
    fig = confusion_figure([a, b], ["A: BN before relu", "B: BN off"], data_with([0, 1]), ["batch", "none"])
    assert [x.text for x in fig.layout.annotations] == ["A: BN before relu: 87.5% right", "B: BN off: 70.0% right"]
    for t, m, j in zip(fig.data, (a, b), (1, 2)):
        np.testing.assert_array_equal(np.asarray(t.z), m.counts)
        assert list(t.x) == ["0", "1"] and list(t.y) == ["0", "1"]
        assert (t.zmin, t.zmax, t.showscale, t.texttemplate, t.textfont.size) == (0, 5, False, "%{text}", 11)
        assert t.colorscale[-1][1] == {1: "rgb(8,48,107)", 2: "rgb(127,39,4)"}[j]      # Blues' end, Oranges'
        assert t.hovertemplate == "true %{y}, predicted %{x}: %{z} rows<extra></extra>"
    assert [list(r) for r in fig.data[0].text] == [["3", "1"], ["", "4"]]
    assert [list(r) for r in fig.data[1].text] == [["2", "2"], ["1", "5"]]
    lay = fig.layout
    for axis in (lay.xaxis, lay.xaxis2):
        assert (axis.title.text, axis.type, axis.side) == ("predicted class", "category", "bottom")
    assert (lay.yaxis.title.text, lay.yaxis2.title.text) == ("true class", None)
    for axis, anchor in ((lay.yaxis, "x"), (lay.yaxis2, "x2")):
        assert (axis.type, axis.autorange, axis.scaleanchor, axis.constrain) == ("category", "reversed", anchor,
                                                                                 "domain")
    assert lay.xaxis.domain[1] == pytest.approx(0.45) and lay.xaxis2.domain[0] == pytest.approx(0.55)
    assert list(lay.yaxis.domain) == list(lay.yaxis2.domain) == [0.0, 1.0]          # one row
    assert lay.title.text == ("Confusion matrix on the test rows<br><span style='font-size:13px'>rows: the true "
                              "class; columns: the class the network chose (evaluation mode); the diagonal is what "
                              "it got<br>right; blank cells are 0</span>")
    assert lay.height == 520 and lay.showlegend is False


def test_an_all_zero_confusion_keeps_a_colour_range_and_its_split():
    zero = Confusion(np.zeros((2, 2), dtype=int), "training")
    fig = confusion_figure([zero], ["BN off"], data_with(["no", "yes"]))
    assert fig.data[0].zmax == 1 and list(fig.data[0].x) == ["no", "yes"]
    assert fig.layout.title.text.startswith("Confusion matrix on the training rows<br>")
    assert fig.layout.annotations[0].text == "BN off: nan% right"
    assert fig.data[0].colorscale[-1][1] == "rgb(8,48,107)"                     # no norms given: batch norm's
    layer = confusion_figure([zero], ["LN before relu"], data_with(["no", "yes"]), ["layer"])
    assert layer.data[0].colorscale[-1][1] == "rgb(0,68,27)"                    # Greens' end


def test_one_row_s_probabilities_with_its_image():
    p_a, p_b = np.array([0.7, 0.295, 0.005]), np.array([0.2, 0.3, 0.5])
    image = np.arange(16.0)
    fig = probabilities_figure(image, 4, [p_a, p_b], ["A · BN on", "B · BN off"], ["#0072B2", "#D55E00"],
                               data_with([0, 1, 2]), truth=2)
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z), image.reshape(4, 4))
    assert (heat.showscale, heat.hovertemplate, heat.xaxis, heat.yaxis) == (
        False, "pixel value %{z}<extra></extra>", "x", "y")
    assert heat.colorscale[-1][1] == "rgb(0,0,0)"
    for t, p, label, colour in ((fig.data[1], p_a, "A · BN on", "#0072B2"), (fig.data[2], p_b, "B · BN off",
                                                                             "#D55E00")):
        assert list(t.x) == ["0", "1", "2"]
        np.testing.assert_array_equal(t.y, p)
        assert (t.name, t.marker.color, t.textposition, t.cliponaxis, t.xaxis) == (label, colour, "outside", False,
                                                                                   "x2")
        assert t.hovertemplate == f"class %{{x}}: %{{y:.3f}}<extra>{label}</extra>"
    assert list(fig.data[1].text) == ["0.70", "0.29", ""]                       # under 0.01: no number
    assert list(fig.data[2].text) == ["0.20", "0.30", "0.50"]
    lay = fig.layout
    assert (lay.xaxis.visible, lay.xaxis.constrain, lay.yaxis.visible, lay.yaxis.autorange,
            lay.yaxis.scaleanchor) == (False, "domain", False, "reversed", "x")
    assert lay.xaxis.domain[1] == pytest.approx(0.3 * 0.92) and lay.xaxis2.domain[0] == pytest.approx(0.3 * 0.92
                                                                                                         + 0.08)
    assert (lay.xaxis2.title.text, lay.xaxis2.type) == ("class (true class: 2)", "category")
    assert (lay.yaxis2.title.text, list(lay.yaxis2.range)) == ("probability", [0, 1.08])
    # the image's axes and the bars' keep apart: the bars' axes are shown and not reversed, the image's
    # carry no class axis or probability range
    assert (lay.xaxis2.visible, lay.xaxis2.constrain, lay.yaxis2.visible, lay.yaxis2.autorange,
            lay.yaxis2.scaleanchor) == (None, None, None, None, None)
    assert (lay.xaxis.title.text, lay.xaxis.type, lay.yaxis.title.text, lay.yaxis.range) == (None, None, None,
                                                                                             None)
    assert list(lay.yaxis.domain) == list(lay.yaxis2.domain) == [0.0, 1.0]
    assert lay.barmode == "group"
    assert lay.title.text == ("One held-out row and the probability of every class<br><span style='font-size:"
                              "13px'>evaluation mode: BN with the running statistics, the row on its own</span>")
    assert (lay.height, lay.legend.y, lay.legend.orientation) == (400, 1.01, "h")


def test_one_row_s_probabilities_without_an_image():
    fig = probabilities_figure(None, None, [np.array([0.01, 0.99])], ["A"], ["#009E73"], data_with(["no", "yes"]),
                               truth=0)
    assert [t.type for t in fig.data] == ["bar"] and fig.data[0].xaxis == "x"
    assert list(fig.data[0].text) == ["0.01", "0.99"]                           # exactly 0.01: shown
    assert fig.layout.xaxis.title.text == "class (true class: no)"
    assert list(fig.layout.xaxis.domain) == list(fig.layout.yaxis.domain) == [0.0, 1.0]     # one panel
    assert fig.layout.yaxis.title.text == "probability"
    half = probabilities_figure(np.arange(4.0), None, [np.array([0.5, 0.5])], ["A"], ["#009E73"],
                                data_with([0, 1]), truth=1)
    assert [t.type for t in half.data] == ["bar"]
    other = probabilities_figure(None, 2, [np.array([0.5, 0.5])], ["A"], ["#009E73"], data_with([0, 1]), truth=1)
    assert [t.type for t in other.data] == ["bar"]
