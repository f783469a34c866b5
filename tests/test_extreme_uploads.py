"""Uploads at the edge of float64: they train and draw, and a run with zero steps draws as one."""
import numpy as np
import pytest
from test_app import fresh

from bnviz import Config, load_csv, train
from bnviz.ui.state import widget_key

HUGE = (1.7e308, -1.7e308, 1e308, -5e307, 3e307, 1.2e308, -1.1e308, 0.5e308)
TABS = ["Training", "Loss landscape", "Activations", "Running statistics & test time", "Batch calculator",
        "Parameters", "Sweeps", "The math"]


def huge_csv() -> bytes:
    return ("a,b,placed\n" + "".join(f"{HUGE[i % 8]!r},{HUGE[(i * 3) % 8]!r},{(i // 2) % 2}\n"
                                     for i in range(40))).encode()


def test_standardizing_values_near_the_float64_limit():
    data = load_csv(huge_csv())
    X = data.X_train
    # the slow way: exact z-scores from the values scaled down by their magnitude first
    scale = np.abs(X).max(axis=0)
    mean = (X / scale).mean(axis=0)
    std = (X / scale).std(axis=0)
    expected = (X / scale - mean) / std
    np.testing.assert_allclose(data.standardize(X), expected, rtol=1e-12, atol=1e-12)
    assert train(Config(epochs=3), data).diverged_at is None


def test_raw_values_near_the_limit_diverge_at_step_zero():
    run = train(Config(standardize=False), load_csv(huge_csv()))
    assert run.n_steps == 0 and run.diverged_at == 0


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("tab", TABS)
def test_a_huge_upload_draws_every_tab(standardize, tab):
    at = fresh({"epochs": "3", "compare": "off", "tab": tab, "standardize": "1" if standardize else "0"})
    at.selectbox(key=widget_key("dataset")).set_value("upload").run()
    at.get("file_uploader")[0].set_value(("huge.csv", huge_csv(), "text/csv")).run()
    assert not at.exception, at.exception
    if not standardize and tab == "Training":
        assert any("diverged at step 0" in e.value for e in at.error)
    if tab == "Sweeps":
        at.button(key="sweep-lr").click().run()
        assert not at.exception, at.exception
