"""The first screen's scenarios: one link each to a setting where batch norm's effect is plain to see.

Each opens runs A (BN on) and B (BN off) on the same seed. The notes' network
is first: there BN changes little, and the view's sentence says so. The other
four were checked over seeds 0 to 9 (test accuracy, evaluation mode): with a
deep sigmoid network, a high learning rate or a bad initialization BN is ahead
by 0.05 or more in all 10 seeds; with small batches on a small noisy XOR set
the runs end close, and BN's train/test gap is about half the plain net's. Two
follow the literature on the handwritten digits: Ioffe & Szegedy's Figure 1
network (its lesson measures it over 10 seeds) and CS231n's deep ReLU exercise.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """name: the chip's words; query: the link; about: one line on what to look for."""

    name: str
    query: str
    about: str


SCENARIOS = (
    Scenario("The notes' net", "compare=bn", "Dense(3) and Dense(2) with ReLU: BN barely matters here."),
    Scenario("Deep sigmoid net", "hidden=8,8,8,8,8,8&activation=sigmoid&epochs=30&compare=bn",
             "Six sigmoid layers: without BN the gradient fades before it reaches the first layer."),
    Scenario("High learning rate", "hidden=8,8,8,8&lr=2&epochs=30&compare=bn",
             "Four ReLU layers at lr 2: without BN the units die or the steps overshoot."),
    Scenario("Bad initialization", "init_scale=0.01&epochs=30&compare=bn",
             "The notes' network with weights started 100 times too small."),
    Scenario("Figure 1 on digits", "dataset=digits&hidden=100,100,100&activation=sigmoid&batch_size=60&lr=0.5"
             "&epochs=10&compare=bn",
             "Ioffe & Szegedy's network on handwritten digits: three layers of 100 sigmoid units, batches of 60. "
             "Watch the input to the sigmoid hold still with BN and drift without."),
    Scenario("Deep ReLU on digits", "dataset=digits&hidden=100,100,100,100,100&activation=relu&batch_size=60"
             "&lr=0.1&epochs=10&compare=bn&tab=Sweeps",
             "CS231n's deep-network exercise on the digits: five ReLU layers of 100, BN on and off; the init-scale "
             "sweep (Sweeps tab) shows how much less BN cares how the weights start."),
    Scenario("Small batches", "dataset=xor&data_size=80&data_noise=0.4&test_fraction=0.5&hidden=16,16&batch_size=4"
             "&epochs=150&compare=bn", "Batches of 4 on a small noisy XOR set: watch the train/test gap."),
)
