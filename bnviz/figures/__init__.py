"""Plotly figures of the lab, one module per subject, each built from a Run.

Builders read a Run's arrays (and a Dataset or a second Run); they never touch
the model. ``common`` holds the shared look.
"""
from __future__ import annotations

from ..tables import batch_table, model_summary, step_table  # tables live engine-side; kept here for callers
from .activations import activation_heatmap, activation_histogram_replay, activation_percentiles
from .common import BN_OFF, BN_ON, LIGHT_FRAMES, MAX_FRAMES, STAGE_NAMES, run_colour, run_label
from .contours import input_scaling_figure, landscape_figure
from .curves import training_curves
from .network import network_diagram
from .parameters import bias_figure, gamma_beta_figure, gradient_norm_figure, update_ratio_figure
from .running import running_gap_figure, running_stats_figure
from .sweeps import sweep_figure
from .testtime import decision_boundary_figure, test_time_figure


def all_figures(run, data, other=None) -> dict:
    """Every chart of a run by name (what the page shows), for checks and exports."""
    figures = {
        "training_curves": training_curves(run, other),
        "input_scaling": input_scaling_figure(run, data),
        "landscape": landscape_figure(run, data),
        "activations": activation_heatmap(run, 1, "act_in", other),
        "percentiles": activation_percentiles(run, len(run.arch.hidden), 0, "act_in", other),
        "histogram_replay": activation_histogram_replay(run, 1, "act_in", other),
        "test_time": test_time_figure(run, data),
        "decision_boundary": decision_boundary_figure(run, data),
        "gradient_norms": gradient_norm_figure(run, other),
        "update_ratios": update_ratio_figure(run, other),
        "network": network_diagram(run),
    }
    if run.n_bn:
        figures["running_stats"] = running_stats_figure(run, run.n_bn, 0)
        figures["running_gap"] = running_gap_figure(run, run.n_bn)
        figures["gamma_beta"] = gamma_beta_figure(run, 1)
    return figures
