"""The primary contrast: a linear mixed model of each item's daily values (design.md § 4)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.analysis import _distributions as dist
from diarytrial.analysis.mixed import (
    Correlation,
    MixedModelResult,
    gls_ar1,
    mixed_model,
    mixed_model_several,
)
from diarytrial.dataset.model import TrialDataset


def model_frame(dataset: TrialDataset, item: str) -> pd.DataFrame:
    """Daily values of `item` on treatment days, coded for the mixed model.

    Rows: diary values inside the analysis window of each treatment phase (baseline and washout
    days are left out; ``analysis.window = "last_days"`` keeps each phase's last days).
    Columns: ``participant_id``, ``day`` (integer day number, so a gap of g days gives
    rho^g), ``y``, ``active`` (1 on the active condition), ``period_2`` ... ``period_K``
    (treatment period indicators; period 1 is the reference), in an n-of-1 design
    ``block_2`` ... (block indicators; block 1 is the reference), ``sequence_2`` ...
    (sequence indicators, for the carry-over test; the first sequence is the reference).
    """
    protocol = dataset.protocol.protocol
    if item not in {i.id for i in protocol.diary.items}:
        known = ", ".join(i.id for i in protocol.diary.items)
        raise ValueError(f"{item!r} is not a diary item; the items are {known}")
    people = dataset.participants
    ids = pd.Index(sorted(people["participant_id"].astype(str).unique()))
    phases = _treatment_phases(dataset, ids)

    diary = dataset.diary[dataset.diary["item"].astype(str) == item]
    who = _positions(diary["participant_id"], ids)
    day = _day_numbers(diary["diary_date"])
    # Each row's phase: the last phase of its participant starting on or before its day.
    stride = np.int64(1 << 32)
    starts = phases["who"] * stride + phases["first"]
    found = np.searchsorted(starts, who * stride + day, side="right") - 1
    safe = np.maximum(found, 0)
    inside = (
        (who >= 0)
        & (found >= 0)
        & (phases["who"][safe] == who)
        & (day >= phases["first"][safe])
        & (day <= phases["last"][safe])
    )
    row_phase = safe[inside]
    frame = pd.DataFrame(
        {
            "participant_id": pd.Categorical.from_codes(who[inside], categories=ids),
            "day": day[inside],
            "y": diary["value"].to_numpy(dtype=float)[inside],
            "active": phases["active"][row_phase],
        }
    )
    period = phases["period"][row_phase]
    for k in range(2, int(period.max()) + 1 if len(period) else 0):
        frame[f"period_{k}"] = (period == k).astype(float)
    if protocol.design.kind == "nof1":
        block = phases["block"][row_phase]
        for k in range(2, int(block.max()) + 1 if len(block) else 0):
            frame[f"block_{k}"] = (block == k).astype(float)
    sequence_of = (
        people.assign(participant_id=people["participant_id"].astype(str))
        .set_index("participant_id")["sequence"]
        .reindex(ids)
        .astype(object)
        .to_numpy()
    )
    codes = sorted(str(s) for s in pd.unique(sequence_of) if isinstance(s, str))
    sequence = sequence_of[who[inside]]
    for k, code in enumerate(codes[1:], start=2):
        frame[f"sequence_{k}"] = (sequence == code).astype(float)
    return frame.sort_values(["participant_id", "day"], kind="stable").reset_index(drop=True)


def _positions(column: pd.Series, ids: pd.Index) -> npt.NDArray[np.int64]:
    """Position of each participant id of `column` in `ids` (-1 when absent)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        mapping = np.append(ids.get_indexer(column.cat.categories.astype(str)), -1)
        return mapping[column.cat.codes.to_numpy()].astype(np.int64)
    return ids.get_indexer(pd.Index(column.astype(str))).astype(np.int64)


def _day_numbers(column: pd.Series) -> npt.NDArray[np.int64]:
    return pd.to_datetime(column).to_numpy().astype("datetime64[D]").astype(np.int64)


def _treatment_phases(dataset: TrialDataset, ids: pd.Index) -> dict[str, npt.NDArray[Any]]:
    """Treatment phases as arrays sorted by participant and start, with the analysis window."""
    analysis = dataset.protocol.protocol.analysis
    periods = dataset.periods
    treatment = periods[periods["kind"].astype(str) == "treatment"]
    first = _day_numbers(treatment["start"])
    last = _day_numbers(treatment["end"])
    if analysis.window == "last_days" and analysis.last_days:
        first = np.maximum(first, last - analysis.last_days + 1)
    who = _positions(treatment["participant_id"], ids)
    order = np.lexsort((first, who))
    return {
        "who": who[order],
        "first": first[order],
        "last": last[order],
        "period": treatment["period"].to_numpy(dtype=np.int64)[order],
        "block": treatment["block"].fillna(1).to_numpy(dtype=np.int64)[order],
        "active": (treatment["condition"].astype(str) == "active").to_numpy(dtype=float)[order],
    }


def adjustment_terms(frame: pd.DataFrame, dataset: TrialDataset) -> list[str]:
    """The period (or, in an n-of-1 design, block) indicators of a model frame."""
    # In an n-of-1 series each period has one condition, so periods are confounded with the
    # treatment; the blocks (each holding both conditions) take their place.
    nof1 = dataset.protocol.protocol.design.kind == "nof1"
    return [c for c in frame.columns if c.startswith("block_" if nof1 else "period_")]


@dataclass(frozen=True)
class PrimaryContrast:
    """Active minus placebo on one item, from the mixed model of its daily values.

    ``estimate`` is in the item's own units (for pain, negative is better); ``improvement``
    re-signs it so that positive is better. ``period`` holds each period indicator's
    estimate and p (block indicators in an n-of-1 design); ``carryover_p`` tests the
    sequence effect (None when the design has a single sequence or a single participant);
    ``sensitivity_*`` is the same contrast under the random-intercept-only model.
    """

    item: str
    direction: str
    estimate: float
    improvement: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p: float
    rho: float
    sigma_b: float
    sigma: float
    n_obs: int
    n_participants: int
    boundary: bool
    model: str
    period: dict[str, tuple[float, float]]
    carryover_p: float | None
    sensitivity_estimate: float
    sensitivity_se: float
    sensitivity_p: float


def primary_contrast(
    dataset: TrialDataset, item: str, *, correlation: Correlation = "ar1"
) -> PrimaryContrast:
    """Fit the primary model to `item` and return the active-vs-placebo contrast.

    Model (nlme): ``lme(y ~ active + period, random = ~1 | id, correlation = corAR1(form =
    ~day | id), method = "REML")``; with a single participant (n-of-1) the random intercept is
    dropped (``gls``), and in an n-of-1 design blocks replace periods. Carry-over: the same
    model with the sequence indicators added; its p is the t-test of the sequence coefficient
    (two sequences) or a Wald chi-square test of all of them. The sensitivity analysis refits
    without AR(1) (``lmer(y ~ active + period + (1|id))``).
    """
    setup = _setup(dataset, item)
    main = _fit(setup.frame, setup.fixed, correlation=correlation, single=setup.single)
    with_sequence: MixedModelResult | None = None
    if setup.sequence_terms and not setup.single:
        with_sequence = _fit(
            setup.frame, setup.with_sequence, correlation=correlation, single=False
        )
    sensitivity = _fit(setup.frame, setup.fixed, correlation="none", single=setup.single)
    return _contrast(dataset, setup, main, with_sequence, sensitivity)


def primary_contrasts(
    dataset: TrialDataset, items: list[str], *, correlation: Correlation = "ar1"
) -> tuple[dict[str, PrimaryContrast], dict[str, str]]:
    """:func:`primary_contrast` of every item in `items`, and why an item could not be fitted.

    The items that share their model terms are fitted together
    (:func:`~diarytrial.analysis.mixed.mixed_model_several`): the same models and the same
    optimum as item by item, found in one search rather than one per item.
    """
    setups: dict[str, _Setup] = {}
    problems: dict[str, str] = {}
    for item in items:
        try:
            setups[item] = _setup(dataset, item)
        except ValueError as error:
            problems[item] = str(error)
    fits: dict[tuple[str, str], MixedModelResult | ValueError] = {}
    models: list[tuple[str, list[str], Correlation, str]] = []
    for item, setup in setups.items():
        models.append(("main", setup.fixed, correlation, item))
        if setup.sequence_terms and not setup.single:
            models.append(("with_sequence", setup.with_sequence, correlation, item))
        models.append(("sensitivity", setup.fixed, "none", item))
    # One batch per model and set of terms; a single-participant series keeps its own fit.
    batches: dict[tuple[str, tuple[str, ...], Correlation], list[str]] = {}
    for name, fixed, corr, item in models:
        if setups[item].single:
            try:
                fits[name, item] = _fit(setups[item].frame, fixed, correlation=corr, single=True)
            except ValueError as error:
                fits[name, item] = error
            continue
        batches.setdefault((name, tuple(fixed), corr), []).append(item)
    for (name, fixed_terms, corr), batch in batches.items():
        results = mixed_model_several(
            [setups[item].frame for item in batch],
            outcome="y",
            fixed=list(fixed_terms),
            group="participant_id",
            time="day",
            correlation=corr,
        )
        fits.update({(name, item): result for item, result in zip(batch, results, strict=True)})
    contrasts: dict[str, PrimaryContrast] = {}
    for item in items:
        if item not in setups:
            continue
        # The first failing fit, in primary_contrast's order, names the problem.
        try:
            main = _fitted(fits["main", item])
            with_sequence = (
                _fitted(fits["with_sequence", item]) if ("with_sequence", item) in fits else None
            )
            sensitivity = _fitted(fits["sensitivity", item])
        except ValueError as error:
            problems[item] = str(error)
            continue
        contrasts[item] = _contrast(dataset, setups[item], main, with_sequence, sensitivity)
    ordered = {item: problems[item] for item in items if item in problems}
    return contrasts, ordered


@dataclass(frozen=True)
class _Setup:
    """The model frame of one item and the terms of its models."""

    item: str
    frame: pd.DataFrame
    fixed: list[str]
    period_terms: list[str]
    sequence_terms: list[str]
    single: bool

    @property
    def with_sequence(self) -> list[str]:
        return [*self.fixed, *self.sequence_terms]


def _setup(dataset: TrialDataset, item: str) -> _Setup:
    frame = model_frame(dataset, item)
    if frame.empty:
        raise ValueError(f"no daily values of {item!r} fall in the treatment periods")
    period_terms = adjustment_terms(frame, dataset)
    return _Setup(
        item=item,
        frame=frame,
        fixed=["active", *period_terms],
        period_terms=period_terms,
        sequence_terms=[c for c in frame.columns if c.startswith("sequence_")],
        single=frame["participant_id"].nunique() == 1,
    )


def _fitted(fit: MixedModelResult | ValueError) -> MixedModelResult:
    if isinstance(fit, ValueError):
        raise fit
    return fit


def _contrast(
    dataset: TrialDataset,
    setup: _Setup,
    fit: MixedModelResult,
    with_sequence: MixedModelResult | None,
    sensitivity: MixedModelResult,
) -> PrimaryContrast:
    """The contrast of one item from its three fits."""
    item, single, period_terms = setup.item, setup.single, setup.period_terms
    carryover = None if with_sequence is None else _joint_p(with_sequence, setup.sequence_terms)
    direction = dataset.protocol.protocol.diary.item(item).direction
    k = fit.terms.index("active")
    sign = -1.0 if direction == "higher_is_worse" else 1.0
    s = sensitivity.terms.index("active")
    return PrimaryContrast(
        item=item,
        direction=direction,
        estimate=fit.estimate[k],
        improvement=sign * fit.estimate[k],
        se=fit.se[k],
        df=fit.df[k],
        ci_low=fit.ci_low[k],
        ci_high=fit.ci_high[k],
        p=fit.p[k],
        rho=fit.rho,
        sigma_b=fit.sigma_b,
        sigma=fit.sigma,
        n_obs=fit.n_obs,
        n_participants=int(setup.frame["participant_id"].nunique()),
        boundary=fit.boundary,
        model=("gls" if single else "lme") + ("+AR(1)" if fit.correlation == "ar1" else ""),
        period={
            t: (fit.estimate[fit.terms.index(t)], fit.p[fit.terms.index(t)]) for t in period_terms
        },
        carryover_p=carryover,
        sensitivity_estimate=sensitivity.estimate[s],
        sensitivity_se=sensitivity.se[s],
        sensitivity_p=sensitivity.p[s],
    )


def _fit(
    frame: pd.DataFrame, fixed: list[str], *, correlation: Correlation, single: bool
) -> MixedModelResult:
    if single:
        if correlation == "ar1":
            return gls_ar1(frame, outcome="y", fixed=fixed, time="day")
        return _least_squares(frame, fixed)
    return mixed_model(
        frame, outcome="y", fixed=fixed, group="participant_id", time="day", correlation=correlation
    )


def _least_squares(frame: pd.DataFrame, fixed: list[str]) -> MixedModelResult:
    """Ordinary least squares for one participant, in the shape of a mixed-model result."""
    x = np.column_stack([np.ones(len(frame)), frame[fixed].to_numpy(dtype=float)])
    y = frame["y"].to_numpy(dtype=float)
    beta, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    n, p = x.shape
    if rank < p or n <= p:
        raise ValueError("too few days or collinear periods to fit the model for this participant")
    residual = y - x @ beta
    sigma2 = float(residual @ residual) / (n - p)
    cov = sigma2 * np.linalg.inv(x.T @ x)
    se = np.sqrt(np.diag(cov))
    t = beta / se
    df = float(n - p)
    p_values = 2 * dist.t_sf(np.abs(t), df)
    q = float(dist.t_ppf(0.975, df))
    return MixedModelResult(
        terms=("(Intercept)", *fixed),
        estimate=tuple(map(float, beta)),
        se=tuple(map(float, se)),
        df=(df,) * p,
        t=tuple(map(float, t)),
        p=tuple(map(float, p_values)),
        ci_low=tuple(map(float, beta - q * se)),
        ci_high=tuple(map(float, beta + q * se)),
        vcov=tuple(tuple(map(float, row)) for row in cov),
        sigma_b=math.nan,
        sigma=math.sqrt(sigma2),
        rho=0.0,
        loglik=math.nan,
        n_obs=n,
        n_groups=1,
        boundary=False,
        correlation="none",
        random_intercept=False,
        conf_level=0.95,
    )


def _joint_p(fit: MixedModelResult, terms: list[str]) -> float:
    """p of the t-test for one term; Wald chi-square for several."""
    index = [fit.terms.index(t) for t in terms]
    if len(index) == 1:
        return fit.p[index[0]]
    beta = np.array([fit.estimate[i] for i in index])
    cov = np.array([[fit.vcov[i][j] for j in index] for i in index])
    wald = float(beta @ np.linalg.solve(cov, beta))
    return dist.chi2_sf(wald, len(index))
