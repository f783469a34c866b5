"""The page's tabs. Each function draws one tab from finished runs."""
from __future__ import annotations

import json
import weakref

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from .. import figures, limits, tables
from ..cache import RunCache
from ..activations import layer_histograms, unit_percentiles
from ..bias import biases_before_bn
from ..budget import Budget, data_shape, show_value
from ..classes import confusion, held_out, held_out_sheet, image_side
from ..inference import (accuracy_by_statistics, batch_calculation, boundary_replay, one_student_in_batches, predict,
                         predict_proba, row_calculation)
from ..landscape import input_scaling, network_plane
from ..running import cumulative_running
from ..sweeps import SWEEP_FIELDS, SWEEP_SEEDS, seeds_that_fit, sweep_plan
from ..visitor_text import shown
from . import access
from .lessons import batch_size_chart, lesson_note, lesson_query
from .runs import get_sweep
from .state import CURVES_X_KEY

X_AXIS_LABELS = {"steps": "steps", "epochs": "epochs", "examples": "examples seen"}

TABS = ("Lessons", "Training", "Loss landscape", "Activations", "Running statistics & test time", "Batch calculator",
        "Parameters", "Sweeps", "The math")
CHART = dict(theme=None, width="stretch", config={"displaylogo": False, "toImageButtonOptions": {"scale": 2}})


_PLAIN = (str, int, float, bool, type(None))


class FrozenFigure(go.Figure):
    """A finished chart whose plain form is computed once.

    st.plotly_chart turns a figure into a dict (a deep copy, with every array
    encoded) on each call; a chart shared by every visitor pays that once here.
    """

    def __init__(self, figure: go.Figure):
        super().__init__(figure)
        self._frozen = super().to_dict()
        self._frozen_bytes = len(json.dumps(self._frozen, default=str))

    def to_dict(self) -> dict:
        return self._frozen


def _size(value) -> int:
    """Bytes a cached result holds, near enough to bound the cache by."""
    if isinstance(value, FrozenFigure):
        return 3 * value._frozen_bytes                 # the figure, its plain form, and their arrays
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values()) + 64 * len(value)
    if isinstance(value, (list, tuple)):
        return sum(_size(v) for v in value) + 16 * len(value)
    if hasattr(value, "__dict__"):
        return _size(vars(value)) + 256
    return 64


# (function, first argument's id, settings) -> (result, references that must still hold),
# shared by every visitor and bounded in bytes (bnviz.limits.FIGURE_BYTES)
_CACHED = RunCache(100_000, limits.FIGURE_BYTES, size=lambda entry: _size(entry[0]))


def _identity(x):
    """(key part, how to check it later) for one argument: plain values by value,
    objects by identity, checked through a weak reference where the object takes one
    (so a cached chart never keeps another run alive) and a strong one otherwise."""
    if isinstance(x, _PLAIN) or (isinstance(x, tuple) and all(isinstance(v, _PLAIN) for v in x)):
        return x, None
    return id(x), (weakref.ref(x) if hasattr(x, "__weakref__") else (lambda: x))


def cached(function, first, *args):
    """function(first, *args), computed once per run and settings and shared by every visitor.

    Holds both what the engine computes for a chart (grids, histograms) and the
    chart itself (frozen: see FrozenFigure): reruns that change nothing about a
    chart (another tab's control, a second visitor) reuse it instead of computing
    it again. The least recently used results go once they pass FIGURE_BYTES.
    """
    parts = [_identity(x) for x in (first,) + args]
    key = (function.__module__, function.__name__) + tuple(part for part, _ in parts)
    hit = _CACHED.get(key)
    if hit is not None and all(ref is None or ref() is x for ref, x in zip(hit[1], (first,) + args)):
        return hit[0]
    result = function(first, *args)
    if isinstance(result, go.Figure):
        result = FrozenFigure(result)
    _CACHED.put(key, (result, [ref for _, ref in parts]))
    return result


def show(key: str, builder, first, *args) -> None:
    """Draw a chart with its name, its sentence and its table (bnviz.ui.access); one that cannot be
    drawn becomes a sentence on the page, never a traceback."""
    try:
        figure = cached(builder, first, *args)
        access.chart(key, figure, cached(access.speech_for, figure, builder, first, *args))
    except (ValueError, TypeError, FloatingPointError) as err:
        st.warning(shown(f"This chart cannot be drawn for these settings: {err}", limit=None))


def run_notes(a, b) -> None:
    """Above the tabs, whichever is open: a run that diverged says so, with what to change."""
    for run, name in ((a, "Run A"), (b, "Run B")):
        if run is not None:
            _run_note(run, name)


def _run_note(run, name: str) -> None:
    if run.diverged_at is not None:
        st.error(f"{name} diverged at step {run.diverged_at:,}: {run.divergence}. The charts show the steps "
                 "before it. Lower the learning rate, standardize the inputs or turn batch norm on.")


