"""Data and runs for the page: cached for every visitor, streamed while they train.

A Config already computed comes from one process-wide cache, bounded in
entries and memory (bnviz.limits), so a classroom on one link shares the work.
Trainings and sweeps run in a pool of worker processes (bnviz.workers), never
on the server's own thread, so one heavy experiment cannot delay another
visitor's page or the health check.
"""
from __future__ import annotations

import hashlib
from concurrent.futures.process import BrokenProcessPool

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import compiled, figures, limits, load_for
from ..budget import data_shape, fit
from ..cache import RunCache
from ..data import DataError, load_csv
from ..sweeps import SWEEP_SEEDS, sweep
from ..toydata import TOY_MAKERS
from ..workers import STREAM_AFTER, Pool, train_reporting

STREAM_SECONDS = 0.25     # a partial run at most this often: the view redraws a few times a second


@st.cache_resource(show_spinner=False)
def pool() -> Pool:
    """The worker processes that train, shared by every visitor of this server process."""
    return Pool(limits.WORKERS)


@st.cache_resource(show_spinner=False)
def run_cache() -> RunCache:
    return RunCache(limits.CACHE_ENTRIES, limits.CACHE_BYTES)


@st.cache_resource(show_spinner=False)
def sweep_cache() -> RunCache:
    return RunCache(64, limits.SWEEP_BYTES, size=lambda s: sum(v.nbytes for v in s.loss.values()))


# Data sets are shared objects (cache_resource, not cache_data's copies), so figures
# memoized per (run, data) are found again on the next rerun.
@st.cache_resource(max_entries=limits.DATA_ENTRIES, show_spinner=False)
def builtin_data(name: str, seed: int, test_fraction: float, size: int, noise: float):
    from ..config import Config

    return load_for(Config(dataset=name, seed=seed, test_fraction=test_fraction, data_size=size, data_noise=noise))


@st.cache_resource(max_entries=limits.DATA_ENTRIES, show_spinner=False)
def uploaded_data(content: bytes, seed: int, test_fraction: float):
    """(Dataset or None, error sentence or None): uploads never raise into the page."""
    try:
        return load_csv(content, seed=seed, test_fraction=test_fraction), None
    except DataError as err:
        return None, str(err)


def fit_run(cfg, data, key, uploaded: bool, budget=None):
    """(run cfg, data, data key, note or None): the nearest experiment within `budget` (one run's
    by default).

    When the budget cuts a toy data set's size, the smaller set is loaded (and keyed) instead.
    """
    plan = fit(cfg, len(data.y_train), budget, resizable_data=not uploaded and cfg.dataset in TOY_MAKERS,
               **data_shape(data))
    run_cfg = plan.config
    if run_cfg.data_size != cfg.data_size:
        data = builtin_data(run_cfg.dataset, run_cfg.seed, run_cfg.test_fraction, run_cfg.data_size,
                            run_cfg.data_noise)
        key = data_key(run_cfg, None)
    return run_cfg, data, key, plan.note


def data_key(cfg, upload: bytes | None) -> tuple:
    if upload is not None:
        return ("upload", hashlib.sha1(upload).hexdigest(), cfg.seed, cfg.test_fraction)
    return (cfg.dataset, cfg.seed, cfg.test_fraction, cfg.data_size, cfg.data_noise)


def is_cached(cfg, key, init_params=None, most=None) -> bool:
    """Whether the run is in the cache (most: its record's memory share, as ``get_runs`` names it)."""
    key = (cfg, key, _params_key(init_params)) if most is None else (cfg, key, _params_key(init_params), most)
    return key in run_cache()


def get_run(cfg, data, key, label: str, init_params=None, stream=None, on_partial=None, max_bytes=None):
    """The Run of cfg on data: from the cache, or trained in a worker process with live progress in `stream`.

    Everyone asking for the same run waits for one training. A visitor who
    leaves, or changes a setting (the rerun interrupts this wait), stops
    waiting; the training is cancelled once nobody waits for it.
    on_partial(run): called with each newer partial Run the worker reports
    (bnviz.limits.PROGRESS_BYTES); without it, the training curves are drawn
    from it. A run too big to stream whole streams its step count only. max_bytes: what its record
    may hold (``bnviz.budget.record_stride``; default RUN_BYTES).
    """
    partial = None if on_partial is None else (lambda runs: on_partial(runs[0]))
    return get_runs([(cfg, data, key, label, init_params, max_bytes)], stream, partial)[0]


