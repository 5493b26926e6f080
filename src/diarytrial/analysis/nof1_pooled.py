r"""A series of n-of-1 trials, pooled: a Bayesian hierarchical model of the participants'
benefits, computed exactly by numerical integration (no sampling, so no convergence to check).

The model (Zucker et al. 2010; Schmid & Yang, in *Design and Implementation of N-of-1 Trials*,
AHRQ 2014; the normal hierarchical model of Gelman et al., *Bayesian Data Analysis*, 3rd ed.,
§5.4-5.5). Participant *i*'s benefit in block *b* (drug minus placebo, percentage points of
their baseline: `nof1_blocks`) is

.. math::  d_{ib} \sim N(\theta_i, \sigma^2), \qquad \theta_i \sim N(\mu, \tau^2),

with flat priors on :math:`\mu`, :math:`\log\sigma` and :math:`\tau` (BDA3 §5.4: proper for three
or more participants). :math:`\theta_i` is participant *i*'s true benefit, :math:`\mu` the
population's, :math:`\tau` how much participants differ, :math:`\sigma` the block-to-block noise
within a participant (one for all: three blocks alone say little of a participant's own).

Given :math:`(\sigma, \tau)` everything is normal. With :math:`\bar d_i`, :math:`k_i` blocks and
:math:`S = \sum_{ib} (d_{ib} - \bar d_i)^2`, write :math:`V_i = \tau^2 + \sigma^2/k_i`; then

.. math::

   p(\sigma, \tau \mid d) \propto \sigma^{-1 - \sum_i (k_i - 1)} e^{-S / 2\sigma^2}
       \, V_\mu^{1/2} \prod_i V_i^{-1/2} \exp\!\Big(-\frac{(\bar d_i - \hat\mu)^2}{2 V_i}\Big),

   \hat\mu = V_\mu \sum_i \bar d_i / V_i, \quad V_\mu = \Big(\sum_i 1/V_i\Big)^{-1},

and :math:`\mu \mid \sigma, \tau, d \sim N(\hat\mu, V_\mu)`, :math:`\theta_i \mid \sigma, \tau, d
\sim N(\hat\theta_i, W_i + B_i^2 V_\mu)` with :math:`B_i = (\sigma^2/k_i) / V_i`,
:math:`\hat\theta_i = B_i \hat\mu + (1 - B_i) \bar d_i` and :math:`W_i = (1 - B_i)\,\sigma^2/k_i`
(BDA3 eq. 5.17-5.20). The posterior of each quantity is this normal averaged over a grid of
:math:`(\sigma, \tau)` weighted by :math:`p(\sigma, \tau \mid d)`; probabilities are exact mixtures
of normal distributions and quantiles their inverse.

`pool_known_variances` is the same model with each participant's sampling variance given
(BDA3's eight schools, the reference the tests check against); `pool_nof1` estimates
:math:`\sigma` from the blocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from diarytrial.analysis._roots import brentq
from diarytrial.analysis.nof1 import nof1_blocks
from diarytrial.dataset.model import TrialDataset

GRID = 200
"""Points of the grid over each of :math:`\\tau` and :math:`\\sigma`."""

MIN_PARTICIPANTS = 3
"""Fewer participants give an improper posterior with the flat prior on tau (BDA3 §5.4)."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NormalMixture:
    """A posterior: normals with means `means`, variances `variances` and weights `weights`."""

    means: FloatArray
    variances: FloatArray
    weights: FloatArray

    @property
    def mean(self) -> float:
        return float(np.sum(self.weights * self.means))

    @property
    def sd(self) -> float:
        second = np.sum(self.weights * (self.variances + self.means**2))
        return float(math.sqrt(max(0.0, second - self.mean**2)))

    def cdf(self, x: float) -> float:
        z = (x - self.means) / np.sqrt(self.variances)
        return float(np.sum(self.weights * special.ndtr(z)))

    def prob_above(self, x: float) -> float:
        z = (self.means - x) / np.sqrt(self.variances)
        return float(np.sum(self.weights * special.ndtr(z)))

    def quantile(self, q: float) -> float:
        # Between the mean and 40 SDs of the whole mixture away, on the side q lies on.
        mean, sd = self.mean, self.sd
        low, high = (mean - 40 * sd, mean) if self.cdf(mean) > q else (mean, mean + 40 * sd)
        return brentq(lambda x: self.cdf(x) - q, low, high, xtol=1e-9 * sd)