# --------------------------------------------------------------------- Training


def training_tab(a, b, data) -> None:
    differ = b is not None and a.config.batch_size != b.config.batch_size
    if differ and CURVES_X_KEY not in st.session_state and CURVES_X_KEY not in st.query_params:
        st.session_state[CURVES_X_KEY] = "epochs"      # batch sizes differ: a step is not the same amount of data
    x = st.radio("x axis", tuple(X_AXIS_LABELS), key=CURVES_X_KEY, horizontal=True, bind="query-params",
                 format_func=X_AXIS_LABELS.get,
                 help="Runs with different batch sizes take different numbers of steps per epoch: compare "
                      "them by epochs or by examples seen.")
    if differ and x == "steps":
        st.caption("Runs A and B use different batch sizes, so one step means a different amount of data: "
                   "choose epochs or examples seen to compare them fairly.")
    show("curves", figures.training_curves, a, b, x)
    cols = st.columns(4 if b is not None else 2)
    for col, run, name in ((cols[0], a, "A"),) + (((cols[2], b, "B"),) if b is not None else ()):
        em = run.epoch_metrics
        col.metric(f"Run {name}: test accuracy", f"{em['test_acc_eval'][-1]:.1%}" if np.isfinite(
            em["test_acc_eval"][-1]) else "n/a", help=_EVAL_HELP[run.config.norm])
    for col, run, name in ((cols[1], a, "A"),) + (((cols[3], b, "B"),) if b is not None else ()):
        col.metric(f"Run {name}: steps", f"{run.n_steps:,}", help=f"trained in {run.seconds * 1e3:.0f} ms")
    show("diagram", figures.network_diagram, a, data.label_name)
    if a.config.norm == "layer":
        st.caption("Run A, layer by layer, in the manner of Keras' model.summary(): each layer-norm unit holds "
                   "two learned numbers (γ, β) and nothing averaged: each row's μ and σ² are computed from "
                   "that row alone, in training and at test time.")
    else:
        st.caption("Run A, layer by layer, in the manner of Keras' model.summary(): each BN unit holds four "
                   "numbers, two learned (γ, β) and two averaged (μ, σ²).")
    st.markdown(markdown_table(tables.model_summary(a)))


_EVAL_HELP = {"batch": "whole test set, BN with running statistics",
              "layer": "whole test set; layer norm normalizes each student by its own units",
              "none": "whole test set"}


def markdown_table(frame) -> str:
    """A small table as Markdown: light to draw (no data-grid component to load)."""
    head = "| " + " | ".join(str(c).replace("_", " ") for c in frame.columns) + " |"
    rule = "|" + "|".join("---:" if frame[c].dtype.kind in "iuf" else "---" for c in frame.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule] + rows)


def exports(a) -> None:
    """Per-step metrics as CSV and the Config as JSON, made only when asked for."""
    left, right = st.columns(2)
    left.download_button("Steps CSV", lambda: tables.step_table(a).to_csv(index=False), "bnviz_steps.csv",
                         "text/csv", width="stretch", on_click="ignore", help="every recorded number, per step")
    right.download_button("Config JSON", lambda: json.dumps(a.config.to_dict(), indent=2), "bnviz_config.json",
                          "application/json", width="stretch", on_click="ignore", help="this experiment's settings")


# ----------------------------------------------------------------- Landscape


def landscape_tab(a, b, data) -> None:
    st.markdown("**Input scaling.** One logistic unit on GPA and IQ, on raw units and on z-scores: the loss "
                "contours and the path gradient descent takes. Where the valley is long and thin, one learning "
                "rate is too big across it and too small along it.")
    lesson_note("input-scaling")
    if on_plane(data):
        c1, c2 = st.columns(2)
        lr = c1.select_slider("Learning rate for both", options=[0.01, 0.02, 0.05, 0.1, 0.12, 0.2, 0.5, 1.0, 2.0, 5.0],
                              value=0.12, key="scaling_lr")
        steps = c2.slider("Steps of gradient descent", 10, 300, 100, step=10, key="scaling_steps")
        show("scaling", figures.input_scaling_figure, cached(input_scaling, data, lr, steps))
    else:
        st.info(scaling_sentence(data))
    st.markdown("**The trained network.** The loss around the final weights, with the path training took.")
    directions = st.radio("Plane", ("pca", "random"), horizontal=True, key="plane",
                          format_func={"pca": "principal directions of the path",
                                       "random": "filter-normalized random directions"}.get)
    cols = st.columns(2) if b is not None else [st.container()]
    for col, run, name in zip(cols, (a, b), ("A", "B")):
        if run is not None:
            with col:
                plane = cached(network_plane, run, data, directions) if run.diverged_at is None else None
                show(f"landscape-{name}", figures.landscape_figure, run, plane)


