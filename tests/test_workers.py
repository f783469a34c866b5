"""The worker pool: same runs as in-process, shared jobs, progress, cancellation, recovery."""
import os
import signal
import time

import numpy as np
import pytest

from bnviz import Config, train
from bnviz.compiled import ENGINE_ENV
from bnviz.workers import Cancelled, Pool, train_reporting

LONG = Config(epochs=500, hidden=(16, 16, 16))        # a few seconds of work


@pytest.fixture(scope="module", autouse=True)
def numpy_loop():
    """These jobs must take seconds (to stream, be cancelled, recover), in the workers and here alike:
    they train with the NumPy loop, which the workers inherit."""
    saved = os.environ.get(ENGINE_ENV)
    os.environ[ENGINE_ENV] = "numpy"
    yield
    if saved is None:
        os.environ.pop(ENGINE_ENV, None)
    else:
        os.environ[ENGINE_ENV] = saved


@pytest.fixture(scope="module")
def pool():
    p = Pool(2)
    p.warm()
    yield p
    p.shutdown()


def wait_result(job, timeout=60):
    job.attach()
    try:
        assert job.wait(timeout), "the job did not finish"
        return job.result()
    finally:
        job.detach()


def test_a_run_from_a_worker_equals_one_trained_here(pool, data):
    cfg = Config(epochs=7, seed=3)
    here = train(cfg, data)
    there = wait_result(pool.job(("same", 1), train_reporting, cfg, data, None, 0.0))
    assert there.n_steps == here.n_steps
    np.testing.assert_array_equal(there.params, here.params)
    np.testing.assert_array_equal(there.train_loss, here.train_loss)
    np.testing.assert_array_equal(there.running_var[1], here.running_var[1])


def test_everyone_asking_for_one_key_shares_one_job(pool, data):
    first = pool.job(("shared",), train_reporting, Config(epochs=30), data, None, 0.0)
    second = pool.job(("shared",), train_reporting, Config(epochs=30), data, None, 0.0)
    assert first is second
    assert wait_result(first) is not None


def test_progress_sends_partial_runs_that_agree_with_the_final_one(pool, data):
    cfg = Config(epochs=250)                                # small enough to stream whole partial runs
    job = pool.job(("progress",), train_reporting, cfg, data, None, 0.3, 0.0)
    job.attach()
    seen = []
    try:
        while not job.wait(0.1):
            update = job.latest()
            if update is not None and (not seen or seen[-1].step != update.step):
                seen.append(update)
        final = job.result()
    finally:
        job.detach()
    assert any(u.payload is not None for u in seen), "no partial run arrived while it trained"
    for update in seen:
        partial = update.payload
        assert 0 < update.step < update.total_steps == final.n_steps
        if partial is None:                                 # past the size sent whole
            continue
        assert partial.n_steps == update.step
        np.testing.assert_array_equal(partial.train_loss, final.train_loss[:update.step])
    assert job.latest() is None                              # nothing kept once it is done


def step_counts_only(job, poll: float) -> tuple:
    """(steps reported, final Run) of a job whose every report must carry no partial Run."""
    job.attach()
    steps = set()
    try:
        while not job.wait(poll):
            update = job.latest()
            if update is not None:
                assert update.payload is None
                steps.add(update.step)
        return steps, job.result()
    finally:
        job.detach()


def test_a_run_streams_step_counts_only_until_it_has_used_its_cpu_allowance(pool, data):
    steps, final = step_counts_only(pool.job(("not-yet",), train_reporting, Config(epochs=250), data, None, 0.05,
                                             1e9), 0.02)
    assert steps, "no step count arrived while it trained"
    assert all(0 < step < final.n_steps for step in steps)


def test_a_big_run_streams_step_counts_only(pool, data):
    steps, final = step_counts_only(pool.job(("big-progress",), train_reporting, LONG.replace(epochs=60), data,
                                             None, 0.3), 0.1)
    assert final.n_steps == 60 * 32
    assert steps


def test_the_last_visitor_leaving_cancels_a_running_job(pool, data):
    job = pool.job(("cancel",), train_reporting, LONG, data, None, 0.0)
    job.attach()
    time.sleep(1.0)                                         # it is running now
    job.detach()
    started = time.perf_counter()
    with pytest.raises(Cancelled):
        job.wait(30)
        job.result()
    assert time.perf_counter() - started < 5
    # the worker is free again: a small job finishes promptly
    assert wait_result(pool.job(("after-cancel",), train_reporting, Config(epochs=2), data, None, 0.0), 30)


def test_a_queued_job_is_cancelled_before_it_starts(pool, data):
    busy = [pool.job(("busy", i), train_reporting, LONG, data, None, 0.0) for i in range(2)]
    for job in busy:
        job.attach()
    queued = pool.job(("queued",), train_reporting, LONG, data, None, 0.0)
    queued.attach()
    queued.detach()
    for job in busy:
        job.detach()
    for job in busy + [queued]:
        with pytest.raises(Cancelled):
            job.wait(30)
            job.result()


def test_any_picklable_engine_call(pool):
    assert pool.submit(np.linalg.norm, np.array([3.0, 4.0])).result(timeout=30) == 5.0


def test_a_killed_worker_is_replaced(data):
    own = Pool(1)
    try:
        assert wait_result(own.job(("a",), train_reporting, Config(epochs=2), data, None, 0.0))
        for pid in list(own._executor._processes):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        run = None
        for attempt in range(2):                            # the page retries once, as here
            try:
                run = wait_result(own.job(("b", attempt), train_reporting, Config(epochs=2), data, None, 0.0))
                break
            except Exception:
                continue
        assert run is not None and run.n_steps == 2 * 32
    finally:
        own.shutdown()


def test_a_worker_starting_from_the_page_stays_light():
    """Spawned workers re-run app.py as their main module ("__mp_main__"): that must import nothing,
    or every worker would carry Streamlit, Plotly and pandas (and collect garbage over all of them)."""
    import subprocess
    import sys
    from pathlib import Path

    app = Path(__file__).resolve().parent.parent / "app.py"
    code = ("import runpy, sys; runpy.run_path(sys.argv[1], run_name='__mp_main__'); "
            "print(','.join(sorted(m for m in ('streamlit', 'plotly', 'pandas', 'pyarrow', 'bnviz') if m in sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code, str(app)], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_a_worker_gives_freed_memory_back_after_its_first_job_and_past_its_allowance(monkeypatch):
    """Collect, freeze and trim after the first job (its size then is the settled one) and after
    any job that leaves the worker KEEP_MB or more past it; after a smaller job, nothing."""
    import ctypes
    import gc

    from bnviz import workers

    done = []
    monkeypatch.setattr(gc, "collect", lambda *a: done.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: done.append("freeze"))
    monkeypatch.setattr(ctypes, "CDLL", lambda name: type("C", (), {"malloc_trim": lambda self, n: done.append("trim")})())
    resident = [150.0]
    monkeypatch.setattr(workers, "_resident_mb", lambda: resident[0])
    monkeypatch.setattr(workers, "_settled_mb", None)
    workers._give_back_memory()
    assert done == ["collect", "freeze", "trim"] and workers._settled_mb == 150.0
    for past, gives in ((workers.KEEP_MB - 0.5, False), (workers.KEEP_MB, True), (0.0, False)):
        done.clear()
        resident[0] = 150.0 + past
        workers._give_back_memory()
        assert done == (["collect", "freeze", "trim"] if gives else []), past
    assert workers._settled_mb == 150.0                    # settled once, by the first job
