"""Diary compliance per participant and phase, and its summary per condition (analysis step 8).

A diary day is *expected* on every day of a phase of the planned schedule (``periods``) that has
passed: up to the data cut `as_of` and, for a withdrawn participant, up to the day before the
withdrawal date. It is *completed* when the diary holds at least one answer for that date.
The nights are counted by :func:`diarytrial.protocol.compliance.diary_compliance_nights`, the
definition the phone's progress and the staff list of participants use too.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from diarytrial.analysis._frames import (
    dates_of,
    day_numbers,
    phase_table,
    require_columns,
    string_values,
)
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import CONDITIONS
from diarytrial.protocol.compliance import NightCounts, diary_compliance_nights

ALL = "all"
"""The ``condition`` of the last row of :func:`compliance_summary`: every phase together."""


def _date_of(day: float) -> dt.date:
    """The date of a day number of :func:`day_numbers`."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def _python_dates(column: pd.Series) -> list[dt.date | None]:
    """The dates of a (short) date column as `datetime.date`; None for a missing date."""
    return [None if math.isnan(n) else _date_of(n) for n in day_numbers(column)]


def diary_compliance(dataset: TrialDataset, *, as_of: dt.date | None = None) -> pd.DataFrame:
    r"""Expected, completed and late diary days of each participant in each phase.

    For a phase from `start` to `end`, the expected days run from `start` to
    :math:`\min(end,\ as\_of,\ withdrawn\_on - 1)`; ``share = completed_days / expected_days``.

    Missing data: a day counts as completed when the diary holds at least one non-missing
    answer for it; an answer on a day that is not expected (after the withdrawal date's eve or
    after `as_of`) is not counted. A day is late when one of its answers is flagged ``late``
    (a missing flag is not late).

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        The last day that has passed; default: the last diary date in the dataset. An empty
        diary needs `as_of`.

    Returns
    -------
    pandas.DataFrame
        One row per participant and phase of ``periods``, by participant and phase. Columns
        ``participant_id``, ``phase``, ``period`` (Int64, NA for a washout), ``condition``,
        ``start``, ``end`` (the planned dates), ``expected_days``, ``completed_days``,
        ``late_days`` and ``share`` (NaN when no day is expected yet).

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=2, seed=3)
    >>> table = diary_compliance(trial)
    >>> table[["phase", "condition", "expected_days"]].head(1).to_numpy().tolist()
    [[0, 'baseline', 14]]
    """
    periods = dataset.periods
    require_columns(periods, "periods", ("participant_id", "phase", "period", "condition"))
    require_columns(periods, "periods", ("start", "end"))
    people = dataset.participants
    require_columns(people, "participants", ("participant_id", "withdrawn_on"))
    diary = dataset.diary
    require_columns(diary, "diary", ("participant_id", "diary_date", "value", "late"))

    days = _answered_nights(diary)
    if as_of is None:
        if days.empty:
            raise ValueError(
                "the diary has no answers, so the default as_of (its last date) is undefined; "
                "pass as_of, the last day that has passed"
            )
        as_of = _date_of(float(days["day"].max()))
    filled, late = _filled_and_late(days)
    phases = phase_table(periods)
    withdrawn = dict(
        zip(
            string_values(people["participant_id"]),
            _python_dates(people["withdrawn_on"]),
            strict=True,
        )
    )
    counts = _phase_counts(
        _spans(phases, periods), withdrawn, as_of=as_of, filled=filled, late=late
    )
    return _with_counts(phases, counts)


def _with_counts(phases: pd.DataFrame, counts: list[NightCounts]) -> pd.DataFrame:
    """The table of :func:`diary_compliance`: `phases` with the counts of each, dates as dates."""
    phases["expected_days"] = np.array([c.expected for c in counts], dtype=np.int64)
    phases["completed_days"] = np.array([c.filled for c in counts], dtype=np.int64)
    phases["late_days"] = np.array([c.late for c in counts], dtype=np.int64)
    phases["share"] = np.array(
        [math.nan if c.share is None else c.share for c in counts], dtype=float
    )
    phases["start"] = dates_of(phases["start"]).to_numpy()
    phases["end"] = dates_of(phases["end"]).to_numpy()
    phases = phases.sort_values(["participant_id", "phase"], kind="stable")
    columns = [
        "participant_id",
        "phase",
        "period",
        "condition",
        "start",
        "end",
        "expected_days",
        "completed_days",
        "late_days",
        "share",
    ]
    return phases[columns].reset_index(drop=True)


def _answered_nights(diary: pd.DataFrame) -> pd.DataFrame:
    """One row per participant and night with an answer: participant_id, day, late."""
    answered = diary[diary["value"].notna()]
    entries = pd.DataFrame(
        {
            "participant_id": string_values(answered["participant_id"]),
            "day": day_numbers(answered["diary_date"]),
            "late": answered["late"].astype("boolean").fillna(False).to_numpy(bool),
        }
    )
    # One row per participant and night before going to Python dates: a diary has a row per item.
    return (
        entries[entries["day"].notna()]
        .groupby(["participant_id", "day"], as_index=False, sort=False)
        .agg(late=("late", "max"))
    )


