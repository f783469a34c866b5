"""Compare mode's run B, the run cache, and the per-request work cap."""
import threading
import time

import numpy as np

from bnviz import Config, train
from bnviz.cache import RunCache
from bnviz.compare import default_value, shared_start, variant
from bnviz.train import architecture, initial_params


def test_variant_changes_one_field():
    b, warnings = variant(Config(), "lr", "0.5")
    assert not warnings and b == Config(lr=0.5)
    b, warnings = variant(Config(), "hidden", "4,x")
    assert warnings and b.hidden == (3, 2)
    b, warnings = variant(Config(), "nonsense", "1")
    assert warnings and b == Config(bn=False)


def test_default_values_are_the_other_choice_or_tenfold():
    assert default_value(Config(), "bn") == "0"
    assert default_value(Config(bn=False), "bn") == "1"
    assert default_value(Config(), "lr") == "1"
    assert default_value(Config(), "optimizer") == "momentum"
    assert default_value(Config(), "hidden") == "3,2,2"
    assert default_value(Config(batch_size=4), "batch_size") == "64"      # small against large
    assert default_value(Config(batch_size=64), "batch_size") == "4"
    assert default_value(Config(), "bn_noise") == "0.5" and default_value(Config(bn_noise=0.5), "bn_noise") == "0"
    assert default_value(Config(), "bias_init") == "1" and default_value(Config(bias_init=1.0), "bias_init") == "0"


def test_shared_start_keeps_weights_where_shapes_agree(data):
    a_cfg, b_cfg = Config(), Config(hidden=(3, 4))
    a = initial_params(a_cfg, architecture(a_cfg))
    b = initial_params(b_cfg, architecture(b_cfg))
    start = shared_start(a, b, a_cfg, b_cfg)
    np.testing.assert_array_equal(start["W1"], a["W1"])          # (2, 3) in both
    assert start["W2"].shape == (3, 4) and start["W2"] is b["W2"]
    scaled = Config(init_scale=10.0)
    fresh = initial_params(scaled, architecture(scaled))
    assert shared_start(a, fresh, a_cfg, scaled)["W1"] is fresh["W1"]   # the change is the start itself


def test_run_b_with_bn_off_sees_the_same_rows_in_the_same_order(data, default_run):
    b_cfg, _ = variant(Config(), "bn", "0")
    start = shared_start(default_run.initial_params, initial_params(b_cfg, architecture(b_cfg)), Config(), b_cfg)
    b = train(b_cfg, data, start)
    np.testing.assert_array_equal(b.orders, default_run.orders)
    np.testing.assert_array_equal(b.initial_params["W1"], default_run.initial_params["W1"])


class Sized:
    def __init__(self, nbytes):
        self.nbytes = nbytes


def test_cache_is_bounded_in_entries_and_bytes():
    cache = RunCache(max_entries=3, max_bytes=100)
    for i in range(5):
        cache.put(i, Sized(10))
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) is not None
    cache.put("big", Sized(90))
    assert cache.nbytes <= 100 and cache.get("big") is not None
    cache.put("huge", Sized(1000))
    assert cache.get("huge") is None                   # too big to keep at all


def test_cache_computes_once_for_many_simultaneous_callers():
    cache = RunCache()
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.2)
        return Sized(1)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 8 and len({id(r) for r in results}) == 1


def test_run_as_initial_weights_are_known_before_it_trains():
    """The page starts run B from run A's initial weights before A has trained (both train at once):
    those must be exactly the weights A's training starts from, for any seed, shape, init and data."""
    from bnviz import load_dataset

    cases = [Config(), Config(seed=7, hidden=(5, 4, 3), init="xavier", init_scale=3.0, bias_init=0.5),
             Config(seed=3, bn=False, keep_bias=True, activation="tanh", epochs=1),
             Config(seed=11, dataset="moons", data_size=60, bn_position="after", epochs=1)]
    for cfg in cases:
        data = load_dataset(cfg.dataset, seed=cfg.seed, test_fraction=cfg.test_fraction, size=cfg.data_size,
                            noise=cfg.data_noise)
        before = initial_params(cfg, architecture(cfg, data.n_features))
        run = train(cfg.replace(epochs=1), data)
        assert before.keys() == run.initial_params.keys()
        for name in before:
            np.testing.assert_array_equal(before[name], run.initial_params[name])


def test_a_received_run_is_sized_with_the_snapshots_it_will_rebuild_and_the_cache_gives_back_what_it_took():
    """A Run sent from a worker leaves its snapshots behind and rebuilds them when first read: its
    size counts them from the start, so a cache that sized it once stays within its bound after
    the Activations tab has read them; and removing an entry gives back the size it was put with."""
    import pickle

    from bnviz import Config, load_for, train
    from bnviz.cache import RunCache

    cfg = Config(epochs=5)
    run = train(cfg, load_for(cfg))
    whole = run.nbytes
    received = pickle.loads(pickle.dumps(run))
    before = received.nbytes                                  # before the snapshots are rebuilt ...
    assert sum(a.nbytes for stage in received.snapshots.values() for a in stage) > 0
    assert received.nbytes == before                          # ... and after: the same
    assert whole <= before <= whole + received.train_inputs.nbytes + 8 * 1024
    sizes = {"a": 5, "b": 7, "c": 3}
    cache = RunCache(max_entries=10, max_bytes=12, size=lambda v: sizes[v])
    cache.put(1, "a")
    cache.put(2, "b")
    assert cache.nbytes == 12
    sizes["a"] = 100                                          # the value grew after it was put
    cache.put(3, "c")                                         # 15 > 12: entry 1 leaves, giving back its 5
    assert 1 not in cache and 2 in cache and 3 in cache and cache.nbytes == 10
    cache.put(2, "b")                                         # put again: the old size out, the new in
    assert cache.nbytes == 10
