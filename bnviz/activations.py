"""Layer values over training, summarized for the charts: shared-bin histograms
and percentiles of each snapshot (internal covariate shift).

Everything here reads a Run's snapshots: the values the training rows give
(all of them, or a fixed sample of 1,000 when there are more, BN with the
statistics of all) at up to SNAPSHOT_CAP evenly spread states
(``Run.snapshot_steps``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .run import Run

STAGES = ("act_in", "z", "act", "bn")
PERCENTILES = (15, 50, 85)   # as in Ioffe & Szegedy (2015), Figure 1


def stage_values(run: Run, layer: int, stage: str) -> np.ndarray | None:
    """(K, rows, units) snapshot values of one stage of hidden layer `layer` (1-based),
    or None when the run has no such stage (BN output without BN).

    stage: z (Dense output), bn (BN output, or layer norm's), act (activation output),
    or act_in, the activation's input: the normalization's output when it comes before
    the activation, else z.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    if not 1 <= layer <= len(run.arch.hidden):
        raise ValueError(f"layer must be 1 to {len(run.arch.hidden)}, got {layer}")
    if stage == "act_in":
        stage = "bn" if run.arch.normed and run.arch.bn_position == "before" else "z"
    if stage not in run.snapshots:
        return None
    return run.snapshots[stage][layer - 1]


@dataclass
class LayerHistograms:
    """Histograms of one layer's values at every snapshot, for one or two runs on shared bins.

    edges: (B + 1,) bin edges from the 0.5th to the 99.5th percentile of all the
    runs' values (values outside fall in the end bins); centres: (B,);
    steps[r]: (K_r,) the snapshot states of run r; shares[r]: (K_r, B) the share
    of values in each bin at each state (rows sum to 1), or None where run r has
    no such stage.
    """

    layer: int
    stage: str
    unit: int | None
    edges: np.ndarray
    steps: list
    shares: list

    @property
    def centres(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2


def layer_histograms(runs, layer: int, stage: str = "act_in", unit: int | None = None,
                     bins: int = 40) -> LayerHistograms:
    """Histograms of `stage` of hidden layer `layer` over training, one run or several
    on the same bins. unit: one unit (0-based), or None for all units pooled."""
    values = [stage_values(r, layer, stage) for r in runs]
    if unit is not None:
        values = [v if v is None else v[..., unit:unit + 1] for v in values]
    present = [v.ravel() for v in values if v is not None]
    pooled = np.concatenate(present) if present else np.empty(0)
    pooled = pooled[np.isfinite(pooled)]
    low, high = np.percentile(pooled, [0.5, 99.5]) if len(pooled) else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    shares = []
    for v in values:
        if v is None:
            shares.append(None)
            continue
        flat = np.clip(v.reshape(len(v), -1), low, high)
        counts = np.stack([np.histogram(row, edges)[0] for row in flat]).astype(float)
        shares.append(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1))
    return LayerHistograms(layer, stage, unit, edges, [r.snapshot_steps for r in runs], shares)


@dataclass
class UnitPercentiles:
    """The 15th, 50th and 85th percentiles of one unit's values at every snapshot.

    steps[r]: (K_r,) snapshot states of run r; values[r]: (3, K_r), or None where
    run r has no such stage.
    """

    layer: int
    unit: int
    stage: str
    steps: list
    values: list


def unit_percentiles(runs, layer: int, unit: int, stage: str = "act_in") -> UnitPercentiles:
    """Percentiles of one unit's values over the snapshot rows, per snapshot, for each run."""
    out = []
    for r in runs:
        v = stage_values(r, layer, stage)
        if v is not None and not 0 <= unit < v.shape[-1]:
            raise ValueError(f"unit must be 0 to {v.shape[-1] - 1}, got {unit}")
        if v is None:
            out.append(None)
            continue
        with np.errstate(invalid="ignore"):
            out.append(np.percentile(v[..., unit], PERCENTILES, axis=1))
    return UnitPercentiles(layer, unit, stage, [r.snapshot_steps for r in runs], out)
