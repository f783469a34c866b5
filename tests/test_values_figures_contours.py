"""Loss contours by value: levels and colorbar ticks recomputed from the grid, paths and markers where the
grid puts them, every title written out. The grids are made up in the test, small and known."""
import math

import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.figures.contours import _contour_levels, _loss_colorbar, input_scaling_figure, landscape_figure
from bnviz.landscape import ContourGrid, InputScaling


def grid(loss, note="raw units (centred): a sentence: the rest", a_label="w_gpa", b_label="w_iq", lr_limit=0.5,
         path_steps=None, scale=1.0):
    loss = np.asarray(loss, dtype=float)
    rows, cols = loss.shape
    path = np.array([[0.0, 0.0], [0.5, 0.25], [1.0, 0.5]])
    return ContourGrid(np.linspace(-1.0, 2.0, cols) * scale, np.linspace(-3.0, 1.0, rows) * scale, loss, path,
                       np.array([0.7, 0.6, 0.5]), np.array([1.0, 0.5]), a_label, b_label, note, lr_limit,
                       path_steps)


def test_levels_run_from_the_lowest_loss_to_the_95th_percentile_in_log10():
    loss = np.array([[0.1, 0.2], [0.4, 10.0]])
    lo, hi = _contour_levels(loss)
    assert lo == pytest.approx(-1.0)
    assert hi == pytest.approx(math.log10(0.4 + 0.85 * (10.0 - 0.4)))     # 95th: 0.85 of the way from 0.4 to 10
    assert _contour_levels(np.array([[np.nan, np.inf]])) == (0.0, 1.0)
    lo, hi = _contour_levels(np.array([[np.nan, 0.5, np.inf, 0.5]]))              # one finite value
    assert (lo, hi) == pytest.approx((math.log10(0.5), math.log10(0.505)))      # the top a hair above
    lo, hi = _contour_levels(np.array([[0.0, 0.0]]))                              # a loss of 0: floored
    assert (lo, hi) == pytest.approx((-6.0, -6.0))
    lo, hi = _contour_levels(np.array([[1e-7, 2e-7]]))
    assert (lo, hi) == pytest.approx((-6.0, -6.0))


def test_the_colorbar_is_labelled_with_the_loss():
    bar = _loss_colorbar(math.log10(0.1), math.log10(1.0))
    ticks = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1]
    assert bar["title"] == "loss" and bar["len"] == 0.85
    assert bar["tickvals"] == pytest.approx([math.log10(t) for t in ticks])
    assert bar["ticktext"] == ["0.1", "0.15", "0.2", "0.25", "0.3", "0.4", "0.5", "0.7", "1"]
    edges = _loss_colorbar(math.log10(0.02), math.log10(0.05))       # two nice values, both at the ends: too few
    assert edges["ticktext"] == ["0.02", "0.0271", "0.0368", "0.05"]
    three = _loss_colorbar(math.log10(0.01), math.log10(0.05))
    assert three["ticktext"] == ["0.01", "0.02", "0.05"]
    few = _loss_colorbar(math.log10(0.21), math.log10(0.29))                     # only 0.25 inside: four even ones
    expected = 10 ** np.linspace(math.log10(0.21), math.log10(0.29), 4)
    assert few["tickvals"] == pytest.approx(np.log10(expected).tolist())
    assert few["ticktext"] == [f"{t:.3g}" for t in expected] == ["0.21", "0.234", "0.26", "0.29"]
    wide = _loss_colorbar(-2.0, 2.0)
    assert wide["ticktext"] == ["0.01", "0.02", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.4", "0.5", "0.7",
                                "1", "1.5", "2", "3", "5", "10", "20", "50", "100"]


