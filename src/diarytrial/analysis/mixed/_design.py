"""Validation of the input and its reduction to sorted, centred arrays.

Everything downstream assumes the rows are ordered by (trial, participant,
day) with each participant's rows contiguous, so the checks for duplicates and
the summary sums become single passes over the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

INTERCEPT = "(Intercept)"


@dataclass(frozen=True, eq=False)
class Design:
    """Sorted, validated rows of one or many trials.

    ``x`` and ``y`` are centred on their overall means: the intercept absorbs
    the shift, and the cross-product sums lose far fewer digits to
    cancellation when the outcome sits far from zero.
    """

    y: FloatArray
    x: FloatArray
    y_mean: float
    x_mean: FloatArray
    terms: tuple[str, ...]
    group: IntArray
    day: npt.NDArray[np.int64] | None
    group_start: IntArray
    group_trial: IntArray
    group_rank: IntArray
    group_size: IntArray
    trial_labels: pd.Index
    n_obs: IntArray
    n_groups: IntArray
    within: BoolArray
    constant: BoolArray
    y_constant: BoolArray

    @property
    def n_trials(self) -> int:
        return int(self.n_obs.shape[0])

    @property
    def p(self) -> int:
        return int(self.x.shape[1])

    @property
    def m_max(self) -> int:
        return int(self.n_groups.max())


def _check_names(
    data: pd.DataFrame,
    outcome: str,
    fixed: Sequence[str],
    group: str | None,
    time: str | None,
    trial: str | None,
) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(fixed, str):
        raise TypeError(f"fixed must be a list of column names, e.g. [{fixed!r}], not a string")
    if len(set(fixed)) != len(fixed):
        raise ValueError(f"fixed lists a column more than once: {list(fixed)}")
    if INTERCEPT in fixed:
        raise ValueError(f"{INTERCEPT!r} is added automatically; remove it from fixed")
    roles = {"outcome": outcome, "group": group, "time": time, "trial": trial}
    for role, name in roles.items():
        if name is not None and name in fixed:
            raise ValueError(f"the {role} column {name!r} cannot also be a fixed effect")
    named = [outcome, *fixed, *(n for n in (group, time, trial) if n is not None)]
    missing = [n for n in named if n not in data.columns]
    if missing:
        raise ValueError(
            f"column(s) {missing} not found in data; available columns: {list(data.columns)}"
        )
    if len(data) == 0:
        raise ValueError("data has no rows")


def _numeric(data: pd.DataFrame, column: str, role: str) -> FloatArray:
    series = data[column]
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        hint = (
            "convert dates to integer day numbers, e.g. (date - start).dt.days"
            if role == "time"
            else "encode categories as 0/1 indicator columns"
        )
        raise ValueError(
            f"{role} column {column!r} must be numeric (dtype is {series.dtype}); {hint}"
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    _require_finite(values, column, role, data.index)
    return values


def _require_finite(values: FloatArray, column: str, role: str, index: pd.Index) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        first = index[int(np.argmax(bad))]
        raise ValueError(
            f"{role} column {column!r} has {int(bad.sum())} missing or infinite value(s) "
            f"(first at row {first!r}); a missing diary night must be an absent row, "
            "so drop those rows before fitting"
        )


def _days(values: FloatArray, column: str) -> npt.NDArray[np.int64]:
    fractional = values != np.round(values)
    if fractional.any():
        example = values[int(np.argmax(fractional))]
        raise ValueError(
            f"time column {column!r} must hold whole days; found {example!r}. "
            "Round or re-index the diary days to integers"
        )
    if np.abs(values).max() > 2.0**52:
        raise ValueError(f"time column {column!r} has values too large to be day numbers")
    return values.astype(np.int64)


def _codes(
    data: pd.DataFrame, column: str, role: str, *, sort: bool = False
) -> tuple[IntArray, pd.Index]:
    try:
        codes, uniques = pd.factorize(data[column], sort=sort)
    except TypeError:
        codes, uniques = pd.factorize(data[column], sort=False)
    if (codes < 0).any():
        raise ValueError(
            f"{role} column {column!r} has missing values; every row needs a {role} label"
        )
    return codes.astype(np.intp, copy=False), pd.Index(uniques)


def _run_count(codes: IntArray) -> int:
    return int(np.count_nonzero(codes[1:] != codes[:-1])) + 1


def _order(trial: IntArray, pair: IntArray, day: npt.NDArray[np.int64] | None) -> IntArray | None:
    """Row permutation to (trial, participant, day) order, or None if already so.

    Most diaries arrive sorted, and skipping the lexsort is what keeps large
    fits cheap; the checks below are O(n).
    """
    n_trials = int(trial.max()) + 1
    n_pairs = int(pair.max()) + 1
    ordered = _run_count(trial) == n_trials and _run_count(pair) == n_pairs
    if ordered and day is not None:
        same = pair[1:] == pair[:-1]
        ordered = bool(np.all(day[1:][same] > day[:-1][same]))
    if ordered:
        return None
    keys: tuple[npt.NDArray[np.generic], ...] = (pair, trial)
    if day is not None:
        keys = (day, pair, trial)
    return np.lexsort(keys).astype(np.intp)


def from_frame(
    data: pd.DataFrame,
    *,
    outcome: str,
    fixed: Sequence[str],
    group: str | None,
    time: str | None,
    trial: str | None,
) -> Design:
    """Validate a long data frame and build the sorted design."""
    _check_names(data, outcome, fixed, group, time, trial)
    fixed = list(fixed)
    n = len(data)
    y = _numeric(data, outcome, "outcome")
    x = np.empty((n, len(fixed) + 1), dtype=np.float64)
    x[:, 0] = 1.0
    for k, name in enumerate(fixed, start=1):
        x[:, k] = _numeric(data, name, "fixed-effect")
    day: npt.NDArray[np.int64] | None = None
    if time is not None:
        day = _days(_numeric(data, time, "time"), time)
    if group is None:
        gcodes = np.zeros(n, dtype=np.intp)
        glabels = pd.Index(["(all rows)"])
    else:
        gcodes, glabels = _codes(data, group, "group")
    if trial is None:
        tcodes = np.zeros(n, dtype=np.intp)
        tlabels = pd.Index([0])
        pair = gcodes
    else:
        # Sorted like a pandas groupby, so the result's index is in trial order.
        tcodes, tlabels = _codes(data, trial, "trial", sort=True)
        combined = tcodes.astype(np.int64) * len(glabels) + gcodes
        pair = pd.factorize(combined)[0].astype(np.intp)
    order = _order(tcodes, pair, day)
    if order is not None:
        y, x, gcodes, tcodes, pair = y[order], x[order], gcodes[order], tcodes[order], pair[order]
        if day is not None:
            day = day[order]
    if trial is not None:
        first_rows = np.flatnonzero(np.r_[True, tcodes[1:] != tcodes[:-1]])
        tlabels = tlabels[tcodes[first_rows]]
        tcodes = np.cumsum(np.r_[True, tcodes[1:] != tcodes[:-1]]).astype(np.intp) - 1
    if day is not None:
        same = pair[1:] == pair[:-1]
        dup = same & (day[1:] == day[:-1])
        if dup.any():
            row = int(np.argmax(dup)) + 1
            raise ValueError(
                f"duplicate (group, time) rows: participant {glabels[gcodes[row]]!r} has more "
                f"than one row on day {int(day[row])}; keep one diary value per participant "
                "and day (aggregate or drop duplicates)"
            )
    return _finish(
        y=y, x=x, terms=(INTERCEPT, *fixed), pair=pair, trial=tcodes, day=day, trial_labels=tlabels
    )


def _finish(
    *,
    y: FloatArray,
    x: FloatArray,
    terms: tuple[str, ...],
    pair: IntArray,
    trial: IntArray,
    day: npt.NDArray[np.int64] | None,
    trial_labels: pd.Index,
) -> Design:
    new_group = np.r_[True, pair[1:] != pair[:-1]]
    group_start = np.flatnonzero(new_group).astype(np.intp)
    group = (np.cumsum(new_group) - 1).astype(np.intp)
    group_size = np.diff(np.r_[group_start, y.shape[0]]).astype(np.intp)
    group_trial = trial[group_start]
    n_trials = int(group_trial[-1]) + 1
    n_groups = np.bincount(group_trial, minlength=n_trials).astype(np.intp)
    trial_first_group = np.r_[0, np.cumsum(n_groups)[:-1]].astype(np.intp)
    group_rank = (np.arange(group_start.shape[0]) - trial_first_group[group_trial]).astype(np.intp)
    n_obs = np.bincount(group_trial, weights=group_size, minlength=n_trials).astype(np.intp)
    # nlme calls a column "inner" (within-participant) as soon as it changes
    # inside any one group; that decides which denominator df it gets.
    lo = np.minimum.reduceat(x, group_start, axis=0)
    hi = np.maximum.reduceat(x, group_start, axis=0)
    within = np.logical_or.reduceat(hi > lo, trial_first_group, axis=0)
    constant = np.maximum.reduceat(hi, trial_first_group, axis=0) == np.minimum.reduceat(
        lo, trial_first_group, axis=0
    )
    y_hi = np.maximum.reduceat(np.maximum.reduceat(y, group_start), trial_first_group)
    y_lo = np.minimum.reduceat(np.minimum.reduceat(y, group_start), trial_first_group)
    y_mean = float(y.mean())
    x_mean = x.mean(axis=0)
    x_mean[0] = 0.0
    return Design(
        y=y - y_mean,
        x=x - x_mean,
        y_mean=y_mean,
        x_mean=x_mean,
        terms=terms,
        group=group,
        day=day,
        group_start=group_start,
        group_trial=group_trial,
        group_rank=group_rank,
        group_size=group_size,
        trial_labels=trial_labels,
        n_obs=n_obs,
        n_groups=n_groups,
        within=within,
        constant=constant,
        y_constant=y_hi == y_lo,
    )


def from_arrays(
    y: npt.ArrayLike,
    covariates: Mapping[str, npt.ArrayLike],
) -> Design:
    """Build the design from a (trials, participants, days) array layout.

    A NaN outcome marks a missing night (the row is simply absent); the day of
    a value is its position along the last axis.
    """
    values = np.asarray(y, dtype=np.float64)
    if values.ndim != 3:
        raise ValueError(
            f"y must have shape (trials, participants, days); got {values.ndim} dimension(s)"
        )
    if np.isinf(values).any():
        raise ValueError("y has infinite values; use NaN for a missing night")
    names = list(covariates)
    if INTERCEPT in names:
        raise ValueError(f"{INTERCEPT!r} is added automatically; remove it from covariates")
    observed = ~np.isnan(values)
    if not observed.any():
        raise ValueError("y has no observed values")
    t_idx, m_idx, d_idx = np.nonzero(observed)
    x = np.empty((t_idx.shape[0], len(names) + 1), dtype=np.float64)
    x[:, 0] = 1.0
    for k, name in enumerate(names, start=1):
        try:
            cov = np.broadcast_to(np.asarray(covariates[name], dtype=np.float64), values.shape)
        except ValueError as err:
            raise ValueError(
                f"covariate {name!r} cannot be broadcast to y's shape {values.shape}"
            ) from err
        column = cov[observed]
        if not np.isfinite(column).all():
            raise ValueError(
                f"covariate {name!r} is missing or infinite where y is observed; "
                "every observed night needs its covariate values"
            )
        x[:, k] = column
    present_trials = np.unique(t_idx)
    trial = np.searchsorted(present_trials, t_idx).astype(np.intp)
    pair = (t_idx.astype(np.intp) * values.shape[1] + m_idx).astype(np.intp)
    return _finish(
        y=values[observed],
        x=x,
        terms=(INTERCEPT, *names),
        pair=pair,
        trial=trial,
        day=d_idx.astype(np.int64),
        trial_labels=pd.Index(present_trials),
    )
