"""The multilayer perceptron of the lab, built from the layers in ``layers.py``.

Parameters live in one flat float64 vector per model, shape (..., P), so an
optimizer step is a handful of whole-vector operations; ``ParamLayout`` gives
each named parameter (W1, b1, gamma1, beta1, ..., WL, bL) as a view into it.
BN's running statistics are buffers, not parameters: they are trained by an
averaging rule, not by backprop, and live in a second flat vector (..., R)
laid out as mean1, var1, mean2, var2, ...
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from .layers import (
    activation_backward,
    activation_forward,
    batchnorm_backward,
    batchnorm_eval_forward,
    batchnorm_forward,
    bce_with_logits_backward,
    bce_with_logits_forward,
    dense_backward,
    dense_forward,
    sigmoid,
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
    layernorm_backward,
    layernorm_forward,
)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
BN_POSITIONS = ("before", "after")
NORMS = ("batch", "layer", "none")


class Slot(NamedTuple):
    """Where one named array sits in a flat vector."""

    name: str
    shape: tuple
    start: int
    stop: int


class FlatLayout:
    """Named arrays packed into the last axis of a flat vector."""

    def __init__(self, entries):
        self.slots = []
        offset = 0
        for name, shape in entries:
            size = int(np.prod(shape))
            self.slots.append(Slot(name, tuple(shape), offset, offset + size))
            offset += size
        self.size = offset
        self.names = [s.name for s in self.slots]
        self._by_name = {s.name: s for s in self.slots}

    def __getitem__(self, name) -> Slot:
        return self._by_name[name]

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def views(self, flat: np.ndarray) -> dict:
        """flat (..., size) -> {name: view of shape (..., *shape)} sharing memory."""
        lead = flat.shape[:-1]
        return {s.name: flat[..., s.start:s.stop].reshape(lead + s.shape) for s in self.slots}

    def pack(self, arrays: dict, lead=()) -> np.ndarray:
        """{name: (..., *shape)} -> flat (..., size), in layout order."""
        lead = tuple(lead)
        return np.concatenate([np.reshape(arrays[n], lead + (-1,)) for n in self.names], axis=-1)


@dataclass(frozen=True)
class Architecture:
    """The shape of the network: Dense(h1) [norm] g ... Dense(hk) [norm] g -> output.

    norm: "batch" (BN), "layer" (layer norm) or "none"; when left out, bn
    says it (True: batch, False: none), and bn is then always norm == "batch".
    bn_position "before": z -> norm -> g(.)  (the bias in front of BN is dropped
    unless keep_bias, since BN subtracts it again; layer norm keeps it: it
    subtracts each row's mean over the units, which a per-unit bias is not);
    "after": z -> g(z) -> norm.

    n_out: 1 (two classes): Dense(1) -> sigmoid, binary cross-entropy, logits (..., N).
    n_out = K > 1 (K classes): Dense(K) -> softmax, cross-entropy, logits (..., N, K).
    ``n_classes`` is 2 or K; ``output_loss``, ``output_loss_backward``, ``correct`` and
    ``probabilities`` below read either kind of logits.
    """

    n_in: int
    hidden: tuple
    activation: str = "relu"
    bn: bool = True
    bn_position: str = "before"
    keep_bias: bool = False
    eps: float = 1e-3
    n_out: int = 1
    norm: str | None = None

    def __post_init__(self):
        norm = ("batch" if self.bn else "none") if self.norm is None else self.norm
        if norm not in NORMS:
            raise ValueError(f"unknown norm {norm!r}: use one of {NORMS}")
        object.__setattr__(self, "norm", norm)
        object.__setattr__(self, "bn", norm == "batch")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}: use one of {ACTIVATIONS}")
        if self.bn_position not in BN_POSITIONS:
            raise ValueError(f"unknown bn_position {self.bn_position!r}: use 'before' or 'after'")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden layers need at least one unit each, got {self.hidden}")
        if self.n_out < 1:
            raise ValueError(f"the output needs at least one unit, got {self.n_out}")

    @property
    def n_classes(self) -> int:
        """Classes the output tells apart: 2 for the single sigmoid unit, else n_out."""
        return 2 if self.n_out == 1 else self.n_out

    @property
    def softmax(self) -> bool:
        """Whether the output is a softmax over n_out > 1 classes (else one sigmoid unit)."""
        return self.n_out > 1

    @property
    def widths(self) -> tuple:
        """Input width, hidden widths, output width: (n_in, h1, ..., hk, n_out)."""
        return (self.n_in, *self.hidden, self.n_out)

    def has_bias(self, layer: int) -> bool:
        """Whether Dense layer `layer` (1-based) has a bias."""
        if layer > len(self.hidden):
            return True
        return not (self.bn and self.bn_position == "before") or self.keep_bias

    @property
    def normed(self) -> bool:
        """Whether every hidden layer has a normalization (batch or layer), with its gamma and beta."""
        return self.norm != "none"

    @property
    def n_dense(self) -> int:
        return len(self.hidden) + 1

    @cached_property
    def keys(self) -> list:
        """Per hidden layer k (1-based, index k - 1): the names it uses,
        (W, b or None, gamma, beta, running mean, running var)."""
        return [(f"W{k}", f"b{k}" if self.has_bias(k) else None, f"gamma{k}", f"beta{k}", f"mean{k}", f"var{k}")
                for k in range(1, self.n_dense)]

    def param_layout(self) -> FlatLayout:
        return self._param_layout

    @cached_property
    def _param_layout(self) -> FlatLayout:
        entries = []
        for k in range(1, self.n_dense + 1):
            fan_in, fan_out = self.widths[k - 1], self.widths[k]
            entries.append((f"W{k}", (fan_in, fan_out)))
            if self.has_bias(k):
                entries.append((f"b{k}", (fan_out,)))
            if self.normed and k <= len(self.hidden):
                entries += [(f"gamma{k}", (fan_out,)), (f"beta{k}", (fan_out,))]
        return FlatLayout(entries)

    def buffer_layout(self) -> FlatLayout:
        return self._buffer_layout

    @cached_property
    def _buffer_layout(self) -> FlatLayout:
        entries = []
        if self.bn:
            for k, units in enumerate(self.hidden, start=1):
                entries += [(f"mean{k}", (units,)), (f"var{k}", (units,))]
        return FlatLayout(entries)

    def initial_buffers(self, lead=()) -> np.ndarray:
        """Running mean 0 and running variance 1, as Keras and PyTorch start."""
        layout = self.buffer_layout()
        flat = np.zeros(tuple(lead) + (layout.size,))
        for name, view in layout.views(flat).items():
            if name.startswith("var"):
                view[...] = 1.0
        return flat

    @property
    def norm_name(self) -> str:
        """The normalization's short name: BN, LN, or "" without one."""
        return {"batch": "BN", "layer": "LN", "none": ""}[self.norm]

    def summary(self) -> str:
        """One line per layer, like Keras' model.summary()."""
        lines = []
        layout = self.param_layout()
        for k in range(1, self.n_dense + 1):
            out = self.widths[k]
            names = [n for n in (f"W{k}", f"b{k}") if n in layout]
            dense = f"Dense({out}) [{', '.join(names)}]"
            if k == self.n_dense:
                lines.append(f"{dense} -> {'softmax' if self.softmax else 'sigmoid'}")
            elif not self.normed:
                lines.append(f"{dense} -> {self.activation}")
            elif self.bn_position == "before":
                lines.append(f"{dense} -> {self.norm_name}({out}) -> {self.activation}")
            else:
                lines.append(f"{dense} -> {self.activation} -> {self.norm_name}({out})")
        return "\n".join(lines)

    def __repr__(self):
        return "Architecture(\n  " + self.summary().replace("\n", "\n  ") + f"\n  eps={self.eps})"


class LayerTrace(NamedTuple):
    """One hidden layer's values in a forward pass, each (..., N, units).

    z: the Dense output; bn: the normalization's output, BN's or layer norm's
    (None without one); act: the activation output.
    """

    z: np.ndarray
    bn: np.ndarray | None
    act: np.ndarray


class ForwardResult(NamedTuple):
    logits: np.ndarray          # (..., N) for one sigmoid output, (..., N, K) for a softmax over K classes
    traces: list                # one LayerTrace per hidden layer
    caches: list                # per hidden layer (dense, norm or None, act, noise scale or None), then the output dense
    bn_caches: list             # the BatchNormCache of each BN layer, in order (none with layer norm)


def forward(arch: Architecture, params: dict, x: np.ndarray, buffers: dict | None = None,
            noise: list | None = None) -> ForwardResult:
    """Run the network on a batch.

    params: views as from ``param_layout().views`` with leading axes (...);
    x: (..., N, n_in) or (N, n_in). With buffers=None BN is in training mode
    and uses the statistics of this batch; with buffers (views of the running
    statistics, keys mean1, var1, ...) BN is in evaluation mode. Layer norm
    has one mode: each row by its own statistics, buffers or not.
    noise: for noisy BN in training mode, one (scale, shift) pair per BN layer,
    each (..., units): every BN output becomes y * scale + shift.
    """
    a = x
    traces, caches, bn_caches = [], [], []
    before, g = arch.bn_position == "before", arch.activation

    def normalize(v, k, names):
        gamma, beta, mean, var = names
        if arch.norm == "layer":
            out, cache = layernorm_forward(v, params[gamma], params[beta], arch.eps)
            return out, cache, None
        if buffers is None:
            out, cache = batchnorm_forward(v, params[gamma], params[beta], arch.eps)
        else:
            out, cache = batchnorm_eval_forward(v, params[gamma], params[beta], buffers[mean], buffers[var], arch.eps)
        scale = None
        if noise is not None and buffers is None:
            scale, shift = noise[k]
            out = out * scale[..., None, :] + shift[..., None, :]
        bn_caches.append(cache)
        return out, cache, scale

    for k, (W, b, *bn_names) in enumerate(arch.keys):
        z, dense_cache = dense_forward(a, params[W], params[b] if b else None)
        bn_out = bn_cache = scale = None
        if arch.normed and before:
            bn_out, bn_cache, scale = normalize(z, k, bn_names)
            a, act_cache = activation_forward(bn_out, g)
            act = a
        else:
            act, act_cache = activation_forward(z, g)
            a = act
            if arch.normed:
                bn_out, bn_cache, scale = normalize(act, k, bn_names)
                a = bn_out
        traces.append(LayerTrace(z, bn_out, act))
        caches.append((dense_cache, bn_cache, act_cache, scale))
    L = arch.n_dense
    z, dense_cache = dense_forward(a, params[f"W{L}"], params[f"b{L}"])
    caches.append(dense_cache)
    return ForwardResult(z if arch.softmax else z[..., 0], traces, caches, bn_caches)


def backward(arch: Architecture, result: ForwardResult, dlogits: np.ndarray, out: dict | None = None) -> dict:
    """Gradients of the loss for every parameter, from d loss / d logits (..., N), or (..., N, K).

    Returns {name: array shaped like the parameter, with the leading axes}.
    With `out` ({name: array of that shape}, e.g. views of a flat gradient
    vector) each gradient is written into its array, which are returned.
    """
    out = {} if out is None else out
    put = out.get
    L = arch.n_dense
    WL, bL = f"W{L}", f"b{L}"
    dz = dlogits if arch.softmax else dlogits[..., None]
    dx, out[WL], out[bL] = dense_backward(dz, result.caches[-1], True, put(WL), put(bL))
    bn_before = arch.normed and arch.bn_position == "before"
    bn_after = arch.normed and not bn_before
    norm_backward = _layernorm_backward if arch.norm == "layer" else batchnorm_backward
    keys = arch.keys
    for k in range(L - 1, 0, -1):
        W, b, gamma, beta = keys[k - 1][:4]
        dense_cache, bn_cache, act_cache, scale = result.caches[k - 1]
        if bn_after:
            if scale is not None:
                dx = dx * scale[..., None, :]
            dx, out[gamma], out[beta] = norm_backward(dx, bn_cache, put(gamma), put(beta))
        dz = activation_backward(dx, act_cache)
        if bn_before:
            if scale is not None:
                dz = dz * scale[..., None, :]
            dz, out[gamma], out[beta] = norm_backward(dz, bn_cache, put(gamma), put(beta))
        # A bias just in front of BN (keep_bias) gets the sum of dz like any other;
        # in training mode BN's backward leaves dz with zero batch mean, so that
        # sum is 0 up to rounding (about 1e-17), computed rather than written in.
        dx, out[W], db = dense_backward(dz, dense_cache, k > 1, put(W), put(b) if b else None)
        if b:
            out[b] = db
    return out


def _layernorm_backward(dy, cache, out_dgamma=None, out_dbeta=None):
    """layernorm_backward, writing dgamma and dbeta into the given arrays (batchnorm_backward's signature)."""
    dx, dgamma, dbeta = layernorm_backward(dy, cache)
    if out_dgamma is not None:
        out_dgamma[...] = dgamma
        dgamma = out_dgamma
    if out_dbeta is not None:
        out_dbeta[...] = dbeta
        dbeta = out_dbeta
    return dx, dgamma, dbeta


def loss_and_grads(arch: Architecture, params: dict, x, y, buffers=None, noise=None):
    """Loss (...,), gradients {name: ...} and the forward result."""
    result = forward(arch, params, x, buffers, noise)
    loss, loss_cache = output_loss(arch, result.logits, y)
    grads = backward(arch, result, output_loss_backward(arch, loss_cache))
    return loss, grads, result


# ------------------------------------------------------------------ the output, either kind
# Labels y are (..., N) or (N,): 0/1 for the sigmoid unit, class numbers 0..K-1 for a softmax
# (float, as the data sets hold them, or int).


def output_loss(arch: Architecture, logits: np.ndarray, y) -> tuple:
    """The mean loss over the rows (...,) and its cache: binary cross-entropy of the sigmoid
    unit, or cross-entropy of the softmax over K classes (torch.nn.CrossEntropyLoss)."""
    if arch.softmax:
        return softmax_cross_entropy_forward(logits, y)
    return bce_with_logits_forward(logits, y)


def output_loss_backward(arch: Architecture, cache) -> np.ndarray:
    """d loss / d logits, shaped like the logits."""
    if arch.softmax:
        return softmax_cross_entropy_backward(cache)
    return bce_with_logits_backward(cache)


def output_grad(arch: Architecture, logits: np.ndarray, y) -> np.ndarray:
    """d loss / d logits straight from the logits and labels (the training loop's step)."""
    if arch.softmax:
        return softmax_cross_entropy_backward(softmax_cross_entropy_forward(logits, y)[1])
    return bce_with_logits_backward((logits, y))


def predicted_class(arch: Architecture, logits: np.ndarray) -> np.ndarray:
    """(..., N) int: the class each row is put in (logit > 0 means 1; else the largest logit)."""
    if arch.softmax:
        return logits.argmax(axis=-1)
    return (logits > 0.0).astype(np.intp)


def correct(arch: Architecture, logits: np.ndarray, y) -> np.ndarray:
    """(..., N) bool: whether each row's predicted class is its label."""
    if arch.softmax:
        return logits.argmax(axis=-1) == np.asarray(y).astype(np.intp)
    return (logits > 0.0) == (np.asarray(y) > 0.5)


def probabilities(arch: Architecture, logits: np.ndarray) -> np.ndarray:
    """Class probabilities: (..., N, K) softmax(logits) for K classes; for the sigmoid unit
    (..., N) P(class 1) = sigmoid(logit) (``class_probabilities`` gives both columns)."""
    return softmax(logits) if arch.softmax else sigmoid(logits)


def class_probabilities(arch: Architecture, logits: np.ndarray) -> np.ndarray:
    """(..., N, n_classes) the probability of every class, for either output (columns
    P(0), P(1) for the sigmoid unit)."""
    if arch.softmax:
        return softmax(logits)
    p = sigmoid(logits)
    return np.stack([1.0 - p, p], axis=-1)


def logits_finite(arch: Architecture, logits: np.ndarray) -> np.ndarray:
    """(...,) whether every logit of the rows (every class's, for a softmax) is finite."""
    ok = np.isfinite(logits)
    return ok.all(axis=(-2, -1)) if arch.softmax else ok.all(axis=-1)


def logit_sum(arch: Architecture, logits: np.ndarray, out=None) -> np.ndarray:
    """(...,) every logit of the rows summed: finite exactly when no logit left float64 (or overflowed)."""
    if arch.softmax:
        return logits.sum(axis=(-2, -1), out=out)
    return logits.sum(axis=-1, out=out)
