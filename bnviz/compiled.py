"""The training loop's fast path: one compiled kernel (numba) for every step, like cs231n's naive/fast pairs.

The readable layers in ``bnviz.nn`` stay the reference; ``bnviz._kernel`` runs the same arithmetic,
a row at a time, for a whole run, and the tests hold the two loops equal to 1e-12. ``bnviz.train``
runs this one whenever it can be had:

- unset (or ``auto``): the compiled loop for a step of at most ``COMPILED_MAX_WORK`` rows x parameters
  (a member's batch rows times its parameter count), the NumPy loop for bigger steps, whose matrix
  products BLAS does several times faster than the kernel's plain loops (measured on one core: the
  digits network 64-100-100-100-10 in batches of 60 takes about 0.7 ms a step in the NumPy loop,
  7 ms compiled; a 2-3-2-1 network in batches of 10, 2.5 us compiled, 72 us in NumPy);
- ``BNVIZ_ENGINE=numpy`` forces the NumPy loop, ``BNVIZ_ENGINE=compiled`` the compiled one;
- without numba (or where it fails to load, or where a kernel fails to compile on its first call)
  training falls back to the NumPy loop and says so once in the log (``logging``, logger
  ``bnviz.compiled``).

``forward_logits`` runs many saved states of a network on the same rows (``bnviz._forward``) for the
loss surface, the decision boundary and the training view, with the same fallback. It knows one
sigmoid output and batch norm or none; a softmax output or layer norm runs the NumPy forward pass.

Compiled code is cached on disk (``cache=True``): beside the package when it is writable, else in
``NUMBA_CACHE_DIR``, which is set to a folder under the user's home (or the temporary folder) when
the package is read-only, as in the container image. The first process on a machine compiles (about
10 s); later ones load the cache (under half a second, paid by ``warm()``).
"""
from __future__ import annotations

import importlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

ENGINE_ENV = "BNVIZ_ENGINE"
ENGINES = ("auto", "compiled", "numpy")
# rows x parameters of one member's step up to which the compiled loop is the faster one (measured,
# one core: the two loops cross between 40,000 and 90,000; bnviz.budget prices each loop's steps)
COMPILED_MAX_WORK = 50_000

log = logging.getLogger(__name__)
_kernel = None
_failed: str | None = None
_forward = None
_proven: set = set()       # the kernels (and modes) that have run once in this process


class Unavailable(Exception):
    """A compiled kernel failed on its first call here (it could not be compiled or loaded): the
    caller runs the NumPy code instead; the log says so."""


def _fail(error: Exception) -> None:
    """From now on this process runs the NumPy code, and the log says why once."""
    global _kernel, _forward, _failed
    _kernel = _forward = None
    _failed = f"{type(error).__name__}: {error}"
    log.warning("the compiled training loop failed to compile here (%s): bnviz trains with the NumPy loop",
                _failed)


def failed() -> str | None:
    """Why this process runs the NumPy code instead of the compiled one (None: it does not)."""
    return _failed


def heard_failed(reason: str) -> None:
    """Another process of this server (a worker) could not run the compiled loop: this one prices and
    trains as the NumPy loop from now on too, so the budget it grants is what the workers can keep."""
    if _failed is None:
        _fail(RuntimeError(f"in a worker: {reason}"))


def _call(name: str, fn, *args):
    """fn(*args), a compiled kernel; a failure on its first call in this process (numba compiles
    or loads a kernel then) turns the compiled code off and raises Unavailable."""
    if name in _proven:
        return fn(*args)
    try:
        out = fn(*args)
    except Exception as error:
        _fail(error)
        raise Unavailable(str(error)) from error
    _proven.add(name)
    return out


def cache_dir() -> str | None:
    """Where numba keeps compiled code: None when beside the package (it is writable), else the folder
    NUMBA_CACHE_DIR names, set here when the package is read-only and the variable is unset."""
    here = Path(__file__).resolve().parent
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    pycache = here / "__pycache__"
    if os.access(pycache if pycache.exists() else here, os.W_OK):
        return None
    home = Path.home()
    base = home / ".cache" if os.access(home, os.W_OK) else Path(tempfile.gettempdir())
    os.environ["NUMBA_CACHE_DIR"] = str(base / f"bnviz-numba-{os.getuid() if hasattr(os, 'getuid') else 0}")
    return os.environ["NUMBA_CACHE_DIR"]


def kernel():
    """The compiled kernel module, or None (logged once) when numba cannot be had."""
    global _kernel, _failed
    if _kernel is None and _failed is None:
        cache_dir()
        try:
            module = importlib.import_module(f"{__package__}._kernel")
        except Exception as error:          # no numba, or a numba/llvmlite that fails to load here
            _failed = f"{type(error).__name__}: {error}"
            log.warning("the compiled training loop cannot be had (%s): bnviz trains with the NumPy loop", _failed)
        else:
            _kernel = module
    return _kernel


