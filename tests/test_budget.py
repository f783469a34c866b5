"""One request's cost, and the nearest experiment within the budget."""
import numpy as np
import pytest

from bnviz import Config, load_for, train
from bnviz.budget import Budget, cost, fit, n_params
from bnviz.train import architecture

BAD_LINKS = (
    "dataset=moons&data_size=1e308&batch_size=0&epochs=1e308&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
    "dataset=moons&data_size=5000&hidden=16,16,16,16,16,16,16,16",
    "batch_size=1&epochs=500&hidden=16,16,16,16,16,16,16,16",
    "dataset=circles&data_size=5000&batch_size=100000&epochs=500&hidden=16,16,16,16,16,16,16,16",
)


def from_link(query: str) -> Config:
    return Config.from_query(dict(part.split("=") for part in query.split("&")))[0]


def slow_steps(n_rows: int, batch_size: int) -> int:
    """Mini-batches per epoch, counted the long way: a trailing single row joins the batch before it."""
    size = max(1, min(batch_size, n_rows))
    sizes = []
    left = n_rows
    while left > 0:
        sizes.append(min(size, left))
        left -= size
    if len(sizes) > 1 and size > 1 and sizes[-1] == 1:
        sizes[-2:] = [sizes[-2] + 1]
    return len(sizes)


@pytest.mark.parametrize("hidden", [(3, 2), (1,), (16,) * 8, (5, 7, 2)])
@pytest.mark.parametrize("bn, position, keep_bias", [(True, "before", False), (True, "before", True),
                                                     (True, "after", False), (False, "before", False)])
def test_parameter_count_matches_the_network(hidden, bn, position, keep_bias):
    cfg = Config(hidden=hidden, bn=bn, bn_position=position, keep_bias=keep_bias)
    assert n_params(hidden, bn, keep_bias, position) == architecture(cfg, 2).param_layout().size


@pytest.mark.parametrize("overrides", [{}, {"batch_size": 1, "epochs": 3}, {"hidden": (16,) * 8, "epochs": 4},
                                       {"dataset": "moons", "data_size": 900, "batch_size": 64, "epochs": 7}])
def test_cost_counts_updates_work_and_bytes(overrides):
    cfg = Config(**overrides)
    data = load_for(cfg)
    run = train(cfg, data)
    c = cost(cfg, len(data.y_train))
    n, P = len(data.y_train), run.params.shape[1]
    assert c.updates == run.n_steps == cfg.epochs * slow_steps(n, cfg.batch_size)
    assert c.work == cfg.epochs * n * P
    # the estimate covers the record it bounds, and is not wildly above it
    assert run.nbytes <= c.bytes <= 2 * run.nbytes + 16 * 2**20


def test_a_request_that_fits_is_run_as_asked():
    plan = fit(Config(), 320)
    assert plan.config == Config() and plan.changes == {} and plan.note is None


@pytest.mark.parametrize("query", BAD_LINKS)
def test_bad_links_get_the_nearest_experiment_within_budget(query):
    cfg = from_link(query)
    data = load_for(Config(dataset=cfg.dataset, data_size=cfg.data_size))
    plan = fit(cfg, len(data.y_train))
    assert plan.asked_cost.share(plan.budget) > 1
    assert plan.cost.share(plan.budget) <= 1
    assert plan.note and all(name in plan.note for name in plan.changes)
    # the cut is the smallest one of its kind: one more epoch would not fit
    if set(plan.changes) == {"epochs"}:
        more = plan.config.replace(epochs=plan.config.epochs + 1)
        assert cost(more, len(data.y_train)).share(plan.budget) > 1


def test_fitted_worst_link_keeps_its_record_within_bounds():
    cfg = from_link(BAD_LINKS[1])
    rows = len(load_for(cfg).y_train)
    plan = fit(cfg, rows)
    run = train(plan.config, load_for(plan.config), stride=plan.cost.stride)
    assert run.nbytes <= plan.budget.max_bytes
    assert run.n_steps <= plan.cost.updates


def test_data_size_is_cut_only_for_toy_sets():
    cfg = from_link(BAD_LINKS[1]).replace(dataset="placement")
    plan = fit(cfg, 320)
    assert "data_size" not in plan.changes and plan.cost.share(plan.budget) <= 1


