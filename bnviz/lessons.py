"""The claims of the notes about batch norm, each measured over seeds on two experiments.

LESSONS holds one Lesson per claim (the rows of the notes' table, then
Santurkar et al.'s counterpoint and the notes' worked example). Each names its
claim, its source notes, the runs it compares and two experiments, each a
link query: "notes", the notes' own network (Dense(3) -> Dense(2) with ReLU on
the placement data), and "shows", a setting of the lab where the claim can
show, found by ``scripts/search_experiments.py`` on seeds the page never uses
(docs/experiments.md says what was tried and why each was chosen).

``measure(lesson, seeds, experiment)`` trains the runs of one experiment,
paired by seed (one ensemble per setting, each seed on its own split), and
returns a Verdict. Its status comes from one rule for every lesson
(``bnviz.verdicts``): each part of the claim is an effect per seed, positive
in the claim's direction, with a threshold; its sentence is written from the
measured numbers. Nothing is tuned to the seeds the page shows: other seeds
may give another verdict.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable
from urllib.parse import parse_qsl

import numpy as np

from . import measures
from .config import FIELD_BY_NAME, Config
from .measures import fmt, seed_list
from .verdicts import LEVEL, SHORT_RULE, STATUSES, Part, combine, count_words, failed_parts

ACCURACY = (0.0, 1.0)       # the bounds of an accuracy, for the spread chart's axis
EXPERIMENTS = ("notes", "shows")
EXPERIMENT_NAMES = {"notes": "On the notes' network", "shows": "Where it shows"}
SPEED_LR = 0.1              # the rate at which "BN learns faster" is timed


@dataclass
class Verdict:
    """What the runs of one experiment say about one lesson.

    status: "holds", "partly" or "does not show" (bnviz.verdicts.combine of the
    parts). effect: the first part's median paired effect, positive in the
    claim's direction; ci: (low, high) its sign-test interval (level: its
    coverage); rule: the one-line rule the card states. parts: the
    bnviz.verdicts.Part of each part of the claim. sentence: the text the page
    shows, built from `numbers` ({name: float, int or str}). seeds: the seeds
    measured; experiment: "notes" or "shows". spread: {series name: (len(seeds),)
    one value per seed} for the card's chart (series named "BN on" and "BN off"
    where those are compared); spread_label: what those values are (the chart's
    axis); spread_log: draw it on a log axis; spread_bounds: (low, high) the
    values cannot leave, such as ACCURACY, or None. fails: the parts that do not
    hold, in words, or "". detail: further measured arrays for a fuller chart.
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
    effect: float = float("nan")
    ci: tuple = (float("nan"), float("nan"))
    level: float = LEVEL
    rule: str = ""
    parts: tuple = ()
    experiment: str = "notes"

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


@dataclass(frozen=True)
class Lesson:
    """One claim: id (a short slug), the claim, sources (note numbers, e.g. ("001", "003")),
    compares (the runs set side by side), experiments ({"notes": query, "shows": query},
    link query strings), measurer(seeds, base Config) -> Verdict."""

    id: str
    claim: str
    sources: tuple
    compares: tuple
    experiments: dict
    measurer: Callable = field(repr=False, compare=False)
    notes_row: int | None = None     # the row of the notes' table of claims, None for additions
    tried: str = ""                  # for a claim that shows nowhere: what the search tried
    setting: str = ""                # a lesson measured on a source's own network, not the notes': its name

    @property
    def query(self) -> str:
        """The link of the experiment where the claim shows."""
        return self.experiments["shows"]

    def config(self, experiment: str = "notes") -> Config:
        return experiment_config(self.experiments[_experiment(experiment)])

    @property
    def same_experiment(self) -> bool:
        """Both experiments train the same runs: the notes' own setting is where the claim shows."""
        return self.config("notes") == self.config("shows")


def _experiment(name: str) -> str:
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(EXPERIMENTS)}, got {name!r}")
    return name


@lru_cache(maxsize=256)
def experiment_config(query: str) -> Config:
    """The Config a lesson's link opens (the page's own keys, such as compare and tab, left out);
    read once per link (a Config cannot change)."""
    values = {k: v for k, v in parse_qsl(query) if k in FIELD_BY_NAME}
    cfg, warnings = Config.from_query(values)
    if warnings:
        raise ValueError(f"the experiment {query!r} is not a valid link: {' '.join(warnings)}")
    return cfg


def describe(cfg: Config) -> str:
    """How an experiment differs from the notes' network, in a few words ("6 sigmoid layers of 8 units")."""
    base = Config()
    words = []
    if cfg.dataset != base.dataset:
        label = FIELD_BY_NAME["dataset"].labels[FIELD_BY_NAME["dataset"].choices.index(cfg.dataset)]
        words.append(label.split(" (")[0] if "toy" not in label else label.replace(" (toy)", " data"))
    if cfg.hidden != base.hidden or cfg.activation != base.activation:
        widths = set(cfg.hidden)
        layers = len(cfg.hidden)
        if len(widths) == 1:
            words.append(f"{layers} {cfg.activation} layer{'s' if layers > 1 else ''} of {cfg.hidden[0]}")
        else:
            words.append(f"{cfg.activation} layers of {','.join(map(str, cfg.hidden))}")
    if cfg.batch_size != base.batch_size:
        words.append(f"batches of {cfg.batch_size}")
    if cfg.test_fraction != base.test_fraction:
        words.append(f"{fmt(cfg.test_fraction * 100)}% held out")
    for name, text in (("running_var", "{} running variance"), ("bn_momentum", "momentum {}")):
        if getattr(cfg, name) != getattr(base, name):
            words.append(text.format(getattr(cfg, name) if name == "running_var" else fmt(cfg.bn_momentum)))
    return ", ".join(words) or "the notes' network"


def measure(lesson: Lesson, seeds=range(10), experiment: str = "notes") -> Verdict:
    """Measure one lesson's experiment ("notes" or "shows") over `seeds`; the Verdict reports what
    those runs show. Both sides of every comparison use the same seeds: the runs are paired."""
    seeds = seed_list(seeds)
    base = lesson.config(experiment)
    started = time.perf_counter()
    verdict = lesson.measurer(seeds, base)
    verdict.lesson, verdict.seeds, verdict.experiment = lesson.id, tuple(seeds), experiment
    verdict.seconds = time.perf_counter() - started
    return verdict


