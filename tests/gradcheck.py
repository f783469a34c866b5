"""Centred finite differences in float64, and the relative error used to judge them."""
import numpy as np


def numerical_gradient(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """d f / d x for a scalar function f of the array x (changed in place, then restored).

    The five-point centred stencil (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / 12h has
    error O(h^4), so h can stay large enough for rounding not to dominate.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        values = []
        for step in (-2, -1, 1, 2):
            x[i] = old + step * h
            values.append(f())
        x[i] = old
        grad[i] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h)
    return grad


def rel_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8): 0 for equal arrays, ~1 for unrelated ones."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def norm_rel_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||) over whole vectors (the form used in Ng's course).

    For a whole network: gradients that are exactly 0 in theory (a bias or beta
    cancelled by a later BN) come out as +-1e-12 rounding noise from finite
    differences, which an entry-by-entry relative error would call wrong.
    """
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom else 0.0


def assert_gradient_close(analytic, numeric, what=""):
    """Under 1e-7 relative as a whole, and each entry within 1e-7 relative or 1e-10
    absolute (exact zeros meet finite-difference noise of about 1e-13)."""
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    if np.linalg.norm(analytic) > 1e-9:  # all-zero gradients are judged entry by entry
        assert norm_rel_error(analytic, numeric) < 1e-7, what
    bound = 1e-7 * (np.abs(analytic) + np.abs(numeric)) + 1e-10
    assert np.all(np.abs(analytic - numeric) <= bound), what
