"""Training curves on steps, epochs or examples seen: every point where a hand count puts it."""
import numpy as np
import pytest

from bnviz import Config, train
from bnviz import figures as F
from bnviz.figures.curves import state_axis


def examples_seen_by_hand(run):
    """Rows used by the first t updates, for every state t, counted batch by batch."""
    seen = [0]
    for s in range(run.n_steps):
        seen.append(seen[-1] + len(run.step_rows(s)))
    return np.array(seen, dtype=float)


@pytest.fixture(scope="module")
def small_and_large(data):
    return train(Config(batch_size=4, epochs=3), data), train(Config(batch_size=64, epochs=3), data)


def test_state_axis_counts_examples(small_and_large, data):
    for run in small_and_large:
        by_hand = examples_seen_by_hand(run)
        np.testing.assert_array_equal(state_axis(run, "examples"), by_hand)
        np.testing.assert_allclose(state_axis(run, "epochs"), by_hand / len(data.y_train), rtol=1e-15)
        np.testing.assert_array_equal(state_axis(run, "steps"), np.arange(run.n_steps + 1))
        # epoch ends land on whole epochs whatever the batch size
        np.testing.assert_allclose(state_axis(run, "epochs")[run.epoch_steps], np.arange(len(run.epoch_steps)))


@pytest.mark.parametrize("x", ["steps", "epochs", "examples"])
def test_curves_plot_each_run_at_its_own_positions(small_and_large, data, x):
    small, large = small_and_large
    fig = F.training_curves(small, large, x)
    for run, offset in ((small, 0), (large, 6)):
        shown = F.curves.thin(run.n_steps)
        where = examples_seen_by_hand(run)
        if x == "epochs":
            where = where / len(data.y_train)
        elif x == "steps":
            where = np.arange(run.n_steps + 1, dtype=float)
        np.testing.assert_allclose(fig.data[offset].x, where[shown])
        np.testing.assert_array_equal(fig.data[offset].y, run.train_loss[shown])
        test_loss = fig.data[offset + 4]                    # the test-set loss at epoch ends
        np.testing.assert_allclose(test_loss.x, where[run.epoch_steps])
        np.testing.assert_array_equal(test_loss.y, run.epoch_metrics["test_loss_eval"])
    assert fig.layout.xaxis.title.text == F.curves.X_AXES[x]


def test_by_epochs_both_runs_end_at_the_same_place(small_and_large):
    fig = F.training_curves(*small_and_large, "epochs")
    assert fig.data[4].x[-1] == fig.data[10].x[-1] == 3.0          # three epochs each


def test_unknown_axis_is_refused(small_and_large):
    with pytest.raises(ValueError, match="x axis"):
        F.training_curves(small_and_large[0], None, "minutes")
