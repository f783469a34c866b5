"""Tables of numbers the page shows and exports, built from a Run (pandas, no drawing).

step_table: every recorded per-step quantity, one row per step (the Steps CSV);
batch_table: one mini-batch through one BN layer, as the batch calculator shows it;
model_summary: a Keras-style count of what each layer holds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .inference import batch_calculation
from .run import Run


def batch_table(run: Run, data, step: int, layer: int = 1, undo: bool = False) -> pd.DataFrame:
    """One mini-batch through one BN layer, row by row and unit by unit: the
    students' raw features, z, μ_B, σ²_B, ẑ, γ·ẑ + β and the activation
    (undo: with γ = √(σ²_B + ε), β = μ_B, see ``batch_calculation``).

    One row per (student, unit): n * units rows for a batch of n students.
    """
    calc = batch_calculation(run, data, step, layer, undo)
    rows = []
    names = data.feature_names
    before = run.arch.bn_position == "before"
    for i, row in enumerate(calc.rows):
        for u in range(calc.z.shape[1]):
            entry = {"row": int(row), names[0]: calc.raw[i, 0], names[1]: calc.raw[i, 1], "unit": u + 1,
                     "z": calc.z[i, u]}
            if not before:
                entry["g(z)"] = calc.bn_input[i, u]
            entry.update({"μ_B": calc.mean[u], "σ²_B": calc.var[u], "ẑ": calc.xhat[i, u],
                          "γ": calc.gamma[u], "β": calc.beta[u], "γ·ẑ + β": calc.out[i, u]})
            if before:
                entry[f"{run.arch.activation}(γ·ẑ + β)"] = calc.act[i, u]
            rows.append(entry)
    return pd.DataFrame(rows)


def step_table(run: Run) -> pd.DataFrame:
    """Everything recorded per step, one row per step: the export behind the CSV download."""
    table = {"step": np.arange(run.n_steps), "epoch": np.arange(run.n_steps) // run.steps_per_epoch,
             "batch_loss": run.train_loss, "batch_accuracy": run.train_acc}
    for k in range(run.n_bn):
        for u in range(run.running_mean[k].shape[1]):
            for name, values in (("batch_mean", run.batch_mean), ("batch_var", run.batch_var),
                                 ("running_mean", run.running_mean), ("running_var", run.running_var),
                                 ("gamma", run.gamma), ("beta", run.beta)):
                table[f"bn{k + 1}_unit{u + 1}_{name}"] = values[k][:, u]
    for l in range(run.grad_norm.shape[1]):
        table[f"W{l + 1}_grad_norm"] = run.grad_norm[:, l]
        table[f"W{l + 1}_update_ratio"] = run.update_ratio[:, l]
    return pd.DataFrame(table)


def model_summary(run: Run) -> pd.DataFrame:
    """Keras-style summary: output shape, trainable and non-trainable counts per layer, then a total row."""
    arch, rows = run.arch, []
    for k in range(1, arch.n_dense + 1):
        width = arch.widths[k]
        W = arch.widths[k - 1] * width
        b = width if arch.has_bias(k) else 0
        last = k == arch.n_dense
        rows.append(dict(layer=f"dense_{k} ({'sigmoid' if last else arch.activation})", output=f"(None, {width})",
                         trainable=W + b, non_trainable=0, holds=f"W{k} ({W})" + (f", b{k} ({b})" if b else "")))
        if arch.bn and not last:
            rows.append(dict(layer=f"batch_norm_{k}", output=f"(None, {width})", trainable=2 * width,
                             non_trainable=2 * width,
                             holds=f"γ{k}, β{k} ({width} each); running μ, σ² ({width} each)"))
    table = pd.DataFrame(rows)
    table["params"] = table["trainable"] + table["non_trainable"]
    total = dict(layer="total", output="", trainable=int(table["trainable"].sum()),
                 non_trainable=int(table["non_trainable"].sum()), holds="", params=int(table["params"].sum()))
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)[
        ["layer", "output", "holds", "trainable", "non_trainable", "params"]]
