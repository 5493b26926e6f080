"""The root finders take SciPy's steps: the same roots to the last bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize
from scipy.optimize import elementwise

from diarytrial.analysis._roots import brentq, find_roots

SHIFTS = np.array([0.1, 0.7, 1.3, 2.9, 5.0, 0.0001])


def _cubic(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    # Different problems converge after different numbers of steps, so the set of brackets
    # still being refined shrinks as the search goes on.
    out: np.ndarray = x**3 - SHIFTS[idx] * x - SHIFTS[idx] ** 2
    return out


@pytest.mark.parametrize(
    "tolerances", [{}, {"xatol": 1e-14, "xrtol": 1e-15}, {"xatol": 1e-12, "xrtol": 1e-6}]
)
def test_find_roots_is_scipys_find_root(tolerances: dict[str, float]) -> None:
    idx = np.arange(SHIFTS.shape[0])
    lo, hi = np.zeros(idx.shape[0]), np.full(idx.shape[0], 4.0)
    ours = find_roots(_cubic, lo, hi, idx, **tolerances)
    theirs = elementwise.find_root(
        lambda x, i: _cubic(x, i), (lo, hi), args=(idx,), tolerances=tolerances or None
    )
    np.testing.assert_array_equal(ours, np.where(theirs.success, theirs.x, np.nan))
    assert np.all(np.abs(_cubic(ours, idx)) < 1e-4)  # roots, to the loosest tolerance


def test_find_roots_gives_nan_without_a_sign_change() -> None:
    idx = np.arange(2)
    found = find_roots(_cubic, np.array([0.0, 3.0]), np.array([4.0, 4.0]), idx)
    assert np.isfinite(found[0])
    assert np.isnan(found[1])


@pytest.mark.parametrize(
    ("func", "a", "b", "xtol"),
    [
        (lambda x: x**3 - 2 * x - 5, 2.0, 3.0, 2e-12),
        (lambda x: math.cos(x) - x, 0.0, 1.0, 1e-14),
        (lambda x: math.exp(x) - 10.0, -3.0, 5.0, 1e-10),
        (lambda x: math.atan(x - 0.3) * 1e-3, -20.0, 40.0, 1e-14),
        (lambda x: x - 1.0, 1.0, 2.0, 2e-12),
    ],
)
def test_brentq_is_scipys_brentq(func: object, a: float, b: float, xtol: float) -> None:
    assert callable(func)
    assert brentq(func, a, b, xtol=xtol) == optimize.brentq(func, a, b, xtol=xtol)
    assert brentq(func, a, b, xtol=xtol, rtol=1e-15) == optimize.brentq(
        func, a, b, xtol=xtol, rtol=1e-15
    )


def test_brentq_errors() -> None:
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x * x + 1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        brentq(lambda x: math.nan if x > 0.5 else -1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="rtol"):
        brentq(lambda x: x, -1.0, 1.0, rtol=1e-17)
