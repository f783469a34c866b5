"""One experiment repeated over seeds, trained as ensembles.

Each seed trains on its own split, exactly as ``load_for(cfg.replace(seed=s))``
gives it, so member s of an ensemble is the Run a link with ``seed=s`` opens.
Members of one ensemble may also differ in learning rate and init scale.

Whether a network "learned" is judged against two references computed from
the same split: chance (always answering the largest class) and a logistic
regression on the standardized features (a straight boundary, the simplest
model that learns; with K > 2 classes, its softmax form). A network learned when its training accuracy is past the
midpoint between the two.
"""
from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import numpy as np

from .config import Config
from .data import Dataset, load_dataset
from .nn import sigmoid, softmax
from .run import Ensemble
from .train import run_loop


@lru_cache(maxsize=256)
def dataset_for(cfg: Config) -> Dataset:
    """The built-in data set a Config names, split by its seed (shared, do not modify)."""
    return load_dataset(cfg.dataset, seed=cfg.seed, test_fraction=cfg.test_fraction, size=cfg.data_size,
                        noise=cfg.data_noise)


def _data_key(cfg: Config) -> Config:
    return Config(dataset=cfg.dataset, seed=cfg.seed, test_fraction=cfg.test_fraction, data_size=cfg.data_size,
                  data_noise=cfg.data_noise)


def datasets(configs) -> list:
    """[Dataset] one per Config, each split by that Config's seed."""
    return [dataset_for(_data_key(c)) for c in configs]


# Small ensembles are kept for reuse (several lessons train the default network
# over the same seeds); big sweeps are not.
KEEP_BYTES = 64 * 2**20
_kept: OrderedDict = OrderedDict()


def over_seeds(cfg: Config, seeds, stride: int = 1, **values):
    """Train cfg once per seed (and per value of one swept field) as one ensemble.

    values: at most one of lr, init_scale, as a sequence; members are ordered
    seed first, then the values, so ``metric.reshape(len(seeds), len(values))``.
    stride: record every k-th step (bnviz.striding; epoch ends and the final state are always
    kept): a measurement that reads only those trains the same members with far less recording.
    Returns (ensemble, configs). Do not modify the ensemble: it may be shared.
    """
    seeds = [int(s) for s in seeds]
    if len(values) > 1:
        raise ValueError("sweep one of lr, init_scale at a time")
    ((field, grid),) = values.items() if values else ((None, [None]),)
    configs = [cfg.replace(seed=s) if field is None else cfg.replace(seed=s, **{field: float(v)})
               for s in seeds for v in grid]
    key = (tuple(configs), int(stride))
    if key in _kept:
        _kept.move_to_end(key)
        return _kept[key], configs
    ensemble = Ensemble(run_loop(configs, datasets(configs), stride=stride))
    h = ensemble.history
    size = h.params.nbytes + h.grads.nbytes + h.running.nbytes
    if 8 * size <= KEEP_BYTES:                     # an eighth of the store at most
        _kept[key] = ensemble
        while sum(e.history.params.nbytes + e.history.grads.nbytes + e.history.running.nbytes
                  for e in _kept.values()) > KEEP_BYTES:
            _kept.popitem(last=False)
    return ensemble, configs


def _logistic_accuracy(X: np.ndarray, y: np.ndarray, iterations: int = 30) -> float:
    """Training accuracy of a logistic regression with intercept (Newton's method, lightly ridged)."""
    Z = np.column_stack([np.ones(len(X)), (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)])
    w = np.zeros(Z.shape[1])
    for _ in range(iterations):
        p = sigmoid(Z @ w)
        hessian = (Z * (p * (1 - p))[:, None]).T @ Z / len(y) + 1e-6 * np.eye(Z.shape[1])
        w -= np.linalg.solve(hessian, Z.T @ (p - y) / len(y) + 1e-6 * w)
    return float(((Z @ w > 0) == (y > 0.5)).mean())


def _softmax_accuracy(X: np.ndarray, y: np.ndarray, classes: int, iterations: int = 300, lr: float = 1.0) -> float:
    """Training accuracy of a softmax regression with intercepts on standardized features (full-batch
    gradient descent, lightly ridged: a linear classifier of K classes, not trained to its end)."""
    Z = np.column_stack([np.ones(len(X)), (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)])
    onehot = (y.astype(int)[:, None] == np.arange(classes)).astype(float)
    W = np.zeros((Z.shape[1], classes))
    for _ in range(iterations):
        W -= lr * (Z.T @ (softmax(Z @ W) - onehot) / len(y) + 1e-4 * W)
    return float(((Z @ W).argmax(axis=1) == y.astype(int)).mean())


@lru_cache(maxsize=256)
def _references(data: Dataset) -> tuple:
    y = np.asarray(data.y_train, dtype=float)
    if data.n_classes > 2:
        chance = np.bincount(y.astype(int), minlength=data.n_classes).max() / len(y)
        return float(chance), _softmax_accuracy(np.asarray(data.X_train, float), y, data.n_classes)
    chance = max(y.mean(), 1 - y.mean())
    return float(chance), _logistic_accuracy(np.asarray(data.X_train, float), y)


def learn_bar(data: Dataset) -> float:
    """The training accuracy a network must reach to count as having learned: halfway
    from chance (the largest class's share) to a logistic regression's accuracy."""
    chance, logistic = _references(data)
    return (chance + max(logistic, chance)) / 2


def margin(accuracy, configs) -> np.ndarray:
    """(M,) each member's training accuracy minus its own split's learn bar (NaN: -1, never learned)."""
    bars = np.array([learn_bar(d) for d in datasets(configs)])
    return np.nan_to_num(accuracy, nan=-1.0) - bars


def learned(accuracy, configs) -> np.ndarray:
    """(M,) bool: each member's training accuracy is at or past its own split's bar, within rounding
    (NaN: no)."""
    return margin(accuracy, configs) >= -1e-12
