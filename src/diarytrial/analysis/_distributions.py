"""The distribution functions of the analysis, from ``scipy.special`` alone.

``scipy.stats`` takes longer to import than the whole analysis of a trial takes to run, and the
analysis needs only a few of its functions. Each function here returns exactly what the
``scipy.stats`` call named in its docstring returns, computed by the same special function
(``tests/analysis/test_distributions.py`` compares them value for value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.special._ufuncs as ufuncs
from scipy import special


def t_sf(x: Any, df: Any) -> Any:
    """Student t survival function: ``scipy.stats.t.sf(x, df)``."""
    return special.stdtr(df, -np.asarray(x, dtype=np.float64))


def t_ppf(q: Any, df: Any) -> Any:
    """Student t quantile: ``scipy.stats.t.ppf(q, df)``."""
    return special.stdtrit(df, q)


def chi2_sf(x: float, df: float) -> float:
    """Chi-square survival function: ``scipy.stats.chi2.sf(x, df)``."""
    return float(special.chdtrc(df, x))


def norm_cdf(x: float) -> float:
    """Standard normal distribution function: ``scipy.stats.norm.cdf(x)``."""
    return float(special.ndtr(x))


def norm_sf(x: float) -> float:
    """Standard normal survival function: ``scipy.stats.norm.sf(x)``."""
    return float(special.ndtr(-x))


def norm_ppf(q: float) -> float:
    """Standard normal quantile: ``scipy.stats.norm.ppf(q)``."""
    return float(special.ndtri(q))


def beta_ppf(q: float, a: float, b: float) -> float:
    """Beta quantile: ``scipy.stats.beta.ppf(q, a, b)`` (Boost's inverse, as SciPy uses)."""
    return float(ufuncs._beta_ppf(q, a, b))


def rankdata(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Ranks, ties given their average rank: ``scipy.stats.rankdata(values)``.

    A NaN anywhere makes every rank NaN, as SciPy's default ``nan_policy="propagate"`` does.
    """
    arr = np.ravel(np.asarray(values))
    if arr.size and np.isnan(arr).any():
        return np.full(arr.shape, np.nan)
    sorter = np.argsort(arr, kind="mergesort")
    inverse = np.empty(sorter.size, dtype=np.intp)
    inverse[sorter] = np.arange(sorter.size, dtype=np.intp)
    ordered = arr[sorter]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = np.cumsum(new)[inverse]
    count = np.r_[np.flatnonzero(new), len(new)]
    ranks: npt.NDArray[np.float64] = 0.5 * (count[dense] + count[dense - 1] + 1)
    return ranks


def _binom_pmf(k: float, n: int, p: float) -> float:
    if k < 0 or k > n or math.floor(k) != k:
        return 0.0
    return float(ufuncs._binom_pmf(k, n, p))


def _binom_cdf(k: float, n: int, p: float) -> float:
    k = math.floor(k)
    if k >= n:
        return 1.0
    if k < 0:
        return 0.0
    return float(ufuncs._binom_cdf(k, n, p))


def _binom_sf(k: float, n: int, p: float) -> float:
    k = math.floor(k)
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return float(ufuncs._binom_sf(k, n, p))


def _search(a: Callable[[float], float], d: float, lo: float, hi: float) -> float:
    """The i in [lo, hi] with a(i) <= d < a(i + 1), `a` ascending (SciPy's binary search)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = a(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= d else lo - 1


def binomtest_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial p: ``scipy.stats.binomtest(k, n, p).pvalue``.

    The two-sided p sums the probabilities of the outcomes no more likely than `k` (within a
    relative 1e-7), as SciPy and R's ``binom.test`` do.
    """
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"the binomial test needs 0 <= k <= n and n >= 1, got k={k}, n={n}")
    d = _binom_pmf(k, n, p)
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = _search(lambda x: -_binom_pmf(x, n, p), -d * rerr, math.ceil(p * n), n)
        y = n - ix + int(d * rerr == _binom_pmf(ix, n, p))
        pval = _binom_cdf(k, n, p) + _binom_sf(n - y, n, p)
    else:
        ix = _search(lambda x: _binom_pmf(x, n, p), d * rerr, 0, math.floor(p * n))
        y = ix + 1
        pval = _binom_cdf(y - 1, n, p) + _binom_sf(k - 1, n, p)
    return min(1.0, pval)
