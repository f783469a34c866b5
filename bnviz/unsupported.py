"""What a view cannot show for a network or data set of another shape, said in a sentence.

A few pictures exist only for two input features (a plane of raw inputs, one logistic unit's
two weights) or for a single sigmoid output. Asked of anything else, they raise ``Unsupported``,
a ValueError whose message is a whole sentence a page can show in place of the chart, naming
what the view needs and what this data has. Engine code knows nothing of pages: it only raises.
"""
from __future__ import annotations


class Unsupported(ValueError):
    """A view asked of a network or data set it cannot draw; str() is the sentence to show."""


def need_two_features(n_features: int, what: str) -> None:
    """Raise Unsupported unless there are exactly two input features. `what`: the view, as the
    start of a sentence ("The decision boundary")."""
    if n_features != 2:
        raise Unsupported(f"{what} is drawn over two input features; this data has {n_features}.")


def need_two_classes(n_classes: int, what: str) -> None:
    """Raise Unsupported unless the labels have two classes (one sigmoid output)."""
    if n_classes != 2:
        raise Unsupported(f"{what} is drawn for a label with two classes; this data has {n_classes}.")
