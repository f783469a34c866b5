"""What a Run records: one table of every quantity measured per step, per snapshot or per epoch.

Each entry of RECORDED says once what a quantity is called (its Run
attribute), which axis it runs along, how it spreads over layers, how it is
computed from what the training loop saved, and its column in the Steps CSV.
``replay`` and ``assemble_run`` (bnviz.run), the Run, ``step_table``
(bnviz.tables) and the tests all read this table: a new metric is one entry
here plus its test.

Axes. "step": entry j belongs to the j-th recorded step (step j = 0..S-1, or
step j * k in a record kept at a stride k, bnviz.striding); a quantity seen by the
step's forward pass describes the state before its update (state s), one read
from the parameters after it describes state s + 1. "snapshot": the states
``Run.snapshot_steps``. "epoch": the states ``Run.epoch_steps`` (epoch ends).
``Run.axis_states(axis)`` gives each axis's step or state numbers.

Layers. "": one number per axis entry, shape (A,). "bn": a list with one
(A, units) array per BN layer; CSV columns per unit, named with {k} (the BN
layer, 1-based) and {u} (the unit, 1-based). "dense": (A, L), one column per
Dense layer; "hidden": (A, H), one per hidden layer; both named with {l}.

Sources. "batch": computed from the step's own forward pass inside
``replay``, many steps at once: ``compute(result, y, arch)`` gets the
engine's ForwardResult and the batch labels, both with leading axes (steps,
members), and the Architecture.
"saved": computed afterwards from the saved states: ``compute(saved)`` gets a
``Saved``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from .evaluation import epoch_metrics, forward_states, pack_buffers, population_stats
from .nn import Architecture, correct, output_loss
from .striding import positions

AXES = ("step", "snapshot", "epoch")
LAYERS = ("", "bn", "dense", "hidden")


@dataclass(frozen=True)
class Quantity:
    name: str                 # the Run attribute
    axis: str                 # one of AXES
    layers: str               # one of LAYERS
    source: str               # "batch" or "saved"
    compute: Callable
    column: str | None        # the Steps CSV column ({k}, {u} or {l} filled in), or None: not exported
    doc: str

    def empty(self, arch: Architecture, lead: tuple):
        """NaN-filled storage for a "batch" quantity with leading axes `lead` (steps, members)."""
        if self.layers == "bn":
            return [np.full(lead + (units,), np.nan) for units in bn_units(arch)]
        width = {"": (), "dense": (arch.n_dense,), "hidden": (len(arch.hidden),)}[self.layers]
        return np.full(lead + width, np.nan)


def bn_units(arch: Architecture) -> tuple:
    """Units of each BN layer (none without BN)."""
    return tuple(arch.hidden) if arch.bn else ()


@dataclass(eq=False)
class Saved:
    """What the training loop saved for one member, as the "saved" quantities read it.

    params: (T, P) the flat parameters of the kept states `states` (every
    state 0..S unless the record is strided, bnviz.striding); grads: (K, P)
    the gradient of each recorded step `steps`; running: (T, R) BN's running
    statistics of the kept states (state 0: mean 0, variance 1), laid out as
    mean1, var1, ...; seen:
    {name: value} of the "batch" quantities from ``replay``; X, y and X_test,
    y_test: the network's inputs and labels; snapshot_steps (K,) and
    snapshot_rows: the states and training rows kept in full; epoch_steps:
    the states at epoch ends.
    """

    arch: Architecture
    params: np.ndarray
    grads: np.ndarray
    running: np.ndarray
    seen: dict
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    snapshot_steps: np.ndarray
    snapshot_rows: np.ndarray
    epoch_steps: np.ndarray
    states: np.ndarray
    steps: np.ndarray

    def rows(self, states):
        """Positions of kept states in params and running (a slice when every state is kept)."""
        states = np.asarray(states)
        if len(self.states) == len(self.params) and self.states[-1] == len(self.states) - 1:
            return states                                  # every state kept: state t is row t
        return positions(self.states, states)

    @property
    def before(self):
        """Rows of the states the recorded steps start from."""
        return slice(0, len(self.steps)) if self._every_step else self.rows(self.steps)

    @property
    def after(self):
        """Rows of the states right after the recorded steps' updates."""
        return slice(1, len(self.steps) + 1) if self._every_step else self.rows(self.steps + 1)

    @property
    def _every_step(self) -> bool:
        return len(self.states) == len(self.steps) + 1

    def param_after(self, name: str) -> np.ndarray:
        """(K, *shape) a parameter after each recorded update."""
        slot = self.arch.param_layout()[name]
        return self.params[self.after, slot.start:slot.stop].reshape((len(self.steps),) + slot.shape)

    def buffer_after(self, name: str) -> np.ndarray:
        """(K, units) a running statistic (mean1, var1, ...) after each recorded update."""
        slot = self.arch.buffer_layout()[name]
        return self.running[self.after, slot.start:slot.stop].copy()

    @property
    def sampled(self) -> bool:
        """Whether the snapshots keep a sample of the training rows rather than all of them."""
        return len(self.snapshot_rows) < len(self.X)

    @cached_property
    def population(self) -> tuple:
        """([ (K, units) ] means, [ (K, units) ] variances): each BN layer's input over all training
        rows at every snapshot state, earlier BN layers using full-data statistics too."""
        if not self.sampled:
            caches = self.snapshot_pass.bn_caches
            return [c.mean.copy() for c in caches], [c.var.copy() for c in caches]
        return population_stats(self.arch, self.params[self.rows(self.snapshot_steps)], self.X)

    @cached_property
    def snapshot_pass(self):
        """The forward pass of every snapshot state over the snapshot rows, BN with full-data statistics:
        with every training row kept, BN in training mode over them; with a sample, BN in evaluation
        mode with the statistics of all rows, so each sampled row has exactly its full-data values."""
        states, X = self.params[self.rows(self.snapshot_steps)], self.X[self.snapshot_rows]
        if not (self.sampled and self.arch.bn):
            return forward_states(self.arch, states, X)
        return forward_states(self.arch, states, X, pack_buffers(self.arch, *self.population))


