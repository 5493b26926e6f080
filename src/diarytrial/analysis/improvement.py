"""Percent improvement from baseline, and responders.

These are steps 2 and 3 of the analysis plan (``docs/statistics.md``); step 1, the phase means
they start from, is in :mod:`diarytrial.analysis.phases`. Every function takes the trial dataset
and returns a tidy DataFrame of raw numbers; formatting is the report's job.

Directions: improvement is signed so that positive is better for every item. For an item where
higher is worse (pain, fatigue) a fall from baseline is an improvement; for an item where higher
is better (sleep quality, mood) a rise is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.analysis.phases import By, Window, phase_means, resolve_window
from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol.responder import AllOf, AnyOf, Rule, Threshold, parse_rule

__all__ = [
    "By",
    "Window",
    "percent_change",
    "percent_improvement",
    "phase_means",
    "responders",
    "responders_from_improvement",
]

FloatArray = npt.NDArray[np.float64]


def percent_change(
    baseline: npt.ArrayLike, value: npt.ArrayLike, higher_is_worse: npt.ArrayLike
) -> FloatArray:
    """Percent improvement from `baseline` to `value`, signed so that positive is better.

    .. math::

        I = \\frac{b - x}{b} \\times 100 \\quad \\text{(higher is worse)}, \\qquad
        I = \\frac{x - b}{b} \\times 100 \\quad \\text{(higher is better)}

    A zero baseline gives 0 when the value is also 0 (no change) and NaN otherwise: a percent
    change from nothing is undefined, so such a participant meets no percent-based responder
    threshold. A missing baseline or value gives NaN.

    Parameters
    ----------
    baseline, value : array_like
        Baseline and later means on the item's own scale (scales start at 0).
    higher_is_worse : array_like of bool
        True for items where a higher value is worse.

    Returns
    -------
    numpy.ndarray
        The improvement in percent.

    Examples
    --------
    >>> percent_change([60, 40, 0, 0], [42, 52, 0, 5], [True, False, True, True]).tolist()
    [30.0, 30.0, 0.0, nan]
    """
    b = np.asarray(baseline, dtype=float)
    x = np.asarray(value, dtype=float)
    worse = np.asarray(higher_is_worse, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(worse, b - x, x - b) / b * 100
    change = np.where((b == 0) & (x == 0), 0.0, change)
    out: FloatArray = np.where(np.isfinite(change), change, np.nan)
    return out


def percent_improvement(
    dataset: TrialDataset,
    *,
    window: Window | None = None,
    days: int | None = None,
    min_completion: float | None = None,
    by: By = "condition",
    items: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Percent improvement of each item from baseline, per participant and condition.

    For each participant, item and treatment condition (or phase), the window mean ``x`` is
    compared with the baseline mean ``b`` (see :func:`phase_means` for windows and the
    missing-data rule) by :func:`percent_change`::

        higher is worse:  (b - x) / b * 100
        higher is better: (x - b) / b * 100

    so that positive is better. The default window is the protocol's improvement endpoint: the
    final ``analysis.final_days`` days when ``improvement_endpoint = "final_days"`` (the 2013
    definition), else the analysis window. It is NaN when either mean is NaN, and when the
    baseline is 0 and the value is not.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    window, days, min_completion, items
        As in :func:`phase_means`.
    by : {"condition", "phase"}
        One row per treatment condition (default) or per treatment phase.

    Returns
    -------
    pandas.DataFrame
        Columns ``participant_id``, ``item``, ``condition`` (``phase`` and ``period`` too when
        ``by="phase"``), ``baseline`` and ``value`` (the two means), ``improvement`` (percent).

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=8, seed=1)
    >>> table = percent_improvement(trial, items=["pain"])
    >>> list(table.columns)
    ['participant_id', 'item', 'condition', 'baseline', 'value', 'improvement']
    >>> sorted(table["condition"].unique())
    ['active', 'placebo']
    """
    window, n_days = resolve_window(dataset, window, days, endpoint=True)
    means = phase_means(
        dataset, window=window, days=n_days, min_completion=min_completion, by=by, items=items
    )
    is_baseline = means["condition"] == "baseline"
    base = means.loc[is_baseline, ["participant_id", "item", "mean"]].rename(
        columns={"mean": "baseline"}
    )
    treated = means.loc[~is_baseline].merge(base, on=["participant_id", "item"], how="left")
    worse = {
        item.id: item.direction == "higher_is_worse"
        for item in dataset.protocol.protocol.diary.items
    }
    treated["value"] = treated["mean"]
    treated["improvement"] = percent_change(
        treated["baseline"].to_numpy(dtype=float),
        treated["value"].to_numpy(dtype=float),
        treated["item"].map(worse).to_numpy(dtype=bool),
    )
    keys = ["participant_id", "item", "condition"]
    if by == "phase":
        keys += ["phase", "period"]
    return treated[[*keys, "baseline", "value", "improvement"]].reset_index(drop=True)