def get_runs(requests: list, stream=None, on_partial=None) -> list:
    """[Run] for requests [(cfg, data, data key, label, init_params[, max_bytes])]: cached ones at once, the
    others trained side by side in the worker pool (runs A and B of a page take one worker
    each), each with its progress bar in `stream`.

    on_partial(runs): with the newest partial Run of each request still training (the finished
    Run, or None before its first partial), each time one of them reports a newer one.
    """
    cache = run_cache()
    requests = [(*r, None) if len(r) == 5 else tuple(r) for r in requests]
    # a record's memory share sets its stride, so it is part of what names the run
    keys = [(cfg, key, _params_key(init)) if most is None else (cfg, key, _params_key(init), most)
            for cfg, _, key, _, init, most in requests]
    runs = [cache.get(k) for k in keys]
    todo = [i for i, run in enumerate(runs) if run is None]
    if not todo:
        return runs
    slot = (stream or st).empty()
    bars, chart = {}, []
    seen = {}                                   # request -> the newest Update drawn
    latest = {}                                 # request -> its newest partial Run
    shown = {"n": 0}

    def on_update(i, update):
        label = requests[i][3]
        if not bars:
            # the bars appear once a wait has lasted (the first update): a run done sooner, as a
            # default one is, never flashes them, and its page sends fewer messages (measured: 3)
            box = slot.container()
            bars.update({j: box.progress(0.0, text=f"Training {requests[j][3]}…") for j in todo})
            chart.append(box.empty())
        if update is None or seen.get(i) is update:
            return
        seen[i] = update
        bars[i].progress(min(update.step / max(update.total_steps, 1), 1.0),
                         text=f"Training {label}: step {update.step:,} of {update.total_steps:,}")
        if update.payload is None:
            return                              # too big to stream whole (PROGRESS_BYTES): the bar alone
        latest[i] = update.payload
        shown["n"] += 1
        current = [runs[j] if runs[j] is not None else latest.get(j) for j in range(len(requests))]
        if on_partial is not None:
            on_partial(current)
        else:
            chart[0].plotly_chart(figures.training_curves(update.payload), key=f"stream-{label}-{shown['n']}",
                                  theme=None, config={"displayModeBar": False})

    try:
        done = wait_for_all([(keys[i], train_reporting, (requests[i][0], requests[i][1], requests[i][4],
                                                          STREAM_SECONDS, STREAM_AFTER, True, requests[i][5]))
                             for i in todo],
                            lambda k, update: on_update(todo[k], update))
    finally:
        slot.empty()
    for i, run in zip(todo, done):
        reason = getattr(run, "loop_failure", None)
        if reason:                               # the worker trained with the NumPy loop: price for it from now on
            compiled.heard_failed(reason)
        cache.put(keys[i], run)
        runs[i] = run
    return runs


def wait_for(key, on_update, fn, *args):
    """fn(*args) computed in the worker pool (one job per key), calling on_update(latest Update or None)
    about six times a second while waiting. Leaving the page or a rerun stops the wait."""
    return wait_for_all([(key, fn, args)], lambda _, update: on_update(update))[0]


def wait_for_all(jobs: list, on_update) -> list:
    """[fn(*args)] for jobs [(key, fn, args)], computed side by side in the worker pool (one job
    per key, shared with anyone else asking), calling on_update(index, latest Update or None)
    about six times a second while waiting. Leaving the page or a rerun stops the wait."""
    for attempt in range(2):
        started = [pool().job(key, fn, *args) for key, fn, args in jobs]
        for job in started:
            job.attach()
        try:
            results = [None] * len(started)
            for k, job in enumerate(started):
                while not job.wait(0.15):
                    if not _visitor_connected():
                        st.stop()
                    for j, other in enumerate(started):
                        if results[j] is None:
                            on_update(j, other.latest())
                results[k] = job.result()
            return results
        except BrokenProcessPool:      # a worker was killed from outside: one more try on a fresh one
            if attempt:
                st.error("The server could not compute this. Reload the page to try again.")
                st.stop()
        finally:
            for job in started:
                job.detach()


def _visitor_connected() -> bool:
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(ctx.session_id)


def _params_key(params) -> str | None:
    if params is None:
        return None
    digest = hashlib.sha1()
    for name in sorted(params):
        digest.update(name.encode())
        digest.update(params[name].tobytes())
    return digest.hexdigest()


def get_sweep(cfg, data, key, field: str, seeds: int = SWEEP_SEEDS):
    """The sweep of `field` around cfg over seeds cfg.seed, cfg.seed + 1, ...; computed once for every visitor."""
    full_key = ("sweep", cfg, key, field, seeds)
    result = sweep_cache().get(full_key)
    if result is None:
        result = wait_for(full_key, lambda update: None, sweep, cfg, data, field, None, seeds)
        sweep_cache().put(full_key, result)
    return result
