"""bnviz: an interactive batch-normalization lab. The engine knows only NumPy."""
from .config import FIELDS, PRESETS, Config
from .data import DataError, Dataset, load_csv, load_dataset
from .run import Ensemble, Run
from .train import train, train_ensemble

__all__ = ["FIELDS", "PRESETS", "Config", "DataError", "Dataset", "Ensemble", "Run", "load_csv",
           "load_dataset", "train", "train_ensemble", "load_for"]


def load_for(cfg: Config) -> Dataset:
    """The built-in data set a Config names, split by its seed."""
    return load_dataset(cfg.dataset, seed=cfg.seed, test_fraction=cfg.test_fraction,
                        size=cfg.data_size, noise=cfg.data_noise)