def contour_checks(c, g, levels, hover):
    lo, hi = _contour_levels(g.loss)
    np.testing.assert_array_equal(c.x, g.a)
    np.testing.assert_array_equal(c.y, g.b)
    np.testing.assert_allclose(np.asarray(c.z), np.log10(np.where(g.loss > 1e-12, g.loss, 1e-12)))
    np.testing.assert_array_equal(np.asarray(c.customdata), g.loss)
    assert (c.contours.start, c.contours.end, c.contours.coloring) == (lo, hi, "heatmap")
    assert c.contours.size == pytest.approx((hi - lo) / levels)
    assert c.colorscale[0][1] == "#440154" and c.reversescale is True                   # Viridis, reversed
    assert c.line.width == 0.5 and c.colorbar.title.text == "loss" and c.colorbar.len == 0.85
    assert c.hovertemplate == hover + "<br>loss %{customdata:.4f}<extra></extra>"


def test_input_scaling_side_by_side():
    raw = grid([[0.1, 0.2, 0.3], [0.4, 0.5, 0.0], [0.7, 0.8, 0.9]], lr_limit=0.0123456)
    std = grid([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], note="standardized: gradient descent: 10 steps at lr 0.1",
               lr_limit=2.5, scale=10.0)
    fig = input_scaling_figure(InputScaling(raw, std))
    assert len(fig.data) == 6
    for col, g in ((1, raw), (2, std)):
        c, path, best = fig.data[3 * (col - 1):3 * col]
        axis = "" if col == 1 else "2"
        contour_checks(c, g, 18, "w&#95;gpa %{x:.3g}<br>w&#95;iq %{y:.3g}")    # an upload's names: text
        assert c.showscale is (col == 2)
        np.testing.assert_array_equal(path.x, g.path[:, 0])
        np.testing.assert_array_equal(path.y, g.path[:, 1])
        assert (path.mode, path.line.color, path.line.width, path.marker.size, path.marker.color, path.name,
                path.showlegend) == ("lines+markers", "white", 2, 4, "#B47B00", "gradient descent", col == 1)
        assert path.hovertemplate == "step %{pointNumber}<br>(%{x:.3g}, %{y:.3g})<extra></extra>"
        assert (list(best.x), list(best.y), best.mode, best.marker.symbol, best.marker.size, best.marker.color,
                best.marker.line.color, best.marker.line.width, best.name, best.showlegend) == (
            [1.0], [0.5], "markers", "star", 16, "#000000", "white", 1.5, "minimum", col == 1)
        assert {c.xaxis, path.xaxis, best.xaxis} == {f"x{axis}"}
        assert list(fig.layout[f"xaxis{axis}"].range) == [-1.0 * g.a[-1] / 2, g.a[-1]]
        assert list(fig.layout[f"yaxis{axis}"].range) == [-3.0 * g.b[-1], g.b[-1]]
        assert list(fig.layout[f"yaxis{axis}"].domain) == [0.0, 1.0]
        assert fig.layout[f"yaxis{axis}"].scaleanchor == f"x{axis}" and fig.layout[f"yaxis{axis}"].scaleratio == 1
        assert fig.layout[f"xaxis{axis}"].title.text == "w&#95;gpa"
        assert fig.layout[f"yaxis{axis}"].title.text == "w&#95;iq"
    assert [a.text for a in fig.layout.annotations] == ["raw units (centred): stable only for lr < 0.0123",
                                                        "standardized: stable for lr < 2.5"]
    assert fig.layout.xaxis.domain[1] == pytest.approx(0.44) and fig.layout.xaxis2.domain[0] == pytest.approx(0.56)
    assert list(fig.layout.xaxis.range) == [-1.0, 2.0] and list(fig.layout.yaxis2.range) == [-30.0, 10.0]
    assert fig.layout.title.text == (
        "Why normalize inputs: the same descent on raw and on standardized features<br><span style='font-size:"
        "13px'>gradient descent: 10 steps at lr 0.1; equal axis scales show the true shape of the contours</span>")
    assert fig.layout.height == 520 + 44          # four traces not kept out of the legend: two rows


