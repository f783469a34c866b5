"""The notes' claims, each one click away: a link that sets up the experiment, and what to look at."""
from __future__ import annotations

import streamlit as st

# (claim, link query, what to look for; honest where the claim does not show on this small problem)
EXPERIMENTS = (
    ("Normalizing inputs turns long thin loss contours round, so descent can take bigger steps.",
     "tab=Loss+landscape",
     "Input scaling chart: raw GPA/IQ give a valley 15× longer than wide and zig-zagging descent; raise the "
     "learning rate past 0.135 and the raw path blows up while the standardized one is fine up to about 20."),
    ("BN lets you train with a higher learning rate.",
     "lr=2&seed=1&compare=bn&epochs=30",
     "At lr 2 run A (BN) learns and run B (no BN) stalls at chance. Try other seeds: with BN most learn, "
     "without BN none do; at lr 3 neither does. At the default lr both learn about equally fast on this small "
     "problem; the learning-rate sweep (Sweeps tab) shows the whole range."),
    ("BN makes training less sensitive to the initial weights' scale.",
     "init_scale=0.01&compare=bn&epochs=30",
     "Weights 100× too small: with BN the network still learns, without it the signal vanishes. The "
     "init-scale sweep (Sweeps tab) covers six orders of magnitude."),
    ("BN's batch statistics add noise: a slight regularizer, stronger for small batches.",
     "batch_size=4&compare=batch_size&b=64&tab=Running+statistics+%26+test+time",
     "Compare the mini-batch loss (noisy) with the whole-set loss in evaluation mode. This data set is too "
     "simple to overfit, so the noise does not show up as better test accuracy here."),
    ("The Dense bias in front of BN is redundant.",
     "keep_bias=1&compare=keep_bias&b=0&tab=Parameters",
     "Run A keeps the bias, B drops it: the curves coincide, and the bias's gradient is exactly 0 "
     "(Steps CSV, or the Batch calculator: μ_B absorbs it)."),
    ("γ and β can undo the normalization.",
     "tab=The+math",
     "With γ = √(σ²_B + ε) and β = μ_B the output equals z; the Batch calculator shows every number."),
    ("At test time BN uses running averages of the batch statistics.",
     "compare=running_avg&tab=Running+statistics+%26+test+time",
     "The running mean and variance lag the exact full-data values; the cumulative average lags longer. "
     "Predict one student to see why a lone row cannot use its own statistics."),
    ("BN reduces internal covariate shift: each layer sees a steadier input.",
     "hidden=4,4,4&activation=sigmoid&compare=bn&tab=Activations",
     "Percentile bands of a unit's input: with BN they stay centred and scaled; without, they drift. Read "
     "the Santurkar et al. note below the charts too."),
    ("BN can sit before or after the activation.",
     "compare=bn_position",
     "Both placements learn; they differ in what the next layer sees (Activations tab)."),
    ("BN helps against vanishing and exploding gradients.",
     "hidden=8,8,8,8,8,8&activation=sigmoid&epochs=30&compare=bn&tab=Parameters",
     "Six sigmoid layers: without BN the first layer's gradient is about 1000× smaller than the last's and "
     "the network stays at chance; with BN the norms stay level and it learns."),
    ("The notes' worked example: four students, one batch of four, by hand.",
     "dataset=notes4&batch_size=4&standardize=0&compare=off&tab=Batch+calculator",
     "The notes' table of four students (raw GPA and IQ) as one batch: μ_B, σ²_B, ẑ and γẑ + β for each "
     "student and unit, exactly as the engine computed them. Slide the step to see the numbers change as "
     "the weights learn."),
    ("BN works with momentum, RMSprop and Adam.",
     "optimizer=adam&lr=0.01&compare=optimizer&b=rmsprop",
     "Change run B's optimizer in the sidebar: every rule trains the BN network."),
)


def experiments_box() -> None:
    with st.expander("Experiments from the notes: one click each", icon=":material/science:"):
        for i, (claim, query, look) in enumerate(EXPERIMENTS, start=1):
            st.markdown(f"**{i}. {claim}** [Open this experiment](?{query})  \n{look}")