def on_plane(data) -> bool:
    """Two input features and two classes: the pictures drawn over the feature plane exist."""
    return data.n_features == 2 and data.n_classes == 2


def scaling_sentence(data) -> str:
    """Why the input-scaling contours are not drawn for this data, and where the same idea shows."""
    return (f"These contours are a loss over a logistic unit's two weights, one per input feature, so they can "
            f"be drawn on a page only for two features; this data has {data.n_features:,}. With more inputs the "
            f"valley has {data.n_features:,} directions, and the same thing happens along each pair: a feature "
            "with a wider range stretches the valley along its weight. Pick a two-feature data set (placement, or "
            "a toy set) to see it; on this data, compare runs with 'Standardize inputs' on and off.")


# ---------------------------------------------------------------- Activations


def activations_tab(a, b, data) -> None:
    st.markdown("**Internal covariate shift.** How the values each layer passes on move while the layers "
                "before it learn. With BN the input to the activation is re-centred and re-scaled every step.")
    c1, c2, c3 = st.columns(3)
    layers = len(a.arch.hidden)
    layer = c1.selectbox("Layer", range(1, layers + 1), index=layers - 1, key="act_layer")
    stages = ["act_in", "z", "act"] + (["bn"] if a.arch.normed else [])
    stage = c2.selectbox("Values", stages, key="act_stage", format_func=lambda s: figures.stage_name(s, a))
    unit = c3.selectbox("Unit", range(a.arch.hidden[layer - 1]), key="act_unit", format_func=lambda u: f"{u + 1}")
    hist = cached(_histograms, a, b, layer, stage)
    show("percentiles", figures.activation_percentiles, a, cached(_percentiles, a, b, layer, unit, stage), b)
    show("heatmap", figures.activation_heatmap, a, hist, b)
    show("replay-hist", figures.activation_histogram_replay, a, hist, b)
    lesson_note("covariate-shift")
    st.info("A caution from Santurkar et al. (2018): they inject noise after every BN layer, so each layer's input "
            "shifts again at every step, and ask whether BN still helps. Their account of BN's help is a smoother "
            "loss landscape rather than steadier inputs. What that experiment gives on this data:")
    lesson_note("santurkar")


def _histograms(a, b, layer, stage):
    return layer_histograms([a] if b is None else [a, b], layer, stage)


def _percentiles(a, b, layer, unit, stage):
    return unit_percentiles([a] if b is None else [a, b], layer, unit, stage)


# ------------------------------------------------- Running statistics & test time


def running_tab(a, b, data) -> None:
    if a.config.norm == "layer":
        st.info("Run A uses layer norm: it normalizes each student over the units of a layer, one mean and "
                "variance per row, and never over the batch. There are no batch statistics to average, so it "
                "keeps no running statistics: training and test time compute the same thing. The charts below "
                "check it: the three test accuracies agree, and one student's prediction is the same alone as "
                "inside any batch.")
    elif not a.n_bn:
        st.info("Run A has no batch norm: there are no running statistics. Turn BN on in the sidebar.")
    else:
        st.markdown("**Running statistics.** At test time BN cannot use the statistics of the batch, so during "
                    "training it keeps running averages of μ_B and σ²_B. They start at 0 and 1 and lag behind.")
        c1, c2 = st.columns(2)
        layer = c1.selectbox("BN layer", range(1, a.n_bn + 1), index=a.n_bn - 1, key="run_layer")
        unit = c2.selectbox("Unit", range(a.arch.hidden[layer - 1]), key="run_unit", format_func=lambda u: f"{u + 1}")
        show("running", figures.running_stats_figure, a, layer, unit, cached(cumulative_running, a, layer - 1))
        show("gap", figures.running_gap_figure, a, layer)
        lesson_note("running-averages")
    show("testtime", figures.test_time_figure, a, cached(accuracy_by_statistics, a, data))
    if not on_plane(data):
        predict_held_out(a, b, data)
        classes_section(a, b, data)
        return
    predict_one(a, data, b)
    grid = cached(boundary_replay, a, data) if a.diverged_at is None else None
    show("boundary", figures.decision_boundary_figure, a, grid, data)


def _run_labels(a, b) -> list:
    from .watch import run_names

    return run_names(a, b) if b is not None else run_names(a, None)


def classes_section(a, b, data) -> None:
    """Off the feature plane: a sheet of held-out images (when the features are pixels) and the
    confusion matrices of runs A and B side by side."""
    side = image_side(data.n_features)
    runs = [r for r in (a, b) if r is not None]
    labels = _run_labels(a, b)
    if side is not None:
        st.markdown("**What the network says about held-out images.** The decision boundary lives in a "
                    f"{data.n_features}-dimensional space here, so instead: held-out images with the class each "
                    "run puts them in.")
        cols = st.columns(len(runs))
        for col, run, label in zip(cols, runs, labels):
            with col:
                if run.n_steps == 0:
                    st.caption(f"{label}: no steps, nothing to show.")
                    continue
                show(f"sheet-{label[0]}", figures.digit_sheet_figure, cached(held_out_sheet, run, data), side, data,
                     label)
    else:
        st.caption(f"The decision boundary is drawn over two input features; this data has {data.n_features}. "
                   "The confusion matrix below says what the network gets right and wrong.")
    matrices = [cached(confusion, r, data) for r in runs]
    show("confusion", figures.confusion_figure, matrices, labels, data, [r.config.norm for r in runs])