# ------------------------------------------------------------ how each is computed


def _batch_loss(result, y, arch):
    return output_loss(arch, result.logits, y)[0]


def _batch_accuracy(result, y, arch):
    return correct(arch, result.logits, y).mean(-1)


def _saturated(result, y, arch):
    """(..., H) share of each hidden layer's activations (rows x units) where the activation is flat."""
    flat = {"relu": lambda a: a <= 0.0, "tanh": lambda a: np.abs(a) > 0.97,
            "sigmoid": lambda a: (a < 0.03) | (a > 0.97), "linear": lambda a: np.zeros(a.shape, bool)}[arch.activation]
    return np.stack([flat(t.act).mean(axis=(-2, -1)) for t in result.traces], axis=-1)


def l2_norm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The L2 norm along `axis`, scaled by the largest entry first, so entries past 1e154
    (whose squares overflow) still give a finite norm."""
    big = np.max(np.abs(x), axis=axis, keepdims=True)
    scaled = x / np.where(big > 0, big, 1.0)
    return (big * np.sqrt(np.sum(scaled * scaled, axis=axis, keepdims=True))).squeeze(axis)


def _norms(saved: Saved, of_change: bool) -> np.ndarray:
    """(K, L): ||dW_l|| of each recorded step's gradient, or ||W_l(after) - W_l(before)|| / ||W_l(before)||
    (a matrix that starts at zero has moved by all of its size, 1, or not at all, 0)."""
    layout = saved.arch.param_layout()
    out = np.empty((len(saved.grads), saved.arch.n_dense))
    with np.errstate(all="ignore"):
        for l in range(saved.arch.n_dense):
            slot = layout[f"W{l + 1}"]
            if of_change:
                w = saved.params[:, slot.start:slot.stop]
                change, before = l2_norm(w[saved.after] - w[saved.before]), l2_norm(w[saved.before])
                out[:, l] = np.where(before > 0, change / np.where(before > 0, before, 1.0), change > 0)
            else:
                out[:, l] = l2_norm(saved.grads[:, slot.start:slot.stop])
    return out


def _population(saved: Saved, which: str) -> list:
    """Exact mean or variance of each BN layer's input over all training rows, at each snapshot."""
    return saved.population[0 if which == "mean" else 1]


def _snapshots(saved: Saved) -> dict:
    stages = ("z", "bn", "act") if saved.arch.normed else ("z", "act")
    return {stage: [getattr(t, stage) for t in saved.snapshot_pass.traces] for stage in stages}


