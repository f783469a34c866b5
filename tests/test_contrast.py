"""Colours against white, by WCAG 2.1's formula: lines 3:1 (1.4.11), words 4.5:1 (1.4.3)."""
import pytest

from bnviz.figures.common import BN_OFF, BN_ON, TEXT_COLOURS, UNIT_COLOURS, text_colour
from bnviz.ui.access import CAPTION


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str = "#FFFFFF") -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_formula_on_known_pairs():
    assert contrast("#000000") == pytest.approx(21.0)
    assert contrast("#767676") == pytest.approx(4.54, abs=0.01)      # the usual lightest grey for text


@pytest.mark.parametrize("colour", UNIT_COLOURS + (BN_ON, BN_OFF))
def test_every_line_colour_stands_out_from_white(colour):
    assert contrast(colour) >= 3.0


@pytest.mark.parametrize("colour", list(TEXT_COLOURS) + [BN_ON, CAPTION])
def test_words_in_a_colour_are_readable_on_white_and_on_the_sidebar(colour):
    assert contrast(text_colour(colour)) >= 4.5
    assert contrast(text_colour(colour), "#F8F8F7") >= 4.5


def test_every_colour_that_marks_points_or_lines_stands_out_from_white():
    # the network diagram's boxes are filled and named in words, so they are not marks
    from bnviz.figures.colours import COLOURS

    marks = {name: m.hex for name, m in COLOURS.items() if not name.startswith("network ")}
    assert {name: hex for name, hex in marks.items() if contrast(hex, "#FFFFFF") < 3.0} == {}
    assert (COLOURS["class 0"].hex, COLOURS["batch statistic"].hex) == ("#B47B00", "#2F8FC8")