def test_tiny_budget_still_finds_something():
    plan = fit(Config(hidden=(16,) * 8, epochs=500), 320, Budget(max_steps=50, max_work=1e4, max_bytes=4e6))
    assert plan.cost.share(plan.budget) <= 1 or plan.config.batch_size == 100_000
    assert np.all(np.array(plan.config.hidden) <= 16)


def test_a_big_network_landscape_is_scored_on_spread_rows_within_budget():
    from bnviz.landscape import network_plane
    from bnviz.nn import bce_with_logits_forward, forward

    cfg = Config(hidden=(16,) * 8, epochs=2)
    data = load_for(cfg)
    run = train(cfg, data)
    grid = network_plane(run, data, "pca")
    size, P, n = len(grid.a), run.params.shape[1], len(data.y_train)
    used = int(grid.note.split("loss on ")[1].split(" of ")[0])
    assert used < n and f"of {n:,} training rows" in grid.note
    assert (size * size + len(grid.path)) * used * P <= Budget().max_work
    # the final weights' loss, recomputed by hand on those rows (evenly spread), equals the origin's
    rows = np.unique(np.linspace(0, n - 1, used).round().astype(int))
    X = data.inputs(data.X_train, True)[rows]
    result = forward(run.arch, run.params_at(run.n_steps), X, run.buffers_at(run.n_steps))
    assert grid.path_loss[-1] == pytest.approx(bce_with_logits_forward(result.logits, data.y_train[rows])[0],
                                               rel=1e-12)


FIGURE_1 = Config(dataset="digits", hidden=(100, 100, 100), activation="sigmoid", batch_size=60, epochs=50, lr=0.5)


@pytest.mark.parametrize("n_out", [1, 10])
def test_parameter_count_of_many_inputs_and_classes(n_out):
    for cfg in (FIGURE_1, FIGURE_1.replace(bn=False), Config(hidden=(7, 5), bn_position="after")):
        assert n_params(cfg.hidden, cfg.bn, cfg.keep_bias, cfg.bn_position, 64, n_out) == \
            architecture(cfg, 64, 2 if n_out == 1 else n_out).param_layout().size


def test_big_steps_are_priced_for_the_numpy_loop(monkeypatch):
    from bnviz import compiled
    from bnviz.budget import BLAS_WORK_PRICE, NUMPY_STEPS, NUMPY_WORK, data_shape, step_price, work_price

    data = load_for(FIGURE_1)
    assert data_shape(data) == {"n_in": 64, "n_out": 10}
    P = n_params(FIGURE_1.hidden, True, n_in=64, n_out=10)
    numpy_loop = compiled.engine() == "numpy"
    # in units of the process's loop: the compiled loop's, or the NumPy loop's (NUMPY_WORK times dearer)
    price = BLAS_WORK_PRICE / NUMPY_WORK if numpy_loop else BLAS_WORK_PRICE
    assert P == 28_010 and work_price(FIGURE_1, 1438, P) == price
    assert step_price(FIGURE_1, 1438, P) == (1.0 if numpy_loop else NUMPY_STEPS)
    assert step_price(Config(), 320, n_params((3, 2))) == 1.0
    assert work_price(Config(), 320, n_params((3, 2))) == 1.0
    monkeypatch.delenv(compiled.ENGINE_ENV, raising=False)
    assert compiled.engine(60 * P) == "numpy"                     # the loop the price is measured for
    assert compiled.engine(10 * n_params((3, 2))) == ("compiled" if compiled.kernel() else "numpy")
    c = cost(FIGURE_1, 1438, **data_shape(data))
    assert c.work == 50 * 1438 * P and c.priced_work == pytest.approx(c.work * price)


