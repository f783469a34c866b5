"""Every bound the server keeps, in one place, each settable by an environment variable.

Two kinds of bound. Per request: what one training may cost (updates, work,
bytes of its record). Per process: how much each cache may hold. Together they
keep one server process under PROCESS_MB whatever its visitors ask for; the
README's table of limits is written from LIMITS.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    env: str
    default: float
    meaning: str


LIMITS = (
    # one training (see bnviz.budget)
    Limit("BNVIZ_MAX_STEPS", 280_000, "updates one run may take (of two hidden layers; each further layer counts 16 % "
          "more; with the NumPy loop, where numba cannot be had, 23 times fewer)"),
    Limit("BNVIZ_MAX_WORK", 2e8, "rows x parameters x updates one run may take (shared with the updates: about 1.1 s; "
          "with the NumPy loop 4 times less)"),
    Limit("BNVIZ_RUN_MB", 48, "memory one run's record may use"),
    Limit("BNVIZ_SWEEP_SHARE", 3, "a sweep (28 trainings at once) may cost this many runs"),
    # what the process keeps
    Limit("BNVIZ_CACHE_ENTRIES", 96, "finished runs kept for every visitor"),
    Limit("BNVIZ_CACHE_MB", 384, "memory those runs may use"),
    Limit("BNVIZ_FIGURE_MB", 96, "memory for charts kept ready to send, shared by every visitor"),
    Limit("BNVIZ_SWEEP_MB", 96, "memory for finished sweeps"),
    Limit("BNVIZ_DATA_ENTRIES", 24, "data sets kept (built-in and uploaded; at most 2.4 MB each)"),
    Limit("BNVIZ_PROGRESS_MB", 16, "largest partial run a worker sends while training (bigger: step counts only)"),
    Limit("BNVIZ_WORKERS", 2, "worker processes that train (each holds at most one run at a time)"),
    Limit("BNVIZ_PROCESS_MB", 1500, "what the page process, all caches full, should stay under (tested)"),
)
_BY_ENV = {limit.env: limit for limit in LIMITS}


def limit(env: str) -> float:
    """The value of one limit: the environment variable when it holds a positive number, else the default."""
    default = _BY_ENV[env].default
    try:
        value = float(os.environ.get(env, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


MAX_STEPS = int(limit("BNVIZ_MAX_STEPS"))
MAX_WORK = limit("BNVIZ_MAX_WORK")
RUN_BYTES = int(limit("BNVIZ_RUN_MB") * 2**20)
SWEEP_SHARE = limit("BNVIZ_SWEEP_SHARE")
CACHE_ENTRIES = int(limit("BNVIZ_CACHE_ENTRIES"))
CACHE_BYTES = int(limit("BNVIZ_CACHE_MB") * 2**20)
FIGURE_BYTES = int(limit("BNVIZ_FIGURE_MB") * 2**20)
SWEEP_BYTES = int(limit("BNVIZ_SWEEP_MB") * 2**20)
DATA_ENTRIES = int(limit("BNVIZ_DATA_ENTRIES"))
PROGRESS_BYTES = int(limit("BNVIZ_PROGRESS_MB") * 2**20)
WORKERS = int(limit("BNVIZ_WORKERS"))
PROCESS_BYTES = int(limit("BNVIZ_PROCESS_MB") * 2**20)


def markdown_table() -> str:
    """The limits as a Markdown table (the README carries a copy)."""
    rows = [f"| `{x.env}` | {x.default:g} | {x.meaning} |" for x in LIMITS]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|"] + rows)
