"""The result type of one fit, and the statistics of fits: estimates on the original scale,
their covariance, nlme's denominator df, and the t-tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from diarytrial.analysis import _distributions as dist

from . import _fit
from ._design import Design, FloatArray

Correlation = Literal["ar1", "none"]


@dataclass(frozen=True)
class MixedModelResult:
    """REML fit of one diary item.

    All fields are plain numbers; tuples run over ``terms``.  ``sigma_b`` is
    NaN for a fit without a random intercept (:func:`gls_ar1`) and ``rho`` is
    0 for ``correlation="none"``.  ``boundary`` is True when a variance
    parameter sits on the edge of its space: ``sigma_b = 0`` (lme4's
    "singular" fit) or ``|rho|`` at the search limit 0.999.
    """

    terms: tuple[str, ...]
    estimate: tuple[float, ...]
    se: tuple[float, ...]
    df: tuple[float, ...]
    t: tuple[float, ...]
    p: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    vcov: tuple[tuple[float, ...], ...]
    sigma_b: float
    sigma: float
    rho: float
    loglik: float
    n_obs: int
    n_groups: int
    boundary: bool
    correlation: Correlation
    random_intercept: bool
    conf_level: float

    @property
    def coefficients(self) -> pd.DataFrame:
        """Tidy table: term, estimate, se, df, t, p, ci_low, ci_high."""
        return pd.DataFrame(
            {
                "term": list(self.terms),
                "estimate": self.estimate,
                "se": self.se,
                "df": self.df,
                "t": self.t,
                "p": self.p,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )


@dataclass(frozen=True, eq=False)
class FitStatistics:
    """Per trial: coefficients, their covariance and df, sigma, sigma_b, REML log-likelihood."""

    beta: FloatArray  # (T, p)
    cov: FloatArray  # (T, p, p)
    df: FloatArray  # (T, p)
    sigma: FloatArray
    sigma_b: FloatArray
    loglik: FloatArray


def statistics(design: Design, opt: _fit.Optimum, *, random_intercept: bool) -> FitStatistics:
    """The statistics of the optimum `opt`, the centring of the design undone."""
    ev = opt.evaluation
    beta_c = ev.beta[:, 0]
    rss = ev.rss[:, 0]
    nmp = (design.n_obs - design.p).astype(np.float64)
    sigma2 = rss / nmp
    cov_c = sigma2[:, None, None] * ev.minv[:, 0]
    # Undo the centring: beta_0 = beta_0c + ybar - sum_k beta_k xbar_k.
    back = np.eye(design.p)
    back[0, 1:] = -design.x_mean[1:]
    beta = beta_c @ back.T
    beta[:, 0] += design.y_mean
    cov = back @ cov_c @ back.T
    if random_intercept:
        # nlme (getFixDF): a column that varies within any participant is
        # "inner" and gets N - M - p_inner df; a participant-level column gets
        # M - 1 - p_outer; the intercept gets the larger of the two.
        inner = design.within[:, 1:]
        n_in = inner.sum(axis=1)
        n_out = (~inner).sum(axis=1)
        df_in = design.n_obs - design.n_groups - n_in
        df_out = design.n_groups - 1 - n_out
        df = np.where(design.within, df_in[:, None], df_out[:, None]).astype(np.float64)
        df[:, 0] = np.maximum(df_in, df_out)
    else:
        # nlme::gls uses N - p for every coefficient.
        df = np.broadcast_to(nmp[:, None], beta.shape).astype(np.float64)
    with np.errstate(invalid="ignore"):
        sigma_b = np.sqrt(opt.gamma * sigma2) if random_intercept else np.full_like(rss, np.nan)
    return FitStatistics(
        beta=beta,
        cov=cov,
        df=df,
        sigma=np.sqrt(sigma2),
        sigma_b=sigma_b,
        loglik=-0.5 * ev.f[:, 0],
    )


def t_tests(
    est: FloatArray, se: FloatArray, df: FloatArray, conf_level: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """t, two-sided p and the confidence limits of `est`; NaN where df <= 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tval = est / se
        good = df > 0
        safe_df = np.where(good, df, 1.0)
        pval = np.where(good, 2.0 * dist.t_sf(np.abs(tval), safe_df), np.nan)
        crit = np.where(good, dist.t_ppf(0.5 + conf_level / 2.0, safe_df), np.nan)
    return tval, pval, est - crit * se, est + crit * se
