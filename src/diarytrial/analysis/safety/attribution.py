"""Which phase, and so which condition, each dated row of the dataset falls in.

Every event is attributed to the phase of its participant that its date falls in (the planned
schedule of ``periods``). An event on no phase of its participant is ``"outside"``; one after
the participant's withdrawal date is ``"after_withdrawal"``; one after the data cut is
``"after_data_cut"``. A participant's exposure to a phase runs up to the data cut and up to the
day of withdrawal, that day included.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from diarytrial.analysis._frames import (
    day_number,
    day_numbers,
    phase_table,
    require_columns,
    string_values,
)
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import CONDITIONS

OUTSIDE = "outside"
AFTER_WITHDRAWAL = "after_withdrawal"
AFTER_DATA_CUT = "after_data_cut"


def latest_data_date(dataset: TrialDataset) -> dt.date | None:
    """The latest date in the dataset: the default data cut of :func:`adverse_event_table`.

    The maximum of the diary and side-effect diary dates, adverse-event onsets, dose changes
    and PGIC answers; None when every one of those tables is empty.
    """
    sources = (
        (dataset.diary, "diary_date"),
        (dataset.side_effects, "diary_date"),
        (dataset.adverse_events, "onset_date"),
        (dataset.doses, "effective_on"),
        (dataset.pgic, "answered_on"),
    )
    latest = -math.inf
    for frame, column in sources:
        if column in frame.columns and len(frame):
            days = day_numbers(frame[column])
            if not np.isnan(days).all():
                latest = max(latest, float(np.nanmax(days)))
    if latest == -math.inf:
        return None
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(latest))


def phase_spans(dataset: TrialDataset, *, last_day: float) -> pd.DataFrame:
    """One row per phase of ``periods`` with its day numbers and the participant's withdrawal.

    Columns: participant_id, phase, period (Int64), condition, start, end (day numbers),
    withdrawn (day number of the withdrawal or NaN) and exposure_days: the days of the phase up
    to `last_day` and up to the withdrawal day, that day included.
    """
    periods = dataset.periods
    require_columns(periods, "periods", ("participant_id", "phase", "period", "condition"))
    require_columns(periods, "periods", ("start", "end"))
    people = dataset.participants
    require_columns(people, "participants", ("participant_id", "withdrawn_on"))
    withdrawn = dict(
        zip(
            string_values(people["participant_id"]),
            day_numbers(people["withdrawn_on"]),
            strict=True,
        )
    )
    spans = phase_table(periods)
    unknown = sorted({str(c) for c in spans["condition"]} - set(CONDITIONS))
    if unknown:
        raise ValueError(
            f"the periods table has the condition(s) {', '.join(unknown)}; "
            f"a condition is one of {', '.join(CONDITIONS)}"
        )
    if spans[["start", "end"]].isna().any().any():
        raise ValueError("a row of the periods table has no start or end date; fill them in")
    spans["withdrawn"] = [withdrawn.get(pid, math.nan) for pid in spans["participant_id"]]
    last = np.fmin(np.fmin(spans["end"].to_numpy(), spans["withdrawn"].to_numpy()), last_day)
    spans["exposure_days"] = np.clip(last - spans["start"].to_numpy() + 1, 0, None).astype(np.int64)
    return spans


def data_cut_day(dataset: TrialDataset, as_of: dt.date | None) -> float:
    """Day number of the data cut `as_of` (default: :func:`latest_data_date`); inf for none."""
    if as_of is None:
        as_of = latest_data_date(dataset)
    return math.inf if as_of is None else day_number(as_of)


def attribute_rows(
    frame: pd.DataFrame, date: str, spans: pd.DataFrame, last_day: float
) -> pd.DataFrame:
    """:func:`attribute_to_phases` on the `spans` of :func:`phase_spans` cut at `last_day`."""
    days = day_numbers(frame[date])
    if np.isnan(days).any():
        rows = ", ".join(str(k) for k in np.flatnonzero(np.isnan(days))[:10])
        raise ValueError(
            f"{int(np.isnan(days).sum())} row(s) have no {date} (rows {rows}); an event needs "
            "its date to be attributed to a phase, so fill it in"
        )
    events = pd.DataFrame(
        {
            "_row": np.arange(len(frame)),
            "participant_id": string_values(frame["participant_id"]),
            "_day": days,
        }
    )
    matched = events.merge(spans, on="participant_id", how="inner")
    matched = matched[(matched["_day"] >= matched["start"]) & (matched["_day"] <= matched["end"])]
    if matched["_row"].duplicated().any():
        who = matched.loc[matched["_row"].duplicated(), "participant_id"].iloc[0]
        raise ValueError(f"participant {who} has overlapping phases in the periods table")
    matched = matched.set_index("_row").reindex(np.arange(len(frame)))
    condition = matched["condition"].to_numpy(dtype=object)
    condition[pd.isna(condition)] = OUTSIDE
    inside = condition != OUTSIDE
    condition[inside & (days > matched["withdrawn"].to_numpy(dtype=float))] = AFTER_WITHDRAWAL
    condition[(condition != OUTSIDE) & (condition != AFTER_WITHDRAWAL) & (days > last_day)] = (
        AFTER_DATA_CUT
    )
    out = frame.reset_index(drop=True).copy()
    out["phase"] = pd.array(matched["phase"].to_numpy(), dtype="Int64")
    out["period"] = pd.array(matched["period"].to_numpy(), dtype="Int64")
    out["condition"] = condition
    return out


def attribute_to_phases(
    dataset: TrialDataset, frame: pd.DataFrame, *, date: str, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Attribute each row of `frame` to the phase its participant was in on its `date`.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset; its ``periods`` and ``participants`` tables are used.
    frame : pandas.DataFrame
        Rows with a ``participant_id`` and a date column, e.g. ``dataset.adverse_events``.
    date : str
        The date column, e.g. ``"onset_date"``. A missing date raises ValueError.
    as_of : datetime.date, optional
        The data cut; default: :func:`latest_data_date` (no cut when the dataset holds no
        date at all).

    Returns
    -------
    pandas.DataFrame
        `frame` (index reset) with the columns ``phase`` and ``period`` (Int64: the planned
        phase the date falls in, NA when none) and ``condition``: baseline, active, placebo or
        washout; ``"outside"`` when the date is on no phase of the participant (a participant
        unknown to ``periods`` included); ``"after_withdrawal"`` when it is after the
        participant's ``withdrawn_on``; ``"after_data_cut"`` when it is after `as_of`.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=6, seed=3)
    >>> events = attribute_to_phases(trial, trial.adverse_events, date="onset_date")
    >>> sorted(set(events["condition"]) - {"baseline", "active", "placebo", "washout"})
    []
    """
    require_columns(frame, "given", ("participant_id", date))
    last_day = data_cut_day(dataset, as_of)
    return attribute_rows(frame, date, phase_spans(dataset, last_day=last_day), last_day)
