"""Config: validation, URL round trips, and links that cannot break the page."""
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnviz import FIELDS, PRESETS, Config
from bnviz.config import FIELD_BY_NAME, MAX_LAYERS, MAX_UNITS


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


@pytest.mark.parametrize("changes, message", [
    ({"lr": -1.0}, "lr must be a number between 1e-06 and 100 (got -1.0)"),
    ({"lr": float("nan")}, "lr must be a number between 1e-06 and 100 (got nan)"),
    ({"lr": "fast"}, "lr must be a number between 1e-06 and 100 (got 'fast')"),
    ({"bn": "maybe"}, "bn must be on or off: true or false, 1 or 0 (got 'maybe')"),
    ({"hidden": (3, 0)}, "hidden must be 1 to 8 layer widths, each a whole number from 1 to 100 (got (3, 0))"),
    ({"hidden": ()}, "hidden must be 1 to 8 layer widths"), ({"hidden": (3,) * 9}, "hidden must be 1 to 8"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of sgd, momentum, rmsprop, adam (got 'lbfgs')"),
    ({"epochs": 2.5}, "epochs must be a whole number between 1 and 500 (got 2.5)"),
    ({"batch_size": 0}, "batch_size must be a whole number between 1 and 100000 (got 0)"),
    ({"activation": "swish"}, "activation must be one of relu, tanh, sigmoid, linear (got 'swish')"),
    ({"seed": True}, "seed must be a whole number between 0 and 2147483647 (got True)"),
])
def test_nonsense_raises_value_error_naming_the_field_and_its_range(changes, message):
    with pytest.raises(ValueError) as err:
        Config(**changes)
    assert str(err.value).startswith(message)


def _bad_values(f):
    """Values field f must refuse: of the wrong kind, and just outside its range."""
    if f.kind == "bool":
        return ["maybe", 2, 0.5]
    if f.kind == "choice":
        return ["no such thing", 3]
    if f.kind == "widths":
        return [(), (0,), (MAX_UNITS + 1,), (1,) * (MAX_LAYERS + 1), "3,2"]
    step = 1 if f.kind == "int" else abs(f.high - f.low) * 1e-6 + 1e-300
    return ["text", None, float("inf"), f.low - step, f.high + step * (1 if f.kind == "int" else 1e3)]


@pytest.mark.parametrize("name", [f.name for f in FIELDS])
def test_every_field_refuses_nonsense_by_name_and_range(name):
    f = FIELD_BY_NAME[name]
    for bad in _bad_values(f):
        with pytest.raises(ValueError) as err:
            Config(**{name: bad})
        text = str(err.value)
        assert text.startswith(f"{name} must be ") and text.endswith(f"(got {bad!r})"), text
        if f.kind in ("int", "float"):
            shown = [str(v) if isinstance(v, int) else format(v, 'g') for v in (f.low, f.high)]
            assert f"between {shown[0]} and {shown[1]}" in text, text
        if f.kind == "choice":
            assert ", ".join(f.choices) in text


def test_keyword_values_are_normalized():
    cfg = Config(lr=1, hidden=[4, 4], epochs=3.0, bn=0)
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.hidden == (4, 4) and cfg.epochs == 3 and cfg.bn is False
    assert hash(cfg) == hash(Config(lr=1.0, hidden=(4, 4), epochs=3, bn=False))


def test_to_query_writes_only_changes_and_reads_back():
    cfg = Config(bn=False, lr=0.5, hidden=(3, 2, 4))
    assert cfg.to_query() == {"bn": "0", "lr": "0.5", "hidden": "3,2,4"}
    assert Config.from_query(cfg.to_query()) == (cfg, [])
    assert Config().to_query() == {}
    assert Config(init_scale=10, eps=1e-5, seed=3).to_query() == {"init_scale": "10.0", "eps": "1e-05", "seed": "3"}


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
@given(st.fixed_dictionaries({f.name: _value(f) for f in FIELDS if f.name != "bn"}), st.booleans())
def test_every_valid_config_round_trips_through_a_link(values, say_bn):
    if say_bn:                                  # bn given as well, agreeing with norm
        values["bn"] = values["norm"] == "batch"
    cfg = Config(**values)
    back, warnings = Config.from_query(cfg.to_query())
    assert not warnings and back == cfg


def test_presets_are_valid_configs():
    for name, preset in PRESETS.items():
        cfg = Config(**preset)
        assert dataclasses.asdict(cfg)["eps"] == preset["eps"]
    assert Config(**PRESETS["pytorch"]).running_var == "unbiased"
    assert FIELD_BY_NAME["lr"].log


@pytest.mark.parametrize("given, norm, bn", [
    ({}, "batch", True), ({"bn": True}, "batch", True), ({"bn": False}, "none", False),
    ({"norm": "layer"}, "layer", False), ({"norm": "none"}, "none", False), ({"norm": "batch"}, "batch", True),
    ({"bn": False, "norm": "layer"}, "layer", False), ({"bn": 0, "norm": "none"}, "none", False),
    ({"bn": 1, "norm": "batch"}, "batch", True),
])
def test_bn_and_norm_say_one_normalization(given, norm, bn):
    cfg = Config(**given)
    assert (cfg.norm, cfg.bn) == (norm, bn)
    assert Config(**cfg.to_dict()) == cfg


@pytest.mark.parametrize("given", [{"bn": True, "norm": "layer"}, {"bn": True, "norm": "none"},
                                   {"bn": False, "norm": "batch"}])
def test_a_config_asking_for_two_normalizations_is_refused(given):
    with pytest.raises(ValueError, match="ask for different normalizations"):
        Config(**given)


def test_changing_bn_or_norm_alone_lets_the_other_follow():
    layer = Config(norm="layer", lr=0.5)
    assert layer.replace(bn=True).norm == "batch" and layer.replace(bn=False).norm == "none"
    assert Config(bn=False).replace(norm="layer").bn is False and Config().replace(norm="none").bn is False
    assert Config().replace(norm="layer").replace(norm="batch") == Config()
    assert layer.replace(lr=0.1).norm == "layer"
    with pytest.raises(ValueError, match="different normalizations"):
        layer.replace(bn=True, norm="none")


def test_links_write_the_normalization_once_and_old_links_still_read():
    assert Config(norm="layer").to_query() == {"norm": "layer"}
    assert Config(bn=False).to_query() == {"bn": "0"} == Config(norm="none").to_query()
    assert Config().to_query() == {}
    assert Config.from_query({"norm": "layer"}) == (Config(norm="layer"), [])
    assert Config.from_query({"bn": "0"}) == (Config(norm="none"), [])
    assert Config.from_query({"bn": "1"}) == (Config(norm="batch"), [])
    assert Config.from_query({"bn": "0", "norm": "layer"}) == (Config(norm="layer"), [])


@pytest.mark.parametrize("query, norm", [({"bn": "1", "norm": "layer"}, "layer"),
                                         ({"bn": "0", "norm": "batch"}, "batch"),
                                         ({"bn": "on", "norm": "none"}, "none")])
def test_a_link_asking_for_two_normalizations_gets_a_note_and_uses_norm(query, norm):
    cfg, warnings = Config.from_query(query)
    assert cfg.norm == norm
    assert warnings == [f"bn={'1' if query['bn'] != '0' else '0'} and norm={norm} ask for different "
                        f"normalizations; using norm={norm}."]