def predict_held_out(a, b, data) -> None:
    """Off the feature plane: pick one held-out row and see the probability each run gives every class."""
    X, y, split = held_out(data)
    st.markdown(f"**Predict one {split} row.**")
    if not len(y):
        st.caption("There are no rows to pick.")
        return
    row = st.number_input(f"Which {split} row (1 to {len(y):,})", 1, len(y), 1, key="one_row") - 1
    runs = [r for r in (a, b) if r is not None]
    probabilities = [predict_proba(r, data, X[[row]])[0] for r in runs]
    side = image_side(data.n_features)
    colours = [figures.run_colour(r) for r in runs]
    show("one-row", figures.probabilities_figure, X[row] if side else None, side, probabilities, _run_labels(a, b),
         colours, data, int(y[row]))
    if a.n_bn:
        alone = predict_proba(a, data, X[[row]], mode="batch")[0]
        st.caption("Alone in a batch, with its own statistics, the row's mean is the row and its variance 0: every "
                   "BN unit outputs its β, so run A would give every row the same probabilities "
                   f"(largest {alone.max():.3f}). That is why BN keeps running statistics for test time.")
    batch_dependence_section(a, b, data, tuple(float(v) for v in X[row]), "row")


def predict_one(run, data, other=None) -> None:
    names = data.feature_names
    st.markdown("**Predict one student.**")
    X = np.vstack([data.X_train, data.X_test])
    c1, c2 = st.columns(2)
    x1 = c1.number_input(shown(names[0]), float(X[:, 0].min()), float(X[:, 0].max()), float(np.median(X[:, 0])),
                         key="one_x1")
    x2 = c2.number_input(shown(names[1]), float(X[:, 1].min()), float(X[:, 1].max()), float(np.median(X[:, 1])),
                         key="one_x2")
    p_eval = predict(run, data, [[x1, x2]])[0]
    p_alone = predict(run, data, [[x1, x2]], mode="batch")[0]
    label = shown(data.label_name)
    layer_norm = run.config.norm == "layer"
    c1.metric("at test time (layer norm)" if layer_norm else "with the running statistics", f"P({label}) = {p_eval:.3f}")
    c2.metric("alone, in training mode (layer norm)" if layer_norm else "with its own batch statistics",
              f"P({label}) = {p_alone:.3f}")
    if run.n_bn:
        st.caption("Alone in a batch, the student's mean is the student and the variance is 0: every BN unit "
                   "outputs its β, so the second number is the same for every student you type. That is why "
                   "BN keeps running statistics for test time.")
    batch_dependence_section(run, other, data, (float(x1), float(x2)))


def batch_dependence_section(run, other, data, x, noun: str = "student") -> None:
    """One row, x (n_in,) raw features as a tuple, alone and inside random batches of runs A and B;
    noun: what a row is called in the sentence."""
    result = cached(one_student_in_batches, run, data, x)
    other_result = (cached(one_student_in_batches, other, data, x) if other is not None and other.n_steps else None)
    if run.n_steps:
        st.markdown(batch_dependence_sentence(run, result, noun))
    show("batchdependence", figures.batch_dependence_figure, run, result, other, other_result)


def batch_dependence_sentence(run, result, noun: str = "student") -> str:
    """What the student's numbers alone and inside batches say, with the numbers."""
    n, b = result.batch_size, len(result.in_batches)
    low, high = float(result.in_batches.min()), float(result.in_batches.max())
    if run.config.norm == "layer":
        return (f"With layer norm this {noun}'s prediction is **the same alone as inside each of {b} random "
                f"batches of {n}**, in training mode and at test time: all {2 * b + 2} numbers lie within "
                f"{result.spread:.1e} of each other (rounding). Each row is normalized by its own units, so "
                "the other rows never enter.")
    if run.n_bn:
        return (f"With batch norm, in training mode, the same {noun} gets P from {low:.3f} to {high:.3f} "
                f"across {b} random batches of {n}, and {result.alone_train:.3f} alone: the batch's statistics "
                f"normalize it. At test time the running statistics give {result.alone_eval:.3f} in every batch.")
    return (f"Without normalization the rows never meet: the {noun} gets {result.alone_eval:.3f} alone and in "
            f"each of {b} random batches of {n} (all within {result.spread:.1e}).")


