"""Optimizers acting in place on flat parameter vectors.

Each works on params and grads of shape (M, P) (M models at once) with a
learning rate per model, lr: (M, 1), and keeps its state per parameter entry.
g is the gradient, t counts steps from 1:

    sgd       p -= lr * g
    momentum  v = beta1 * v + (1 - beta1) * g;        p -= lr * v
    rmsprop   s = beta2 * s + (1 - beta2) * g^2;      p -= lr * g / (sqrt(s) + eps)
    adam      m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
              p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
"""
from __future__ import annotations

import numpy as np


class SGD:
    def __init__(self, shape, beta1=0.9, beta2=0.999, eps=1e-8):
        pass

    def step(self, p, g, lr):
        p -= lr * g


class Momentum:
    def __init__(self, shape, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1 = beta1
        self.v = np.zeros(shape)

    def step(self, p, g, lr):
        self.v *= self.beta1
        self.v += (1.0 - self.beta1) * g
        p -= lr * self.v


class RMSprop:
    def __init__(self, shape, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta2, self.eps = beta2, eps
        self.s = np.zeros(shape)

    def step(self, p, g, lr):
        self.s *= self.beta2
        self.s += (1.0 - self.beta2) * (g * g)
        p -= lr * g / (np.sqrt(self.s) + self.eps)


class Adam:
    def __init__(self, shape, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros(shape)
        self.v = np.zeros(shape)
        self.t = 0

    def step(self, p, g, lr):
        self.t += 1
        self.m *= self.beta1
        self.m += (1.0 - self.beta1) * g
        self.v *= self.beta2
        self.v += (1.0 - self.beta2) * (g * g)
        m_hat = self.m / (1.0 - self.beta1**self.t)
        v_hat = self.v / (1.0 - self.beta2**self.t)
        p -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}


def make_optimizer(name: str, shape, beta1=0.9, beta2=0.999, eps=1e-8):
    """The optimizer called `name` for parameters of `shape`."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}: use one of {tuple(OPTIMIZERS)}") from None
    return cls(shape, beta1=beta1, beta2=beta2, eps=eps)
