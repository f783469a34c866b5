"""Plotly figures of the lab, one module per subject.

Builders draw what they are given: a Run's arrays, or numbers computed from a
Run by the engine (``bnviz.activations``, ``bnviz.inference``,
``bnviz.landscape``, ``bnviz.running``). They never run the model. A run that
lacks what a chart needs (no steps, no BN) gets a figure saying so.
``common`` holds the shared look.
"""
from __future__ import annotations

import numpy as np

from ..activations import layer_histograms, unit_percentiles
from ..bias import biases_before_bn
from ..classes import confusion, held_out_sheet, image_side
from ..inference import accuracy_by_statistics, boundary_replay, one_student_in_batches
from ..landscape import input_scaling, network_plane
from ..running import cumulative_running
from ..tables import batch_table, model_summary, step_table  # tables live engine-side; kept here for callers
from .activations import activation_heatmap, activation_histogram_replay, activation_percentiles
from .classes import confusion_figure, digit_sheet_figure, probabilities_figure
from .common import (BN_OFF, BN_ON, LIGHT_FRAMES, LN_ON, MAX_FRAMES, STAGE_NAMES, run_colour, run_label,
                     stage_name)
from .contours import input_scaling_figure, landscape_figure
from .curves import training_curves
from .lessons import by_batch_size_svg, figure1_svg, spread_svg
from .network import network_diagram
from .parameters import bias_figure, eval_lag_figure, gamma_beta_figure, gradient_norm_figure, update_ratio_figure
from .running import running_gap_figure, running_stats_figure
from .sweeps import batch_size_figure, sweep_figure
from .testtime import batch_dependence_figure, decision_boundary_figure, test_time_figure


def _middle_student(data):
    """The median of each feature over every row: the student the page's "predict one student" starts with."""
    return np.median(np.vstack([data.X_train, data.X_test]), axis=0)


def all_figures(run, data, other=None) -> dict:
    """Every chart of a run by name, its inputs computed by the engine as the page does
    (for checks, the gallery and exports). A run without steps or without BN still
    gets every chart: those that need what it lacks say so. Data off the two-feature plane
    (many inputs or classes) gets a confusion matrix, and a sheet of held-out images when the
    features are pixels, in place of the input-scaling contours and the decision boundary."""
    runs = [run] if other is None else [run, other]
    finite = run.diverged_at is None
    last_layer = len(run.arch.hidden)
    figures = {
        "training_curves": training_curves(run, other),
        "landscape": landscape_figure(run, network_plane(run, data) if finite else None),
        "activations": activation_heatmap(run, layer_histograms(runs, 1, "act_in"), other),
        "percentiles": activation_percentiles(run, unit_percentiles(runs, last_layer, 0, "act_in"), other),
        "histogram_replay": activation_histogram_replay(run, layer_histograms(runs, 1, "act_in"), other),
        "test_time": test_time_figure(run, accuracy_by_statistics(run, data)),
        "batch_dependence": batch_dependence_figure(run, one_student_in_batches(run, data, _middle_student(data))),
        "gradient_norms": gradient_norm_figure(run, other),
        "update_ratios": update_ratio_figure(run, other),
        "network": network_diagram(run, data.label_name),
        "running_stats": running_stats_figure(run, max(run.n_bn, 1), 0,
                                              cumulative_running(run, run.n_bn - 1) if run.n_bn else None),
        "running_gap": running_gap_figure(run, max(run.n_bn, 1)),
        "gamma_beta": gamma_beta_figure(run, 1),
        "bias": bias_figure(run, biases_before_bn(run)),
    }
    if data.n_features == 2 and data.n_classes == 2:
        figures["input_scaling"] = input_scaling_figure(input_scaling(data, 0.12, 100))
        figures["decision_boundary"] = decision_boundary_figure(run, boundary_replay(run, data) if finite else None,
                                                                data)
    else:
        figures["confusion"] = confusion_figure([confusion(r, data) for r in runs], [run_label(r) for r in runs],
                                                data, [r.config.norm for r in runs])
        side = image_side(data.n_features)
        if side is not None:
            figures["test_sheet"] = digit_sheet_figure(held_out_sheet(run, data), side, data)
    return figures
