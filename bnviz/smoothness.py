"""How smooth the loss is along the training path (Santurkar et al. 2018, section 3), step-normalized.

At a few steps of a training, move from the parameters w along that step's
gradient g by several step sizes eta and, on the same mini-batch (with the
same noisy-BN draw), measure how far the landscape departs from what g
predicts. Raw differences grow with the gradient's size (a larger gradient
moves further and changes the loss more), which would confound smoothness with
step length, so each measure is divided by what the step itself accounts for:

- loss variation: max over eta of |L(w - eta g) - (L(w) - eta ||g||^2)| /
  (eta ||g||^2): how far the loss lands from its first-order forecast, in
  units of the forecast decrease (0 on a perfectly linear landscape);
- gradient predictiveness: max over eta of ||grad L(w - eta g) - g|| / ||g||:
  how much the gradient turns or shrinks along the way, relative to itself;
- effective beta-smoothness: max over eta of ||grad L(w - eta g) - g|| /
  ||eta g||: the gradient's change per unit distance moved.

Small is smooth for all three. Each is a median over the probed steps, one
number per member.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .nn import backward, forward, output_loss, output_loss_backward

STEP_MULTIPLES = (0.5, 1.0, 2.0, 4.0)     # step sizes, in units of each member's learning rate
PROBES = 12                               # steps probed, evenly spread over training


@dataclass
class Smoothness:
    """Per member (M,): loss_variation, grad_change, beta_smoothness (medians over probes, as in the
    module's docstring); probe_steps (T,); per probe (T, M): loss_range (loss variation), grad_range
    (gradient predictiveness), beta (effective beta-smoothness)."""

    loss_variation: np.ndarray
    grad_change: np.ndarray
    beta_smoothness: np.ndarray
    probe_steps: np.ndarray
    loss_range: np.ndarray
    grad_range: np.ndarray
    beta: np.ndarray


def probe_steps(history, probes: int = PROBES) -> np.ndarray:
    """Steps with a full-size batch, evenly spread over the steps done."""
    size = history.bounds[0][1] - history.bounds[0][0]
    steps = np.arange(history.steps_done)
    full = steps[[history.bounds[s % history.steps_per_epoch][1] - history.bounds[s % history.steps_per_epoch][0]
                  == size for s in steps]]
    if not len(full):
        return full
    return full[np.unique(np.round(np.linspace(0, len(full) - 1, min(probes, len(full)))).astype(int))]


def along_gradient(history, probes: int = PROBES, multiples=STEP_MULTIPLES) -> Smoothness:
    """Smoothness along the gradient at `probes` steps of every member of a training History."""
    arch, M = history.arch, len(history.configs)
    steps = probe_steps(history, probes)
    layout = arch.param_layout()
    X, y = history.inputs(range(M), "train")
    spe = history.steps_per_epoch
    size = history.bounds[0][1] - history.bounds[0][0]
    starts = np.array([history.bounds[s % spe][0] for s in steps])
    rows = history.orders[:, (steps // spe)[:, None], starts[:, None] + np.arange(size)]   # (M, T, n)
    rows = rows.transpose(1, 0, 2)                                                        # (T, M, n)
    members = np.arange(M)[None, :, None]
    xb, yb = (X[members, rows], y[members, rows]) if X.ndim == 3 else (X[rows], y[rows])
    w, g = history.params[steps], history.grads[steps]                                    # (T, M, P)
    lr = np.array([c.lr for c in history.configs])
    eta = np.r_[0.0, np.asarray(multiples, float)][:, None] * lr[None, :]                 # (E + 1, M), 0 first
    noise = history.noise_at(steps, range(M))
    with np.errstate(all="ignore"):                 # a member past its divergence holds inf and NaN
        moved = w[None] - eta[:, None, :, None] * g[None]                                 # (E + 1, T, M, P)
        result = forward(arch, layout.views(moved), xb, None, noise)
        loss, cache = output_loss(arch, result.logits, yb)                               # (E + 1, T, M)
        grads = layout.pack(backward(arch, result, output_loss_backward(arch, cache)), moved.shape[:-1])
        gnorm = np.linalg.norm(g, axis=-1)                                                # (T, M)
        step, change = eta[1:, None, :] * gnorm[None], np.linalg.norm(grads[1:] - g[None], axis=-1)
        forecast = step * gnorm[None]                                                      # eta ||g||^2
        gap = np.abs(loss[1:] - (loss[0][None] - forecast))
        positive = lambda v: np.where(v > 0, v, np.nan)                                   # noqa: E731
        loss_range = (gap / positive(forecast)).max(axis=0)
        grad_range = (change / positive(gnorm)[None]).max(axis=0)
        beta = (change / positive(step)).max(axis=0)
    alive = np.array([history.member_steps(m) for m in range(M)])[None, :] > steps[:, None]
    loss_range, grad_range, beta = (np.where(alive, v, np.nan) for v in (loss_range, grad_range, beta))
    with warnings.catch_warnings():                 # a member that diverged at once has only NaNs
        warnings.simplefilter("ignore", RuntimeWarning)
        return Smoothness(np.nanmedian(loss_range, axis=0), np.nanmedian(grad_range, axis=0),
                          np.nanmedian(beta, axis=0), steps, loss_range, grad_range, beta)
