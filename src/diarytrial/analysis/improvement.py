"""Phase means, percent improvement from baseline, and responders.

These are steps 1 to 3 of the analysis plan (``docs/statistics.md``). Every function takes the
trial dataset and returns a tidy DataFrame of raw numbers; formatting is the report's job.

Directions: improvement is signed so that positive is better for every item. For an item where
higher is worse (pain, fatigue) a fall from baseline is an improvement; for an item where higher
is better (sleep quality, mood) a rise is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol.responder import AllOf, AnyOf, Rule, Threshold, parse_rule

Window = Literal["whole_phase", "last_days", "final_days"]
By = Literal["phase", "condition"]
FloatArray = npt.NDArray[np.float64]

_DAY_KEY = 1 << 20  # more days than any calendar date needs: one key per participant and day


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


def _resolve_window(
    dataset: TrialDataset, window: Window | None, days: int | None, *, endpoint: bool
) -> tuple[Window, int | None]:
    analysis = dataset.protocol.protocol.analysis
    if window is None:
        if endpoint and analysis.improvement_endpoint == "final_days":
            window = "final_days"
        else:
            window = analysis.window
    if window == "whole_phase":
        return window, None
    if days is None:
        days = analysis.final_days if window == "final_days" else analysis.last_days
    if days is None or days < 1:
        raise ValueError(
            f"window = {window!r} needs a number of days: pass days=N or set it in the protocol"
        )
    return window, days


def _codes(column: pd.Series, labels: Sequence[str]) -> npt.NDArray[np.int64]:
    """Position of each value of `column` in `labels`; -1 for a value not in it."""
    index = pd.Index(list(labels), dtype=object)
    if isinstance(column.dtype, pd.CategoricalDtype):
        mapping = np.append(index.get_indexer(column.cat.categories.astype(object)), -1)
        codes = column.cat.codes.to_numpy().astype(np.int64)
        out: npt.NDArray[np.int64] = mapping[codes]  # code -1 (missing) maps to the last, -1
        return out
    return index.get_indexer(pd.Index(column.astype(object))).astype(np.int64)


def _day_numbers(column: pd.Series) -> npt.NDArray[np.int64]:
    out: npt.NDArray[np.int64] = column.to_numpy().astype("datetime64[D]").astype(np.int64)
    return out


def phase_means(
    dataset: TrialDataset,
    *,
    window: Window | None = None,
    days: int | None = None,
    min_completion: float | None = None,
    by: By = "phase",
    items: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mean of each diary item per participant and phase (or condition) over an analysis window.

    The baseline is always the whole baseline phase; washout phases are left out. For a
    treatment phase the window is the whole phase (``"whole_phase"``), or its last `days` days
    (``"last_days"``, the protocol's ``analysis.last_days``; ``"final_days"``, the protocol's
    ``analysis.final_days``, the 2013 endpoint: the final 14 days of each condition). Windows
    are laid on the *planned* schedule (``periods``), so days lost to a withdrawal count as
    missing.

    Missing data: a day counts as completed for an item when the diary holds a value for it.
    The mean is taken over completed days; it is NaN when fewer than `min_completion` of the
    window's days are completed (default: the protocol's ``analysis.min_completion``).

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    window : {"whole_phase", "last_days", "final_days"}, optional
        Days of each treatment phase to use; default: the protocol's ``analysis.window``.
    days : int, optional
        Length of a ``last_days`` or ``final_days`` window; default: from the protocol.
    min_completion : float, optional
        Share of a window's days that must be completed, in (0, 1].
    by : {"phase", "condition"}
        ``"phase"``: one row per phase. ``"condition"``: the windows of every phase of the
        same condition pooled (several blocks of an n-of-1 trial), one row per condition.
    items : sequence of str, optional
        Items to summarise; default: every item of the protocol.

    Returns
    -------
    pandas.DataFrame
        One row per participant x item x phase (or condition), with columns

        - ``participant_id``, ``item``
        - ``phase``, ``period`` (0 = baseline) when ``by="phase"``; ``phases`` (how many were
          pooled) when ``by="condition"``
        - ``condition``: baseline, active or placebo
        - ``days_planned``: days in the window(s); ``days_completed``: days with a value
        - ``completion``: ``days_completed / days_planned``
        - ``mean``: mean of the values on completed days, NaN below `min_completion`

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("nof1-ldn"), participants=1, seed=4)
    >>> means = phase_means(trial, items=["pain"])
    >>> means[["period", "days_planned"]].to_numpy().tolist()[:3]
    [[0, 7], [1, 7], [2, 7]]
    >>> list(phase_means(trial, by="condition", items=["pain"])["condition"])
    ['baseline', 'active', 'placebo']
    """
    protocol = dataset.protocol.protocol
    window, n_days = _resolve_window(dataset, window, days, endpoint=False)
    if min_completion is None:
        min_completion = protocol.analysis.min_completion
    if not 0 < min_completion <= 1:
        raise ValueError(f"min_completion is a share in (0, 1] (got {min_completion})")
    if by not in ("phase", "condition"):
        raise ValueError(f"by is 'phase' or 'condition' (got {by!r})")
    known = [item.id for item in protocol.diary.items]
    item_ids = list(items) if items is not None else known
    unknown = [i for i in item_ids if i not in known]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)}: not a diary item; the items are {', '.join(known)}"
        )

    periods = dataset.periods
    phases = periods[periods["condition"].astype(str) != "washout"].reset_index(drop=True)
    people = list(pd.unique(phases["participant_id"].astype(str)))
    who = _codes(phases["participant_id"], people)
    first = _day_numbers(phases["start"])
    last = _day_numbers(phases["end"])
    if window != "whole_phase" and n_days is not None:
        treatment = (phases["condition"].astype(str) != "baseline").to_numpy()
        first = np.where(treatment, np.maximum(first, last - n_days + 1), first)
    order = np.lexsort((first, who))
    phases, who, first, last = (
        phases.iloc[order].reset_index(drop=True),
        who[order],
        first[order],
        last[order],
    )

    diary = dataset.diary
    d_who = _codes(diary["participant_id"], people)
    d_item = _codes(diary["item"], item_ids)
    value = diary["value"].to_numpy(dtype=float)
    keep = (d_who >= 0) & (d_item >= 0) & ~np.isnan(value)
    d_who, d_item, value = d_who[keep], d_item[keep], value[keep]
    d_key = d_who * _DAY_KEY + _day_numbers(diary["diary_date"])[keep]
    start_key = who * _DAY_KEY + first
    slot = np.searchsorted(start_key, d_key, side="right") - 1
    inside = slot >= 0
    inside[inside] &= d_key[inside] <= (who * _DAY_KEY + last)[slot[inside]]
    slot, d_item, value = slot[inside], d_item[inside], value[inside]

    n_items = len(item_ids)
    cell = slot * n_items + d_item
    size = len(phases) * n_items
    total = np.bincount(cell, weights=value, minlength=size).reshape(len(phases), n_items)
    count = np.bincount(cell, minlength=size).reshape(len(phases), n_items)
    planned = np.broadcast_to((last - first + 1)[:, None], total.shape)

    long = pd.DataFrame(
        {
            "participant_id": np.repeat(phases["participant_id"].astype(str).to_numpy(), n_items),
            "item": np.tile(np.array(item_ids, dtype=object), len(phases)),
            "phase": np.repeat(phases["phase"].to_numpy(dtype=np.int64), n_items),
            "period": np.repeat(phases["period"].to_numpy(), n_items),
            "condition": np.repeat(phases["condition"].astype(str).to_numpy(), n_items),
            "sum": total.ravel(),
            "days_planned": planned.ravel().astype(np.int64),
            "days_completed": count.ravel().astype(np.int64),
        }
    )
    long["period"] = long["period"].astype("Int64")
    if by == "condition":
        condition_order = {"baseline": 0, "active": 1, "placebo": 2}
        long = (
            long.groupby(["participant_id", "item", "condition"], sort=False)
            .agg(
                phases=("phase", "size"),
                sum=("sum", "sum"),
                days_planned=("days_planned", "sum"),
                days_completed=("days_completed", "sum"),
            )
            .reset_index()
        )
        long["_order"] = long["condition"].map(condition_order)
        long["_item"] = long["item"].map({item: k for k, item in enumerate(item_ids)})
        long = long.sort_values(["participant_id", "_item", "_order"], kind="stable").drop(
            columns=["_order", "_item"]
        )
        long = long[
            [
                "participant_id",
                "item",
                "condition",
                "phases",
                "sum",
                "days_planned",
                "days_completed",
            ]
        ]
    completion = long["days_completed"] / long["days_planned"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = long["sum"] / long["days_completed"]
    long = long.drop(columns="sum")
    long["completion"] = completion.to_numpy(dtype=float)
    # A tiny tolerance keeps 0.7 x 10 planned days = 7 completed days from failing on rounding.
    enough = long["completion"].to_numpy() >= min_completion - 1e-12
    long["mean"] = np.where(enough & (long["days_completed"].to_numpy() > 0), mean, np.nan)
    return long.reset_index(drop=True)


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
    window, n_days = _resolve_window(dataset, window, days, endpoint=True)
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
