"""The exact conditional test of two Poisson rates, as R's ``poisson.test``."""

from __future__ import annotations

import math
from dataclasses import dataclass

from diarytrial.analysis import _distributions as dist


@dataclass(frozen=True)
class PoissonComparison:
    """Exact comparison of two Poisson rates: events a per exposure a against b."""

    events_a: int
    exposure_a: float
    events_b: int
    exposure_b: float
    rate_ratio: float
    ci_low: float
    ci_high: float
    p: float


def poisson_rate_comparison(
    events_a: int,
    exposure_a: float,
    events_b: int,
    exposure_b: float,
    *,
    confidence: float = 0.95,
) -> PoissonComparison:
    r"""Exact conditional test of two Poisson rates, as R's ``poisson.test(c(xa, xb), c(Ta, Tb))``.

    Given :math:`n = x_a + x_b` events, :math:`x_a` is binomial with
    :math:`p_0 = T_a / (T_a + T_b)` when the rates are equal, so the two-sided p-value is the
    exact binomial test of :math:`x_a` out of :math:`n` against :math:`p_0` (Przyborowski &
    Wilenski 1940). The rate ratio is :math:`(x_a/T_a)/(x_b/T_b)` (``inf`` when
    :math:`x_b = 0`); its confidence interval maps the Clopper-Pearson interval
    :math:`(p_L, p_U)` of :math:`x_a/n` to :math:`p/(1-p) \cdot T_b/T_a`.

    With no events (n = 0) the p-value is 1, the ratio NaN and the interval (0, inf), as in R.
    With no exposure on either side every result is NaN.

    Validated against R's ``poisson.test(c(xa, xb), c(Ta, Tb))`` (tests/analysis/test_safety.py).

    Parameters
    ----------
    events_a, events_b : int
        Numbers of events, >= 0.
    exposure_a, exposure_b : float
        Exposure times (e.g. participant-days), >= 0.
    confidence : float
        Level of the confidence interval.

    Examples
    --------
    >>> r = poisson_rate_comparison(12, 2000, 3, 700)
    >>> round(r.rate_ratio, 4), round(r.p, 4)
    (1.4, 0.7728)
    """
    for name, value in (("events_a", events_a), ("events_b", events_b)):
        if value < 0 or int(value) != value:
            raise ValueError(f"{name} is a count of events: a whole number >= 0 (got {value})")
    for name, exposure in (("exposure_a", exposure_a), ("exposure_b", exposure_b)):
        if not exposure >= 0:
            raise ValueError(f"{name} is an exposure time >= 0 (got {exposure})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a level in (0, 1) (got {confidence})")
    xa, xb = int(events_a), int(events_b)
    if exposure_a == 0 or exposure_b == 0:
        nan = math.nan
        return PoissonComparison(xa, float(exposure_a), xb, float(exposure_b), nan, nan, nan, nan)
    n = xa + xb
    scale = exposure_b / exposure_a
    if n == 0:
        return PoissonComparison(
            xa, float(exposure_a), xb, float(exposure_b), math.nan, 0.0, math.inf, 1.0
        )
    p0 = exposure_a / (exposure_a + exposure_b)
    p = dist.binomtest_p(xa, n, p0)
    alpha = 1 - confidence
    low = 0.0 if xa == 0 else float(dist.beta_ppf(alpha / 2, xa, n - xa + 1))
    high = 1.0 if xa == n else float(dist.beta_ppf(1 - alpha / 2, xa + 1, n - xa))
    ratio = math.inf if xb == 0 else (xa / exposure_a) / (xb / exposure_b)
    return PoissonComparison(
        events_a=xa,
        exposure_a=float(exposure_a),
        events_b=xb,
        exposure_b=float(exposure_b),
        rate_ratio=ratio,
        ci_low=low / (1 - low) * scale,
        ci_high=math.inf if high == 1 else high / (1 - high) * scale,
        p=p,
    )


@dataclass(frozen=True)
class CorrectedRateRatio:
    """A rate ratio with 1/2 added to both counts when one is zero, and its Wald interval."""

    rate_ratio: float
    ci_low: float
    ci_high: float
    corrected: bool


def rate_ratio_corrected(
    events_a: int,
    exposure_a: float,
    events_b: int,
    exposure_b: float,
    *,
    add: float = 0.5,
    confidence: float = 0.95,
) -> CorrectedRateRatio:
    r"""Rate ratio a over b that stays finite when one count is zero.

    When :math:`x_a = 0` or :math:`x_b = 0`, `add` (1/2, the Haldane-Anscombe correction) is
    added to both counts; otherwise the counts are used as they are. The ratio is
    :math:`\hat R = \frac{(x_a + c)/T_a}{(x_b + c)/T_b}` and its interval is Wald's on the log
    scale, :math:`\exp(\log \hat R \pm z_{1-\alpha/2}\sqrt{1/(x_a + c) + 1/(x_b + c)})`
    (Haldane 1956; Sweeting, Sutton & Lambert, Stat Med 2004;23:1351-75; Cochrane Handbook
    § 10.4.4.2). The exact conditional interval of :func:`poisson_rate_comparison` has an
    infinite upper limit when :math:`x_b = 0` (and a zero lower one when :math:`x_a = 0`), as
    would the mid-p interval: with no event on one side the data bound the ratio on one side
    only. The corrected ratio is the usual finite summary; it is approximate with so few events.

    Validated against R's ``metafor::escalc(measure = "IRR", x1i, t1i, x2i, t2i)`` (add 1/2,
    to "only0"), tests/analysis/test_rate_ratio.py.

    With no event on either side, or no exposure on one side, every result is NaN.

    Examples
    --------
    >>> r = rate_ratio_corrected(5, 2444, 0, 822)
    >>> round(r.rate_ratio, 3), round(r.ci_low, 3), round(r.ci_high, 2), r.corrected
    (3.7, 0.205, 66.91, True)
    """
    for name, value in (("events_a", events_a), ("events_b", events_b)):
        if value < 0 or int(value) != value:
            raise ValueError(f"{name} is a count of events: a whole number >= 0 (got {value})")
    for name, exposure in (("exposure_a", exposure_a), ("exposure_b", exposure_b)):
        if not exposure >= 0:
            raise ValueError(f"{name} is an exposure time >= 0 (got {exposure})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a level in (0, 1) (got {confidence})")
    if not add > 0:
        raise ValueError(f"add is the count added to each side, > 0 (got {add})")
    if exposure_a == 0 or exposure_b == 0 or events_a + events_b == 0:
        return CorrectedRateRatio(math.nan, math.nan, math.nan, False)
    corrected = events_a == 0 or events_b == 0
    c = add if corrected else 0.0
    xa, xb = events_a + c, events_b + c
    log_ratio = math.log(xa / exposure_a) - math.log(xb / exposure_b)
    half = dist.norm_ppf(0.5 + confidence / 2) * math.sqrt(1 / xa + 1 / xb)
    return CorrectedRateRatio(
        rate_ratio=math.exp(log_ratio),
        ci_low=math.exp(log_ratio - half),
        ci_high=math.exp(log_ratio + half),
        corrected=corrected,
    )
