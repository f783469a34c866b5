"""Config: validation, URL round trips, and links that cannot break the page."""
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnviz import FIELDS, PRESETS, Config
from bnviz.config import FIELD_BY_NAME


def test_defaults_follow_the_notes_keras_model():
    cfg = Config()
    assert cfg.hidden == (3, 2) and cfg.activation == "relu" and cfg.bn and cfg.bn_position == "before"
    assert cfg.bn_momentum == 0.99 and cfg.eps == 1e-3 and cfg.running_var == "biased"
    assert cfg.optimizer == "sgd" and cfg.lr == 0.1 and cfg.batch_size == 10 and cfg.epochs == 50
    assert cfg.init == "he" and cfg.seed == 0 and cfg.test_fraction == 0.2 and cfg.standardize


def test_table_and_dataclass_agree():
    assert [f.name for f in dataclasses.fields(Config)] == [f.name for f in FIELDS]
    for f in FIELDS:
        assert getattr(Config(), f.name) == f.default
        assert f.help and f.group in ("Data", "Network", "Batch norm", "Training")


@pytest.mark.parametrize("changes, word", [
    ({"lr": -1.0}, "outside"), ({"lr": float("nan")}, "finite"), ({"lr": "fast"}, "number"),
    ({"bn": "maybe"}, "true or false"), ({"hidden": (3, 0)}, "width"), ({"hidden": ()}, "width"),
    ({"hidden": (3,) * 9}, "width"), ({"optimizer": "lbfgs"}, "one of"), ({"epochs": 2.5}, "whole"),
    ({"batch_size": 0}, "outside"), ({"activation": "swish"}, "one of"), ({"seed": True}, "number"),
])
def test_nonsense_raises_value_error(changes, word):
    with pytest.raises(ValueError, match=word):
        Config(**changes)


def test_keyword_values_are_normalized():
    cfg = Config(lr=1, hidden=[4, 4], epochs=3.0, bn=0)
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.hidden == (4, 4) and cfg.epochs == 3 and cfg.bn is False
    assert hash(cfg) == hash(Config(lr=1.0, hidden=(4, 4), epochs=3, bn=False))


def test_to_query_writes_only_changes_and_reads_back():
    cfg = Config(bn=False, lr=0.5, hidden=(3, 2, 4))
    assert cfg.to_query() == {"bn": "0", "lr": "0.5", "hidden": "3,2,4"}
    assert Config.from_query(cfg.to_query()) == (cfg, [])
    assert Config().to_query() == {}


def test_hand_written_links_read():
    cfg, warnings = Config.from_query({"lr": "0.5", "bn": "0", "hidden": "3, 2", "optimizer": "Adam",
                                       "standardize": "false", "epochs": "20"})
    assert not warnings
    assert cfg == Config(lr=0.5, bn=False, hidden=(3, 2), optimizer="adam", standardize=False, epochs=20)


def test_mangled_links_give_the_nearest_valid_experiment_and_say_so():
    cfg, warnings = Config.from_query({
        "lr": "1e9", "epochs": "-4", "bn": "perhaps", "hidden": "3,x", "color": "red",
        "optimizer": "sgd;drop table", "batch_size": ["20", "30"], "seed": "nan",
    })
    assert cfg.lr == 100.0 and cfg.epochs == 1          # clamped to the nearest allowed value
    assert cfg.bn is True and cfg.hidden == (3, 2) and cfg.optimizer == "sgd" and cfg.seed == 0
    assert cfg.batch_size == 30                          # the last of repeated keys
    text = " ".join(warnings)
    for name in ("lr", "epochs", "bn", "hidden", "color", "optimizer", "seed"):
        assert name in text
    assert len(warnings) == 7


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([f.name for f in FIELDS] + ["junk", ""]),
                       st.one_of(st.text(max_size=30), st.lists(st.text(max_size=8), max_size=3)), max_size=12))
def test_from_query_never_raises(query):
    cfg, warnings = Config.from_query(query)
    assert isinstance(cfg, Config) and all(isinstance(w, str) for w in warnings)
    # and what it opens writes a link that reads back to itself
    assert Config.from_query(cfg.to_query()) == (cfg, [])


def _value(f):
    if f.kind == "bool":
        return st.booleans()
    if f.kind == "choice":
        return st.sampled_from(f.choices)
    if f.kind == "widths":
        return st.lists(st.integers(1, 16), min_size=1, max_size=8).map(tuple)
    if f.kind == "int":
        return st.integers(int(f.low), int(f.high))
    return st.floats(f.low, f.high, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({f.name: _value(f) for f in FIELDS}))
def test_every_valid_config_round_trips_through_a_link(values):
    cfg = Config(**values)
    back, warnings = Config.from_query(cfg.to_query())
    assert not warnings and back == cfg


def test_presets_are_valid_configs():
    for name, preset in PRESETS.items():
        cfg = Config(**preset)
        assert dataclasses.asdict(cfg)["eps"] == preset["eps"]
    assert Config(**PRESETS["pytorch"]).running_var == "unbiased"
    assert FIELD_BY_NAME["lr"].log
