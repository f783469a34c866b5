"""The network diagram by value: every box's words and colour in order, the arrows between them, and the
parameter counts counted by hand from the layer widths."""
import pytest

from bnviz import Config, load_for, train

from bnviz.figures.network import network_diagram


@pytest.fixture(scope="module")
def data():
    return load_for(Config())


def diagram(data, **kw):
    return network_diagram(train(Config(epochs=1, hidden=(3, 2), **kw), data))


def boxes(fig):
    """(words, line colour, fill) of each box, left to right."""
    texts = [a.text for a in fig.layout.annotations if not a.showarrow]
    return [(t, s.line.color, s.fillcolor) for t, s in zip(texts, fig.layout.shapes)]


SKY, GREY, BLUE, PURPLE, ORANGE, GREEN = ("#56B4E9", "#DDDDDD", "#0072B2", "#CC79A7", "#E69F00", "#009E73")
FILLS = {SKY: "rgba(86,180,233,0.35)", GREY: "rgba(221,221,221,0.35)", BLUE: "rgba(0,114,178,0.35)",
         PURPLE: "rgba(204,121,167,0.35)", ORANGE: "rgba(230,159,0,0.35)", GREEN: "rgba(0,158,115,0.35)"}


def test_bn_before_the_activation(data):
    fig = diagram(data)
    expected = [("input<br>cgpa, iq", SKY), ("Dense 3<br>z = a·W1", GREY), ("BN 3<br>γ1·ẑ + β1", BLUE),
                ("relu", PURPLE), ("Dense 2<br>z = a·W2", GREY), ("BN 2<br>γ2·ẑ + β2", BLUE), ("relu", PURPLE),
                ("Dense 1<br>z = a·W3 + b", GREY), ("sigmoid<br>P(placed)", ORANGE)]
    assert boxes(fig) == [(t, c, FILLS[c]) for t, c in expected]
    for i, s in enumerate(fig.layout.shapes):
        assert (s.type, s.x0, s.x1, s.y0, s.y1, s.line.width) == ("rect", i - 0.42, i + 0.42, -0.5, 0.5, 2)
    labels = [a for a in fig.layout.annotations if not a.showarrow]
    assert [(a.x, a.y, a.font.size, a.showarrow) for a in labels] == [(i, 0, 13, False) for i in range(9)]
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert [(a.x, a.ax) for a in arrows] == [(i - 0.43, i - 0.57) for i in range(1, 9)]
    for a in arrows:
        assert (a.y, a.ay, a.xref, a.yref, a.axref, a.ayref, a.arrowhead, a.arrowsize, a.arrowwidth, a.text) == (
            0, 0, "x", "y", "x", "y", 3, 1.2, 2, "")
    assert (fig.layout.xaxis.visible, list(fig.layout.xaxis.range)) == (False, [-0.6, 8.6])
    assert (fig.layout.yaxis.visible, list(fig.layout.yaxis.range)) == (False, [-0.8, 0.8])
    trainable = 2 * 3 + 3 + 3 + 3 * 2 + 2 + 2 + 2 * 1 + 1                   # W1 γ1 β1 W2 γ2 β2 W3 b3
    assert trainable == 25
    assert fig.layout.title.text == ("The network<br><span style='font-size:13px'>25 trainable parameters, 10 "
                                     "running statistics (4 numbers per BN unit: γ, β, μ, σ²)</span>")
    assert (fig.layout.height, fig.layout.showlegend) == (220, False)


def test_bn_after_the_activation_keeps_the_bias(data):
    fig = diagram(data, bn_position="after", activation="tanh")
    assert [t for t, _, _ in boxes(fig)] == [
        "input<br>cgpa, iq", "Dense 3<br>z = a·W1 + b", "tanh", "BN 3<br>γ1·ẑ + β1", "Dense 2<br>z = a·W2 + b",
        "tanh", "BN 2<br>γ2·ẑ + β2", "Dense 1<br>z = a·W3 + b", "sigmoid<br>P(placed)"]
    assert "30 trainable parameters, 10 running statistics" in fig.layout.title.text     # 25 and b1, b2


def test_keep_bias_before_bn(data):
    fig = diagram(data, keep_bias=True)
    assert [t for t, _, _ in boxes(fig)][1] == "Dense 3<br>z = a·W1 + b"
    assert "30 trainable parameters" in fig.layout.title.text


def test_layer_norm_boxes_are_green_and_store_no_statistics(data):
    fig = diagram(data, norm="layer", bn=False)
    assert [(t, c) for t, c, _ in boxes(fig)][1:4] == [("Dense 3<br>z = a·W1 + b", GREY),
                                                       ("LN 3<br>γ1·x̂ + β1", GREEN), ("relu", PURPLE)]
    assert fig.layout.title.text == (
        "The network<br><span style='font-size:13px'>30 trainable parameters, 0 running statistics (layer norm: 2 "
        "numbers per unit, γ and β; each row's μ and<br>σ² are its own, never stored)</span>")


def test_no_normalization(data):
    fig = diagram(data, bn=False)
    assert [t for t, _, _ in boxes(fig)] == ["input<br>cgpa, iq", "Dense 3<br>z = a·W1 + b", "relu",
                                             "Dense 2<br>z = a·W2 + b", "relu", "Dense 1<br>z = a·W3 + b",
                                             "sigmoid<br>P(placed)"]
    assert list(fig.layout.xaxis.range) == [-0.6, 6.6]
    assert "20 trainable parameters, 0 running statistics" in fig.layout.title.text    # 6+3, 6+2, 2+1


def test_a_softmax_output_is_named_as_one():
    cfg = Config(dataset="digits", hidden=(4,), epochs=1, batch_size=200)
    digits = load_for(cfg)
    fig = network_diagram(train(cfg, digits))
    names = [t for t, _, _ in boxes(fig)]
    assert names[-2:] == ["Dense 10<br>z = a·W2 + b", "softmax<br>P of each of 10 classes"]
    assert names[0].startswith("input<br>")


def test_the_output_box_names_the_datas_own_label(data):
    """An upload's label column, or a toy set's "class", names the sigmoid's probability, not "placed"."""
    fig = network_diagram(train(Config(epochs=1, hidden=(3, 2)), data), "passed<b>")
    texts = [a.text for a in fig.layout.annotations if a.text]
    assert texts[-1] == "sigmoid<br>P(passed&#60;b&#62;)"                  # markup in a name stays text
    assert not any("placed" in t for t in texts)
