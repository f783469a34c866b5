"""The shipped verdicts' file format and fingerprint (their values are held to fresh ones in test_lessons)."""
import gzip
import json

import numpy as np
import pytest

from bnviz import shipped_verdicts as sv
from bnviz.lessons import Verdict
from bnviz.verdicts import Part


def made_up() -> Verdict:
    part = Part("BN trains faster", "epochs saved", 1.0, np.array([2.0, np.nan, -0.5]))
    return Verdict("higher-lr", "partly", "A sentence, with 0.25 in it.", {"a": 0.25, "n": 3, "w": "seven of ten"},
                   (0, 1, 2), {"BN on": np.array([0.1, np.nan, 3e-300])}, "test accuracy", True, "one part",
                   1.5, {"steps": np.arange(3), "acc BN on": np.ones((2, 3)), "mask": np.array([True, False]),
                         "layer": 3, "names": ("a", "b"), "nested": [np.zeros(2), 1.0], "empty": np.zeros((0, 3))},
                   (0.0, 1.0), 0.5, (-np.inf, np.inf), 0.98, "rule line", (part,), "shows")


def test_a_verdict_goes_through_the_file_unchanged():
    v = made_up()
    stamp, seeds, found = sv.from_json(sv.to_json({("higher-lr", "shows"): v, ("higher-lr", "notes"): v}, (0, 1, 2)))
    assert stamp == sv.fingerprint() and seeds == (0, 1, 2) and set(found) == {("higher-lr", "shows"),
                                                                               ("higher-lr", "notes")}
    back = found[("higher-lr", "shows")]
    for name in ("lesson", "status", "sentence", "numbers", "seeds", "spread_label", "spread_log", "fails", "seconds",
                 "spread_bounds", "effect", "level", "rule", "experiment"):
        assert getattr(back, name) == getattr(v, name), name
    assert back.ci == (-np.inf, np.inf) and type(back.numbers["n"]) is int
    np.testing.assert_array_equal(back.spread["BN on"], v.spread["BN on"])
    assert back.spread["BN on"][2] == 3e-300                       # every bit of a float survives
    for name in ("steps", "acc BN on", "mask", "empty"):
        assert back.detail[name].dtype == v.detail[name].dtype and back.detail[name].shape == v.detail[name].shape
        np.testing.assert_array_equal(back.detail[name], v.detail[name])
    assert back.detail["layer"] == 3 and back.detail["names"] == ("a", "b")
    np.testing.assert_array_equal(back.detail["nested"][0], np.zeros(2))
    (p,) = back.parts
    assert isinstance(p, Part) and (p.name, p.effect, p.threshold) == ("BN trains faster", "epochs saved", 1.0)
    np.testing.assert_array_equal(p.values, [2.0, -np.inf, -0.5])   # a NaN effect counts against the claim


def test_what_cannot_be_shipped_says_so():
    with pytest.raises(TypeError, match="cannot ship a object"):
        sv.encode(object())


def test_the_fingerprint_covers_the_engine_and_the_data_but_not_the_page(monkeypatch):
    paths = dict(sv._sources(sv.files("bnviz"), ""))
    assert {"lessons.py", "train.py", "nn/layers.py", "datasets/digits.csv.gz", "datasets/placement.csv"} <= set(paths)
    assert not any(p.startswith(("ui/", "figures/")) for p in paths)
    assert "shipped_verdicts.py" not in paths and f"datasets/{sv.NAME}" not in paths
    before = sv.fingerprint()
    real = sv._sources

    def edited(folder, prefix):                                    # one byte of the engine changed
        for path, data in real(folder, prefix):
            yield path, data + b"#" if path == "measures.py" else data

    monkeypatch.setattr(sv, "_sources", edited)
    assert sv.fingerprint() != before


def test_another_code_other_seeds_or_a_broken_file_are_ignored(monkeypatch, tmp_path):
    good = sv.to_json({("higher-lr", "shows"): made_up()}, (0, 1, 2))
    folder = tmp_path / "bnviz"
    (folder / "datasets").mkdir(parents=True)

    def ship(raw):
        (folder / "datasets" / sv.NAME).write_bytes(raw)

    monkeypatch.setattr(sv, "files", lambda _: folder)
    monkeypatch.setattr(sv, "fingerprint", lambda: json.loads(gzip.decompress(good))["fingerprint"])
    ship(good)
    assert set(sv.shipped((0, 1, 2))) == {("higher-lr", "shows")}
    assert sv.shipped(range(10)) == {}                            # measured over other seeds
    body = json.loads(gzip.decompress(good))
    body["fingerprint"] = "0" * 64                                 # measured by other code
    ship(gzip.compress(json.dumps(body).encode()))
    assert sv.shipped((0, 1, 2)) == {}
    for broken in (b"", b"not gzip", gzip.compress(b"{"), gzip.compress(b'{"fingerprint": 1}')):
        ship(broken)
        assert sv.shipped((0, 1, 2)) == {}
    (folder / "datasets" / sv.NAME).unlink()
    assert sv.shipped((0, 1, 2)) == {}


def test_the_fingerprint_names_the_loop_that_measures(monkeypatch):
    """The compiled and the NumPy loops agree to about 1e-15, not to the bit: a server on the other loop
    measures its own verdicts."""
    from bnviz import compiled

    monkeypatch.delenv(compiled.ENGINE_ENV, raising=False)
    usual = sv.fingerprint()
    monkeypatch.setenv(compiled.ENGINE_ENV, "numpy")
    assert sv.fingerprint() != usual
