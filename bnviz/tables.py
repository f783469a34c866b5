"""Tables of numbers the page shows and exports, built from a Run (pandas, no drawing).

step_table: every per-step quantity of the recording table, one row per step (the Steps CSV);
batch_table: one mini-batch through one BN layer, as the batch calculator shows it;
row_table: the same for a layer-norm layer, each row with its own statistics;
model_summary: a Keras-style count of what each layer holds.
"""
from __future__ import annotations

import pandas as pd

from .inference import batch_calculation, row_calculation
from .recording import RECORDED, bn_units
from .run import Run
from .visitor_text import plain


def batch_table(run: Run, data, step: int, layer: int = 1, undo: bool = False) -> pd.DataFrame:
    """One mini-batch through one BN layer, row by row and unit by unit: the
    students' raw features, z, μ_B, σ²_B, ẑ, γ·ẑ + β and the activation
    (undo: with γ = √(σ²_B + ε), β = μ_B, see ``batch_calculation``).

    One row per (student, unit): n * units rows for a batch of n students.
    """
    calc = batch_calculation(run, data, step, layer, undo)
    rows = []
    names = [plain(n) for n in data.feature_names]      # column names: an upload's headers, on one line
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


def row_table(run: Run, data, step: int, layer: int = 1) -> pd.DataFrame:
    """One mini-batch through one layer-norm layer, row by row and unit by unit: the students'
    raw features, layer norm's input x, the row's own μ and σ² over its units, x̂ and γ·x̂ + β
    (see ``bnviz.inference.row_calculation``). One row per (student, unit)."""
    calc = row_calculation(run, data, step, layer)
    names = [plain(n) for n in data.feature_names]
    x_name = "z" if run.arch.bn_position == "before" else "g(z)"
    rows = []
    for i, row in enumerate(calc.rows):
        for u in range(calc.ln_input.shape[1]):
            rows.append({"row": int(row), names[0]: calc.raw[i, 0], names[1]: calc.raw[i, 1], "unit": u + 1,
                         x_name: calc.ln_input[i, u], "μ of the row": calc.mean[i], "σ² of the row": calc.var[i],
                         "x̂": calc.xhat[i, u], "γ": calc.gamma[u], "β": calc.beta[u], "γ·x̂ + β": calc.out[i, u]})
    return pd.DataFrame(rows)


def step_table(run: Run) -> pd.DataFrame:
    """Every per-step quantity of RECORDED that has a CSV column, one row per step: the
    Steps CSV. Columns: step, epoch, the one-number quantities, then per BN layer and
    unit, then per hidden layer, then per Dense layer, each in table order."""
    steps = run.axis_states("step")
    table = {"step": steps, "epoch": steps // run.steps_per_epoch}
    kinds = {kind: [q for q in RECORDED if q.axis == "step" and q.column and q.layers == kind]
             for kind in ("", "bn", "hidden", "dense")}
    for q in kinds[""]:
        table[q.column] = run.recorded[q.name]
    for k, units in enumerate(bn_units(run.arch), start=1):
        for u in range(1, units + 1):
            for q in kinds["bn"]:
                table[q.column.format(k=k, u=u)] = run.recorded[q.name][k - 1][:, u - 1]
    for kind, count in (("hidden", len(run.arch.hidden)), ("dense", run.arch.n_dense)):
        for l in range(1, count + 1):
            for q in kinds[kind]:
                table[q.column.format(l=l)] = run.recorded[q.name][:, l - 1]
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
        if arch.norm == "layer" and not last:
            rows.append(dict(layer=f"layer_norm_{k}", output=f"(None, {width})", trainable=2 * width,
                             non_trainable=0, holds=f"γ{k}, β{k} ({width} each); no running statistics"))
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
