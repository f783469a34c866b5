"""The claims of the notes about batch norm, each measured over seeds.

LESSONS holds one Lesson per claim (the rows of the notes' table, then
Santurkar et al.'s counterpoint and the notes' worked example). Each names its
claim, its source notes, the runs it compares and a link query that opens the
experiment. ``measure(lesson, seeds)`` trains those runs, one ensemble per
setting with each seed on its own split, and returns a Verdict: a status, the
sentence the page shows (written from the measured numbers), the numbers
themselves and each seed's value for the card's chart.

The rule for every status is stated in code with the thresholds below, and
none is tuned to a seed: other seeds may give another verdict.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import measures
from .measures import fmt, seed_list

# A claim holds when at least this share of seeds shows it ...
HOLDS_SHARE = 0.8
# ... and holds partly when at least this share does (or when one part of it holds).
PARTLY_SHARE = 0.5
STATUSES = ("holds", "partly", "does not show")
ACCURACY = (0.0, 1.0)       # the bounds of an accuracy, for the spread chart's axis
ACCURACY_GAP = (-1.0, 1.0)  # and of a difference of two accuracies


@dataclass
class Verdict:
    """What the runs say about one lesson.

    status: "holds", "partly" or "does not show". sentence: the text the page
    shows, built from `numbers` ({name: float, int or str}). seeds: the seeds
    measured. spread: {series name: (len(seeds),) one value per seed} for the
    card's chart (series named "BN on" and "BN off" where those are compared);
    spread_label: what those values are (the chart's axis); spread_log: draw it
    on a log axis; spread_bounds: (low, high) the values cannot leave, such as
    ACCURACY, or None. fails: where the claim does not show (seeds, ranges), or "".
    detail: further measured arrays for a fuller chart, named in the lesson's
    measure (for example the batch-size sweep's sizes and per-size medians).
    """

    lesson: str
    status: str
    sentence: str
    numbers: dict
    seeds: tuple
    spread: dict
    spread_label: str
    spread_log: bool = False
    fails: str = ""
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)
    spread_bounds: tuple | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


@dataclass(frozen=True)
class Lesson:
    """One claim: id (a short slug), the claim, sources (note numbers, e.g. ("001", "003")),
    compares (the runs set side by side), query (the link that opens the experiment)."""

    id: str
    claim: str
    sources: tuple
    compares: tuple
    query: str
    measurer: Callable = field(repr=False, compare=False)
    notes_row: int | None = None     # the row of the notes' table of claims, None for additions


def status_from_share(share: float, partly: bool = False) -> str:
    """holds at HOLDS_SHARE of the seeds, partly at PARTLY_SHARE (or when told a part holds)."""
    if share >= HOLDS_SHARE:
        return "holds"
    return "partly" if share >= PARTLY_SHARE or partly else "does not show"


def two_part_status(main_ok, second_ok, second_fails: str, main_fails: str) -> tuple:
    """(status, fails) for a claim with a main part and a second one, each (seeds,) bool:
    holds when both show in HOLDS_SHARE of the seeds, partly when only the main part does,
    else as the main part's share says."""
    if main_ok.mean() >= HOLDS_SHARE:
        return ("holds", "") if second_ok.mean() >= HOLDS_SHARE else ("partly", second_fails)
    return status_from_share(main_ok.mean()), main_fails


def measure(lesson: Lesson, seeds=range(10)) -> Verdict:
    """Measure one lesson over `seeds`; the Verdict reports what those runs show."""
    seeds = seed_list(seeds)
    started = time.perf_counter()
    verdict = lesson.measurer(seeds)
    verdict.lesson, verdict.seeds = lesson.id, tuple(seeds)
    verdict.seconds = time.perf_counter() - started
    return verdict


def lesson_by_id(lesson_id: str) -> Lesson:
    for lesson in LESSONS:
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(f"no lesson {lesson_id!r}: use one of {', '.join(l.id for l in LESSONS)}")


def _verdict(status, sentence, numbers, spread, label, log=False, fails="", detail=None, bounds=None) -> Verdict:
    return Verdict("", status, sentence, numbers, (), {k: np.asarray(v, float) for k, v in spread.items()},
                   label, log, fails, detail=detail or {}, spread_bounds=bounds)


def measure_all(seeds=range(10)) -> dict:
    """{lesson id: Verdict} for every lesson, in table order."""
    return {lesson.id: measure(lesson, seeds) for lesson in LESSONS}


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def _off(percent: float) -> str:
    """A signed percentage error in words: "11.1% low", "9.8% high"."""
    return f"{fmt(abs(percent))}% {'low' if percent < 0 else 'high'}"


def _where(seeds, mask) -> list:
    return [s for s, m in zip(seeds, mask) if m]


# ------------------------------------------------------------------ the lessons


def _input_scaling(seeds):
    m = measures.input_scaling(seeds)
    better = (m["elongation_raw"] >= 2 * m["elongation_std"]) & (m["lr_limit_std"] >= 2 * m["lr_limit_raw"])
    share = better.mean()
    n = len(seeds)
    numbers = {"seeds": n, "seeds_rounder": int(better.sum()),
               "elongation_raw": float(np.median(m["elongation_raw"])),
               "elongation_std": float(np.median(m["elongation_std"])),
               "lr_limit_raw": float(np.median(m["lr_limit_raw"])),
               "lr_limit_std": float(np.median(m["lr_limit_std"]))}
    fails = "" if better.all() else f"not at least twice rounder with a twice larger stable step in {seed_list_text(_where(seeds, ~better))}"
    sentence = (f"A logistic unit's loss valley is {fmt(numbers['elongation_raw'])}× longer than wide on raw GPA and "
                f"IQ, {fmt(numbers['elongation_std'])}× on standardized ones (medians over {_seeds(n)}); gradient "
                f"descent stays stable up to lr {fmt(numbers['lr_limit_raw'])} raw and "
                f"{fmt(numbers['lr_limit_std'])} standardized" + (f"; {fails}." if fails else "."))
    return _verdict(status_from_share(share), sentence, numbers,
                    {"raw": m["lr_limit_raw"], "standardized": m["lr_limit_std"]},
                    "largest stable learning rate (2 / curvature)", log=True, fails=fails)


def _higher_lr(seeds):
    m = measures.learning_rate_sweep(seeds)
    speed = measures.epochs_to_learn(seeds)
    best_on, best_off = m["best_lr"][True], m["best_lr"][False]
    higher = best_on > best_off
    n, probe = len(seeds), m["probe_lr"]
    med_on, med_off = float(np.median(best_on)), float(np.median(best_off))
    ratio = med_on / med_off if med_off > 0 else float("inf")
    fast_on, fast_off = speed["epochs"][True], speed["epochs"][False]
    faster = np.nan_to_num(fast_on, nan=np.inf) < np.nan_to_num(fast_off, nan=np.inf)
    numbers = {"seeds": n, "probe_lr": probe, "learn_at_probe_bn": int(m["at_probe"][True].sum()),
               "learn_at_probe_plain": int(m["at_probe"][False].sum()), "median_best_lr_bn": med_on,
               "median_best_lr_plain": med_off, "ratio": ratio, "seeds_bn_higher": int(higher.sum()),
               "default_lr": speed["lr"], "epochs_bn": float(np.nanmedian(fast_on)) if np.isfinite(fast_on).any()
               else float("nan"), "epochs_plain": float(np.nanmedian(fast_off)) if np.isfinite(fast_off).any()
               else float("nan"), "seeds_faster": int(faster.sum())}
    # "a higher rate" that matters: at least twice as high, in most seeds; "faster": fewer epochs to learn
    higher_part = higher & (ratio >= 2)
    fails = []
    if ratio < 2:
        fails.append(f"BN's largest rate is only {fmt(ratio)}× the plain network's, not twice or more")
    if not higher.all():
        fails.append(f"BN's is not higher in {seed_list_text(_where(seeds, ~higher))}")
    if faster.mean() < HOLDS_SHARE:
        fails.append(f"BN learns in fewer epochs in only {numbers['seeds_faster']} of {_seeds(n)}")
    fails = "; ".join(fails)
    status = status_from_share(min(higher_part.mean(), faster.mean()),
                               partly=max(higher.mean(), faster.mean()) >= HOLDS_SHARE)
    sentence = (f"At lr {fmt(probe)}, {numbers['learn_at_probe_bn']} of {_seeds(n)} learn with BN and "
                f"{numbers['learn_at_probe_plain']} of {n} without; the largest rate that still learns is median "
                f"{fmt(med_on)} with BN vs {fmt(med_off)} without ({fmt(ratio)}×). At lr {fmt(speed['lr'])} BN "
                f"learns after {fmt(numbers['epochs_bn'])} epochs of updates and the plain network after "
                f"{fmt(numbers['epochs_plain'])} (medians)" + (f"; {fails}." if fails else "."))
    return _verdict(status, sentence, numbers, {"BN on": best_on, "BN off": best_off},
                    "largest learning rate that still learns", log=True, fails=fails,
                    detail={"lr": m["grid"], "learned BN on": m["learned"][True], "learned BN off": m["learned"][False],
                            "accuracy BN on": m["acc"][True], "accuracy BN off": m["acc"][False]})


def _init_scale(seeds):
    m = measures.init_scale_sweep(seeds)
    grid, ok_on, ok_off = m["grid"], m["learned"][True], m["learned"][False]   # (seeds, V)
    decades_on, decades_off = ok_on.sum(1), ok_off.sum(1)
    wider = decades_on > decades_off
    n = len(seeds)
    bn_fails = [g for g, share in zip(grid, (~ok_on).mean(0)) if share >= PARTLY_SHARE]
    numbers = {"seeds": n, "scales": len(grid), "scale_low": float(grid[0]), "scale_high": float(grid[-1]),
               "median_scales_bn": float(np.median(decades_on)),
               "median_scales_plain": float(np.median(decades_off)), "seeds_bn_wider": int(wider.sum()),
               "bn_fails_at": ", ".join(fmt(g) for g in bn_fails) or "none"}
    fails = "" if wider.all() else f"BN's range is not wider in {seed_list_text(_where(seeds, ~wider))}"
    sentence = (f"Of {len(grid)} init scales from {fmt(grid[0])} to {fmt(grid[-1])}, BN learns at a median of "
                f"{fmt(numbers['median_scales_bn'])} and the plain network at {fmt(numbers['median_scales_plain'])} "
                f"({numbers['seeds_bn_wider']} of {_seeds(n)} wider with BN)")
    sentence += (f"; BN too fails in most seeds at scale {numbers['bn_fails_at']}" if bn_fails else "")
    sentence += f"; {fails}." if fails else "."
    return _verdict(status_from_share(wider.mean()), sentence, numbers,
                    {"BN on": decades_on, "BN off": decades_off}, "init scales (of the sweep) that learn",
                    detail={"init_scale": grid, "learned BN on": ok_on, "learned BN off": ok_off,
                            "accuracy BN on": m["acc"][True], "accuracy BN off": m["acc"][False]},
                    fails="; ".join(x for x in (fails, f"BN fails at scale {numbers['bn_fails_at']}" if bn_fails else "")
                                    if x))


def _batch_noise(seeds):
    m = measures.batch_noise(seeds)
    sizes, n = m["batch_sizes"], len(seeds)
    # the link's small batch (the smallest when it was not swept), the largest below the full set
    small = int(np.flatnonzero(sizes == measures.LINK_BATCH)[0]) if measures.LINK_BATCH in sizes else 0
    large = len(sizes) - 2
    spread, gap = m["mu_spread"], m["mode_gap"]              # (seeds, sizes), BN on
    noisier = spread[:, small] > 2 * spread[:, large]
    gap_on, gap_off = m["acc_gap"][True][:, small], m["acc_gap"][False][:, small]
    regularizes = gap_on <= gap_off - 1.0 / m["test_rows"]   # narrower by at least one test row
    numbers = {"seeds": n, "small_batch": int(sizes[small]), "large_batch": int(sizes[large]),
               "epochs": m["epochs"],
               "mu_spread_small": float(np.median(spread[:, small])), "mu_spread_large": float(np.median(spread[:, large])),
               "theory_small": float(m["theory"][small]), "theory_large": float(m["theory"][large]),
               "loss_gap_small": float(np.median(gap[:, small])), "loss_gap_large": float(np.median(gap[:, large])),
               "seeds_noisier": int(noisier.sum()),
               "acc_gap_bn": float(np.median(gap_on)), "acc_gap_plain": float(np.median(gap_off)),
               "seeds_regularized": int(regularizes.sum())}
    status, fails = two_part_status(
        noisier, regularizes,
        f"the noise does not show as regularization: BN narrows the train/test accuracy gap by a test row or more "
        f"in only {numbers['seeds_regularized']} of {_seeds(n)}",
        f"small batches are not clearly noisier in {seed_list_text(_where(seeds, ~noisier))}")
    sentence = (f"After {m['epochs']} epochs the first BN layer's batch mean wanders by {fmt(numbers['mu_spread_small'])} "
                f"of the full-data spread with batches of {numbers['small_batch']} and "
                f"{fmt(numbers['mu_spread_large'])} with batches of {numbers['large_batch']} (random sampling predicts "
                f"{fmt(numbers['theory_small'])} and {fmt(numbers['theory_large'])}); the loss on mini-batches exceeds "
                f"the loss with full-data statistics by {fmt(numbers['loss_gap_small'])} and "
                f"{fmt(numbers['loss_gap_large'])}. Train minus test accuracy at batch {numbers['small_batch']}: "
                f"{fmt(numbers['acc_gap_bn'])} with BN, {fmt(numbers['acc_gap_plain'])} without (medians over {_seeds(n)})"
                + (f"; {fails}." if fails else "."))
    return _verdict(status, sentence, numbers, {"BN on": gap_on, "BN off": gap_off},
                    f"train minus test accuracy, batches of {numbers['small_batch']}", fails=fails, bounds=ACCURACY_GAP,
                    detail={"batch_size": sizes, "mu_spread": spread, "mu_spread_theory": m["theory"],
                            "minibatch_minus_full_loss": gap, "acc_gap BN on": m["acc_gap"][True],
                            "acc_gap BN off": m["acc_gap"][False], "test_acc BN on": m["test_acc"][True],
                            "test_acc BN off": m["test_acc"][False]})


def _bias(seeds):
    m = measures.bias_before_bn(seeds)
    n = len(seeds)
    tiny = m["grad_ratio"] < 1e-12
    same = m["train_output_diff"] < 1e-12
    ok = tiny & same
    numbers = {"seeds": n, "max_grad_ratio": float(np.max(m["grad_ratio"])),
               "max_train_output_diff": float(np.max(m["train_output_diff"])), "bias_init": m["bias_init"],
               "eval_shift_first": float(np.median(m["eval_shift"][:, 0])),
               "eval_shift_last": float(np.median(m["eval_shift"][:, -1]))}
    fails = "" if ok.all() else f"not zero up to rounding in {seed_list_text(_where(seeds, ~ok))}"
    sentence = (f"The bias in front of BN gets a computed gradient at most {fmt(numbers['max_grad_ratio'])} of the "
                f"weights' gradient (zero up to rounding), and starting it at {fmt(m['bias_init'])} changes "
                f"training-mode outputs by at most {fmt(numbers['max_train_output_diff'])}. In evaluation mode the "
                f"outputs move by {fmt(numbers['eval_shift_first'])} after the first epoch and "
                f"{fmt(numbers['eval_shift_last'])} at the end, as the running mean catches up (medians over {_seeds(n)})"
                + (f"; {fails}." if fails else "."))
    return _verdict(status_from_share(ok.mean()), sentence, numbers,
                    {"bias gradient / weight gradient": np.maximum(m["grad_ratio"], 1e-300)},
                    "largest bias gradient relative to the weights'", log=True, fails=fails,
                    detail={"eval_shift_by_epoch": m["eval_shift"], "loss_path_diff": m["loss_path_diff"]})


def _gamma_beta(seeds):
    m = measures.gamma_beta_identity(seeds)
    n = len(seeds)
    ok = m["error"] < 1e-12
    numbers = {"seeds": n, "max_error": float(np.max(m["error"])), "batch_size": m["batch_size"]}
    fails = "" if ok.all() else f"the output differs from z in {seed_list_text(_where(seeds, ~ok))}"
    sentence = (f"Setting γ = √(σ²_B + ε) and β = μ_B of the first batch of {m['batch_size']} returns every layer's "
                f"input z to within {fmt(numbers['max_error'])} of its size, in all {_seeds(n)}"
                if ok.all() else f"Setting γ = √(σ²_B + ε) and β = μ_B: {fails}.")
    return _verdict(status_from_share(ok.mean()), sentence + ("." if ok.all() else ""), numbers,
                    {"BN on": np.maximum(m["error"], 1e-300)}, "largest |output − z| / |z|", log=True, fails=fails)


def _running(seeds):
    m = measures.running_averages(seeds)
    n, tol = len(seeds), m["tolerance"]
    keras, torch, cumulative = m["keras"], m["pytorch"], m["cumulative"]
    mean_ok = keras["mean_gap"] < tol
    var_ok = {rule: m[rule]["var_gap"] < m["var_tolerance"] for rule in ("keras", "pytorch")}
    numbers = {"seeds": n, "tolerance": tol, "tolerance_pct": 100 * m["var_tolerance"], "batch_size": m["batch_size"],
               "mean_gap": float(np.median(keras["mean_gap"])), "seeds_mean_close": int(mean_ok.sum()),
               "settled_epoch": float(np.nanmedian(keras["settled_epoch"]))
               if np.isfinite(keras["settled_epoch"]).any() else float("nan"),
               "var_error_keras_pct": 100 * float(np.median(keras["var_error_first"])),
               "var_error_pytorch_first_pct": 100 * float(np.median(torch["var_error_first"])),
               "var_error_pytorch_last_pct": 100 * float(np.median(torch["var_error_last"])),
               "seeds_var_close_keras": int(var_ok["keras"].sum()),
               "seeds_var_close_pytorch": int(var_ok["pytorch"].sum()),
               "mean_gap_cumulative": float(np.median(cumulative["mean_gap"]))}
    best_var = var_ok["keras"] if var_ok["keras"].mean() >= var_ok["pytorch"].mean() else var_ok["pytorch"]
    status, fails = two_part_status(
        mean_ok, best_var,
        f"the running variance ends more than {fmt(numbers['tolerance_pct'])}% off in some unit in "
        f"{n - numbers['seeds_var_close_keras']} of {_seeds(n)} with Keras' rule and "
        f"{n - numbers['seeds_var_close_pytorch']} with PyTorch's",
        f"the running mean ends more than {fmt(tol)} std off in {seed_list_text(_where(seeds, ~mean_ok))}")
    sentence = (f"The EWMA running mean ends within median {fmt(numbers['mean_gap'])} std of the exact full-data "
                f"mean (within {fmt(tol)}, three times its own sampling noise, in {numbers['seeds_mean_close']} of {_seeds(n)}"
                + (f", from epoch {fmt(numbers['settled_epoch'])} on" if np.isfinite(numbers["settled_epoch"]) else "")
                + f"); the cumulative average, still carrying the early epochs, ends {fmt(numbers['mean_gap_cumulative'])}"
                f" std off. With batches of {m['batch_size']} the first layer's running variance ends "
                f"{_off(numbers['var_error_keras_pct'])} with Keras' biased variance and "
                f"{_off(numbers['var_error_pytorch_first_pct'])} with PyTorch's unbiased one (last layer: "
                f"{_off(numbers['var_error_pytorch_last_pct'])})" + (f"; {fails}." if fails else "."))
    return _verdict(status, sentence, numbers,
                    {"mean (EWMA)": keras["mean_gap"], "variance (Keras)": keras["var_gap"],
                     "variance (PyTorch)": torch["var_gap"]},
                    "running vs exact statistic at the end (worst unit)", log=True, fails=fails)


def _covariate_shift(seeds):
    m = measures.covariate_shift(seeds)
    n = len(seeds)
    drift_on, drift_off = m["drift"][True], m["drift"][False]
    steadier = drift_on < drift_off
    acc_diff = m["test_acc"][True] - m["test_acc"][False]
    numbers = {"seeds": n, "drift_bn": float(np.median(drift_on)), "drift_plain": float(np.median(drift_off)),
               "seeds_steadier": int(steadier.sum()), "acc_bn": float(np.median(m["test_acc"][True])),
               "acc_plain": float(np.median(m["test_acc"][False])), "max_acc_diff": float(np.max(np.abs(acc_diff)))}
    fails = "" if steadier.all() else f"not steadier with BN in {seed_list_text(_where(seeds, ~steadier))}"
    sentence = (f"Over training the last hidden layer's activation input moves {fmt(numbers['drift_bn'])}× its spread "
                f"with BN and {fmt(numbers['drift_plain'])}× without (medians over {_seeds(n)}; steadier with BN in "
                f"{numbers['seeds_steadier']}). Test accuracy: median {fmt(numbers['acc_bn'])} with BN, "
                f"{fmt(numbers['acc_plain'])} without, at most {fmt(numbers['max_acc_diff'])} apart in any seed"
                + (f"; {fails}." if fails else "."))
    return _verdict(status_from_share(steadier.mean()), sentence, numbers, {"BN on": drift_on, "BN off": drift_off},
                    "drift of the activation's input (percentile path / spread)", log=True, fails=fails)


def _position(seeds):
    m = measures.bn_position(seeds)
    n = len(seeds)
    ok = m["learned"]["before"] & m["learned"]["after"]
    numbers = {"seeds": n, "acc_before": float(np.median(m["acc"]["before"])),
               "acc_after": float(np.median(m["acc"]["after"])),
               "seeds_before": int(m["learned"]["before"].sum()), "seeds_after": int(m["learned"]["after"].sum())}
    fails = "; ".join(f"BN {p} the activation does not learn in {seed_list_text(_where(seeds, ~m['learned'][p]))}"
                      for p in ("before", "after") if not m["learned"][p].all())
    sentence = (f"BN before the activation learns in {numbers['seeds_before']} of {_seeds(n)}, after it in "
                f"{numbers['seeds_after']}; median training accuracy {fmt(numbers['acc_before'])} vs "
                f"{fmt(numbers['acc_after'])}" + (f"; {fails}." if fails else "."))
    return _verdict(status_from_share(ok.mean()), sentence, numbers,
                    {"before": m["acc"]["before"], "after": m["acc"]["after"]}, "training accuracy", fails=fails,
                    bounds=ACCURACY)


def _gradients(seeds):
    m = measures.gradient_flow(seeds)
    n = len(seeds)
    ratio_on, ratio_off = m["ratio"][True], m["ratio"][False]
    vanish, level = ratio_off > 100, ratio_on < 10
    ok = vanish & level
    numbers = {"seeds": n, "depth": m["depth"], "ratio_bn": float(np.median(ratio_on)),
               "ratio_plain": float(np.median(ratio_off)), "seeds_plain_vanish": int(vanish.sum()),
               "seeds_bn_level": int(level.sum()), "learn_bn": int(m["learned"][True].sum()),
               "learn_plain": int(m["learned"][False].sum())}
    fails = "" if ok.all() else (f"the gradient does not both vanish without BN and stay level with it in "
                                 f"{seed_list_text(_where(seeds, ~ok))}")
    sentence = (f"In {m['depth']} sigmoid layers the output layer's gradient is median {fmt(numbers['ratio_plain'])}× the "
                f"first layer's without BN (over 100× in {numbers['seeds_plain_vanish']} of {_seeds(n)}) and "
                f"{fmt(numbers['ratio_bn'])}× with BN (under 10× in {numbers['seeds_bn_level']}); "
                f"{numbers['learn_bn']} of {_seeds(n)} learn with BN, {numbers['learn_plain']} without"
                + (f"; {fails}." if fails else "."))
    return _verdict(status_from_share(ok.mean(), partly=(ratio_on < ratio_off).mean() >= HOLDS_SHARE), sentence,
                    numbers, {"BN on": ratio_on, "BN off": ratio_off},
                    "output-layer / first-layer gradient norm", log=True, fails=fails)


def _optimizers(seeds):
    m = measures.optimizers(seeds)
    n = len(seeds)
    shares = {name: ok.mean() for name, ok in m["learned"].items()}
    numbers = {"seeds": n}
    for name, ok in m["learned"].items():
        numbers[f"learn_{name}"] = int(ok.sum())
        numbers[f"lr_{name}"] = m["lr"][name]
    fails = "; ".join(f"{measures.OPTIMIZER_NAMES[name]} stays short of learning in "
                      f"{seed_list_text(_where(seeds, ~ok))}" for name, ok in m["learned"].items() if not ok.all())
    sentence = ("With BN, " + ", ".join(f"{measures.OPTIMIZER_NAMES[name]} (lr {fmt(m['lr'][name])}) learns in "
                                        f"{int(ok.sum())} of {_seeds(n)}" for name, ok in m["learned"].items())
                + (f"; {fails}." if fails else "."))
    return _verdict(status_from_share(min(shares.values())), sentence, numbers,
                    {measures.OPTIMIZER_NAMES[name]: acc for name, acc in m["acc"].items()}, "training accuracy",
                    fails=fails, bounds=ACCURACY)


def _santurkar(seeds):
    m = measures.noisy_bn(seeds)
    n = len(seeds)
    noisy_learns = m["learned"]["noisy"]
    moves_more = m["drift"]["noisy"] > m["drift"]["bn"]
    smoother = m["loss_variation"]["bn"] < m["loss_variation"]["plain"]
    predictive = m["grad_change"]["bn"] < m["grad_change"]["plain"]
    parts = {"noisy BN learns": noisy_learns, "its inputs move more than with BN": moves_more,
             "BN's loss varies less along the gradient": smoother, "BN's gradient is more predictive": predictive}
    shares = {k: v.mean() for k, v in parts.items()}
    numbers = {"seeds": n, "noise": m["noise"],
               "learn_bn": int(m["learned"]["bn"].sum()), "learn_noisy": int(noisy_learns.sum()),
               "learn_plain": int(m["learned"]["plain"].sum()),
               "drift_bn": float(np.median(m["drift"]["bn"])), "drift_noisy": float(np.median(m["drift"]["noisy"])),
               **{f"loss_variation_{k}": float(np.median(v)) for k, v in m["loss_variation"].items()},
               **{f"grad_change_{k}": float(np.median(v)) for k, v in m["grad_change"].items()}}
    fails = "; ".join(f"{k} only in {int(v.sum())} of {_seeds(n)}" for k, v in parts.items() if v.mean() < HOLDS_SHARE)
    status = status_from_share(min(shares.values()), partly=max(shares.values()) >= HOLDS_SHARE)
    sentence = (f"BN with noise of size {fmt(m['noise'])} learns in {numbers['learn_noisy']} of {_seeds(n)} (plain BN "
                f"{numbers['learn_bn']}, no BN {numbers['learn_plain']}) while the next layer's input moves "
                f"{fmt(numbers['drift_noisy'])}× its spread over training, against {fmt(numbers['drift_bn'])}× with plain "
                f"BN. Along "
                f"the gradient the loss varies by {fmt(numbers['loss_variation_bn'])} with BN, "
                f"{fmt(numbers['loss_variation_noisy'])} noisy and {fmt(numbers['loss_variation_plain'])} without; the "
                f"gradient changes by {fmt(numbers['grad_change_bn'])}, {fmt(numbers['grad_change_noisy'])} and "
                f"{fmt(numbers['grad_change_plain'])} (medians)" + (f"; {fails}." if fails else "."))
    return _verdict(status, sentence, numbers,
                    {"BN on": m["loss_variation"]["bn"], "noisy BN": m["loss_variation"]["noisy"],
                     "BN off": m["loss_variation"]["plain"]},
                    "loss variation along the gradient", log=True, fails=fails,
                    detail={f"{what} {name}": m[what][name] for what in ("drift", "loss_variation", "grad_change",
                                                                          "beta_smoothness")
                            for name in ("bn", "noisy", "plain")})


def _worked_example(seeds):
    m = measures.worked_example(seeds)
    n = len(seeds)
    ok = m["learned"]
    numbers = {"seeds": n, "correlation": m["correlation"], "seeds_learned": int(ok.sum()),
               "mu_B": m["mu_B"], "var_B": m["var_B"], "seed_shown": m["seed_shown"], "momentum": m["momentum"],
               "acc_batch": float(np.median(m["acc_batch"])), "acc_eval": float(np.median(m["acc_eval"]))}
    fails = "" if ok.all() else (f"not all four right in both modes in {seed_list_text(_where(seeds, ~ok))} "
                                 f"(median accuracy {fmt(numbers['acc_batch'])} in training mode, "
                                 f"{fmt(numbers['acc_eval'])} in evaluation mode)")
    sentence = (f"The notes' batch of four students has GPA and IQ correlated at {fmt(m['correlation'])}, not "
                f"collinear. Its first step (seed {m['seed_shown']}) gives unit 1 μ_B = {fmt(m['mu_B'])} and "
                f"σ²_B = {fmt(m['var_B'])}; with running averages of momentum {fmt(m['momentum'])} the network "
                f"classifies all four right in training and in evaluation mode in {numbers['seeds_learned']} of "
                f"{_seeds(n)}" + (f"; {fails}." if fails else "."))
    return _verdict(status_from_share(ok.mean()), sentence, numbers, {"BN on": m["acc_batch"]},
                    "training-mode accuracy on the four", fails=fails, bounds=ACCURACY)


def seed_list_text(seeds) -> str:
    return measures.seed_text(seeds)


LESSONS = (
    Lesson("input-scaling", "Normalizing the input features turns long, thin loss contours round, so gradient "
           "descent can take larger steps.", ("002", "003"), ("raw GPA and IQ", "standardized"),
           "tab=Loss+landscape", _input_scaling, 1),
    Lesson("higher-lr", "BN makes training faster and allows a higher learning rate.", ("001", "003"),
           ("BN on", "BN off"), "lr=2&compare=bn&epochs=30&tab=Sweeps", _higher_lr, 2),
    Lesson("init-scale", "BN makes training less sensitive to how the weights are initialized.", ("003",),
           ("BN on", "BN off"), "init_scale=0.01&compare=bn&epochs=30&tab=Sweeps", _init_scale, 3),
    Lesson("batch-noise", "BN's batch statistics add noise, a slight regularizer that is stronger for small batches.",
           ("001", "002", "003"), ("BN on", "BN off"),
           "batch_size=4&compare=batch_size&b=64&tab=Running+statistics+%26+test+time", _batch_noise, 4),
    Lesson("bias-redundant", "The Dense bias in front of BN is redundant.", ("000", "001", "004"),
           ("bias kept and started non-zero", "no bias"), "keep_bias=1&bias_init=1&compare=keep_bias&b=0&tab=Parameters",
           _bias, 5),
    Lesson("gamma-beta-undo", "γ and β can undo the normalization.", ("001", "003"), ("BN on",),
           "tab=Batch+calculator", _gamma_beta, 6),
    Lesson("running-averages", "At test time BN uses running averages of the batch statistics (an EWMA, or the plain "
           "average of the mini-batch means and variances).", ("000", "001", "003"),
           tuple(measures.RUNNING_RULE_NAMES.values()),
           "compare=running_avg&tab=Running+statistics+%26+test+time", _running, 7),
    Lesson("covariate-shift", "BN reduces internal covariate shift: each layer sees a steadier input distribution.",
           ("002", "003"), ("BN on", "BN off"), "hidden=4,4,4&activation=sigmoid&compare=bn&tab=Activations",
           _covariate_shift, 8),
    Lesson("bn-position", "BN can go before the activation or after it.", ("003",), ("before", "after"),
           "compare=bn_position", _position, 9),
    Lesson("vanishing-gradients", "BN helps against vanishing and exploding gradients.", ("001",), ("BN on", "BN off"),
           "hidden=8,8,8,8,8,8&activation=sigmoid&epochs=30&compare=bn&tab=Parameters", _gradients, 10),
    Lesson("optimizers", "BN works with gradient descent with momentum, RMSprop and Adam.", ("004",),
           ("SGD", "momentum", "RMSprop", "Adam"), "optimizer=adam&lr=0.01&compare=optimizer&b=rmsprop", _optimizers, 11),
    Lesson("santurkar", "Is it really internal covariate shift? Santurkar et al. (2018): BN with injected noise still "
           "trains well; BN's gain is a smoother loss landscape.", ("002", "003"), ("BN on", "noisy BN", "BN off"),
           "bn_noise=0.5&compare=bn_noise&b=0&tab=Activations", _santurkar),
    Lesson("worked-example", "The notes' worked example: one batch of four students, μ_B, σ²_B, ẑ and γẑ + β by hand.",
           ("003",), ("BN on",),
           "dataset=notes_batch&batch_size=4&standardize=0&activation=tanh&lr=0.5&epochs=200&bn_momentum=0.9&compare=off"
           "&tab=Batch+calculator", _worked_example),
)