# ----------------------------------------------------------- Batch calculator


def calculator_tab(a, data) -> None:
    if a.config.norm == "layer" and a.n_steps:
        row_calculator(a, data)
        return
    if a.config.norm == "layer":
        st.info("Run A uses layer norm but made no step, so there is no batch to work through.")
        return
    if not a.n_bn:
        st.info("Run A has no batch norm: turn BN on to see its arithmetic.")
        return
    if not a.n_steps:
        st.info("Run A took no steps (its first batch already gave a loss that is not a finite number): "
                "there is no batch to show.")
        return
    st.markdown("Pick any step and BN layer: these are the numbers the engine used, student by student.")
    c1, c2 = st.columns([3, 1])
    with c1:
        step = _calc_step(a)
    if a.thinning:
        c1.caption(a.thinning)
    layer = c2.selectbox("BN layer", range(1, a.n_bn + 1), key="calc_layer")
    undo = st.toggle("Set γ = √(σ²_B + ε) and β = μ_B of this batch", key="calc_undo",
                     help="γ and β are learned, so the network can choose to undo the normalization. "
                          "This sets them for this layer and batch and runs the batch through the engine again.")
    calc = batch_calculation(a, data, step, layer, undo=undo)
    n = len(calc.rows)
    z = calc.bn_input[:, 0]
    shown = " + ".join(f"{v:.4g}" if v >= 0 else f"({v:.4g})" for v in z[:6]) + (" + \\ldots" if n > 6 else "")
    st.latex(rf"\mu_B = \frac{{1}}{{{n}}}\left({shown}\right) = {calc.mean[0]:.6g}")
    st.latex(rf"\sigma^2_B = \frac{{1}}{{{n}}}\sum_i (z_i - \mu_B)^2 = {calc.var[0]:.6g}")
    st.latex(rf"\hat z_1 = \frac{{z_1 - \mu_B}}{{\sqrt{{\sigma^2_B + \varepsilon}}}} = "
             rf"\frac{{{z[0]:.6g} - ({calc.mean[0]:.6g})}}{{\sqrt{{{calc.var[0]:.6g} + {calc.eps:g}}}}} "
             rf"= {calc.xhat[0, 0]:.6g}")
    st.latex(rf"\gamma \hat z_1 + \beta = {calc.gamma[0]:.6g}\cdot({calc.xhat[0, 0]:.6g}) + ({calc.beta[0]:.6g}) "
             rf"= {calc.out[0, 0]:.6g}")
    if undo:
        st.success(undo_sentence(calc, "z" if a.arch.bn_position == "before" else "g(z)"))
        lesson_note("gamma-beta-undo")
    st.caption(f"Unit 1 of BN layer {layer} at step {step:,}; the table has every unit.")
    table = tables.batch_table(a, data, step, layer, undo)
    st.dataframe(table, hide_index=True, width="stretch", height=min(36 * (len(table) + 1) + 3, 900))
    lesson_note("worked-example")


def _calc_step(a) -> int:
    """The step slider: a record kept at a stride has the numbers of every k-th step only, so it moves by k."""
    last = (a.n_steps - 1) // a.stride * a.stride
    chosen = st.session_state.get("calc_step")
    if isinstance(chosen, int) and (chosen % a.stride or not 0 <= chosen <= last):
        st.session_state["calc_step"] = min(max(chosen, 0), last) // a.stride * a.stride
    return st.slider("Step", 0, last, 0, step=a.stride, key="calc_step") if last > 0 else 0


def row_calculator(a, data) -> None:
    """Layer norm's arithmetic for one step and layer: each student's own mean and variance over its units."""
    st.markdown("Run A uses layer norm: pick any step and layer. Where BN averages each unit over the students "
                "of the batch, layer norm averages each student over the units of the layer: the statistics "
                "below belong to one student, and the other students of the batch never enter them.")
    c1, c2 = st.columns([3, 1])
    with c1:
        step = _calc_step(a)
    layer = c2.selectbox("Layer", range(1, len(a.arch.hidden) + 1), key="calc_layer")
    calc = row_calculation(a, data, step, layer)
    x = calc.ln_input[0]
    d = len(x)
    terms = " + ".join(f"{v:.4g}" if v >= 0 else f"({v:.4g})" for v in x[:6]) + (" + \\ldots" if d > 6 else "")
    st.latex(rf"\mu_1 = \frac{{1}}{{{d}}}\left({terms}\right) = {calc.mean[0]:.6g}")
    st.latex(rf"\sigma^2_1 = \frac{{1}}{{{d}}}\sum_j (x_{{1j}} - \mu_1)^2 = {calc.var[0]:.6g}")
    st.latex(rf"\hat x_{{11}} = \frac{{x_{{11}} - \mu_1}}{{\sqrt{{\sigma^2_1 + \varepsilon}}}} = "
             rf"\frac{{{x[0]:.6g} - ({calc.mean[0]:.6g})}}{{\sqrt{{{calc.var[0]:.6g} + {calc.eps:g}}}}} "
             rf"= {calc.xhat[0, 0]:.6g}")
    st.latex(rf"\gamma_1 \hat x_{{11}} + \beta_1 = {calc.gamma[0]:.6g}\cdot({calc.xhat[0, 0]:.6g}) + "
             rf"({calc.beta[0]:.6g}) = {calc.out[0, 0]:.6g}")
    st.caption(f"Student 1 (training row {int(calc.rows[0])}) of the batch at step {step:,}, layer {layer}; "
               "the table gives every student's own mean and variance.")
    table = tables.row_table(a, data, step, layer)
    st.dataframe(table, hide_index=True, width="stretch", height=min(36 * (len(table) + 1) + 3, 900))


