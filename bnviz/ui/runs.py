"""Data and runs for the page: cached for every visitor, streamed while they train.

A Config already computed comes from one process-wide cache, bounded in
entries and memory, so a classroom on one link shares the work.
"""
from __future__ import annotations

import hashlib
import time

import streamlit as st

from .. import figures, limits, load_for, train
from ..budget import fit
from ..cache import RunCache
from ..data import DataError, load_csv
from ..sweeps import sweep
from ..toydata import TOY_MAKERS

STREAM_SECONDS = 0.4


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


def fit_run(cfg, data, key, uploaded: bool):
    """(run cfg, data, data key, note or None): the nearest experiment within one run's budget.

    When the budget cuts a toy data set's size, the smaller set is loaded (and keyed) instead.
    """
    plan = fit(cfg, len(data.y_train), resizable_data=not uploaded and cfg.dataset in TOY_MAKERS)
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


def is_cached(cfg, key, init_params=None) -> bool:
    return (cfg, key, _params_key(init_params)) in run_cache()


def get_run(cfg, data, key, label: str, init_params=None, stream=None):
    """The Run of cfg on data: from the cache, or trained now with live progress in `stream`."""
    cache = run_cache()
    full_key = (cfg, key, _params_key(init_params))
    run = cache.get(full_key)
    if run is not None:
        return run
    slot = (stream or st).empty()
    box = slot.container()
    bar = box.progress(0.0, text=f"Training {label}…")
    chart = box.empty()
    last = {"chart": 0.0, "n": 0}

    def on_progress(p):
        if p.step >= p.total_steps:
            return
        bar.progress(min(p.fraction, 1.0), text=f"Training {label}: step {p.step:,} of {p.total_steps:,}")
        now = time.perf_counter()
        if now - last["chart"] >= STREAM_SECONDS:
            last["n"] += 1
            chart.plotly_chart(figures.training_curves(p.run()), key=f"stream-{label}-{last['n']}",
                               theme=None, config={"displayModeBar": False})
            last["chart"] = time.perf_counter()

    try:
        return cache.get_or_compute(full_key, lambda: train(cfg, data, init_params, progress=on_progress,
                                                            progress_seconds=0.2))
    finally:
        slot.empty()


def _params_key(params) -> str | None:
    if params is None:
        return None
    digest = hashlib.sha1()
    for name in sorted(params):
        digest.update(name.encode())
        digest.update(params[name].tobytes())
    return digest.hexdigest()


def get_sweep(cfg, data, key, field: str):
    return sweep_cache().get_or_compute((cfg, key, field), lambda: sweep(cfg, data, field))