def engine(step_work: float | None = None) -> str:
    """The loop ``bnviz.train`` runs: "compiled" or "numpy".

    step_work: rows x parameters of one member's largest step; with BNVIZ_ENGINE unset (or "auto") a
    step past COMPILED_MAX_WORK runs the NumPy loop. BNVIZ_ENGINE=compiled or numpy forces a loop;
    without numba it is always the NumPy loop."""
    asked = os.environ.get(ENGINE_ENV, "").strip().lower() or "auto"
    if asked not in ENGINES:
        log.warning("%s=%r is not one of %s: choosing the loop by the step's size", ENGINE_ENV, asked,
                    ", ".join(ENGINES))
        asked = "auto"
    if asked == "numpy":
        return "numpy"
    if asked == "auto" and step_work is not None and step_work > COMPILED_MAX_WORK:
        return "numpy"
    return "compiled" if kernel() is not None else "numpy"


class Kernel:
    """The compiled loop set up for one run: ``run(s0, s1)`` trains steps s0..s1-1 into the History's
    arrays and returns the step after the last one done (earlier than s1 at the end of an epoch that
    left a member not yet marked diverged with non-finite numbers). ``finite`` and ``logit_sums`` hold
    the epoch's per-step notes, as the NumPy loop keeps them."""

    def __init__(self, hist, configs, X: np.ndarray, y: np.ndarray, params: np.ndarray, running: np.ndarray):
        k = kernel()
        cfg, arch = configs[0], hist.arch
        M, S = len(configs), len(hist.orders[0]) * len(hist.bounds)
        self.module = k
        self.X = np.ascontiguousarray(X if X.ndim == 3 else X[None], dtype=float)
        self.y = np.ascontiguousarray(y if y.ndim == 2 else y[None], dtype=float)
        self.orders = np.ascontiguousarray(hist.orders, dtype=np.int64)
        self.starts = np.array([a for a, _ in hist.bounds], dtype=np.int64)
        self.stops = np.array([b for _, b in hist.bounds], dtype=np.int64)
        self.layout = layout_table(arch)
        noise_on = hist.noise is not None
        self.ints = np.array([k.ACTIVATIONS[arch.activation], arch.bn, arch.bn_position == "before",
                              k.OPTIMIZERS[cfg.optimizer], cfg.running_avg == "cumulative",
                              cfg.running_var == "unbiased", hist.stride, noise_on,
                              arch.norm == "layer"], dtype=np.int64)
        self.floats = np.array([arch.eps, cfg.beta1, cfg.beta2, cfg.opt_eps, cfg.bn_momentum], dtype=float)
        # Adam's bias corrections, computed as bnviz.optim computes them
        t = np.arange(1, S + 1)
        self.corr1 = np.array([1.0 - cfg.beta1**int(i) for i in t]) if cfg.optimizer == "adam" else np.ones(S)
        self.corr2 = np.array([1.0 - cfg.beta2**int(i) for i in t]) if cfg.optimizer == "adam" else np.ones(S)
        self.lr = np.array([c.lr for c in configs], dtype=float)
        # members last, as the kernel keeps every array
        self.noise = np.ascontiguousarray(hist.noise.transpose(0, 2, 1)) if noise_on else np.zeros((1, 0, M))
        self.params, self.running = params, running
        self.opt_a, self.opt_b = np.zeros(params.shape[::-1]), np.zeros(params.shape[::-1])
        self.state_pos = np.full(S + 1, -1, dtype=np.int64)
        self.state_pos[hist.states] = np.arange(len(hist.states))
        self.hist = hist
        # what each recorded step's forward pass saw (bnviz.run.replay reads it instead of replaying)
        hist.seen = np.full((len(hist.steps), M, seen_width(arch)), np.nan)
        self.finite = np.ones((3, len(hist.bounds), M), dtype=np.bool_)
        self.logit_sums = np.zeros((len(hist.bounds), M))

    def run(self, s0: int, s1: int) -> int:
        h = self.hist
        M = len(self.lr)
        return int(_call("train_steps" if M == 1 else "train_steps ensemble", self.module.train_steps,
            s0, s1, self.X, self.y, self.orders, self.starts, self.stops, self.layout, self.ints, self.floats,
            self.corr1, self.corr2, self.lr, self.noise, self.params, self.opt_a, self.opt_b, self.running,
            self.state_pos, h.params, h.grads, h.running, h.seen, h.diverged_at, self.finite, self.logit_sums,
            None if M == 1 else M))


def seen_width(arch) -> int:
    """Columns of a step's record of what its forward pass saw (``History.seen``): the mini-batch loss,
    the accuracy, whether every logit was finite (1 or 0), each hidden layer's share of flat
    activations, then every hidden unit's batch mean and biased batch variance (NaN without BN), the
    units of all hidden layers in order."""
    return 3 + len(arch.hidden) + 2 * sum(arch.hidden)