def lesson_by_id(lesson_id: str) -> Lesson:
    for lesson in LESSONS:
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(f"no lesson {lesson_id!r}: use one of {', '.join(l.id for l in LESSONS)}")


def measure_all(seeds=range(10), experiment: str = "notes") -> dict:
    """{lesson id: Verdict} for every lesson's experiment, in table order."""
    return {lesson.id: measure(lesson, seeds, experiment) for lesson in LESSONS}


def rule_line(parts) -> str:
    """The card's one-line rule: each part's effect and threshold, then the shared rule."""
    return " · ".join(p.rule() for p in parts) + ". " + SHORT_RULE


def _verdict(parts, sentence, numbers, spread, label, log=False, detail=None, bounds=None) -> Verdict:
    parts = tuple(parts)
    first = parts[0]
    failing = failed_parts(parts)
    fails = "; ".join(_part_fails(p) for p in failing)
    low, high, level = first.interval
    return Verdict("", combine(parts), sentence + (f" Not shown: {fails}." if fails else ""), numbers, (),
                   {k: np.asarray(v, float) for k, v in spread.items()}, label, log, fails,
                   detail=detail or {}, spread_bounds=bounds, effect=first.median, ci=(low, high), level=level,
                   rule=rule_line(parts), parts=parts)


def _sentence_case(name: str) -> str:
    """A part's name inside a sentence: its first letter lower case, unless its first word is an
    abbreviation ("BN allows ..." and "BN's loss ..." stay, "Small batches cost ..." becomes "small batches
    cost ...")."""
    first = name.split(" ", 1)[0].split("'", 1)[0]      # a possessive's "s" is no part of the abbreviation
    return name if len(first) > 1 and first.isupper() else name[:1].lower() + name[1:]


def _part_fails(part: Part) -> str:
    text = f"{_sentence_case(part.name)} in only {part.words()}"
    if part.count == 0:
        text = f"{_sentence_case(part.name)} in {part.words()}"
    if part.reversed:
        text += " (reversed: the interval lies on the other side)"
    return text


def _shows(part: Part) -> str:
    """"in 9 of 10 seeds" for a part."""
    return f"in {part.words()}"


def _med(values) -> float:
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    return float(np.median(values)) if len(finite) == len(values) else float(np.median(np.nan_to_num(values)))


def _seeds(n: int) -> str:
    return "the one seed" if n == 1 else f"{n} seeds"


def _in_seeds(k: int, n: int) -> str:
    """k of n seeds with its noun: "3 of 10 seeds", "all 10 seeds", "the one seed", "no seed"."""
    return count_words(k, n) + (" seeds" if n != 1 else "")


def seed_list_text(seeds) -> str:
    return measures.seed_text(seeds)


# ------------------------------------------------------------------ the lessons


def _input_scaling(seeds, base):
    m = measures.input_scaling(seeds, base)
    n = len(seeds)
    rounder = Part("The valley is rounder on standardized inputs", "log2 of the raw over the standardized "
                   "elongation", 1.0, np.log2(m["elongation_raw"] / m["elongation_std"]))
    larger = Part("Gradient descent may take larger steps", "log2 of the largest stable rate, standardized over "
                  "raw", 1.0, np.log2(m["lr_limit_std"] / m["lr_limit_raw"]))
    numbers = {"seeds": n, "elongation_raw": _med(m["elongation_raw"]), "elongation_std": _med(m["elongation_std"]),
               "lr_limit_raw": _med(m["lr_limit_raw"]), "lr_limit_std": _med(m["lr_limit_std"]),
               "seeds_rounder": rounder.count, "seeds_larger": larger.count}
    sentence = (f"A logistic unit's loss valley is {fmt(numbers['elongation_raw'])}× longer than wide on raw "
                f"features and {fmt(numbers['elongation_std'])}× on standardized ones (medians over {_seeds(n)}; at "
                f"least twice rounder {_shows(rounder)}); gradient descent stays stable up to lr "
                f"{fmt(numbers['lr_limit_raw'])} raw and {fmt(numbers['lr_limit_std'])} standardized (at least "
                f"twice larger {_shows(larger)}).")
    return _verdict((rounder, larger), sentence, numbers,
                    {"raw": m["lr_limit_raw"], "standardized": m["lr_limit_std"]},
                    "largest stable learning rate (2 / curvature)", log=True)


def _doublings(best_on, best_off, grid) -> np.ndarray:
    """log2(BN's largest learning rate / the plain net's); a side that learns at no rate of the grid
    counts as half the grid's smallest rate."""
    floor = grid[0] / 2
    return np.log2(np.maximum(best_on, floor) / np.maximum(best_off, floor))


def _higher_lr(seeds, base):
    m = measures.learning_rate_sweep(seeds, base, measures.LESSON_LR_GRID)
    speed = measures.epochs_to_learn(seeds, base.replace(lr=SPEED_LR))
    best_on, best_off = m["best_lr"][True], m["best_lr"][False]
    n, probe = len(seeds), base.lr
    probe_i = int(np.argmin(np.abs(m["grid"] - probe)))
    higher = Part("BN allows a higher learning rate", "doublings of the largest rate that learns, BN over plain",
                  1.0, _doublings(best_on, best_off, m["grid"]))
    never = base.epochs + 1                     # a network that never learns counts as one epoch past the run
    fast_on, fast_off = (np.nan_to_num(speed["epochs"][bn], nan=never) for bn in (True, False))
    faster = Part("BN learns faster", f"log2 of the plain net's epochs to learn over BN's, at lr {fmt(SPEED_LR)}",
                  0.5, np.log2(fast_off / fast_on))
    numbers = {"seeds": n, "probe_lr": float(m["grid"][probe_i]),
               "learn_at_probe_bn": int(m["learned"][True][:, probe_i].sum()),
               "learn_at_probe_plain": int(m["learned"][False][:, probe_i].sum()),
               "median_best_lr_bn": _med(best_on), "median_best_lr_plain": _med(best_off),
               "ratio": float(2 ** higher.median), "seeds_bn_higher": higher.count, "speed_lr": SPEED_LR,
               "epochs_bn": _med(fast_on), "epochs_plain": _med(fast_off), "seeds_faster": faster.count,
               "never_epochs": never}
    sentence = (f"At lr {fmt(numbers['probe_lr'])}, BN learns in {_in_seeds(numbers['learn_at_probe_bn'], n)} "
                f"and the plain network in {count_words(numbers['learn_at_probe_plain'], n)}. The largest "
                f"rate that still learns is median {fmt(numbers['median_best_lr_bn'])} with BN and "
                f"{fmt(numbers['median_best_lr_plain'])} without (median {fmt(numbers['ratio'])}× per seed; at "
                f"least twice as high {_shows(higher)}). At lr {fmt(SPEED_LR)} BN learns after "
                f"{fmt(numbers['epochs_bn'])} epochs and the plain network after {fmt(numbers['epochs_plain'])} "
                f"(medians; {never} means not within the run), at least 1.4× sooner {_shows(faster)}.")
    return _verdict((higher, faster), sentence, numbers, {"BN on": best_on, "BN off": best_off},
                    "largest learning rate that still learns", log=True,
                    detail={"lr": m["grid"], "learned BN on": m["learned"][True],
                            "learned BN off": m["learned"][False], "accuracy BN on": m["acc"][True],
                            "accuracy BN off": m["acc"][False]})