def _epoch_metrics(saved: Saved) -> dict:
    states = saved.rows(saved.epoch_steps)
    buffers = saved.running[states] if saved.arch.bn else None
    return epoch_metrics(saved.arch, saved.params[states], buffers, (saved.X, saved.y), (saved.X_test, saved.y_test))


def _per_bn(saved: Saved, prefix: str, of) -> list:
    return [of(f"{prefix}{k}") for k in range(1, len(bn_units(saved.arch)) + 1)]


# ---------------------------------------------------------------------- the table

RECORDED = (
    Quantity("train_loss", "step", "", "batch", _batch_loss, "batch_loss",
             "the mini-batch loss of each step's forward pass, before its update: the mean binary "
             "cross-entropy of the sigmoid output, or for K > 2 classes the mean cross-entropy of the softmax"),
    Quantity("train_acc", "step", "", "batch", _batch_accuracy, "batch_accuracy",
             "the share of the step's batch classified right (logit > 0 means class 1; with K classes, the "
             "largest logit's class)"),
    Quantity("batch_mean", "step", "bn", "batch", lambda result, y, arch: [c.mean for c in result.bn_caches],
             "bn{k}_unit{u}_batch_mean", "μ_B: the mean of the BN layer's input over the step's batch"),
    Quantity("batch_var", "step", "bn", "batch", lambda result, y, arch: [c.var for c in result.bn_caches],
             "bn{k}_unit{u}_batch_var", "σ²_B: the biased variance of the BN layer's input over the step's batch"),
    Quantity("saturated", "step", "hidden", "batch", _saturated, "layer{l}_saturated",
             "share of the step's activations (batch rows × units) of each hidden layer where the activation "
             "is flat and passes almost no gradient: ReLU at 0, tanh beyond ±0.97, sigmoid below 0.03 or above 0.97"),
    Quantity("running_mean", "step", "bn", "saved", lambda s: _per_bn(s, "mean", s.buffer_after),
             "bn{k}_unit{u}_running_mean", "the running mean after the step's update (the training loop keeps it)"),
    Quantity("running_var", "step", "bn", "saved", lambda s: _per_bn(s, "var", s.buffer_after),
             "bn{k}_unit{u}_running_var", "the running variance after the step's update"),
    Quantity("gamma", "step", "bn", "saved", lambda s: _per_bn(s, "gamma", s.param_after),
             "bn{k}_unit{u}_gamma", "γ after the step's update"),
    Quantity("beta", "step", "bn", "saved", lambda s: _per_bn(s, "beta", s.param_after),
             "bn{k}_unit{u}_beta", "β after the step's update"),
    Quantity("grad_norm", "step", "dense", "saved", lambda s: _norms(s, of_change=False), "W{l}_grad_norm",
             "||dL/dW_l||: the L2 norm of the step's gradient of each Dense layer's weights"),
    Quantity("update_ratio", "step", "dense", "saved", lambda s: _norms(s, of_change=True), "W{l}_update_ratio",
             "||W_l(after) − W_l(before)|| / ||W_l(before)||: how far the step moved each weight matrix "
             "(1 for a matrix that moves away from all zeros)"),
    Quantity("population_mean", "snapshot", "bn", "saved", lambda s: _population(s, "mean"), None,
             "the exact mean of the BN layer's input over all training rows (earlier BN layers using "
             "full-data statistics too): what the running mean estimates"),
    Quantity("population_var", "snapshot", "bn", "saved", lambda s: _population(s, "var"), None,
             "the exact (biased) variance of the BN layer's input over all training rows"),
    Quantity("snapshots", "snapshot", "", "saved", _snapshots, None,
             "{'z' | 'bn' | 'act': [(K, rows, units) per hidden layer]}: the Dense output, BN's (or layer norm's) output and "
             "activation of the snapshot rows (every training row, or a fixed random sample of 1,000 when "
             "there are more), BN with the statistics of all training rows"),
    Quantity("epoch_metrics", "epoch", "", "saved", _epoch_metrics, None,
             "{name: (E + 1,)} loss and accuracy on the training and test rows, in evaluation mode (running "
             "statistics, names ending _eval) and batch mode (each split normalized by its own statistics, "
             "_batch); NaN where a split is empty"),
)

BY_NAME = {q.name: q for q in RECORDED}


def describe() -> str:
    """The table as text, for the Run's docstring."""
    return "\n".join(f"    {q.name} [{q.axis}{', per ' + q.layers + ' layer' if q.layers else ''}]: {q.doc}"
                     for q in RECORDED)
