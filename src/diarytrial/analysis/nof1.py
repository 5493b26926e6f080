"""n-of-1 analysis: each participant's drug-minus-placebo benefit over their blocks."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.analysis import _distributions as dist
from diarytrial.analysis.improvement import percent_improvement
from diarytrial.dataset.model import TrialDataset


def nof1_blocks(dataset: TrialDataset, *, item: str = "pain") -> pd.DataFrame:
    """Per participant and block: improvement on drug, on placebo, and the benefit.

    Columns: ``participant_id``, ``block``, ``active`` and ``placebo`` (percent improvement
    from baseline over each period's analysis window, positive is better), ``benefit`` =
    active - placebo (percentage points of the baseline). A block whose two periods do not
    both have a mean (too few completed days) has a NaN benefit.
    """
    improvement = percent_improvement(dataset, by="phase", items=[item])
    periods = dataset.periods[["participant_id", "period", "block"]].copy()
    periods["participant_id"] = periods["participant_id"].astype(str)
    periods = periods.dropna(subset=["block"])
    rows = improvement.assign(participant_id=improvement["participant_id"].astype(str)).merge(
        periods, on=["participant_id", "period"], how="inner"
    )
    wide = rows.pivot_table(
        index=["participant_id", "block"],
        columns="condition",
        values="improvement",
        aggfunc="mean",
        dropna=False,
    )
    for condition in ("active", "placebo"):
        if condition not in wide.columns:
            wide[condition] = np.nan
    wide = wide[["active", "placebo"]].reset_index()
    wide.columns.name = None
    wide["block"] = wide["block"].astype(int)
    wide["benefit"] = wide["active"] - wide["placebo"]
    return wide.sort_values(["participant_id", "block"]).reset_index(drop=True)


def nof1_effects(
    dataset: TrialDataset,
    *,
    item: str = "pain",
    cid: float | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Per participant: mean benefit over blocks, its CI, and P(benefit > CID).

    With the benefits :math:`d_1..d_k` of a participant's *k* blocks (see :func:`nof1_blocks`),
    the estimate is :math:`\bar d`, its standard error :math:`s/\sqrt k` and the confidence
    interval :math:`\bar d \pm t_{k-1}\, s/\sqrt k`. The probability that the true benefit
    :math:`\mu` exceeds the clinically important difference *c* (default: the protocol's
    ``clinically_important_difference_pct``, 30 percentage points of the baseline) comes from
    the normal model :math:`d_b \sim N(\mu, \sigma^2)` with the reference prior
    :math:`p(\mu, \sigma) \propto 1/\sigma`, under which the posterior of :math:`\mu` is
    :math:`\bar d + (s/\sqrt k)\, t_{k-1}` (Gelman et al., *Bayesian Data Analysis*, 3rd ed.,
    §3.2); so :math:`P(\mu > c) = 1 - F_{t,k-1}((c - \bar d)/(s/\sqrt k))`. ``p_benefit`` is
    the same with c = 0.

    Missing data: blocks with a NaN benefit are left out; with fewer than 2 usable blocks the
    uncertainty (and the probabilities) are NaN.

    Columns: ``participant_id``, ``blocks`` (usable), ``mean_benefit``, ``sd``, ``se``,
    ``ci_low``, ``ci_high``, ``p_benefit``, ``p_exceeds_cid``, ``cid``.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("nof1-ldn"), participants=1, seed=11)
    >>> effects = nof1_effects(trial)
    >>> int(effects["blocks"].iloc[0]), float(effects["cid"].iloc[0])
    (3, 30.0)
    """
    if cid is None:
        cid = dataset.protocol.protocol.analysis.clinically_important_difference_pct
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a share in (0, 1) (got {confidence})")
    blocks = nof1_blocks(dataset, item=item).dropna(subset=["benefit"])
    out = [
        _participant_effect(
            str(participant), group["benefit"].to_numpy(dtype=float), cid, confidence
        )
        for participant, group in blocks.groupby("participant_id", sort=True)
    ]
    return pd.DataFrame(out, columns=_EFFECT_COLUMNS)


_EFFECT_COLUMNS = [
    "participant_id",
    "blocks",
    "mean_benefit",
    "sd",
    "se",
    "ci_low",
    "ci_high",
    "p_benefit",
    "p_exceeds_cid",
    "cid",
]


def _participant_effect(
    participant: str, d: npt.NDArray[np.float64], cid: float, confidence: float
) -> dict[str, object]:
    """The row of :func:`nof1_effects` of one participant with the block benefits `d`."""
    k = len(d)
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if k > 1 else math.nan
    se = sd / math.sqrt(k) if k > 1 else math.nan
    if k > 1 and se > 0:
        q = float(dist.t_ppf(0.5 + confidence / 2, k - 1))
        ci = (mean - q * se, mean + q * se)
        p_benefit = float(dist.t_sf(-mean / se, k - 1))
        p_cid = float(dist.t_sf((cid - mean) / se, k - 1))
    else:
        ci, p_benefit, p_cid = (math.nan, math.nan), math.nan, math.nan
    return {
        "participant_id": participant,
        "blocks": k,
        "mean_benefit": mean,
        "sd": sd,
        "se": se,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "p_benefit": p_benefit,
        "p_exceeds_cid": p_cid,
        "cid": float(cid),
    }