def undo_sentence(calc, what: str = "z") -> str:
    """What γ = √(σ²_B + ε), β = μ_B did to this batch, in numbers the engine produced.

    what: the name of BN's input ("z" before the activation, "g(z)" after it).
    """
    gap = float(np.max(np.abs(calc.out - calc.bn_input)))
    scale = float(np.max(np.abs(calc.bn_input)))
    verdict = ("BN gives back its input" if gap <= 1e-9 * max(scale, 1.0)
               else "BN does not give back its input here")
    return (f"{verdict}: over the {calc.out.shape[0]} students and {calc.out.shape[1]} units of this batch, "
            f"γ·ẑ + β differs from {what} by at most {gap:.1e} (the inputs reach {scale:.3g}). "
            "Learned γ and β can undo the normalization; training decides whether they do.")


# ----------------------------------------------------------------- Parameters


def parameters_tab(a, b, data) -> None:
    if a.arch.normed:
        count = len(a.arch.hidden)
        layer = st.selectbox("Layer-norm layer" if a.config.norm == "layer" else "BN layer", range(1, count + 1),
                             key="param_layer")
        show("gammabeta", figures.gamma_beta_figure, a, layer)
    show("gradnorm", figures.gradient_norm_figure, a, b)
    show("ratio", figures.update_ratio_figure, a, b)
    st.caption("For vanishing gradients, try 6 layers of 8 sigmoid units (hidden = 8,8,8,8,8,8) with and "
               "without BN.")
    lesson_note("vanishing-gradients")
    bias_section(a, b)


def bias_section(run, other=None) -> None:
    """The Dense bias in front of BN, its recorded gradient, and what a non-zero start does in evaluation mode."""
    st.markdown("**The bias in front of BN.**")
    if run.config.norm == "layer":
        st.caption("This run uses layer norm, which keeps every Dense bias: it subtracts each student's mean over "
                   "the units, and a bias that differs from unit to unit is not such a mean, so the bias gets a "
                   "gradient like any weight. Only batch norm, which subtracts each unit's mean over the batch, "
                   f"cancels it. [Keep the bias in front of BN, start it away from 0, and compare]"
                   f"(?{lesson_query('bias-redundant')})")
        return
    records = cached(biases_before_bn, run)
    if not records:
        st.caption("This run has no Dense bias directly in front of a BN layer (BN drops it unless "
                   f"'keep bias' is on). [Keep the bias, start it away from 0, and compare]"
                   f"(?{lesson_query('bias-redundant')})")
        return
    for sentence in bias_sentences(run, records):
        st.markdown(sentence)
    show("bias", figures.bias_figure, run, records)
    st.markdown("In training mode BN cancels the bias; in evaluation mode the running mean has to learn it first. "
                "Where the two lines of a run part, evaluation-mode outputs are still shifted.")
    show("evallag", figures.eval_lag_figure, run, other)
    lesson_note("bias-redundant")


def bias_sentences(run, records) -> list:
    """One sentence per biased layer, from the gradients the run recorded."""
    out = []
    for rec in records:
        largest = float(np.max(np.abs(rec.grads))) if rec.grads.size else 0.0
        moved = float(np.max(np.abs(rec.values - rec.values[0])))
        size = "0 at every step" if largest == 0 else f"at most {largest:.1e} in size"
        ratio = "" if largest == 0 else f", at most {rec.relative:.1e} of the weight gradient's size"
        verdict = "zero up to rounding" if rec.relative < 1e-10 else "not zero: something else depends on b"
        steps = f"{len(rec.grads):,} steps" if run.stride == 1 else f"{len(rec.grads):,} recorded steps"
        out.append(f"b{rec.layer}: over {steps} its recorded gradient was {size}{ratio}, "
                   f"**{verdict}**. " + (f"It never moved from where it started, {_vector(rec.values[0])}."
                                         if moved == 0 else f"It moved by at most {moved:.1e} from where it "
                                         f"started, {_vector(rec.values[0])}."))
    return out


