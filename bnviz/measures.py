"""The measurements behind the lessons, each over a list of seeds.

Every function trains what it needs through ``bnviz.overseeds`` (one ensemble
per setting, each seed on its own split) and returns plain arrays, one value
per seed (axis 0), so ``bnviz.lessons`` can judge them and the page can draw
them. Settings that are not the defaults are the ones the lessons' links open.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .config import Config
from .evaluation import loss_and_accuracy
from .landscape import logistic_curvatures
from .nn import batchnorm_forward, forward, output_loss
from .overseeds import dataset_for, datasets, learn_bar, learned, margin, over_seeds
from .smoothness import along_gradient
from .train import architecture, batch_bounds, epoch_orders, initial_params

LR_GRID = 2.0 ** np.arange(-2, 4.01, 0.5)          # 0.25 ... 16, four steps per factor of 4
LESSON_LR_GRID = 2.0 ** np.arange(-2, 4.01)       # 0.25 ... 16, one rate per doubling (the lessons' sweep)
PROBE_LR = 2.0                                    # the rate the lesson's link opens
INIT_GRID = 10.0 ** np.arange(-3, 3.01)           # 0.001 ... 1000, one per decade
SWEEP_EPOCHS = 30
BATCH_SIZES = (2, 4, 8, 16, 32, 64, None)         # None: the whole training set
BATCH_EPOCHS = 10
LINK_BATCH = 4                                    # the small batch of the lesson's link
DEPENDENCE_SIZES = (2, 4, 8, 16, 64)              # the batch-dependence lesson's batch sizes, smallest first
DEPENDENCE_NORMS = ("batch", "layer", "none")
BIAS_INIT = 1.0
NOISE_SIGMAS = 3                                  # a running statistic is "there" within 3 of its own noise
SHIFT_NET = Config(hidden=(4, 4, 4), activation="sigmoid")
DEEP_NET = Config(hidden=(8,) * 6, activation="sigmoid", epochs=30)
OPTIMIZER_LR = {"sgd": 0.1, "momentum": 0.1, "rmsprop": 0.01, "adam": 0.01}
OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": "momentum", "rmsprop": "RMSprop", "adam": "Adam"}
NOISE = 0.5
DEFAULT = Config()
SWEEP_BASE = Config(epochs=SWEEP_EPOCHS)
# The notes' batch on raw GPA and IQ, as they compute it; running averages with PyTorch's
# momentum (0.9) catch up within the 200 steps, so evaluation mode learns the four too.
WORKED = Config(dataset="notes_batch", batch_size=4, standardize=False, activation="tanh", lr=0.5, epochs=200,
                bn_momentum=0.9)


EPOCH_ENDS = 1 << 30                              # a record stride that keeps the epoch ends and little else
MAX_SEEDS = 30                                    # bounds one measurement's time and memory


def seed_list(seeds) -> list:
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("measure over at least one seed")
    if len(seeds) > MAX_SEEDS:
        raise ValueError(f"measure over at most {MAX_SEEDS} seeds at once, not {len(seeds)}")
    if any(s < 0 for s in seeds):
        raise ValueError("seeds are whole numbers from 0")
    return seeds


def seed_text(seeds) -> str:
    seeds = list(seeds)
    if not seeds:
        return "no seed"
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return "seeds " + ", ".join(str(s) for s in seeds[:-1]) + f" and {seeds[-1]}"


def fmt(x) -> str:
    """A measured number as the sentences print it (3 significant digits, small ones in e-notation)."""
    x = float(x)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    a = abs(x)
    if x.is_integer():
        return f"{int(x):,}"          # with its thousands' commas
    if a >= 999.5:                    # 999.5 and up round to 1,000 (3 significant digits would print 1e+03)
        return f"{x:,.0f}"
    if a >= 0.01:
        return f"{x:.3g}"
    if a >= 1e-4:
        return f"{x:.2g}"
    return f"{x:.1e}"


# ------------------------------------------------------------------ helpers


def _data_config(base: Config, seed: int) -> Config:
    """The Config naming base's data set, split by `seed` (what dataset_for caches on)."""
    return Config(dataset=base.dataset, seed=seed, test_fraction=base.test_fraction, data_size=base.data_size,
                  data_noise=base.data_noise)