def _evaluate(rule: Rule, columns: dict[str, FloatArray]) -> npt.NDArray[np.bool_]:
    if isinstance(rule, Threshold):
        out: npt.NDArray[np.bool_] = columns[rule.item] >= rule.percent
        return out
    parts = [_evaluate(part, columns) for part in rule.parts]
    if isinstance(rule, AllOf):
        every: npt.NDArray[np.bool_] = np.logical_and.reduce(parts)
        return every
    if isinstance(rule, AnyOf):
        some: npt.NDArray[np.bool_] = np.logical_or.reduce(parts)
        return some
    raise TypeError(f"not a responder rule: {rule!r}")  # pragma: no cover


def responders_from_improvement(
    data: pd.DataFrame,
    rule: str | Rule,
    *,
    subject: str = "participant_id",
    within: str | Sequence[str] = "condition",
    item: str = "item",
    improvement: str = "improvement",
) -> pd.DataFrame:
    """Apply a responder rule to long-format percent improvements.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format: one row per subject x `within` x item, as from
        :func:`percent_improvement`.
    rule : str or Rule
        The responder rule, e.g. ``"pain >= 30 and (fatigue >= 30 or sleep >= 30)"``.
    subject, within, item, improvement : str
        Column names; `within` may name several columns (e.g. condition and period).

    Returns
    -------
    pandas.DataFrame
        One row per subject x `within`: those columns, ``responder`` (nullable boolean) and one
        column per item the rule names, holding its improvement. Missing data: a missing
        improvement never meets a threshold; ``responder`` is ``<NA>`` when the missing values
        could change the answer (e.g. pain >= 30 with fatigue missing and sleep < 30) and is
        decided otherwise (pain < 30 makes a non-responder whatever else is missing).

    Examples
    --------
    >>> long = pd.DataFrame({
    ...     "participant_id": ["a"] * 3 + ["b"] * 3,
    ...     "condition": "active",
    ...     "item": ["pain", "fatigue", "sleep"] * 2,
    ...     "improvement": [35.0, 10.0, 31.0, 35.0, float("nan"), 5.0],
    ... })
    >>> rule = "pain >= 30 and (fatigue >= 30 or sleep >= 30)"
    >>> responders_from_improvement(long, rule)["responder"].tolist()
    [True, <NA>]
    """
    parsed = parse_rule(rule) if isinstance(rule, str) else rule
    within_columns = [within] if isinstance(within, str) else list(within)
    missing = [c for c in (subject, *within_columns, item, improvement) if c not in data.columns]
    if missing:
        raise ValueError(f"data has no column {', '.join(map(repr, missing))}")
    needed = list(parsed.items())
    subset = data[data[item].astype(str).isin(needed)]
    wide = subset.pivot_table(
        index=[subject, *within_columns],
        columns=item,
        values=improvement,
        aggfunc="first",
        dropna=False,
        observed=True,
    )
    wide = wide.reindex(columns=needed)
    wide.columns.name = None
    values = {name: wide[name].to_numpy(dtype=float) for name in needed}
    low = _evaluate(parsed, {k: np.nan_to_num(v, nan=-np.inf) for k, v in values.items()})
    high = _evaluate(parsed, {k: np.nan_to_num(v, nan=np.inf) for k, v in values.items()})
    result = wide.reset_index()
    # Decided when the missing values, set to -inf and to +inf, give the same answer.
    answer = pd.Series(low, index=result.index, dtype="boolean")
    answer[low != high] = pd.NA
    result.insert(len(within_columns) + 1, "responder", answer)
    return result


def responders(
    dataset: TrialDataset,
    *,
    rule: str | Rule | None = None,
    window: Window | None = None,
    days: int | None = None,
    min_completion: float | None = None,
    by: By = "condition",
) -> pd.DataFrame:
    """Responders per participant and condition under the protocol's responder rule.

    Percent improvements come from :func:`percent_improvement` (the protocol's improvement
    endpoint by default); the rule (default: the protocol's, e.g. ``pain >= 30 and (fatigue
    >= 30 or sleep >= 30)``) is applied by :func:`responders_from_improvement`, which also
    states the missing-data rule.

    Returns
    -------
    pandas.DataFrame
        Columns ``participant_id``, ``condition`` (``phase``, ``period`` when
        ``by="phase"``), ``responder`` (nullable boolean) and the improvement of each item the
        rule names.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=8, seed=1)
    >>> list(responders(trial).columns)
    ['participant_id', 'condition', 'responder', 'pain', 'fatigue', 'sleep']
    """
    protocol = dataset.protocol.protocol
    parsed = parse_rule(rule) if isinstance(rule, str) else rule
    if parsed is None:
        parsed = parse_rule(protocol.responder.rule)
    improvement = percent_improvement(
        dataset,
        window=window,
        days=days,
        min_completion=min_completion,
        by=by,
        items=list(parsed.items()),
    )
    within = ["condition"] if by == "condition" else ["condition", "phase", "period"]
    return responders_from_improvement(improvement, parsed, within=within)