def _vector(values) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in values) + ")"


# --------------------------------------------------------------------- Sweeps


def sweeps_tab(cfg, data, key) -> None:
    st.markdown("Many trainings at once, the same in everything but one number, with BN and without, each "
                "repeated with several seeds: the line is the median over seeds, the band the range from the "
                "lowest to the highest.")
    capped = sweep_plan(cfg, len(data.y_train), Budget().times(limits.SWEEP_SHARE), **data_shape(data))
    changes = [f"{k} {show_value(getattr(capped, k))}" for k in ("epochs", "hidden", "batch_size")
               if getattr(capped, k) != getattr(cfg, k)]
    if changes:
        st.caption("To keep the sweep's cost within this server's limits, each training here uses "
                   + "; ".join(changes) + ".")
    buttons = st.columns(2)
    for col, field, title in zip(buttons, ("lr", "init_scale"), ("Learning-rate sweep", "Init-scale sweep")):
        if col.button(title, key=f"sweep-{field}", width="stretch"):
            st.session_state[f"swept-{field}"] = (capped, key)
    for field, lesson in (("lr", "higher-lr"), ("init_scale", "init-scale")):
        if st.session_state.get(f"swept-{field}") == (capped, key):   # asked for, for these very settings
            seeds = seeds_that_fit(capped, len(data.y_train), field, Budget().times(limits.SWEEP_SHARE),
                                   **data_shape(data))
            if seeds < SWEEP_SEEDS:
                st.caption(f"{seeds} seed{'s' if seeds > 1 else ''} rather than {SWEEP_SEEDS}, to keep this sweep "
                           "within the server's limits; fewer epochs or a smaller network allow more.")
            count = 2 * len(SWEEP_FIELDS[field]) * seeds
            with st.spinner(f"Training {count} networks…"):
                result = get_sweep(capped, data, key, field, seeds)
            show(f"sweepchart-{field}", figures.sweep_figure, result)
            lesson_note(lesson)
    st.markdown("**Batch size.** The batch-size lesson's experiment (the default network on the placement data), "
                "from batches of 2 to the whole training set, BN on and off, over 10 seeds: how far μ_B wanders, "
                "how much training mode differs from evaluation mode, and the train/test accuracy gap.")
    if st.button("Batch-size sweep", key="sweep-batch", width="stretch"):
        st.session_state["swept-batch"] = True
    if st.session_state.get("swept-batch"):
        with st.spinner("Training every batch size with 10 seeds…"):
            chart = batch_size_chart()
        access.chart("sweepchart-batch", chart, cached(access.speech_for, chart, None))
        lesson_note("batch-noise")


# ------------------------------------------------------------------- The math


def math_tab() -> None:
    st.markdown("**Forward pass** over a mini-batch of $n$ rows, for each unit (training mode):")
    st.latex(r"\mu_B = \frac{1}{n}\sum_{i=1}^{n} z_i \qquad "
             r"\sigma_B^2 = \frac{1}{n}\sum_{i=1}^{n} (z_i - \mu_B)^2")
    st.latex(r"\hat z_i = \frac{z_i - \mu_B}{\sqrt{\sigma_B^2 + \varepsilon}} \qquad "
             r"\tilde z_i = \gamma\,\hat z_i + \beta")
    st.markdown("ε sits *inside* the square root. The normalized values have mean 0 and variance "
                "σ²_B / (σ²_B + ε): close to 1 only when σ²_B is much larger than ε (a unit with standard "
                "deviation 0.05 and Keras' ε = 0.001 gives 0.0025 / 0.0035 = 0.71). They are **not** confined "
                "to [0, 1]. "
                "γ scales the output's standard deviation, so its variance grows as γ²; "
                "γ = √(σ²_B + ε) and β = μ_B give back z.")
    st.markdown("**Backward pass**, with $g_i = \\partial L / \\partial \\tilde z_i$:")
    st.latex(r"\frac{\partial L}{\partial \beta} = \sum_i g_i \qquad "
             r"\frac{\partial L}{\partial \gamma} = \sum_i g_i \hat z_i")
    st.latex(r"\frac{\partial L}{\partial z_i} = \frac{\gamma}{\sqrt{\sigma_B^2+\varepsilon}}"
             r"\left(g_i - \frac{1}{n}\sum_j g_j - \hat z_i\,\frac{1}{n}\sum_j g_j \hat z_j\right)")
    st.markdown("Adding a constant $b$ to every $z_i$ moves μ_B by $b$ and changes nothing else, so "
                "$\\partial L/\\partial b = \\sum_i \\partial L/\\partial z_i = 0$: the bias in front of BN is "
                "redundant.")
    st.markdown("**Running statistics**, updated after each step and used at test time:")
    st.latex(r"\mu \leftarrow m\,\mu + (1-m)\,\mu_B \qquad \sigma^2 \leftarrow m\,\sigma^2 + (1-m)\,\sigma_B^2")
    st.markdown("(Keras writes this with its momentum $m$, 0.99 by default. PyTorch writes the same rule with "
                "its momentum equal to $1 - m$: its default 0.1 means $m$ = 0.9, a shorter memory than Keras' "
                "default. PyTorch also folds in the unbiased $\\frac{n}{n-1}\\sigma_B^2$.) One alternative is "
                "the plain average of all $T$ mini-batch statistics over training:")
    st.latex(r"\mu = \frac{1}{T}\sum_{t=1}^{T}\mu_B^{(t)} \qquad \sigma^2 = \frac{1}{T}\sum_{t=1}^{T}"
             r"\sigma_B^{2\,(t)}")
    st.markdown("Ioffe and Szegedy's Algorithm 2 averages *after* training instead: the trained network's "
                "statistics over $K$ mini-batches of $n$ rows, with the unbiased variance "
                "(`running_avg = population`):")
    st.latex(r"\mu = \frac{1}{K}\sum_{k=1}^{K}\mu_B^{(k)} \qquad \sigma^2 = \frac{n}{n-1}\,\frac{1}{K}"
             r"\sum_{k=1}^{K}\sigma_B^{2\,(k)}")
    st.markdown("**At test time** each row is normalized alone: $\\hat z = (z - \\mu)/\\sqrt{\\sigma^2 + "
                "\\varepsilon}$, an affine map per unit.")
    layer_norm_math()


