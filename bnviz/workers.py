"""Engine work off the server's thread: a bounded pool of worker processes.

NumPy training holds the GIL. Run inside the web server's process it stalls
every visitor's page and the health check; here it runs in one of a few worker
processes (``concurrent.futures`` with the "spawn" start method, safe in a
threaded server), and the page's thread only waits. Each worker runs one job
at a time, so at most `workers` jobs compute at once; the rest queue.

A page waits for a shared, cancellable job::

    job = pool.job(key, train_reporting, cfg, data, init_params, 0.3)   # one job per key
    job.attach()                      # this visitor now waits for it
    try:
        while not job.wait(0.25):
            update = job.latest()     # Update(step, total_steps, run) or None
        run = job.result()
    finally:
        job.detach()                  # the last visitor to leave cancels it, queued or running

Progress channel: a job that calls ``report(step, total_steps, payload)`` in
its worker (``train_reporting`` does, with the partial Run so far as the
payload) makes ``Job.latest()`` return the newest ``Update``; older ones are
dropped, so a slow reader never piles them up. ``train_reporting`` sends at
most every `progress_seconds`, spends at most about a quarter of the worker's
time assembling partial Runs, and sends a partial Run only while it is small
(bnviz.limits.PROGRESS_BYTES); past that the payload is None (step counts
only), so the server never spends long unpickling progress. A view that streams a run while it
trains polls ``latest()`` a few times a second.

Any other picklable engine call (a module-level function and picklable
arguments), for example a batch of lesson verdicts: ``pool.submit(fn, *args)``
returns a ``concurrent.futures.Future``; ``pool.job(key, fn, *args)`` shares
one computation between everyone asking for `key` and cancels it when the last
one detaches. Inside fn, ``cancelled()`` says whether to stop early.
"""
from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable

CANCEL_SLOTS = 1024
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# ---------------------------------------------------------------- in a worker

_queue = None          # progress updates to the server: (job id, step, total, payload)
_cancelled = None      # shared array: slot job_id % CANCEL_SLOTS holds job_id once it is cancelled
_job_id = 0


STREAM_AFTER = 0.35    # CPU seconds a training job runs before it sends partial Runs


class Cancelled(Exception):
    """The job was cancelled: nobody waits for its result any more."""


def _init_worker(queue, cancelled) -> None:
    global _queue, _cancelled
    _queue, _cancelled = queue, cancelled
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="bnviz-parent", daemon=True).start()
    threading.Thread(target=_load_engine, name="bnviz-engine", daemon=True).start()


def _load_engine() -> None:
    """Load the compiled training loop from its disk cache (about 0.4 s) while the worker waits for its
    first job, so that job does not pay it."""
    from .compiled import warm

    warm()


def _exit_with_parent(parent: int) -> None:
    """End this worker once the server that started it has gone (stopped by a signal before it could
    shut its pool down, or killed): the worker holds its own task queue open, so it would otherwise
    wait for work forever, keeping its memory."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _run_job(job_id: int, fn: Callable, args: tuple, kwargs: dict):
    global _job_id
    _job_id = job_id
    try:
        if cancelled():
            raise Cancelled()
        return fn(*args, **kwargs)
    finally:
        _give_back_memory()


KEEP_MB = 64           # freed memory a worker keeps for its next job, past its size after its first one

_settled_mb = None     # the worker's resident memory after its first job, once given back


def _resident_mb() -> float:
    """This process's resident memory (MB), or 0 where /proc cannot tell."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _give_back_memory() -> None:
    """Return freed heap to the system once a job has left the worker more than KEEP_MB past its
    settled size: after a big job it would otherwise keep its peak. After a small one the freed
    pages stay for the next job: handing them back and faulting them in again cost a default
    run 7 ms, a sixth of its work."""
    import ctypes
    import gc

    global _settled_mb
    if _settled_mb is not None and _resident_mb() < _settled_mb + KEEP_MB:
        return
    gc.collect()
    # what outlives a job (modules, their caches) is moved out of the collector's sight: the next
    # job's collection then looks at that job's objects only (measured: 45 ms per job otherwise)
    gc.freeze()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):      # not glibc: nothing to do
        pass
    if _settled_mb is None:
        _settled_mb = _resident_mb()