def _filled_and_late(
    days: pd.DataFrame,
) -> tuple[dict[str, set[dt.date]], dict[str, set[dt.date]]]:
    """Each participant's answered nights, and those of them answered late, as dates."""
    calendar = {n: _date_of(n) for n in np.unique(days["day"].to_numpy()).tolist()}
    filled: dict[str, set[dt.date]] = {}
    late: dict[str, set[dt.date]] = {}
    for pid, group in days.groupby("participant_id", sort=False):
        numbers = group["day"].to_numpy()
        filled[str(pid)] = {calendar[n] for n in numbers.tolist()}
        late[str(pid)] = {calendar[n] for n in numbers[group["late"].to_numpy(bool)].tolist()}
    return filled, late


_Span = tuple[int, dt.date, dt.date]
"""A phase as (its row in the phase table, its first day, its last day)."""


def _spans(phases: pd.DataFrame, periods: pd.DataFrame) -> dict[str, list[_Span]]:
    """Each participant's phases in the order of ``periods``."""
    spans: dict[str, list[_Span]] = {}
    for row, (pid, first, end) in enumerate(
        zip(
            phases["participant_id"],
            _python_dates(periods["start"]),
            _python_dates(periods["end"]),
            strict=True,
        )
    ):
        if first is None or end is None:
            raise ValueError("a row of the periods table has no start or end date; fill them in")
        spans.setdefault(str(pid), []).append((row, first, end))
    return spans


def _phase_counts(
    spans: dict[str, list[_Span]],
    withdrawn: dict[str, dt.date | None],
    *,
    as_of: dt.date,
    filled: dict[str, set[dt.date]],
    late: dict[str, set[dt.date]],
) -> list[NightCounts]:
    """The night counts of every phase, by row of the phase table."""
    counts: list[NightCounts] = [NightCounts(0, 0, 0, 0)] * sum(
        len(rows) for rows in spans.values()
    )
    for pid, rows in spans.items():
        last_day = max(end for _, _, end in rows)
        off = withdrawn.get(pid)
        if off is not None:
            last_day = min(last_day, off - dt.timedelta(days=1))
        nights = diary_compliance_nights(
            start=min(first for _, first, _ in rows),
            last_day=last_day,
            as_of=as_of,
            filled=filled.get(pid, set()),
            late=late.get(pid, set()),
            periods=[(first, end) for _, first, end in rows],
        )
        for (row, _, _), night in zip(rows, nights.periods, strict=True):
            counts[row] = night
    return counts


def compliance_summary(
    dataset: TrialDataset,
    *,
    as_of: dt.date | None = None,
    min_completion: float | None = None,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Diary compliance per condition: the spread of participants' shares of completed days.

    A participant's share in a condition pools its phases of that condition (several blocks of
    an n-of-1 trial): completed days / expected days, from :func:`diary_compliance`.
    Participants with no expected day in the condition (not reached yet, or withdrawn before)
    are left out of that condition.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        As in :func:`diary_compliance`.
    min_completion : float, optional
        The share below which a participant is counted in ``below_min``; default: the
        protocol's ``analysis.min_completion``.
    table : pandas.DataFrame, optional
        ``diary_compliance(dataset, as_of=as_of)`` when the caller has it already.

    Returns
    -------
    pandas.DataFrame
        Rows baseline, active, placebo, washout and ``"all"`` (every phase). Columns
        ``condition``, ``participants`` (with an expected day), ``expected_days``,
        ``completed_days``, ``late_days``, ``share`` (pooled: completed / expected days),
        ``mean_share``, ``min_share``, ``median_share`` (over participants), ``below_min``
        (participants whose share is below `min_completion`) and ``min_completion``.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=2, seed=3)
    >>> compliance_summary(trial)["condition"].tolist()
    ['baseline', 'active', 'placebo', 'washout', 'all']
    """
    if min_completion is None:
        min_completion = dataset.protocol.protocol.analysis.min_completion
    if not 0 < min_completion <= 1:
        raise ValueError(f"min_completion is a share in (0, 1] (got {min_completion})")
    if table is None:
        table = diary_compliance(dataset, as_of=as_of)
    rows: list[dict[str, object]] = []
    for condition in (*CONDITIONS, ALL):
        chosen = table if condition == ALL else table[table["condition"] == condition]
        per_person = chosen.groupby("participant_id")[
            ["expected_days", "completed_days", "late_days"]
        ].sum()
        per_person = per_person[per_person["expected_days"] > 0]
        shares = (per_person["completed_days"] / per_person["expected_days"]).to_numpy(float)
        expected = int(per_person["expected_days"].sum())
        completed = int(per_person["completed_days"].sum())
        some = len(shares) > 0
        rows.append(
            {
                "condition": condition,
                "participants": len(shares),
                "expected_days": expected,
                "completed_days": completed,
                "late_days": int(per_person["late_days"].sum()),
                "share": completed / expected if expected else math.nan,
                "mean_share": float(shares.mean()) if some else math.nan,
                "min_share": float(shares.min()) if some else math.nan,
                "median_share": float(np.median(shares)) if some else math.nan,
                # A tiny tolerance keeps 7 of 10 days from falling below 0.7 on rounding.
                "below_min": int((shares < min_completion - 1e-12).sum()),
                "min_completion": float(min_completion),
            }
        )
    return pd.DataFrame(rows)