def _init_scale(seeds, base):
    m = measures.init_scale_sweep(seeds, base)
    grid, ok_on, ok_off = m["grid"], m["learned"][True], m["learned"][False]   # (seeds, V)
    scales_on, scales_off = ok_on.sum(1), ok_off.sum(1)
    n = len(seeds)
    wider = Part("BN learns from more init scales", "init scales (decades) that learn, BN minus plain", 1.0,
                 scales_on - scales_off)
    fails_on = [(g, int((~ok_on[:, j]).sum())) for j, g in enumerate(grid) if (~ok_on[:, j]).any()]
    numbers = {"seeds": n, "scales": len(grid), "scale_low": float(grid[0]), "scale_high": float(grid[-1]),
               "median_scales_bn": _med(scales_on), "median_scales_plain": _med(scales_off),
               "seeds_bn_wider": wider.count,
               "bn_fails_at": "; ".join(f"scale {fmt(g)} in {count_words(k, n)}" for g, k in fails_on) or "none"}
    sentence = (f"Of {len(grid)} init scales from {fmt(grid[0])} to {fmt(grid[-1])}, BN learns at a median of "
                f"{fmt(numbers['median_scales_bn'])} and the plain network at {fmt(numbers['median_scales_plain'])} "
                f"(at least one more with BN {_shows(wider)}).")
    if fails_on:
        sentence += f" BN too fails at {numbers['bn_fails_at']}{' seeds' if n != 1 else ''}."
    return _verdict((wider,), sentence, numbers, {"BN on": scales_on, "BN off": scales_off},
                    "init scales (of the sweep) that learn",
                    detail={"init_scale": grid, "learned BN on": ok_on, "learned BN off": ok_off,
                            "accuracy BN on": m["acc"][True], "accuracy BN off": m["acc"][False]})


LARGE_BATCH = 64


def _rows(values) -> np.ndarray:
    """Differences of accuracies rounded to 12 decimals. An accuracy is a whole number of rows over the
    row count, and without the rounding a difference of exactly one test row can fall short of it
    (0.85 - 0.8 = 0.04999... < 1/20), so a seed would not count the row it lost."""
    return np.round(np.asarray(values, dtype=float), 12)