def _final(ensemble, name: str) -> np.ndarray:
    return ensemble.final_metrics()[name]


def _states_inputs(ensemble, states):
    """Parameters (T, M, P) at `states` and each member's training inputs (M, N, d) (an ensemble of
    over_seeds: every member has a split of its own)."""
    h = ensemble.history
    X, _ = h.inputs(range(len(ensemble)), "train")
    return h.params[h.state_rows(np.asarray(states))], X


def _batch_mode_traces(ensemble, states, noise_steps=None):
    """Forward pass of every member at `states` on all its training rows, BN with those
    rows' own statistics. With noise_steps, noisy BN applies the noise of those steps.
    Returns the ForwardResult with leading axes (T, M)."""
    h = ensemble.history
    flat, X = _states_inputs(ensemble, states)
    views = h.arch.param_layout().views(flat)
    noise = None if noise_steps is None else h.noise_at(noise_steps, range(len(ensemble)))
    with np.errstate(all="ignore"):
        return forward(h.arch, views, X[None], None, noise)


def _epoch_states(ensemble) -> np.ndarray:
    h = ensemble.history
    return np.arange(0, h.steps_done + 1, h.steps_per_epoch)


def _drift(ensemble, layer: int = -1, noisy: bool = False) -> np.ndarray:
    """(M,) how far the input of a hidden layer's activation (BN output with BN before, else
    the Dense output) moves over training: the path length of its 15th, 50th and 85th
    percentiles from epoch to epoch, averaged over the three and over units, in units of
    the final 15-85 width."""
    h = ensemble.history
    states = _epoch_states(ensemble)
    noise_steps = np.minimum(states, h.steps_done - 1) if noisy and h.noise is not None else None
    trace = _batch_mode_traces(ensemble, states, noise_steps).traces[layer]
    seen = trace.bn if (h.arch.bn and h.arch.bn_position == "before") else trace.z     # (T, M, N, units)
    p = np.percentile(seen, (15, 50, 85), axis=-2)                                       # (3, T, M, units)
    path = np.abs(np.diff(p, axis=1)).sum(axis=1).mean(axis=0)                           # (M, units)
    width = np.maximum(p[2, -1] - p[0, -1], 1e-9)
    return (path / width).mean(axis=-1)


# ------------------------------------------------------------------ claim 1


def input_scaling(seeds, base: Config = DEFAULT) -> dict:
    """Curvature of one logistic unit's loss (no bias) on centred raw and on standardized features
    of base's data set, split by each seed."""
    out = {k: [] for k in ("elongation_raw", "elongation_std", "lr_limit_raw", "lr_limit_std")}
    for s in seeds:
        data = dataset_for(_data_config(base, s))
        X, y = data.X_train, data.y_train
        for name, inputs in (("raw", X - X.mean(axis=0)), ("std", data.standardize(X))):
            low, high = logistic_curvatures(inputs, y)
            out[f"elongation_{name}"].append(math.sqrt(high / low))
            out[f"lr_limit_{name}"].append(2.0 / high)
    return {k: np.array(v) for k, v in out.items()}


# ------------------------------------------------------------------ claims 2 and 3


def _sweep(seeds, field, grid, base: Config):
    acc, ok = {}, {}
    for bn in (True, False):
        ensemble, configs = over_seeds(base.replace(bn=bn), seeds, EPOCH_ENDS, **{field: grid})
        a = _final(ensemble, "train_acc_eval")
        acc[bn] = a.reshape(len(seeds), len(grid))
        ok[bn] = learned(a, configs).reshape(len(seeds), len(grid))
    return acc, ok