def test_an_upload_s_names_are_shown_as_text():
    g = grid([[0.1, 0.2], [0.3, 0.4]], a_label="w_<b>x</b>", b_label="w_*y*")
    fig = input_scaling_figure(InputScaling(g, g))
    assert fig.layout.xaxis.title.text == "w&#95;&#60;b&#62;x&#60;&#47;b&#62;"
    assert fig.layout.yaxis.title.text == "w&#95;&#42;y&#42;"
    assert fig.data[0].hovertemplate.startswith("w&#95;&#60;b&#62;x&#60;&#47;b&#62; %{x:.3g}<br>w&#95;&#42;y&#42; "
                                                "%{y:.3g}")


@pytest.fixture(scope="module")
def runs():
    data = load_for(Config())
    return {"batch": train(Config(epochs=1), data),
            "diverged": train(Config(lr=10.0, standardize=False, bn=False, activation="linear", epochs=3), data)}


def plane(n):
    loss = np.arange(1.0, 13.0).reshape(3, 4) / 10
    path = np.c_[np.linspace(-1, 0, n), np.linspace(1, 0, n)]
    return ContourGrid(np.linspace(-2.0, 2.0, 4), np.linspace(-1.0, 1.0, 3), loss, path, np.linspace(0.9, 0.3, n),
                       np.zeros(2), "direction 1 (PCA)", "direction 2 (PCA)", "a plane through the final weights",
                       path_steps=np.arange(n) * 3)


@pytest.mark.parametrize("n", [5, 40, 41, 90])
def test_the_landscape_and_its_replay(runs, n):
    run = runs["batch"]
    p = plane(n)
    fig = landscape_figure(run, p)
    c, path, start, final = fig.data
    contour_checks(c, p, 20, "(%{x:.3g}, %{y:.3g})")
    np.testing.assert_array_equal(path.x, p.path[:, 0])
    np.testing.assert_array_equal(path.y, p.path[:, 1])
    np.testing.assert_array_equal(np.asarray(path.customdata)[:, 0], p.path_loss)
    assert (path.mode, path.name, path.line.color, path.line.width, path.marker.size, path.marker.color) == (
        "lines+markers", "training path", "white", 2, 4, "#0072B2")
    assert path.hovertemplate == "(%{x:.3g}, %{y:.3g})<br>loss %{customdata[0]:.4f}<extra></extra>"
    assert (list(start.x), list(start.y), start.mode, start.name, start.marker.symbol, start.marker.size,
            start.marker.color, start.marker.line.width) == ([-1.0], [1.0], "markers", "start", "circle-open", 14,
                                                             "#B47B00", 3)
    assert (list(final.x), list(final.y), final.mode, final.name, final.marker.symbol, final.marker.size, final.marker.color,
            final.marker.line.color, final.marker.line.width) == ([0.0], [0.0], "markers", "final weights", "star", 16,
                                                                 "#000000", "white", 1.5)
    count = min(40, n)
    picks = sorted({int(round(1 + i * (n - 1) / (count - 1))) for i in range(count)})
    assert [f.name for f in fig.frames] == [str(3 * (k - 1)) for k in picks]
    for frame, k in zip(fig.frames, picks):
        assert list(frame.traces) == [1]
        np.testing.assert_array_equal(frame.data[0].x, p.path[:k, 0])
        np.testing.assert_array_equal(frame.data[0].y, p.path[:k, 1])
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(3 * (k - 1)) for k in picks]
    assert fig.layout.xaxis.title.text == "direction 1 (PCA)" and fig.layout.yaxis.title.text == "direction 2 (PCA)"
    assert fig.layout.title.text == ("Loss landscape of the trained network<br><span style='font-size:13px'>a plane "
                                     "through the final weights</span>")
    assert (fig.layout.height, fig.layout.legend.y) == (580, 1.01)


def test_a_diverged_run_gets_a_sentence(runs):
    fig = landscape_figure(runs["diverged"], None)
    assert fig.layout.title.text == "Loss landscape of the trained network"
    assert fig.layout.annotations[0].text.startswith("This run diverged at step 6")