@dataclass(frozen=True)
class PooledEffects:
    """The pooled analysis of a series of n-of-1 trials.

    `participants`: per participant, ``participant_id``, ``blocks``, ``observed`` (their mean
    benefit), ``posterior_mean``, ``posterior_sd``, ``ci_low`` and ``ci_high`` (the central
    credible interval), ``p_benefit`` (probability that the true benefit exceeds 0) and
    ``p_exceeds_cid`` (that it exceeds the clinically important difference).
    """

    participants: pd.DataFrame
    population: NormalMixture
    """The population's mean benefit, :math:`\\mu`."""
    predictive: NormalMixture
    """The benefit of a new participant like these: :math:`\\theta_{new}`."""
    tau: tuple[float, float, float]
    """Between-participant SD: posterior median and central interval."""
    cid: float
    credibility: float
    grid_mass_at_edge: float
    """Posterior mass in the sigma grid's two first and two last cells (a check that the grid
    covers the posterior: tiny when it does)."""


def _mixtures(
    ybar: FloatArray, noise: FloatArray, tau: FloatArray, log_weight: FloatArray
) -> tuple[list[NormalMixture], NormalMixture, NormalMixture]:
    """The posteriors of each theta, mu and a new theta, from grid points with the sampling
    variances `noise` (points x participants), `tau` (points) and unnormalized `log_weight`."""
    weights = np.exp(log_weight - log_weight.max())
    # Points of negligible weight (below 1e-15 of the largest; together under 1e-9 of the
    # mass) are left out: they change no probability, and the mixtures are evaluated faster.
    kept = weights > 1e-15
    weights, noise, tau = weights[kept] / weights[kept].sum(), noise[kept], tau[kept]
    total = tau[:, None] ** 2 + noise  # V_i
    v_mu = 1.0 / np.sum(1.0 / total, axis=1)
    mu_hat = v_mu * np.sum(ybar / total, axis=1)
    shrink = noise / total  # B_i
    theta_hat = shrink * mu_hat[:, None] + (1.0 - shrink) * ybar
    theta_var = (1.0 - shrink) * noise + shrink**2 * v_mu[:, None]
    thetas = [NormalMixture(theta_hat[:, i], theta_var[:, i], weights) for i in range(len(ybar))]
    return (
        thetas,
        NormalMixture(mu_hat, v_mu, weights),
        NormalMixture(mu_hat, v_mu + tau**2, weights),
    )


def _log_marginal(ybar: FloatArray, total: FloatArray) -> FloatArray:
    """log p(ybar | tau, sigma) with mu integrated out under a flat prior, up to a constant."""
    v_mu = 1.0 / np.sum(1.0 / total, axis=1)
    mu_hat = v_mu * np.sum(ybar / total, axis=1)
    squares = np.sum((ybar - mu_hat[:, None]) ** 2 / total, axis=1)
    log_marginal: FloatArray = (
        0.5 * np.log(v_mu) - 0.5 * np.sum(np.log(total), axis=1) - 0.5 * squares
    )
    return log_marginal


def _tau_grid(scale: float) -> tuple[FloatArray, FloatArray]:
    """Points covering all of tau's range, 0 to infinity, and the log of each one's width:
    tau = scale * u / (1 - u) at the midpoints of `GRID` equal cells of u in (0, 1), so that
    the cells are fine near 0 and the heavy tail of the flat prior is integrated whole."""
    u = (np.arange(GRID) + 0.5) / GRID
    return scale * u / (1 - u), np.log(scale / GRID) - 2 * np.log1p(-u)


def _tau_summary(tau: FloatArray, weights: FloatArray, credibility: float) -> tuple[float, ...]:
    cumulative = np.cumsum(weights) / weights.sum()
    tail = (1 - credibility) / 2
    return tuple(float(np.interp(q, cumulative, tau)) for q in (0.5, tail, 1 - tail))


def pool_known_variances(
    estimates: Sequence[float],
    standard_errors: Sequence[float],
    *,
    credibility: float = 0.95,
) -> tuple[list[NormalMixture], NormalMixture, FloatArray, FloatArray]:
    """The hierarchical model with each participant's sampling SD known (BDA3 §5.4): the
    posteriors of each theta and of mu, and the tau grid with its posterior weights."""
    ybar = np.asarray(estimates, dtype=float)
    se = np.asarray(standard_errors, dtype=float)
    if len(ybar) < MIN_PARTICIPANTS or len(se) != len(ybar) or np.any(se <= 0):
        raise ValueError("three or more estimates with positive standard errors are needed")
    tau, log_width = _tau_grid(float(np.std(ybar)) + float(np.mean(se)))
    noise = np.broadcast_to(se**2, (len(tau), len(se)))
    log_weight = log_width + _log_marginal(ybar, tau[:, None] ** 2 + noise)
    thetas, mu, _ = _mixtures(ybar, noise, tau, log_weight)
    weights = np.exp(log_weight - log_weight.max())
    return thetas, mu, tau, weights / weights.sum()


