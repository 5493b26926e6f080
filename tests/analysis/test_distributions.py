"""The distribution functions from scipy.special give exactly what scipy.stats gives."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from diarytrial.analysis import _distributions as dist

RNG = np.random.default_rng(20261208)
X = RNG.normal(scale=4.0, size=400)
Q = RNG.uniform(size=400)
DF = RNG.uniform(0.5, 300.0, size=400)


def test_student_t() -> None:
    np.testing.assert_array_equal(dist.t_sf(X, DF), stats.t.sf(X, DF))
    np.testing.assert_array_equal(dist.t_ppf(Q, DF), stats.t.ppf(Q, DF))
    for x, q, df in zip(X[:50], Q[:50], DF[:50], strict=True):
        assert float(dist.t_sf(abs(x), round(df) + 1)) == float(stats.t.sf(abs(x), round(df) + 1))
        assert float(dist.t_ppf(q, df)) == float(stats.t.ppf(q, df))


def test_normal_and_chi_square() -> None:
    for x, q in zip(X[:100], Q[:100], strict=True):
        assert dist.norm_cdf(x) == float(stats.norm.cdf(x))
        assert dist.norm_sf(x) == float(stats.norm.sf(x))
        assert dist.norm_ppf(q) == float(stats.norm.ppf(q))
        for k in (1, 2, 3, 7):
            assert dist.chi2_sf(x * x, k) == float(stats.chi2.sf(x * x, k))


def test_beta_quantile() -> None:
    for q in Q[:40]:
        for a in (1, 2, 5, 13):
            for b in (1, 3, 20):
                assert dist.beta_ppf(q, a, b) == float(stats.beta.ppf(q, a, b))


@pytest.mark.parametrize("p", [0.5, 0.1, 1 / 3, 0.72, 2 / 7])
def test_two_sided_binomial_test(p: float) -> None:
    for n in range(1, 61):
        for k in range(n + 1):
            assert dist.binomtest_p(k, n, p) == stats.binomtest(k, n, p).pvalue, (k, n)


def test_binomial_test_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        dist.binomtest_p(5, 3, 0.5)


def test_ranks_with_ties() -> None:
    for _ in range(100):
        values = RNG.integers(0, 6, size=int(RNG.integers(1, 30))) * 0.5
        np.testing.assert_array_equal(dist.rankdata(values), stats.rankdata(values))
    assert np.isnan(dist.rankdata([1.0, np.nan, 2.0])).all()