def _batch_noise(seeds, base):
    rows = len(measures.dataset_for(measures._data_config(base, seeds[0])).y_train)
    small = min(base.batch_size, rows)
    large = min(max(LARGE_BATCH, 4 * small), rows // 2)        # a batch below the whole set, which never wanders
    m = measures.batch_noise(seeds, sizes=(small, large), epochs=base.epochs, base=base)
    n = len(seeds)
    spread, gap = m["mu_spread"], m["mode_gap"]              # (seeds, 2), BN on
    noisier = Part("Small batches make BN's statistics noisier",
                   f"log2 of the batch mean's wandering, batches of {small} over {large}", 1.0,
                   np.log2(spread[:, 0] / np.maximum(spread[:, 1], 1e-12)))
    gap_on, gap_off = m["acc_gap"][True][:, 0], m["acc_gap"][False][:, 0]
    test_row = 1.0 / m["test_rows"]
    regularizes = Part("BN narrows the train/test gap", f"|train − test accuracy| without BN minus with BN, "
                       f"batches of {small}", test_row, _rows(np.abs(gap_off) - np.abs(gap_on)))
    numbers = {"seeds": n, "small_batch": int(small), "large_batch": int(large), "epochs": m["epochs"],
               "mu_spread_small": _med(spread[:, 0]), "mu_spread_large": _med(spread[:, 1]),
               "theory_small": float(m["theory"][0]), "theory_large": float(m["theory"][1]),
               "loss_gap_small": _med(gap[:, 0]), "loss_gap_large": _med(gap[:, 1]),
               "seeds_noisier": noisier.count, "acc_gap_bn": _med(gap_on), "acc_gap_plain": _med(gap_off),
               "abs_gap_bn": _med(np.abs(gap_on)), "abs_gap_plain": _med(np.abs(gap_off)),
               "seeds_regularized": regularizes.count, "test_rows": m["test_rows"]}
    sentence = (f"After {m['epochs']} epochs the first BN layer's batch mean wanders by "
                f"{fmt(numbers['mu_spread_small'])} of the full-data spread with batches of {small} and "
                f"{fmt(numbers['mu_spread_large'])} with batches of {large} (random sampling predicts "
                f"{fmt(numbers['theory_small'])} and {fmt(numbers['theory_large'])}; at least twice as much "
                f"{_shows(noisier)}). Train minus test accuracy at batches of {small}: {fmt(numbers['acc_gap_bn'])} "
                f"with BN and {fmt(numbers['acc_gap_plain'])} without (medians; its size smaller with BN by a "
                f"test row or more {_shows(regularizes)}).")
    return _verdict((noisier, regularizes), sentence, numbers, {"BN on": gap_on, "BN off": gap_off},
                    f"train minus test accuracy, batches of {small}", bounds=(-1.0, 1.0),
                    detail={"batch_size": m["batch_sizes"], "mu_spread": spread, "mu_spread_theory": m["theory"],
                            "minibatch_minus_full_loss": gap, "acc_gap BN on": m["acc_gap"][True],
                            "acc_gap BN off": m["acc_gap"][False], "test_acc BN on": m["test_acc"][True],
                            "test_acc BN off": m["test_acc"][False]})


ROUNDING = 12     # decades below 1: "zero up to rounding" in float64


def _decades_below(values) -> np.ndarray:
    return -np.log10(np.maximum(np.asarray(values, dtype=float), 1e-300))


def _bias(seeds, base):
    m = measures.bias_before_bn(seeds, base)
    n = len(seeds)
    zero = Part("The bias gets no gradient", "decades of the bias gradient below the weights'", ROUNDING,
                _decades_below(m["grad_ratio"]))
    same = Part("The bias changes no training-mode output", "decades of the largest change of the outputs below 1",
                ROUNDING, _decades_below(m["train_output_diff"]))
    numbers = {"seeds": n, "max_grad_ratio": float(np.max(m["grad_ratio"])),
               "max_train_output_diff": float(np.max(m["train_output_diff"])), "bias_init": m["bias_init"],
               "eval_shift_first": _med(m["eval_shift"][:, 0]), "eval_shift_last": _med(m["eval_shift"][:, -1])}
    sentence = (f"The bias in front of BN gets a computed gradient at most {fmt(numbers['max_grad_ratio'])} of the "
                f"weights' gradient, and starting it at {fmt(m['bias_init'])} changes training-mode outputs by at "
                f"most {fmt(numbers['max_train_output_diff'])} (zero up to rounding {_shows(zero)} and "
                f"{_shows(same)}). In evaluation mode the outputs move by {fmt(numbers['eval_shift_first'])} after "
                f"the first epoch and {fmt(numbers['eval_shift_last'])} at the end, as the running mean catches up "
                f"(medians).")
    return _verdict((zero, same), sentence, numbers,
                    {"bias gradient / weight gradient": np.maximum(m["grad_ratio"], 1e-300)},
                    "largest bias gradient relative to the weights'", log=True,
                    detail={"eval_shift_by_epoch": m["eval_shift"], "loss_path_diff": m["loss_path_diff"]})


def _gamma_beta(seeds, base):
    m = measures.gamma_beta_identity(seeds, base.replace(bn=True))
    n = len(seeds)
    undo = Part("γ = √(σ²_B + ε), β = μ_B give back the input", "decades of |output − input| / |input| below 1",
                ROUNDING, _decades_below(m["error"]))
    numbers = {"seeds": n, "max_error": float(np.max(m["error"])), "batch_size": m["batch_size"]}
    sentence = (f"Setting γ = √(σ²_B + ε) and β = μ_B of the first batch of {m['batch_size']} returns every BN "
                f"layer's input to within {fmt(numbers['max_error'])} of its size (zero up to rounding "
                f"{_shows(undo)}).")
    return _verdict((undo,), sentence, numbers, {"BN on": np.maximum(m["error"], 1e-300)},
                    "largest |output − input| / |input|", log=True)


def _within(gap, tolerance) -> np.ndarray:
    """1 - gap / tolerance: positive while within tolerance (NaN gaps count as far off)."""
    return 1.0 - np.nan_to_num(np.asarray(gap, dtype=float), nan=np.inf) / tolerance


def _running(seeds, base):
    m = measures.running_averages(seeds, base)
    n, tol, vtol = len(seeds), m["tolerance"], m["var_tolerance"]
    ewma, population, cumulative = m["ewma"], m["population"], m["cumulative"]

    def close(rule):
        return np.minimum(_within(rule["mean_gap"], tol), _within(rule["var_gap"], vtol))

    effect = (f"1 − the worst gap to the exact statistics over its tolerance (mean {fmt(tol)} std, variance "
              f"{fmt(100 * vtol)}%)")
    parts = (Part("The EWMA ends near the exact statistics", effect, 0.0, close(ewma)),
             Part("The population average after training ends near them", effect, 0.0, close(population)))
    numbers = {"seeds": n, "tolerance": tol, "tolerance_pct": 100 * vtol, "batch_size": m["batch_size"],
               "layer": m["layer"], "running_var": m["running_var"],
               **{f"mean_gap_{r}": _med(m[r]["mean_gap"]) for r in measures.RUNNING_RULES},
               **{f"var_error_{r}_pct": 100 * _med(m[r]["var_error"]) for r in measures.RUNNING_RULES},
               "settled_epoch": float(np.nanmedian(ewma["settled_epoch"]))
               if np.isfinite(ewma["settled_epoch"]).any() else float("nan")}
    sentence = (f"On BN layer {m['layer']}, with batches of {m['batch_size']} and the {m['running_var']} variance, "
                f"the running mean ends median {fmt(numbers['mean_gap_ewma'])} std from the exact full-data mean "
                f"with the EWMA, {fmt(numbers['mean_gap_population'])} with Ioffe & Szegedy's population average "
                f"after training and {fmt(numbers['mean_gap_cumulative'])} with the average over all of training "
                f"(which still carries the early epochs); the running variance ends "
                f"{_off(numbers['var_error_ewma_pct'])}, {_off(numbers['var_error_population_pct'])} and "
                f"{_off(numbers['var_error_cumulative_pct'])}. Within tolerance (three times the EWMA's own noise): "
                f"the EWMA {_shows(parts[0])}, the population average {_shows(parts[1])}, the average over "
                f"training in {_in_seeds(int((close(cumulative) >= 0).sum()), n)}.")
    return _verdict(parts, sentence, numbers,
                    {"EWMA": ewma["mean_gap"], "population": population["mean_gap"],
                     "all-training average": cumulative["mean_gap"]},
                    f"running vs exact mean at the end, BN layer {m['layer']} (worst unit, in stds)", log=True,
                    detail={f"var_gap {r}": m[r]["var_gap"] for r in measures.RUNNING_RULES})


def _off(percent: float) -> str:
    """A signed percentage error in words: "11.1% low", "9.8% high"."""
    return f"{fmt(abs(percent))}% {'low' if percent < 0 else 'high'}"


def _covariate_shift(seeds, base):
    m = measures.covariate_shift(seeds, base)
    n = len(seeds)
    drift_on, drift_off = m["drift"][True], m["drift"][False]
    steadier = Part("Each layer's input is steadier with BN", "1 − BN's drift over the plain net's", 0.25,
                    1 - drift_on / np.maximum(drift_off, 1e-12))
    acc_diff = m["test_acc"][True] - m["test_acc"][False]
    numbers = {"seeds": n, "drift_bn": _med(drift_on), "drift_plain": _med(drift_off),
               "seeds_steadier": steadier.count, "acc_bn": _med(m["test_acc"][True]),
               "acc_plain": _med(m["test_acc"][False]), "max_acc_diff": float(np.nanmax(np.abs(acc_diff)))}
    sentence = (f"Over training the last hidden layer's input to its activation moves {fmt(numbers['drift_bn'])}× "
                f"its spread with BN and {fmt(numbers['drift_plain'])}× without (medians; at least a quarter less "
                f"with BN {_shows(steadier)}). Test accuracy: median {fmt(numbers['acc_bn'])} with BN, "
                f"{fmt(numbers['acc_plain'])} without.")
    return _verdict((steadier,), sentence, numbers, {"BN on": drift_on, "BN off": drift_off},
                    "drift of the activation's input (percentile path / spread)", log=True)


def _position(seeds, base):
    m = measures.bn_position(seeds, base)
    n = len(seeds)
    both = Part("BN learns before and after the activation", "the smaller margin over the learn bar of the two",
                0.0, np.minimum(m["margin"]["before"], m["margin"]["after"]))
    numbers = {"seeds": n, "acc_before": _med(m["acc"]["before"]), "acc_after": _med(m["acc"]["after"]),
               "seeds_before": int(m["learned"]["before"].sum()), "seeds_after": int(m["learned"]["after"].sum())}
    sentence = (f"BN before the activation learns in {_in_seeds(numbers['seeds_before'], n)}, after it in "
                f"{count_words(numbers['seeds_after'], n)}; median training accuracy {fmt(numbers['acc_before'])} "
                f"and {fmt(numbers['acc_after'])}.")
    return _verdict((both,), sentence, numbers, {"before": m["acc"]["before"], "after": m["acc"]["after"]},
                    "training accuracy", bounds=ACCURACY)


def _gradients(seeds, base):
    m = measures.gradient_flow(seeds, base)
    e = measures.gradient_growth(seeds, base)
    n = len(seeds)
    ratio_on, ratio_off = m["ratio"][True], m["ratio"][False]
    vanish = Part("BN keeps the gradient from vanishing", "decades of (output / first-layer gradient) removed by BN",
                  1.0, np.log10(ratio_off) - np.log10(ratio_on))
    explode = Part("BN keeps the gradient from exploding", "decades of the largest first-layer gradient removed by "
                   "BN", 1.0, np.log10(e["first"][False]) - np.log10(e["first"][True]))
    numbers = {"seeds": n, "depth": m["depth"], "activation": base.activation, "ratio_bn": _med(ratio_on),
               "ratio_plain": _med(ratio_off), "learn_bn": int(m["learned"][True].sum()),
               "learn_plain": int(m["learned"][False].sum()), "explode_scale": e["scale"],
               "first_grad_bn": _med(e["first"][True]), "first_grad_plain": _med(e["first"][False]),
               "explode_learn_bn": int(e["learned"][True].sum()), "explode_learn_plain": int(e["learned"][False].sum())}
    sentence = (f"In {m['depth']} {base.activation} layers the output layer's gradient is median "
                f"{fmt(numbers['ratio_plain'])}× the first layer's without BN and {fmt(numbers['ratio_bn'])}× with it "
                f"(ten times more level with BN {_shows(vanish)}); BN learns in {_in_seeds(numbers['learn_bn'], n)}, "
                f"the plain network in {count_words(numbers['learn_plain'], n)}. With ReLU and weights started "
                f"at {fmt(e['scale'])}× the usual scale, the first layer's gradient reaches median "
                f"{fmt(numbers['first_grad_plain'])} without BN and {fmt(numbers['first_grad_bn'])} with it (ten "
                f"times smaller with BN {_shows(explode)}).")
    return _verdict((vanish, explode), sentence, numbers, {"BN on": ratio_on, "BN off": ratio_off},
                    "output-layer / first-layer gradient norm", log=True,
                    detail={"first-layer gradient BN on": e["first"][True],
                            "first-layer gradient BN off": e["first"][False]})


def _optimizers(seeds, base):
    m = measures.optimizers(seeds, base)
    n = len(seeds)
    names = measures.OPTIMIZER_NAMES
    works = Part("BN learns with every optimizer", "the smallest margin over the learn bar of the four", 0.0,
                 np.min(np.stack(list(m["margin"].values())), axis=0))
    numbers = {"seeds": n, **{f"learn_{k}": int(v.sum()) for k, v in m["learned"].items()},
               **{f"lr_{k}": v for k, v in m["lr"].items()}}
    sentence = ("With BN, " + ", ".join(f"{names[k]} (lr {fmt(m['lr'][k])}) learns in {_in_seeds(int(ok.sum()), n)}"
                                        for k, ok in m["learned"].items())
                + f"; all four learn {_shows(works)}.")
    return _verdict((works,), sentence, numbers, {names[k]: acc for k, acc in m["acc"].items()},
                    "training accuracy", bounds=ACCURACY)


def _santurkar(seeds, base):
    m = measures.noisy_bn(seeds, base=base)
    n = len(seeds)
    learns = Part("Noisy BN still learns", "noisy BN's margin over the learn bar", 0.0, m["margin"]["noisy"])
    moves = Part("Its layer inputs move more than with plain BN", "log2 of noisy BN's drift over plain BN's", 1.0,
                 np.log2(m["drift"]["noisy"] / np.maximum(m["drift"]["bn"], 1e-12)))
    smoother = Part("BN's loss landscape is smoother", "log2 of the plain net's effective β-smoothness over BN's",
                    0.5, np.log2(m["beta_smoothness"]["plain"] / m["beta_smoothness"]["bn"]))
    med = {what: {k: _med(v) for k, v in m[what].items()} for what in ("drift", "loss_variation", "grad_change",
                                                                       "beta_smoothness")}
    numbers = {"seeds": n, "noise": m["noise"], **{f"learn_{k}": int(v.sum()) for k, v in m["learned"].items()},
               **{f"{what}_{k}": v for what, d in med.items() for k, v in d.items()}}
    sentence = (f"BN with noise of size {fmt(m['noise'])} learns in {_in_seeds(numbers['learn_noisy'], n)} "
                f"(plain BN {count_words(numbers['learn_bn'], n)}, no BN {count_words(numbers['learn_plain'], n)}) "
                f"while the last layer's input moves {fmt(med['drift']['noisy'])}× its spread over training, "
                f"against {fmt(med['drift']['bn'])}× with plain BN (at least twice as much {_shows(moves)}). Along "
                f"the gradient, per unit of step: the loss departs from its linear forecast by "
                f"{fmt(med['loss_variation']['bn'])} with BN and {fmt(med['loss_variation']['plain'])} without, the "
                f"gradient changes by {fmt(med['grad_change']['bn'])} and {fmt(med['grad_change']['plain'])} of "
                f"itself, and the effective β-smoothness is {fmt(med['beta_smoothness']['bn'])} and "
                f"{fmt(med['beta_smoothness']['plain'])} (medians; smoother with BN by 1.4× or more "
                f"{_shows(smoother)}).")
    return _verdict((learns, moves, smoother), sentence, numbers,
                    {"BN on": m["beta_smoothness"]["bn"], "noisy BN": m["beta_smoothness"]["noisy"],
                     "BN off": m["beta_smoothness"]["plain"]},
                    "effective β-smoothness (gradient change per unit step)", log=True)


NORM_NAMES = {"batch": "batch norm", "layer": "layer norm", "none": "no normalization"}


def _batch_dependence(seeds, base):
    m = measures.batch_dependence(seeds, base)
    n, sizes = len(seeds), m["batch_sizes"]
    small, large = int(sizes[0]), int(sizes[-1])
    acc, noise = m["test_acc"], m["loss_noise"]
    drop = {norm: acc[norm][:, -1] - acc[norm][:, 0] for norm in acc}           # accuracy lost going small
    test_row = 1.0 / m["test_rows"]
    falls = Part("Small batches cost batch norm accuracy, and layer norm less",
                 f"test accuracy lost from batches of {large} to {small}, batch norm's minus layer norm's", test_row,
                 _rows(drop["batch"] - drop["layer"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log2(noise["batch"][:, 0] / noise["layer"][:, 0])
    noisier = Part("At the smallest batch the loss is noisier with batch norm than with layer norm",
                   f"log2 of batch norm's loss noise over layer norm's, batches of {small}", 0.5, ratio)
    alone = Part("A row's output under layer norm ignores the rest of its batch",
                 "decades below 1 of the largest change of a row's output, alone against inside the whole "
                 "training set", ROUNDING, _decades_below(m["row_change"]["layer"]))
    med = {what: {norm: np.array([_med(v[:, j]) for j in range(len(sizes))]) for norm, v in m[what].items()}
           for what in ("test_acc", "loss_noise")}
    numbers = {"seeds": n, "small_batch": small, "large_batch": large, "epochs": m["epochs"],
               **{f"acc_{norm}_{int(b)}": float(med["test_acc"][norm][j]) for norm in med["test_acc"]
                  for j, b in enumerate(sizes)},
               **{f"noise_{norm}_{int(b)}": float(med["loss_noise"][norm][j]) for norm in med["loss_noise"]
                  for j, b in enumerate(sizes)},
               "row_change_batch": _med(m["row_change"]["batch"]),
               "max_row_change_layer": float(np.max(m["row_change"]["layer"])),
               "seeds_falls": falls.count, "seeds_noisier": noisier.count}
    acc_b = [numbers[f"acc_batch_{b}"] for b in (large, small)]
    acc_l = [numbers[f"acc_layer_{b}"] for b in (large, small)]
    acc_n = [numbers[f"acc_none_{b}"] for b in (large, small)]
    noise_words = ", ".join(f"{NORM_NAMES[norm]} {fmt(numbers[f'noise_{norm}_{large}'])} to "
                            f"{fmt(numbers[f'noise_{norm}_{small}'])}" for norm in measures.DEPENDENCE_NORMS)
    sentence = (f"From batches of {large} to batches of {small}, median test accuracy goes from {fmt(acc_b[0])} to "
                f"{fmt(acc_b[1])} with batch norm, {fmt(acc_l[0])} to {fmt(acc_l[1])} with layer norm and "
                f"{fmt(acc_n[0])} to {fmt(acc_n[1])} with neither (BN loses at least a test row more than layer "
                f"norm {_shows(falls)}). The evaluation-mode loss jitters from epoch to epoch by {noise_words} "
                f"(medians; at batches of {small} at least 1.4× noisier with batch norm than with layer norm "
                f"{_shows(noisier)}). In the networks trained on batches of {small}, a training row's output in "
                f"training mode moves by {fmt(numbers['row_change_batch'])} of the logits' size with batch norm "
                f"(median) between the whole training set as its batch and a batch of its own, and by at most "
                f"{fmt(numbers['max_row_change_layer'])} with layer norm (zero up to rounding {_shows(alone)}).")
    narrow = min(base.hidden)
    if narrow <= 3:
        sentence += (f" Layer norm here normalizes a layer of {narrow} units, where each row's normalized values "
                     f"carry little more than the order of its units: with batches of {small} it ends at "
                     f"{fmt(acc_l[1])}, against {fmt(acc_n[1])} without normalization.")
    detail = {"batch_size": sizes}
    for norm in measures.DEPENDENCE_NORMS:
        detail[f"test_acc {NORM_NAMES[norm]}"] = acc[norm]
        detail[f"loss_noise {NORM_NAMES[norm]}"] = noise[norm]
    return _verdict((falls, noisier, alone), sentence, numbers,
                    {"batch norm": acc["batch"][:, 0], "layer norm": acc["layer"][:, 0],
                     "no normalization": acc["none"][:, 0]},
                    f"test accuracy, batches of {small}", bounds=ACCURACY, detail=detail)


def _worked_example(seeds, base):
    m = measures.worked_example(seeds, base)
    n = len(seeds)
    right = Part("All four are classified right in both modes", "the lower of the two accuracies, minus 1", 0.0,
                 np.minimum(m["acc_batch"], m["acc_eval"]) - 1.0)
    numbers = {"seeds": n, "correlation": m["correlation"], "seeds_learned": right.count,
               "mu_B": m["mu_B"], "var_B": m["var_B"], "seed_shown": m["seed_shown"], "momentum": m["momentum"],
               "acc_batch": _med(m["acc_batch"]), "acc_eval": _med(m["acc_eval"])}
    sentence = (f"The notes' batch of four students has GPA and IQ correlated at {fmt(m['correlation'])}, not "
                f"collinear. Its first step (seed {m['seed_shown']}) gives unit 1 μ_B = {fmt(m['mu_B'])} and "
                f"σ²_B = {fmt(m['var_B'])}; with running averages of momentum {fmt(m['momentum'])} the network "
                f"classifies all four right in training and in evaluation mode {_shows(right)}.")
    return _verdict((right,), sentence, numbers, {"BN on": m["acc_batch"]},
                    "training-mode accuracy on the four", bounds=ACCURACY)


FIGURE1_CHECKS = (48, 120, 240)     # steps at which the sentence quotes test accuracy (2, 5 and 10 epochs)


def _figure1(seeds, base):
    from .figure1 import measure_figure1

    m = measure_figure1(seeds, base)
    n, steps = len(seeds), m["steps"]
    acc_on, acc_off = m["acc"][True], m["acc"][False]                      # (seeds, T)
    drift_on, drift_off = m["drift"][True], m["drift"][False]
    with np.errstate(invalid="ignore"):
        gain = np.nanmean(acc_on, axis=1) - np.nanmean(acc_off, axis=1)
    higher = Part("BN's test accuracy is higher over training", "mean test accuracy over the evaluated steps, BN "
                  "minus plain", 0.02, gain)
    steadier = Part("The sigmoid's input moves less with BN", "1 − BN's drift over the plain net's", 0.25,
                    1 - drift_on / np.maximum(drift_off, 1e-12))
    checks = [int(s) for s in FIGURE1_CHECKS if s in set(steps.tolist())]
    at = {s: int(np.flatnonzero(steps == s)[0]) for s in checks}
    numbers = {"seeds": n, "steps": int(steps[-1]), "checks": ", ".join(map(str, checks)),
               "min_gain": higher.threshold, "drift_bn": _med(drift_on), "drift_plain": _med(drift_off),
               "seeds_higher": higher.count, "seeds_steadier": steadier.count, "layer": m["layer"],
               "seconds_bn": m["seconds"][True], "seconds_plain": m["seconds"][False],
               **{f"acc_bn_{s}": _med(acc_on[:, i]) for s, i in at.items()},
               **{f"acc_plain_{s}": _med(acc_off[:, i]) for s, i in at.items()},
               **{f"acc_low_bn_{s}": float(np.nanmin(acc_on[:, i])) for s, i in at.items()},
               **{f"acc_high_bn_{s}": float(np.nanmax(acc_on[:, i])) for s, i in at.items()},
               **{f"acc_low_plain_{s}": float(np.nanmin(acc_off[:, i])) for s, i in at.items()},
               **{f"acc_high_plain_{s}": float(np.nanmax(acc_off[:, i])) for s, i in at.items()}}
    quoted = "; ".join(f"after {s} steps {fmt(numbers[f'acc_bn_{s}'])} with BN and {fmt(numbers[f'acc_plain_{s}'])} "
                       "without" for s in checks)
    sentence = (f"Test accuracy, medians over {_seeds(n)}: {quoted} (higher over training by 0.02 or more "
                f"{_shows(higher)}). Unit 1 of hidden layer {m['layer']}: its input to the sigmoid moves "
                f"{fmt(numbers['drift_bn'])}× its final spread over training with BN and "
                f"{fmt(numbers['drift_plain'])}× without (medians; at least a quarter less with BN "
                f"{_shows(steadier)}).")
    shown = at[checks[0]] if checks else acc_on.shape[1] - 1            # the spread chart's step
    return _verdict((higher, steadier), sentence, numbers, {"BN on": acc_on[:, shown], "BN off": acc_off[:, shown]},
                    f"test accuracy after {int(steps[shown])} steps", bounds=ACCURACY,
                    detail={"figure1_steps": steps, "figure1_acc BN on": acc_on, "figure1_acc BN off": acc_off,
                            "figure1_pct BN on": m["pct"][True], "figure1_pct BN off": m["pct"][False],
                            "figure1_layer": m["layer"]})


# ------------------------------------------------------------------ the table

DEEP_SIGMOID = "hidden=8,8,8,8,8,8&activation=sigmoid"
FIGURE1_QUERY = ("dataset=digits&hidden=100,100,100&activation=sigmoid&batch_size=60&lr=0.5&epochs=10"
                 "&compare=bn&tab=Activations")
WORKED = ("dataset=notes_batch&batch_size=4&standardize=0&activation=tanh&lr=0.5&epochs=200&bn_momentum=0.9"
          "&compare=off&tab=Batch+calculator")


def _pair(notes: str, shows: str) -> dict:
    return {"notes": notes, "shows": shows}


LESSONS = (
    Lesson("input-scaling", "Normalizing the input features turns long, thin loss contours round, so gradient "
           "descent can take larger steps.", ("002", "003"), ("raw GPA and IQ", "standardized"),
           _pair("tab=Loss+landscape", "tab=Loss+landscape"), _input_scaling, 1),
    Lesson("higher-lr", "BN makes training faster and allows a higher learning rate.", ("001", "003"),
           ("BN on", "BN off"),
           _pair("lr=2&epochs=30&compare=bn&tab=Sweeps", f"{DEEP_SIGMOID}&lr=2&epochs=15&compare=bn&tab=Sweeps"),
           _higher_lr, 2),
    Lesson("init-scale", "BN makes training less sensitive to how the weights are initialized.", ("003",),
           ("BN on", "BN off"),
           _pair("init_scale=0.01&epochs=30&compare=bn&tab=Sweeps",
                 "hidden=8,8,8,8&init_scale=0.01&epochs=15&compare=bn&tab=Sweeps"),
           _init_scale, 3),
    Lesson("batch-noise", "BN's batch statistics add noise, a slight regularizer that is stronger for small batches.",
           ("001", "002", "003"), ("BN on", "BN off"),
           _pair("batch_size=4&epochs=10&compare=bn&tab=Running+statistics+%26+test+time",
                 "dataset=xor&data_size=80&data_noise=0.4&test_fraction=0.5&hidden=16,16&batch_size=4&epochs=150"
                 "&compare=bn&tab=Running+statistics+%26+test+time"),
           _batch_noise, 4),
    Lesson("bias-redundant", "The Dense bias in front of BN is redundant.", ("000", "001", "004"),
           ("bias kept and started non-zero", "no bias"),
           _pair("keep_bias=1&bias_init=1&compare=keep_bias&b=0&tab=Parameters",
                 "hidden=8,8,8,8&activation=sigmoid&keep_bias=1&bias_init=1&compare=keep_bias&b=0&tab=Parameters"),
           _bias, 5),
    Lesson("gamma-beta-undo", "γ and β can undo the normalization.", ("001", "003"), ("BN on",),
           _pair("tab=Batch+calculator", f"{DEEP_SIGMOID}&tab=Batch+calculator"), _gamma_beta, 6),
    Lesson("running-averages", "At test time BN uses running averages of the batch statistics (an EWMA, or the plain "
           "average of the mini-batch means and variances).", ("000", "001", "003"),
           tuple(measures.RUNNING_RULE_NAMES.values()),
           _pair("compare=running_avg&b=population&tab=Running+statistics+%26+test+time",
                 "running_var=unbiased&batch_size=32&bn_momentum=0.9&epochs=100&compare=running_avg&b=population"
                 "&tab=Running+statistics+%26+test+time"),
           _running, 7),
    Lesson("covariate-shift", "BN reduces internal covariate shift: each layer sees a steadier input distribution.",
           ("002", "003"), ("BN on", "BN off"),
           _pair("compare=bn&tab=Activations", "hidden=8,8,8,8,8,8&activation=tanh&epochs=15&compare=bn&tab=Activations"),
           _covariate_shift, 8),
    Lesson("bn-position", "BN can go before the activation or after it.", ("003",), ("before", "after"),
           _pair("compare=bn_position", "hidden=8,8,8,8&epochs=15&compare=bn_position"), _position, 9),
    Lesson("vanishing-gradients", "BN helps against vanishing and exploding gradients.", ("001",), ("BN on", "BN off"),
           _pair("epochs=30&compare=bn&tab=Parameters", f"{DEEP_SIGMOID}&epochs=10&compare=bn&tab=Parameters"),
           _gradients, 10),
    Lesson("optimizers", "BN works with gradient descent with momentum, RMSprop and Adam.", ("004",),
           ("SGD", "momentum", "RMSprop", "Adam"),
           _pair("optimizer=adam&lr=0.01&compare=optimizer&b=rmsprop",
                 "hidden=8,8,8,8&optimizer=adam&lr=0.01&epochs=15&compare=optimizer&b=rmsprop"),
           _optimizers, 11),
    Lesson("santurkar", "Is it really internal covariate shift? Santurkar et al. (2018): BN with injected noise still "
           "trains well; BN's gain is a smoother loss landscape.", ("002", "003"), ("BN on", "noisy BN", "BN off"),
           _pair("bn_noise=0.5&compare=bn_noise&b=0&tab=Activations",
                 "hidden=8,8,8,8&activation=tanh&lr=0.5&epochs=25&bn_noise=0.5&compare=bn_noise&b=0&tab=Activations"),
           _santurkar),
    Lesson("figure-1", "Ioffe & Szegedy's Figure 1 on real handwriting: with BN a deep sigmoid network's test "
           "accuracy rises sooner, and the input to a last-layer sigmoid holds still while without BN it drifts.",
           ("003",), ("BN on", "BN off"), _pair(FIGURE1_QUERY, FIGURE1_QUERY), _figure1,
           setting="the paper's network on the handwritten digits"),
    Lesson("batch-dependence", "Batch norm's output for one row depends on the other rows of its batch: as the "
           "batch shrinks BN degrades, while layer norm, which normalizes each row over its own units, does not "
           "depend on the batch.", ("000", "001", "003"), ("batch norm", "layer norm", "no normalization"),
           _pair("epochs=20&batch_size=2&norm=layer&compare=bn&tab=Running+statistics+%26+test+time",
                 "dataset=circles&hidden=8,8&epochs=20&batch_size=2&norm=layer&compare=bn"
                 "&tab=Running+statistics+%26+test+time"),
           _batch_dependence),
    Lesson("worked-example", "The notes' worked example: one batch of four students, μ_B, σ²_B, ẑ and γẑ + β by hand.",
           ("003",), ("BN on",), _pair(WORKED, WORKED), _worked_example),
)


STATUS_WORDS = {"holds": "holds", "partly": "holds partly", "does not show": "does not show"}


def contrast(lesson: Lesson, notes: Verdict, shows: Verdict) -> str:
    """One sentence, from both verdicts, on what differs between the notes' experiment and the one where
    the claim shows (or, when they are one experiment, that the notes' own setting shows it)."""
    if lesson.setting:
        return (f"This claim is measured on {lesson.setting} only, the network of the source it comes from: it "
                f"{STATUS_WORDS[notes.status]} there.")
    if lesson.same_experiment:
        return f"The notes' own experiment is where this claim can show: it {STATUS_WORDS[notes.status]} there."
    first_notes, first_shows = notes.parts[0], shows.parts[0]
    where = describe(lesson.config("shows"))
    text = (f"With {where} the claim {STATUS_WORDS[shows.status]}; on the notes' network it "
            f"{STATUS_WORDS[notes.status]}. {first_shows.name}: {first_shows.words()} against "
            f"{first_notes.words()}, median effect {fmt(shows.effect)} against {fmt(notes.effect)} "
            f"({first_shows.effect}).")
    if shows.status == "does not show":
        text += " It did not show in any setting the search tried" + (f": {lesson.tried}." if lesson.tried else ".")
    return text