def layer_norm_math() -> None:
    """Layer normalization's formulas beside batch norm's, each with the axis it averages over."""
    st.markdown("**Layer normalization beside batch norm** (Ba, Kiros & Hinton, 2016). Both see the same "
                "matrix $z_{ij}$: row $i$ is a student of the batch ($i = 1..n$), column $j$ a unit of the "
                "layer ($j = 1..D$). Batch norm averages down each column, over the batch; layer norm along "
                "each row, over the units.")
    left, right = st.columns(2)
    with left:
        st.markdown("Batch norm: over the **rows** $i$ of the batch, one $\\mu_j, \\sigma^2_j$ per unit")
        st.latex(r"\mu_j = \frac{1}{n}\sum_{i=1}^{n} z_{ij} \qquad "
                 r"\sigma_j^2 = \frac{1}{n}\sum_{i=1}^{n} (z_{ij} - \mu_j)^2")
        st.latex(r"\hat z_{ij} = \frac{z_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}")
    with right:
        st.markdown("Layer norm: over the **units** $j$ of the layer, one $\\mu_i, \\sigma^2_i$ per row")
        st.latex(r"\mu_i = \frac{1}{D}\sum_{j=1}^{D} z_{ij} \qquad "
                 r"\sigma_i^2 = \frac{1}{D}\sum_{j=1}^{D} (z_{ij} - \mu_i)^2")
        st.latex(r"\hat z_{ij} = \frac{z_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \varepsilon}}")
    st.markdown("In both, a learned scale and shift per unit follow (the same ε sits inside the root, and the "
                "layer sits where BN would, before or after the activation):")
    st.latex(r"\tilde z_{ij} = \gamma_j\,\hat z_{ij} + \beta_j")
    st.markdown("Row $i$'s statistics use row $i$ alone, so no other student enters its output: training and "
                "test time compute the same map, layer norm keeps no running statistics, and a batch of one "
                "is normalized like any other. **Backward pass**, with $g_{ij} = \\partial L / \\partial "
                "\\tilde z_{ij}$ and $\\hat g_{ij} = \\gamma_j g_{ij}$, means taken along the row:")
    st.latex(r"\frac{\partial L}{\partial \beta_j} = \sum_i g_{ij} \qquad "
             r"\frac{\partial L}{\partial \gamma_j} = \sum_i g_{ij}\,\hat z_{ij}")
    st.latex(r"\frac{\partial L}{\partial z_{ij}} = \frac{1}{\sqrt{\sigma_i^2+\varepsilon}}"
             r"\left(\hat g_{ij} - \frac{1}{D}\sum_k \hat g_{ik} - \hat z_{ij}\,\frac{1}{D}\sum_k "
             r"\hat g_{ik} \hat z_{ik}\right)")
    st.markdown("A Dense bias $b_j$ in front of layer norm is not redundant: it moves $\\mu_i$ by the mean of "
                "the $b_j$, not each $z_{ij}$ by its own $b_j$, so only its part common to every unit cancels. "
                "On a layer of two units, $\\hat z_{i1} = -\\hat z_{i2} = d/\\sqrt{d^2 + 4\\varepsilon}$ "
                "with $d = z_{i1} - z_{i2}$: close to ±1 unless the two units nearly agree, so layer norm "
                "keeps little more than which unit is larger. It needs wider layers than the notes' 3 and 2 "
                "units to carry information.")