def cancelled() -> bool:
    """Inside a job: whether everyone waiting for it has gone."""
    return _cancelled is not None and _job_id > 0 and _cancelled[_job_id % CANCEL_SLOTS] == _job_id


def report(step: int, total_steps: int, payload: Any = None) -> None:
    """Inside a job: send its progress to the server (the newest replaces the older ones there)."""
    if _queue is not None and _job_id > 0:
        _queue.put((_job_id, step, total_steps, payload))


def train_reporting(cfg, data, init_params=None, progress_seconds: float = 0.3, stream_after: float = STREAM_AFTER,
                    view: bool = False, max_bytes: float | None = None):
    """bnviz.train.train in a worker: reports the partial Run, and stops when cancelled. view: also
    make the training view's frames of the finished run (``prepare_view``). max_bytes: what its
    record may hold (default RUN_BYTES; half of it for each of a page's pair): the stride follows.

    Partial Runs are sent only once the job has used `stream_after` seconds of CPU:
    a run that short is done before a viewer could watch it fill, and on a busy
    server assembling and drawing partial Runs of short runs would cost CPU that
    every visitor's page needs (its wall time stretches under load, its CPU time
    does not). Before that the reports carry step counts only.
    """
    import numpy as np

    from . import compiled
    from .budget import data_shape, record_stride, snapshot_numbers
    from .limits import PROGRESS_BYTES
    from .train import train

    next_report = [0.0]
    cpu_start = time.process_time()

    def on_progress(p):
        if cancelled():
            raise Cancelled()
        now = time.perf_counter()
        if progress_seconds <= 0 or p.step >= p.total_steps or now < next_report[0]:
            return
        if time.process_time() - cpu_start < stream_after:
            report(p.step, p.total_steps, None)
            next_report[0] = now + progress_seconds
            return
        h = p.history
        kept = int(np.searchsorted(h.states, p.step, side="right"))        # states the partial Run would hold
        small = kept * h.params.shape[-1] * h.params.itemsize * 2 <= PROGRESS_BYTES // 2
        run = p.run() if small else None
        if run is not None and run.nbytes > PROGRESS_BYTES:
            run = None
        report(p.step, p.total_steps, run)
        spent = time.perf_counter() - now
        next_report[0] = time.perf_counter() + max(progress_seconds, 3 * spent)

    stride = record_stride(cfg, len(data.y_train), max_bytes=max_bytes, **data_shape(data))
    run = train(cfg, data, init_params, progress=on_progress, progress_seconds=0.1, stride=stride,
                snapshot_numbers=snapshot_numbers(max_bytes))
    run.loop_failure = compiled.failed()        # the page prices the next runs for the loop that trained this
    if view:
        prepare_view(run, data)
    return run


def prepare_view(run, data) -> None:
    """The training view's frames of this run (bnviz.watch.watch_prepare), kept on it as
    ``run.prepared_view``: made where the run was trained, they travel with it, and the page joins
    two runs' frames without sending the runs anywhere again. A run the view cannot draw keeps none
    (the page then says why)."""
    import numpy as np

    from .watch import watch_prepare

    if run.n_steps == 0:
        return
    try:
        run.prepared_view = watch_prepare(run, data)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        pass


# ------------------------------------------------------------- in the server


@dataclass(frozen=True)
class Update:
    step: int
    total_steps: int
    payload: Any


