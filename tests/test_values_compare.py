"""Compare mode by value: run B's starting value at the ends of each range, the one normalization a
link for B holds, and which of A's initial weights B starts from."""
import numpy as np
import pytest

from bnviz import Config
from bnviz.compare import default_value, shared_start, variant


@pytest.mark.parametrize("hidden, b", [((4,), "4,4"), ((3, 5, 7), "3,5,7,7"), ((9, 8, 7, 6, 5, 4, 3), "9,8,7,6,5,4,3,3"),
                                       ((9, 8, 7, 6, 5, 4, 3, 2), "9,8,7,6,5,4,3")])
def test_one_more_layer_repeats_the_last_width_until_eight(hidden, b):
    assert default_value(Config(hidden=hidden), "hidden") == b


@pytest.mark.parametrize("lr, b", [(10.0, "100"), (9.5, "95"), (11.0, "1.1"), (100.0, "10"), (1e-6, "1e-05")])
def test_tenfold_unless_that_passes_the_top(lr, b):
    assert default_value(Config(lr=lr), "lr") == b


def test_tenfold_reaches_the_top_of_other_ranges_exactly():
    assert default_value(Config(init_scale=1000.0), "init_scale") == "10000"
    assert default_value(Config(init_scale=10000.0), "init_scale") == "1000"
    assert default_value(Config(eps=0.1), "eps") == "1"
    assert default_value(Config(eps=1.0), "eps") == "0.1"


@pytest.mark.parametrize("batch, b", [(63, "64"), (64, "4"), (1, "64"), (100_000, "4")])
def test_small_or_large_batch(batch, b):
    assert default_value(Config(batch_size=batch), "batch_size") == b


@pytest.mark.parametrize("seed, b", [(0, "1"), (2**31 - 2, "2147483647"), (2**31 - 1, "2147483646")])
def test_the_next_seed_or_the_one_before_at_the_top(seed, b):
    assert default_value(Config(seed=seed), "seed") == b


@pytest.mark.parametrize("m, b", [(0.99, "0.9"), (0.9, "0"), (0.95, "0.5"), (0.0, "0")])
def test_shorter_memory_is_a_tenth_of_the_horizon_and_never_below_zero(m, b):
    assert default_value(Config(bn_momentum=m), "bn_momentum") == b


def test_a_field_without_a_rule_is_named():
    with pytest.raises(ValueError) as err:
        default_value(Config(), "epochs")
    assert str(err.value) == "epochs has no compare rule"


def test_comparing_on_a_field_that_cannot_be_compared_compares_bn():
    assert variant(Config(lr=0.5), "epochs", "3") == (
        Config(lr=0.5, bn=False), ["Cannot compare on 'epochs'; comparing BN on and off instead."])


def test_b_holds_one_normalization_whichever_way_it_is_written():
    assert variant(Config(norm="layer"), "bn", "1") == (Config(norm="batch"), [])
    assert variant(Config(norm="layer"), "bn", "0") == (Config(norm="none"), [])
    assert variant(Config(bn=False), "norm", "batch") == (Config(norm="batch"), [])
    assert variant(Config(bn=False), "norm", "layer") == (Config(norm="layer"), [])
    assert variant(Config(), "norm", "none") == (Config(bn=False), [])


def test_changing_another_field_keeps_a_normalization():
    assert variant(Config(bn=False), "lr", "0.5") == (Config(bn=False, lr=0.5), [])
    assert variant(Config(norm="layer"), "seed", "4") == (Config(norm="layer", seed=4), [])


def test_b_starts_from_as_weights_where_names_and_shapes_agree():
    a_start = {"W1": np.ones((2, 3)), "b1": np.zeros(3), "W2": np.ones((3, 1))}
    b_start = {"W1": np.full((2, 3), 2.0), "b1": np.full(4, 2.0), "W3": np.full((1, 1), 2.0)}
    start = shared_start(a_start, b_start, Config(), Config(lr=0.5))
    assert start["W1"] is a_start["W1"]            # same name, same shape: A's
    assert start["b1"] is b_start["b1"]            # same name, other shape: B's own
    assert start["W3"] is b_start["W3"]            # only B has it
    assert sorted(start) == ["W1", "W3", "b1"]
    changed_start = shared_start(a_start, b_start, Config(), Config(seed=1))
    assert changed_start is b_start


def test_shorter_memory_is_written_to_ten_decimals():
    assert default_value(Config(bn_momentum=0.912345678912), "bn_momentum") == "0.1234567891"