def epochs_to_learn(seeds, cfg: Config = DEFAULT) -> dict:
    """epochs[bn] (seeds,): how many epochs of updates (steps / steps per epoch) until the last
    epoch's worth of mini-batches, taken together, is classified past the learn bar
    (bnviz.overseeds.learn_bar), at cfg's learning rate; NaN if that never happens."""
    out = {}
    for bn in (True, False):
        ensemble, configs = over_seeds(cfg.replace(bn=bn), seeds)
        h = ensemble.history
        spe = h.steps_per_epoch
        sizes = np.array([b - a for a, b in h.bounds], dtype=float)[np.arange(h.steps_done) % spe]
        right = np.nan_to_num(ensemble._replay()["train_acc"]) * sizes[:, None]      # (S, M) rows right
        window = np.cumsum(right, axis=0)
        window[spe:] -= window[:-spe].copy()                                        # the last spe steps
        share = window[spe - 1:] / sizes[:spe].sum()                                 # after steps spe..S
        bars = np.array([learn_bar(d) for d in datasets(configs)])
        reached = share >= bars[None, :] - 1e-12
        out[bn] = np.where(reached.any(axis=0), (reached.argmax(axis=0) + spe) / spe, np.nan)
    return {"epochs": out, "lr": cfg.lr}


def learning_rate_sweep(seeds, base: Config = SWEEP_BASE, grid=LR_GRID) -> dict:
    """Per seed and rate of `grid`, BN on and off: training accuracy, whether it learned, the largest
    rate that did (0 where none did)."""
    grid = np.asarray(grid, dtype=float)
    acc, ok = _sweep(seeds, "lr", grid, base)
    probe = int(np.argmin(np.abs(grid - PROBE_LR)))
    best = {bn: np.array([grid[row].max() if row.any() else 0.0 for row in ok[bn]]) for bn in ok}
    return {"grid": grid, "acc": acc, "learned": ok, "best_lr": best, "probe_lr": float(grid[probe]),
            "at_probe": {bn: ok[bn][:, probe] for bn in ok}}


def init_scale_sweep(seeds, base: Config = SWEEP_BASE, grid=INIT_GRID) -> dict:
    acc, ok = _sweep(seeds, "init_scale", grid, base)
    return {"grid": np.asarray(grid, dtype=float), "acc": acc, "learned": ok}


# ------------------------------------------------------------------ claim 4