class Job:
    """One computation in the pool, shared by the visitors attached to it."""

    def __init__(self, pool: "Pool", job_id: int, key, future: Future):
        self.pool, self.id, self.key, self.future = pool, job_id, key, future
        self.waiters = 0
        self.started = time.perf_counter()
        self._latest: Update | None = None

    def attach(self) -> None:
        with self.pool._lock:
            self.waiters += 1

    def detach(self) -> None:
        """This visitor stops waiting; the last one out cancels the job if it has not finished."""
        with self.pool._lock:
            self.waiters -= 1
            if self.waiters > 0 or self.future.done():
                return
            self.pool._forget(self)
        self.pool._cancel(self)

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True once the job has finished."""
        wait_futures([self.future], timeout=timeout)
        return self.future.done()

    def done(self) -> bool:
        return self.future.done()

    def latest(self) -> Update | None:
        return self._latest

    def result(self):
        """The job's return value; raises its exception (Cancelled if it was cancelled)."""
        if self.future.cancelled():
            raise Cancelled()
        return self.future.result()


class Pool:
    """At most `workers` processes computing at once; jobs shared by key and cancellable."""

    def __init__(self, workers: int = 2):
        self.workers = max(1, int(workers))
        self._ctx = mp.get_context("spawn")
        self._queue = self._ctx.Queue()
        self._cancelled = self._ctx.RawArray("q", CANCEL_SLOTS)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._jobs: dict = {}          # job id -> Job, while it runs
        self._by_key: dict = {}        # key -> Job, while it runs
        self._executor = None
        threading.Thread(target=self._read_updates, name="bnviz-progress", daemon=True).start()

    def _make_executor(self) -> ProcessPoolExecutor:
        # one BLAS thread per worker: the workers themselves are the parallelism
        saved = {k: os.environ.get(k) for k in THREAD_ENV}
        os.environ.update({k: "1" for k in THREAD_ENV})
        try:
            return ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=_init_worker,
                                       initargs=(self._queue, self._cancelled))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def _submit(self, job_id: int, fn, args, kwargs) -> Future:
        if self._executor is None:
            self._executor = self._make_executor()
        try:
            return self._executor.submit(_run_job, job_id, fn, args, kwargs)
        except BrokenProcessPool:       # a worker died (killed from outside): start afresh
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._make_executor()
            return self._executor.submit(_run_job, job_id, fn, args, kwargs)

    def submit(self, fn: Callable, *args, **kwargs) -> Future:
        """Run fn(*args, **kwargs) in a worker; fn and the arguments must be picklable."""
        with self._lock:
            return self._submit(next(self._ids), fn, args, kwargs)

    def job(self, key, fn: Callable, *args, **kwargs) -> Job:
        """The running job for `key`, or a new one computing fn(*args, **kwargs). Attach before waiting."""
        with self._lock:
            job = self._by_key.get(key)
            if job is not None and not job.future.cancelled():
                return job
            job_id = next(self._ids)
            job = Job(self, job_id, key, self._submit(job_id, fn, args, kwargs))
            self._jobs[job_id] = job
            self._by_key[key] = job
        job.future.add_done_callback(lambda _: self._finished(job))
        return job

    def _finished(self, job: Job) -> None:
        with self._lock:
            self._forget(job)

    def _forget(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        if self._by_key.get(job.key) is job:
            del self._by_key[job.key]
        job._latest = None

    def _cancel(self, job: Job) -> None:
        if not job.future.cancel():                     # already running: ask it to stop
            self._cancelled[job.id % CANCEL_SLOTS] = job.id

    def running(self) -> int:
        """Jobs started and not yet finished (queued ones included)."""
        with self._lock:
            return len(self._jobs)

    def _read_updates(self) -> None:
        while True:
            try:
                job_id, step, total, payload = self._queue.get()
            except (EOFError, OSError):
                return
            job = self._jobs.get(job_id)
            if job is not None and not job.future.done():
                job._latest = Update(step, total, payload)

    def warm(self) -> None:
        """Start every worker now (each imports NumPy and the engine), so the first job waits for none."""
        futures = [self.submit(time.sleep, 0.2) for _ in range(self.workers)]
        wait_futures(futures)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