@pytest.mark.slow
@pytest.mark.parametrize("bn", [True, False])
def test_the_papers_figure_1_network_runs_whole_within_the_bounds(bn):
    """64-100-100-100-10 sigmoid, batch 60, 50 epochs of the 1,438 training rows: 1,200 updates, as asked,
    its record at a stride within the run's memory."""
    from bnviz.budget import data_shape, record_stride
    from bnviz.limits import RUN_BYTES

    cfg = FIGURE_1.replace(bn=bn)
    data = load_for(cfg)
    plan = fit(cfg, len(data.y_train), **data_shape(data))
    assert plan.changes == {} and plan.config == cfg and plan.cost.share(plan.budget) <= 1
    k = record_stride(cfg, len(data.y_train), **data_shape(data))
    assert k == plan.cost.stride > 1
    run = train(cfg, data, stride=k)
    assert run.n_steps == 1200 and run.stride == k and len(run.axis_states("step")) >= 10
    assert run.nbytes <= plan.cost.bytes <= RUN_BYTES
    assert run.epoch_metrics["test_acc_eval"][-1] > 0.8          # it learned the digits


def test_a_deep_relu_network_on_the_digits_is_cut_to_fit():
    from bnviz.budget import data_shape

    data = load_for(FIGURE_1)
    cfg = FIGURE_1.replace(hidden=(100,) * 6, activation="relu", epochs=200)
    price = cost(cfg, len(data.y_train), **data_shape(data)).work_price
    plan = fit(cfg, len(data.y_train), **data_shape(data))
    assert set(plan.changes) == {"epochs"} and 5 <= plan.config.epochs < 200
    assert plan.cost.share(plan.budget) <= 1 < cost(plan.config.replace(epochs=plan.config.epochs + 1),
                                                      len(data.y_train), **data_shape(data)).share(plan.budget)
    assert price < 1 and f"{price:g} of a small network's price" in plan.note


def test_the_budget_follows_the_loop_that_trains(monkeypatch):
    """The bounds are the compiled loop's; where the NumPy loop trains they shrink by its measured prices."""
    from bnviz import compiled, limits
    from bnviz.budget import NUMPY_STEPS, NUMPY_WORK

    long_run = from_link("batch_size=1&epochs=500")                # 160,000 updates of the default network
    monkeypatch.setenv(compiled.ENGINE_ENV, "numpy")
    slow = Budget()
    assert (slow.max_steps, slow.max_work) == (limits.MAX_STEPS / NUMPY_STEPS, limits.MAX_WORK / NUMPY_WORK)
    assert fit(long_run, 320, slow).config.epochs < 50
    if compiled.kernel() is None:
        return
    monkeypatch.setenv(compiled.ENGINE_ENV, "compiled")
    fast = Budget()
    assert (fast.max_steps, fast.max_work, fast.max_bytes) == (limits.MAX_STEPS, limits.MAX_WORK, limits.RUN_BYTES)
    plan = fit(long_run, 320, fast)
    assert plan.config == long_run and plan.note is None               # run as asked, its record at a stride
    assert plan.cost.bytes <= fast.max_bytes and plan.cost.stride > 1


def test_a_worker_that_cannot_run_the_compiled_loop_turns_the_pages_budget_to_the_numpy_loops(monkeypatch):
    """A worker whose kernel fails to compile trains with the NumPy loop, 23 times slower an update:
    its Run says so, and the page that hears it prices every later run for that loop."""
    from bnviz import compiled, limits
    from bnviz.budget import NUMPY_STEPS
    from bnviz.workers import train_reporting

    monkeypatch.delenv(compiled.ENGINE_ENV, raising=False)
    monkeypatch.setattr(compiled, "_failed", None)
    if compiled.kernel() is None:
        pytest.skip("no compiled loop here: the budget is the NumPy loop's already")
    monkeypatch.setattr(compiled, "_kernel", compiled._kernel)
    monkeypatch.setattr(compiled, "_forward", compiled._forward)
    assert Budget().max_steps == limits.MAX_STEPS
    cfg = Config(epochs=1)
    run = train_reporting(cfg, load_for(cfg), None, 0.0)
    assert run.loop_failure is None
    monkeypatch.setattr(compiled, "_failed", "LoweringError: made up")   # as _fail leaves a worker
    run = train_reporting(cfg, load_for(cfg), None, 0.0)
    assert run.loop_failure == "LoweringError: made up"
    monkeypatch.setattr(compiled, "_failed", None)
    compiled.heard_failed(run.loop_failure)                  # what the page does with such a Run
    assert compiled.failed().endswith("in a worker: LoweringError: made up")
    assert Budget().max_steps == pytest.approx(limits.MAX_STEPS / NUMPY_STEPS)