def pool_nof1(
    dataset: TrialDataset,
    *,
    item: str = "pain",
    cid: float | None = None,
    credibility: float = 0.95,
) -> PooledEffects:
    """Pool the n-of-1 trials of `dataset` (each participant's block benefits on `item`).

    Raises ValueError with fewer than `MIN_PARTICIPANTS` participants with a usable block, or
    no participant with two (the within-participant SD cannot be estimated).
    """
    if cid is None:
        cid = dataset.protocol.protocol.analysis.clinically_important_difference_pct
    if not 0 < credibility < 1:
        raise ValueError(f"credibility is a share in (0, 1) (got {credibility})")
    blocks = nof1_blocks(dataset, item=item).dropna(subset=["benefit"])
    groups = [
        (str(pid), group["benefit"].to_numpy(dtype=float))
        for pid, group in blocks.groupby("participant_id", sort=True)
    ]
    return pool_benefits(groups, cid=cid, credibility=credibility)


def pool_benefits(
    groups: Sequence[tuple[str, FloatArray]], *, cid: float, credibility: float = 0.95
) -> PooledEffects:
    """Pool the block benefits of each participant (`groups`: their code and benefits)."""
    if len(groups) < MIN_PARTICIPANTS:
        raise ValueError(
            f"pooling needs {MIN_PARTICIPANTS} or more participants with a usable block "
            f"(found {len(groups)})"
        )
    k = np.array([len(d) for _, d in groups], dtype=float)
    ybar = np.array([d.mean() for _, d in groups])
    within = float(sum(((d - d.mean()) ** 2).sum() for _, d in groups))
    df = int(np.sum(k - 1))
    if df < 1 or within <= 0:
        raise ValueError(
            "pooling needs a participant with two or more usable blocks that differ, to "
            "estimate the block-to-block variation"
        )
    # sigma: its marginal posterior given tau is close to the scaled inverse chi-square of the
    # within-participant sums; cover it from 1/6 to 6 times its estimate, on a log scale.
    estimate = math.sqrt(within / df)
    sigma = estimate * np.exp(np.linspace(math.log(1 / 6), math.log(6), GRID))
    tau, log_width = _tau_grid(float(np.std(ybar)) + estimate / math.sqrt(float(k.mean())))
    s_grid, t_grid = (a.ravel() for a in np.meshgrid(sigma, tau, indexing="ij"))
    w_grid = np.tile(log_width, GRID)
    noise = s_grid[:, None] ** 2 / k[None, :]
    log_weight = (
        w_grid  # the tau cells' widths (the prior on tau is flat)
        # p(sigma) ~ 1/sigma on a log-spaced grid: the cells' widths are proportional to
        # sigma, so the prior's density times the width is constant.
        - df * np.log(s_grid)
        - within / (2 * s_grid**2)
        + _log_marginal(ybar, t_grid[:, None] ** 2 + noise)
    )
    thetas, mu, predictive = _mixtures(ybar, noise, t_grid, log_weight)
    weights = np.exp(log_weight - log_weight.max())
    weights /= weights.sum()
    by_tau = weights.reshape(GRID, GRID).sum(axis=0)
    by_sigma = weights.reshape(GRID, GRID).sum(axis=1)
    # The tau grid covers 0 to infinity; the sigma grid 1/6 to 6 times its estimate.
    edge = float(by_sigma[:2].sum() + by_sigma[-2:].sum())
    tail = (1 - credibility) / 2
    rows = [
        {
            "participant_id": pid,
            "blocks": len(d),
            "observed": float(d.mean()),
            "posterior_mean": theta.mean,
            "posterior_sd": theta.sd,
            "ci_low": theta.quantile(tail),
            "ci_high": theta.quantile(1 - tail),
            "p_benefit": theta.prob_above(0.0),
            "p_exceeds_cid": theta.prob_above(cid),
        }
        for (pid, d), theta in zip(groups, thetas, strict=True)
    ]
    median, low, high = _tau_summary(tau, by_tau, credibility)
    return PooledEffects(
        participants=pd.DataFrame(rows),
        population=mu,
        predictive=predictive,
        tau=(median, low, high),
        cid=float(cid),
        credibility=credibility,
        grid_mass_at_edge=edge,
    )
