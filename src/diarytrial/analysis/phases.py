"""Phase means: the mean of each diary item per participant and phase over an analysis window.

Step 1 of the analysis plan (``docs/statistics.md``): the windows are laid on the planned
schedule (``periods``), each diary answer is put in its participant's window in one sorted
search, and the sums and counts of the windows give the means, per phase or pooled per
condition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.model import TrialDataset

Window = Literal["whole_phase", "last_days", "final_days"]
By = Literal["phase", "condition"]

_DAY_KEY = 1 << 20  # more days than any calendar date needs: one key per participant and day


def resolve_window(
    dataset: TrialDataset, window: Window | None, days: int | None, *, endpoint: bool
) -> tuple[Window, int | None]:
    """The window and its days: those given, else the protocol's (its endpoint's if `endpoint`)."""
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
    """Days since 1970-01-01 of a date column, as integers."""
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
    window, n_days = resolve_window(dataset, window, days, endpoint=False)
    if min_completion is None:
        min_completion = protocol.analysis.min_completion
    if not 0 < min_completion <= 1:
        raise ValueError(f"min_completion is a share in (0, 1] (got {min_completion})")
    if by not in ("phase", "condition"):
        raise ValueError(f"by is 'phase' or 'condition' (got {by!r})")
    item_ids = _item_ids(dataset, items)
    windows = _windows(dataset.periods, None if window == "whole_phase" else n_days)
    total, count = _window_sums(dataset.diary, windows, item_ids)
    long = _long_table(windows, item_ids, total, count)
    if by == "condition":
        long = _pooled_by_condition(long, item_ids)
    return _with_means(long, min_completion)


def _item_ids(dataset: TrialDataset, items: Sequence[str] | None) -> list[str]:
    """The items to summarise: `items`, or every item of the protocol; ValueError for others."""
    known = [item.id for item in dataset.protocol.protocol.diary.items]
    item_ids = list(items) if items is not None else known
    unknown = [i for i in item_ids if i not in known]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)}: not a diary item; the items are {', '.join(known)}"
        )
    return item_ids


@dataclass(frozen=True, eq=False)
class _Windows:
    """The analysis windows of the non-washout phases, by participant and first day.

    ``who`` numbers the participants in the order of ``people``; ``first`` and ``last`` are the
    windows' first and last days as day numbers.
    """

    phases: pd.DataFrame
    people: list[str]
    who: npt.NDArray[np.int64]
    first: npt.NDArray[np.int64]
    last: npt.NDArray[np.int64]


def _windows(periods: pd.DataFrame, n_days: int | None) -> _Windows:
    """The window of every phase but the washouts: the last `n_days` of a treatment phase."""
    phases = periods[periods["condition"].astype(str) != "washout"].reset_index(drop=True)
    people = list(pd.unique(phases["participant_id"].astype(str)))
    who = _codes(phases["participant_id"], people)
    first = _day_numbers(phases["start"])
    last = _day_numbers(phases["end"])
    if n_days is not None:
        treatment = (phases["condition"].astype(str) != "baseline").to_numpy()
        first = np.where(treatment, np.maximum(first, last - n_days + 1), first)
    order = np.lexsort((first, who))
    return _Windows(
        phases=phases.iloc[order].reset_index(drop=True),
        people=people,
        who=who[order],
        first=first[order],
        last=last[order],
    )


def _window_sums(
    diary: pd.DataFrame, windows: _Windows, item_ids: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """Sum and number of the answers of each window (rows) and item (columns)."""
    who, first, last = windows.who, windows.first, windows.last
    d_who = _codes(diary["participant_id"], windows.people)
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

    n_phases, n_items = len(windows.phases), len(item_ids)
    cell = slot * n_items + d_item
    size = n_phases * n_items
    total = np.bincount(cell, weights=value, minlength=size).reshape(n_phases, n_items)
    count = np.bincount(cell, minlength=size).reshape(n_phases, n_items)
    return np.asarray(total, dtype=np.float64), count  # float64 already: no copy


def _long_table(
    windows: _Windows,
    item_ids: list[str],
    total: npt.NDArray[np.float64],
    count: npt.NDArray[np.intp],
) -> pd.DataFrame:
    """One row per window and item: the phase, its sum, planned and completed days."""
    phases, n_items = windows.phases, len(item_ids)
    planned = np.broadcast_to((windows.last - windows.first + 1)[:, None], total.shape)
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
    return long


def _pooled_by_condition(long: pd.DataFrame, item_ids: list[str]) -> pd.DataFrame:
    """The windows of each participant, item and condition pooled, in the order of the items."""
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
    return long[
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


def _with_means(long: pd.DataFrame, min_completion: float) -> pd.DataFrame:
    """The sums replaced by completion and mean; NaN mean below `min_completion`."""
    completion = long["days_completed"] / long["days_planned"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = long["sum"] / long["days_completed"]
    long = long.drop(columns="sum")
    long["completion"] = completion.to_numpy(dtype=float)
    # A tiny tolerance keeps 0.7 x 10 planned days = 7 completed days from failing on rounding.
    enough = long["completion"].to_numpy() >= min_completion - 1e-12
    long["mean"] = np.where(enough & (long["days_completed"].to_numpy() > 0), mean, np.nan)
    return long.reset_index(drop=True)
