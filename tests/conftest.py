import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402

from bnviz import Config, load_for, train  # noqa: E402


@pytest.fixture(scope="session")
def data():
    """The default data set (placement, seed 0)."""
    return load_for(Config())


@pytest.fixture(scope="session")
def default_run(data):
    return train(Config(), data)


@pytest.fixture(scope="session")
def plain_run(data):
    return train(Config(bn=False), data)