_tables: dict = {}


def layout_table(arch) -> np.ndarray:
    """(layers, 7) int64: per Dense layer fan_in, fan_out, where W, b, gamma, beta start in the flat
    parameters (-1: absent) and its first column in the kernel's work arrays (made once per network)."""
    table = _tables.get(arch)
    if table is None:
        if len(_tables) > 256:
            _tables.clear()
        table = _tables[arch] = _layout_table(arch)
        table.flags.writeable = False
    return table


def _layout_table(arch) -> np.ndarray:
    from . import _kernel as k

    params = arch.param_layout()
    table = np.full((arch.n_dense, 7), -1, dtype=np.int64)
    col = 0
    for layer in range(1, arch.n_dense + 1):
        row = table[layer - 1]
        row[k.FAN_IN], row[k.FAN_OUT] = arch.widths[layer - 1], arch.widths[layer]
        for at, name in ((k.W_AT, "W"), (k.B_AT, "b"), (k.GAMMA_AT, "gamma"), (k.BETA_AT, "beta")):
            if f"{name}{layer}" in params:
                row[at] = params[f"{name}{layer}"].start
        row[k.COL] = col if layer < arch.n_dense else 0
        col += arch.widths[layer]
    return table


# the Architecture fields the compiled forward pass knows: a network with any other option runs in NumPy
FORWARD_FIELDS = ("n_in", "hidden", "activation", "bn", "bn_position", "keep_bias", "eps", "n_out", "norm")


def forward_knows(arch) -> bool:
    """Whether the compiled forward pass computes arch: one sigmoid output, batch norm or none."""
    import dataclasses

    return (tuple(f.name for f in dataclasses.fields(arch)) == FORWARD_FIELDS and arch.n_out == 1
            and arch.norm in ("batch", "none"))


def forward_kernel():
    """The compiled forward pass (bnviz._forward), or None when the NumPy code runs (numba cannot be
    had, BNVIZ_ENGINE=numpy, or a kernel failed to compile here)."""
    global _forward
    if engine() != "compiled":
        return None
    if _forward is None:
        try:
            _forward = importlib.import_module(f"{__package__}._forward")
        except Exception as error:
            _fail(error)
    return _forward


def forward_logits(arch, flat_params: np.ndarray, X: np.ndarray, buffers: np.ndarray | None = None,
                   watch: tuple | None = None):
    """(logits (K, N), watched (3, K, N) or None) of K states (flat_params (K, P)) on the rows X
    (N, n_in), BN with X's own statistics (buffers None) or the running ones (K, R); watched: hidden
    layer `watch` = (layer 0-based, unit)'s values before BN (z), after BN and after the activation
    (each where the network has it). None when the NumPy forward pass must run instead
    (``bnviz.evaluation.forward_states``): no compiled code here, or an option it does not know."""
    if not forward_knows(arch) or X.ndim != 2:
        return None
    module = forward_kernel()
    if module is None:
        return None
    K, N = len(flat_params), len(X)
    buf_at = np.zeros(max(len(arch.hidden), 1), dtype=np.int64)
    if arch.bn:
        blayout = arch.buffer_layout()
        buf_at[:len(arch.hidden)] = [blayout[f"mean{k}"].start for k in range(1, len(arch.hidden) + 1)]
    layer, unit = watch if watch is not None else (-1, 0)
    logits = np.empty((K, N))
    watched = np.full((3, K, N) if watch is not None else (3, 0, 0), np.nan)
    train = buffers is None
    try:
        _call("forward_logits", module.forward_logits, np.ascontiguousarray(flat_params, dtype=float),
              np.ascontiguousarray(buffers, dtype=float) if not train else np.zeros((K, 0)),
              np.ascontiguousarray(X, dtype=float), layout_table(arch), buf_at, module.ACTIVATIONS[arch.activation],
              bool(arch.bn), arch.bn_position == "before", float(arch.eps), train, int(layer), int(unit),
              logits, watched)
    except Unavailable:
        return None
    return logits, (watched if watch is not None else None)


def warm() -> float:
    """Compile the kernel, or load it from the disk cache, by training a tiny network and a tiny
    ensemble once (the kernel is built for each); returns the seconds it took (0: the NumPy loop)."""
    import time

    if engine() != "compiled":
        return 0.0
    from .config import Config
    from .data import load_dataset
    from .train import run_loop

    started = time.perf_counter()
    cfg, data = Config(epochs=1), load_dataset("placement")
    run_loop([cfg], data)
    run_loop([cfg, cfg.replace(seed=1)], data)
    run = run_loop([cfg], data)
    arch, X = run.arch, data.X_train[:4]
    for buffers in (None, run.running[-1]):      # BN with the rows' statistics, then the running ones
        forward_logits(arch, run.params[-1], X, buffers, (0, 0))
    return time.perf_counter() - started