def _mode_gap(ensemble) -> np.ndarray:
    """(M,) training-mode loss minus full-data loss, both at the final weights: the mean loss of
    the last epoch's mini-batches, each normalized by its own statistics, minus the loss of all
    training rows normalized by their exact statistics (what evaluation mode tends to once
    the running averages have caught up; they may still lag after few steps)."""
    h = ensemble.history
    M, S = len(ensemble), h.steps_done
    X, y = h.inputs(range(M), "train")                                         # (M, N, d), (M, N): over_seeds
    size = h.bounds[0][1] - h.bounds[0][0]
    full = [(a, b) for a, b in h.bounds if b - a == size]
    order = h.orders[:, (S - 1) // h.steps_per_epoch]                          # (M, N)
    cols = np.concatenate([np.arange(a, b) for a, b in full]).reshape(len(full), size)
    rows = order[:, cols]                                                      # (M, batches, size)
    members = np.arange(M)[:, None, None]
    flat = h.params[S][:, None, :]                                             # (M, 1, P)
    with np.errstate(all="ignore"):
        result = forward(h.arch, h.arch.param_layout().views(flat), X[members, rows])
        train_mode = output_loss(h.arch, result.logits, y[members, rows])[0].mean(axis=1)
    return train_mode - _final(ensemble, "train_loss_batch")


def _mean_spread(ensemble) -> np.ndarray:
    """(M,) how much the first BN layer's batch mean wanders over the last epoch: its std over
    that epoch's batches, over the exact full-data std at the end, averaged over units."""
    h = ensemble.history
    S, spe = h.steps_done, h.steps_per_epoch
    means = ensemble._replay()["batch_mean"][0][S - spe:S]                             # (spe, M, units)
    cache = _batch_mode_traces(ensemble, [S]).bn_caches[0]
    std = np.sqrt(cache.var[0])                                                        # (M, units)
    with np.errstate(all="ignore"):
        return (means.std(axis=0) / np.maximum(std, 1e-12)).mean(axis=-1)


def sampling_spread(batch: int, rows: int) -> float:
    """Std of the mean of `batch` rows drawn without replacement from `rows`, in units of the
    rows' std: sqrt((N - B) / (B (N - 1))). What the batch mean's wandering should be for
    a fixed network; 0 for the whole set."""
    return math.sqrt(max(rows - batch, 0) / (batch * (rows - 1)))


def batch_noise(seeds, sizes=BATCH_SIZES, epochs: int = BATCH_EPOCHS, base: Config = DEFAULT) -> dict:
    """Batch-size sweep x seeds, BN on and off (arrays (seeds, len(sizes))):
    mu_spread (BN on): the batch mean's spread relative to the full-data spread
    (theory: sampling_spread per size); mode_gap (BN on): training-mode minus
    full-data loss; acc_gap[bn]: train minus test accuracy (evaluation mode); test_acc[bn].
    base: the rest of the experiment (data set, network, learning rate)."""
    first = dataset_for(_data_config(base, seed_list(seeds)[0]))
    rows = len(first.y_train)
    sizes = np.array([rows if b is None else min(b, rows) for b in sizes])
    shape = (len(seeds), len(sizes))
    spread, mode_gap = np.zeros(shape), np.zeros(shape)
    acc_gap = {True: np.zeros(shape), False: np.zeros(shape)}
    test_acc = {True: np.zeros(shape), False: np.zeros(shape)}
    for j, size in enumerate(sizes):
        for bn in (True, False):
            ensemble, _ = over_seeds(base.replace(bn=bn, batch_size=int(size), epochs=epochs), seeds)
            fm = ensemble.final_metrics()
            acc_gap[bn][:, j] = fm["train_acc_eval"] - fm["test_acc_eval"]
            test_acc[bn][:, j] = fm["test_acc_eval"]
            if bn:
                spread[:, j] = _mean_spread(ensemble)
                mode_gap[:, j] = _mode_gap(ensemble)
    test_rows = len(first.y_test)
    return {"batch_sizes": sizes, "mu_spread": spread, "theory": np.array([sampling_spread(b, rows) for b in sizes]),
            "mode_gap": mode_gap, "acc_gap": acc_gap,
            "test_acc": test_acc, "test_rows": test_rows, "epochs": epochs, "train_rows": rows}


def batch_dependence(seeds, base: Config = DEFAULT, sizes=DEPENDENCE_SIZES) -> dict:
    """Batch norm, layer norm and no normalization over batch sizes x seeds, everything else as in base
    (arrays (seeds, len(sizes)) per normalization, keyed by DEPENDENCE_NORMS):

    test_acc: final test accuracy in evaluation mode; loss_noise: how much the whole training set's
    evaluation-mode loss jumps from one epoch end to the next over the second half of training (the
    standard deviation of its epoch-to-epoch changes over sqrt 2: the noise about a slow trend), the
    loss the network would give at test time. row_change (seeds,) per normalization, at the smallest
    batch's final state: the largest change of a training row's training-mode logit between inside
    the whole training set as one batch and alone, over the size of the logits (at least 1).
    """
    seeds = seed_list(seeds)
    first = dataset_for(_data_config(base, seeds[0]))
    rows = len(first.y_train)
    sizes = np.array([min(int(b), rows) for b in sizes])
    shape = (len(seeds), len(sizes))
    test_acc = {norm: np.zeros(shape) for norm in DEPENDENCE_NORMS}
    noise = {norm: np.zeros(shape) for norm in DEPENDENCE_NORMS}
    row_change = {}
    for norm in DEPENDENCE_NORMS:
        for j, size in enumerate(sizes):
            ensemble, _ = over_seeds(base.replace(norm=norm, batch_size=int(size)), seeds)
            test_acc[norm][:, j] = ensemble.final_metrics()["test_acc_eval"]
            noise[norm][:, j] = _eval_loss_noise(ensemble)
            if j == 0:
                row_change[norm] = _row_change(ensemble)
    return {"batch_sizes": sizes, "test_acc": test_acc, "loss_noise": noise, "row_change": row_change,
            "epochs": base.epochs, "test_rows": len(first.y_test), "train_rows": rows}


def _eval_loss_noise(ensemble) -> np.ndarray:
    """(M,) the epoch-to-epoch jitter of the evaluation-mode training loss over the second half of training
    (NaN for a member that diverged)."""
    h = ensemble.history
    states = _epoch_states(ensemble)
    states = states[len(states) // 2:]
    X, y = h.inputs(range(len(ensemble)), "train")
    losses = np.empty((len(states), len(ensemble)))
    with np.errstate(all="ignore"):
        for i, s in enumerate(states):
            losses[i] = loss_and_accuracy(h.arch, h.params[s], X, y, h.running[s] if h.arch.bn else None)[0][0]
        out = np.std(np.diff(losses, axis=0), axis=0) / math.sqrt(2) if len(states) > 2 else np.zeros(len(ensemble))
    out[h.diverged_at >= 0] = np.nan
    return out


def _row_change(ensemble) -> np.ndarray:
    """(M,) how much a row's training-mode logits move between the whole training set's batch and a batch
    of itself alone, at the final state, relative to the logits' size (at least 1); every class's logit
    for a softmax output."""
    h = ensemble.history
    flat, X = _states_inputs(ensemble, [h.steps_done])
    views = h.arch.param_layout().views(flat[0])                           # lead (M,)
    with np.errstate(all="ignore"):
        together = forward(h.arch, views, X).logits                        # (M, N) or (M, N, K)
        alone_views = {k: v[:, None] for k, v in views.items()}            # lead (M, 1): each row its own batch
        alone = forward(h.arch, alone_views, X[:, :, None, :]).logits      # (M, N, 1) or (M, N, 1, K)
        alone = alone[..., 0, :] if h.arch.softmax else alone[..., 0]
        rest = tuple(range(1, together.ndim))                              # every row (and class) of a member
        scale = np.maximum(np.abs(together).max(axis=rest), 1.0)
        return np.abs(together - alone).max(axis=rest) / scale


# ------------------------------------------------------------------ claim 5


def bias_before_bn(seeds, base: Config = DEFAULT) -> dict:
    """A kept bias started at BIAS_INIT vs no bias, BN before the activation.

    grad_ratio (seeds,): the bias gradient's largest size over the weights' gradient in
    the same layer, worst over steps and layers; train_output_diff (seeds,): the largest
    change of training-mode logits the bias makes at the start (all training rows as one
    batch); loss_path_diff (seeds,): largest difference of the two runs' mini-batch
    losses over training; eval_shift (seeds, epochs + 1): the largest change of
    evaluation-mode logits at each epoch end."""
    base = base.replace(bn=True, bn_position="before")
    kept, _ = over_seeds(base.replace(keep_bias=True, bias_init=BIAS_INIT), seeds)
    plain, _ = over_seeds(base.replace(keep_bias=False, bias_init=0.0), seeds)
    h = kept.history
    layout = h.arch.param_layout()
    ratio = np.zeros(len(seeds))
    for k in range(1, len(h.arch.hidden) + 1):
        b, W = layout[f"b{k}"], layout[f"W{k}"]
        db = np.abs(h.grads[:, :, b.start:b.stop]).max(axis=2)
        dW = np.abs(h.grads[:, :, W.start:W.stop]).max(axis=2)
        with np.errstate(all="ignore"):
            ratio = np.maximum(ratio, np.nanmax(db / np.maximum(dW, 1e-300), axis=0))
    start_kept = _batch_mode_traces(kept, [0])
    start_plain = _batch_mode_traces(plain, [0])
    train_diff = np.abs(start_kept.logits[0] - start_plain.logits[0]).max(axis=-1)
    path_diff = np.nanmax(np.abs(kept.train_loss - plain.train_loss), axis=0)
    states = _epoch_states(kept)
    shifts = []
    for ensemble in (kept, plain):
        buffers = ensemble.history.running[states]                                          # (T, M, R)
        flat, X = _states_inputs(ensemble, states)
        arch = ensemble.history.arch
        with np.errstate(all="ignore"):
            shifts.append(forward(arch, arch.param_layout().views(flat), X[None],
                                  arch.buffer_layout().views(buffers)).logits)            # (T, M, N)
    eval_shift = np.abs(shifts[0] - shifts[1]).max(axis=-1).T                              # (M, T)
    return {"grad_ratio": ratio, "train_output_diff": train_diff, "loss_path_diff": path_diff,
            "eval_shift": eval_shift[:, 1:], "bias_init": BIAS_INIT}


# ------------------------------------------------------------------ claim 6


def gamma_beta_identity(seeds, cfg: Config = DEFAULT) -> dict:
    """error (seeds,): with every BN layer's gamma = sqrt(var_B + eps) and beta = mu_B of the
    first batch (initial weights), the largest |BN output - BN input| over the largest |input|."""
    errors = []
    for s in seeds:
        c = cfg.replace(seed=s)
        data = dataset_for(c)
        X = data.inputs(data.X_train, c.standardize)
        arch = architecture(c, X.shape[1])
        rows = epoch_orders(s, len(X), 1)[0][slice(*batch_bounds(len(X), c.batch_size)[0])]
        result = forward(arch, initial_params(c, arch), X[rows])
        worst = 0.0
        for trace, cache in zip(result.traces, result.bn_caches):
            x = trace.z if arch.bn_position == "before" else trace.act
            y, _ = batchnorm_forward(x, np.sqrt(cache.var + arch.eps), cache.mean, arch.eps)
            worst = max(worst, float(np.abs(y - x).max() / max(np.abs(x).max(), 1e-300)))
        errors.append(worst)
    return {"error": np.array(errors), "batch_size": int(min(cfg.batch_size, len(X)))}


# ------------------------------------------------------------------ claim 7


RUNNING_RULES = ("ewma", "population", "cumulative")
RUNNING_RULE_NAMES = {"ewma": "EWMA", "population": "population average after training (Algorithm 2)",
                      "cumulative": "average over all of training"}


def _running_gaps(ensemble, states, layer: int = -1):
    """At `states`, how far one BN layer's running statistics (the last by default) are from the
    exact full-data ones (every layer before using full-data statistics too). Returns
    (mean_gap, var_error): mean_gap (T, M) the worst |running mean - exact mean| / exact std
    over units; var_error (T, M, units): (running var - exact var) / exact var."""
    h = ensemble.history
    views = h.arch.buffer_layout().views(h.running[np.asarray(states)])           # (T, M, R)
    cache = _batch_mode_traces(ensemble, states).bn_caches[layer]
    k = layer % len(h.arch.hidden) + 1
    with np.errstate(all="ignore"):
        mean_gap = (np.abs(views[f"mean{k}"] - cache.mean) / np.sqrt(cache.var)).max(axis=-1)
        var_error = (views[f"var{k}"] - cache.var) / cache.var
    return mean_gap, var_error


def ewma_noise(batch: int, rows: int, momentum: float) -> tuple:
    """(mean_sd, var_sd): the standard deviation an EWMA of batch statistics keeps even
    when the network stands still, for the mean (in stds) and the variance (relative).
    A batch mean wanders by sampling_spread, a batch variance by about sqrt(2 / (B - 1))
    (normal rows); the EWMA averages about (1 + m) / (1 - m) batches."""
    shrink = math.sqrt((1 - momentum) / (1 + momentum))
    return sampling_spread(batch, rows) * shrink, math.sqrt(2 / max(batch - 1, 1)) * shrink


def running_averages(seeds, base: Config = DEFAULT) -> dict:
    """base with each rule of RUNNING_RULES (same seeds, so the same runs until the end of
    training), judged on the last BN layer, whose exact statistics are not trivially 0.

    For each rule, arrays over seeds: mean_gap (worst unit, in exact stds) and var_gap
    (worst unit, relative) at the end; var_error: the median relative error of the
    running variance over units (signed); settled_epoch: the first epoch from which the
    mean gap stays under tolerance (NaN if it never does). tolerance, var_tolerance:
    NOISE_SIGMAS times the EWMA's own noise (ewma_noise) for the mean and the variance."""
    base = base.replace(bn=True)
    rows = len(dataset_for(_data_config(base, seed_list(seeds)[0])).y_train)
    mean_sd, var_sd = ewma_noise(min(base.batch_size, rows), rows, base.bn_momentum)
    tolerance, var_tolerance = NOISE_SIGMAS * mean_sd, NOISE_SIGMAS * var_sd
    out = {"tolerance": tolerance, "var_tolerance": var_tolerance, "batch_size": min(base.batch_size, rows),
           "layer": len(base.hidden), "running_var": base.running_var}
    for rule in RUNNING_RULES:
        ensemble, _ = over_seeds(base.replace(running_avg=rule), seeds)
        states = _epoch_states(ensemble)[1:]
        mean_gap, var_error = _running_gaps(ensemble, states)                    # (E, M), (E, M, units)
        bad = ~(mean_gap < tolerance)
        settled = []
        for m in range(mean_gap.shape[1]):
            wrong = np.flatnonzero(bad[:, m])
            settled.append(float("nan") if len(wrong) and wrong[-1] == len(states) - 1
                           else float(wrong[-1] + 2 if len(wrong) else 1))
        out[rule] = {"mean_gap": mean_gap[-1], "var_gap": np.abs(var_error[-1]).max(axis=-1),
                     "var_error": np.median(var_error[-1], axis=-1), "settled_epoch": np.array(settled)}
    return out


# ------------------------------------------------------------------ claims 8 and 9


def covariate_shift(seeds, cfg: Config = SHIFT_NET) -> dict:
    drift, test_acc = {}, {}
    for bn in (True, False):
        ensemble, _ = over_seeds(cfg.replace(bn=bn), seeds, EPOCH_ENDS)
        drift[bn] = _drift(ensemble)
        test_acc[bn] = _final(ensemble, "test_acc_eval")
    return {"drift": drift, "test_acc": test_acc}


def bn_position(seeds, base: Config = DEFAULT) -> dict:
    acc, ok = {}, {}
    for position in ("before", "after"):
        ensemble, configs = over_seeds(base.replace(bn=True, bn_position=position), seeds, EPOCH_ENDS)
        acc[position] = _final(ensemble, "train_acc_eval")
        ok[position] = learned(acc[position], configs)
    return {"acc": acc, "learned": ok, "margin": {p: margin(acc[p], configs) for p in acc}}


# ------------------------------------------------------------------ claim 10


def gradient_flow(seeds, cfg: Config = DEEP_NET) -> dict:
    """ratio[bn] (seeds,): median over the first epoch of ||dW_output|| / ||dW_1||."""
    ratio, ok = {}, {}
    for bn in (True, False):
        ensemble, configs = over_seeds(cfg.replace(bn=bn), seeds)
        h = ensemble.history
        layout = h.arch.param_layout()
        first, last = layout["W1"], layout[f"W{h.arch.n_dense}"]
        g = h.grads[:h.steps_per_epoch]
        with np.errstate(all="ignore"):
            r = (np.linalg.norm(g[:, :, last.start:last.stop], axis=2)
                 / np.maximum(np.linalg.norm(g[:, :, first.start:first.stop], axis=2), 1e-300))
        ratio[bn] = np.median(r, axis=0)
        ok[bn] = learned(_final(ensemble, "train_acc_eval"), configs)
    return {"ratio": ratio, "learned": ok, "depth": len(cfg.hidden)}


EXPLODE_SCALE = 10.0     # the init scale of the exploding-gradient experiment


def gradient_growth(seeds, cfg: Config = DEFAULT, scale: float = EXPLODE_SCALE) -> dict:
    """cfg with ReLU and weights started `scale` times larger, BN on and off.

    first[bn], last[bn] (seeds,): the largest first-layer and output-layer gradient norm
    ||dW|| over the first epoch (inf once a member diverged); learned[bn]."""
    cfg = cfg.replace(activation="relu", init_scale=min(cfg.init_scale * scale, 1e4))
    first, last, ok = {}, {}, {}
    for bn in (True, False):
        ensemble, configs = over_seeds(cfg.replace(bn=bn), seeds)
        h = ensemble.history
        layout = h.arch.param_layout()
        g = h.grads[:h.steps_per_epoch]
        with np.errstate(all="ignore"):
            norms = [np.linalg.norm(g[:, :, layout[name].start:layout[name].stop], axis=2)
                     for name in ("W1", f"W{h.arch.n_dense}")]
        first[bn], last[bn] = (np.nan_to_num(n, nan=np.inf).max(axis=0) for n in norms)
        ok[bn] = learned(_final(ensemble, "train_acc_eval"), configs)
    return {"first": first, "last": last, "learned": ok, "scale": cfg.init_scale, "depth": len(cfg.hidden)}


# ------------------------------------------------------------------ claim 11


def optimizers(seeds, base: Config = DEFAULT) -> dict:
    """base with BN under each optimizer of OPTIMIZER_LR at its rate: training accuracy,
    whether it learned and its margin over the learn bar (bnviz.overseeds.margin)."""
    acc, ok, over = {}, {}, {}
    for name, lr in OPTIMIZER_LR.items():
        ensemble, configs = over_seeds(base.replace(bn=True, optimizer=name, lr=lr), seeds, EPOCH_ENDS)
        acc[name] = _final(ensemble, "train_acc_eval")
        ok[name] = learned(acc[name], configs)
        over[name] = margin(acc[name], configs)
    return {"acc": acc, "learned": ok, "margin": over, "lr": dict(OPTIMIZER_LR)}


# ------------------------------------------------------------------ Santurkar et al.


def noisy_bn(seeds, noise: float = NOISE, base: Config = DEFAULT) -> dict:
    """base with BN, with noisy BN (bn_noise = noise) and without BN: whether each learns (and
    its margin over the learn bar), how far the last hidden layer's activation input moves
    (with each step's noise), and the step-normalized smoothness of the loss along the
    training path (bnviz.smoothness)."""
    settings = {"bn": base.replace(bn=True, bn_noise=0.0), "noisy": base.replace(bn=True, bn_noise=noise),
                "plain": base.replace(bn=False, bn_noise=0.0)}
    out = {"learned": {}, "margin": {}, "drift": {}, "loss_variation": {}, "grad_change": {},
           "beta_smoothness": {}, "noise": noise}
    for name, cfg in settings.items():
        ensemble, configs = over_seeds(cfg, seeds)
        acc = _final(ensemble, "train_acc_eval")
        out["learned"][name] = learned(acc, configs)
        out["margin"][name] = margin(acc, configs)
        out["drift"][name] = _drift(ensemble, noisy=True)
        smooth = along_gradient(ensemble.history)
        out["loss_variation"][name] = smooth.loss_variation
        out["grad_change"][name] = smooth.grad_change
        out["beta_smoothness"][name] = smooth.beta_smoothness
    return out


# ------------------------------------------------------------------ the worked example


@lru_cache(maxsize=1)
def _notes_batch_correlation() -> float:
    data = dataset_for(Config(dataset="notes_batch"))
    return float(np.corrcoef(data.X_train.T)[0, 1])


def worked_example(seeds, cfg: Config = WORKED) -> dict:
    """The notes' batch of four: correlation of GPA and IQ; mu_B and var_B of the first BN
    unit at the first step (first seed); training-mode and evaluation-mode accuracy."""
    ensemble, _ = over_seeds(cfg, seeds)
    fm = ensemble.final_metrics()
    seen = ensemble._replay()
    return {"correlation": _notes_batch_correlation(), "acc_batch": fm["train_acc_batch"],
            "acc_eval": fm["train_acc_eval"],
            "learned": (fm["train_acc_batch"] >= 1.0) & (fm["train_acc_eval"] >= 1.0), "momentum": cfg.bn_momentum,
            "mu_B": float(seen["batch_mean"][0][0, 0, 0]), "var_B": float(seen["batch_var"][0][0, 0, 0]),
            "seed_shown": int(seed_list(seeds)[0])}
