"""Config by value: the bounds of each kind of field, the words of a link's warnings, and the
values a Config gives back (to_dict, differences, format_value), written out by hand."""
import pytest

from bnviz import Config
from bnviz.config import FIELD_BY_NAME, Field, _parse, format_value

WIDTHS_RULE = "hidden must be 1 to 8 layer widths, each a whole number from 1 to 100"


# ---- hidden: 1 to 8 layers of 1 to 100 units, whole numbers only (True is not a width)

@pytest.mark.parametrize("hidden", [(1,), (100,), (100, 1), (1,) * 8, (100,) * 8, [5, 6]])
def test_widths_at_the_bounds_are_kept(hidden):
    assert Config(hidden=hidden).hidden == tuple(hidden)


@pytest.mark.parametrize("hidden", [(0,), (101,), (1,) * 9, (), (True, 2), (2, False), (2.0, 3), ("3", "2"),
                                    3, "32", None])
def test_widths_just_outside_or_of_another_kind_are_refused_by_name(hidden):
    with pytest.raises(ValueError) as err:
        Config(hidden=hidden)
    assert str(err.value) == f"{WIDTHS_RULE} (got {hidden!r})"


def test_a_single_number_is_not_a_list_of_widths():
    with pytest.raises(ValueError) as err:
        Config(hidden=4)
    assert str(err.value) == "hidden must be 1 to 8 layer widths, each a whole number from 1 to 100 (got 4)"


# ---- numbers: inclusive ranges

@pytest.mark.parametrize("name, value", [("lr", 1e-6), ("lr", 100.0), ("epochs", 1), ("epochs", 500),
                                         ("test_fraction", 0.05), ("test_fraction", 0.5), ("bn_momentum", 0.0),
                                         ("bn_momentum", 0.9999), ("seed", 0), ("seed", 2147483647)])
def test_numbers_exactly_at_a_bound_are_kept(name, value):
    assert getattr(Config(**{name: value}), name) == value


@pytest.mark.parametrize("name, value, message", [
    ("lr", 9.9e-7, "lr must be a number between 1e-06 and 100 (got 9.9e-07)"),
    ("lr", 100.001, "lr must be a number between 1e-06 and 100 (got 100.001)"),
    ("epochs", 0, "epochs must be a whole number between 1 and 500 (got 0)"),
    ("epochs", 501, "epochs must be a whole number between 1 and 500 (got 501)"),
    ("test_fraction", 0.5000001, "test_fraction must be a number between 0.05 and 0.5 (got 0.5000001)"),
    ("bn_momentum", 1.0, "bn_momentum must be a number between 0 and 0.9999 (got 1.0)"),
    ("seed", -1, "seed must be a whole number between 0 and 2147483647 (got -1)"),
    ("seed", 2147483648, "seed must be a whole number between 0 and 2147483647 (got 2147483648)"),
])
def test_numbers_just_outside_a_bound_are_refused_with_the_range(name, value, message):
    with pytest.raises(ValueError) as err:
        Config(**{name: value})
    assert str(err.value) == message


# ---- links: the exact warning sentences

def test_an_empty_repeated_key_is_read_as_empty_text():
    cfg, warnings = Config.from_query({"lr": []})
    assert cfg.lr == 0.1
    assert warnings == ["lr='': lr must be a number between 1e-06 and 100; using 0.1."]


def test_a_bad_link_value_is_quoted_in_the_warning():
    cfg, warnings = Config.from_query({"lr": "fast"})
    assert cfg.lr == 0.1
    assert warnings == ["lr='fast': lr must be a number between 1e-06 and 100; using 0.1."]


def test_a_whole_number_out_of_range_is_clamped_and_written_as_a_whole_number():
    cfg, warnings = Config.from_query({"epochs": "1000"})
    assert cfg.epochs == 500 and isinstance(cfg.epochs, int)
    assert warnings == ["epochs='1000': epochs must be a whole number between 1 and 500; using 500."]
    cfg, warnings = Config.from_query({"seed": "-3"})
    assert cfg.seed == 0
    assert warnings == ["seed='-3': seed must be a whole number between 0 and 2147483647; using 0."]


def test_a_number_out_of_range_is_clamped_and_written_as_a_float():
    cfg, warnings = Config.from_query({"lr": "1000"})
    assert cfg.lr == 100.0
    assert warnings == ["lr='1000': lr must be a number between 1e-06 and 100; using 100.0."]


def test_a_bad_switch_falls_back_to_the_default_with_the_rule():
    cfg, warnings = Config.from_query({"bn": "maybe"})
    assert cfg.bn is True
    assert warnings == ["bn='maybe': bn must be on or off: true or false, 1 or 0; using 1."]


def test_spaces_inside_widths_are_dropped():
    assert Config.from_query({"hidden": "1 0, 2"}) == (Config(hidden=(10, 2)), [])
    assert Config.from_query({"hidden": " 4 ,5 ,"}) == (Config(hidden=(4, 5)), [])


def test_parse_names_a_kind_it_does_not_know():
    odd = Field("odd", "matrix", None, "Data", "Odd", "A kind no field has.")
    with pytest.raises(AssertionError) as err:
        _parse(odd, "1")
    assert err.value.args == ("matrix",)


# ---- what a Config gives back

def test_to_dict_writes_widths_as_a_list():
    values = Config(hidden=(4, 5, 6)).to_dict()
    assert values["hidden"] == [4, 5, 6] and type(values["hidden"]) is list
    assert values["lr"] == 0.1 and values["dataset"] == "placement" and values["bn"] is True


def test_differences_name_the_changed_fields_in_table_order():
    a = Config()
    assert a.differences(Config()) == []
    assert a.differences(Config(seed=3, lr=0.5)) == ["lr", "seed"]
    assert Config(seed=3, lr=0.5).differences(a) == ["lr", "seed"]
    assert a.differences(Config(bn=False)) == ["bn", "norm"]
    assert a.differences(Config(hidden=(3, 2, 2), dataset="xor")) == ["dataset", "hidden"]


def test_format_value_writes_what_a_link_holds():
    assert format_value(FIELD_BY_NAME["lr"], 1) == "1.0"
    assert format_value(FIELD_BY_NAME["lr"], 0.5) == "0.5"
    assert format_value(FIELD_BY_NAME["eps"], 1e-5) == "1e-05"
    assert format_value(FIELD_BY_NAME["epochs"], 20) == "20"
    assert format_value(FIELD_BY_NAME["bn"], True) == "1" and format_value(FIELD_BY_NAME["bn"], False) == "0"
    assert format_value(FIELD_BY_NAME["hidden"], (3, 2, 4)) == "3,2,4"
    assert format_value(FIELD_BY_NAME["optimizer"], "adam") == "adam"


def test_a_number_below_a_fractional_bound_is_clamped_to_it():
    cfg, warnings = Config.from_query({"lr": "1e-9"})
    assert cfg.lr == 1e-6
    assert warnings == ["lr='1e-9': lr must be a number between 1e-06 and 100; using 1e-06."]


def test_a_fraction_or_infinity_for_a_whole_number_falls_back_to_the_default():
    cfg, warnings = Config.from_query({"epochs": "2.5", "seed": "inf"})
    assert (cfg.epochs, cfg.seed) == (50, 0)
    assert warnings == ["epochs='2.5': epochs must be a whole number between 1 and 500; using 50.",
                        "seed='inf': seed must be a whole number between 0 and 2147483647; using 0."]
