"""Diary entries: one row per answer, with the instant each entry reached the server.

Entries are made inside the diary window in the participant's time zone; a share of them sync
late, after the window closed but within the protocol's grace.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.protocol import window_bounds
from diarytrial.protocol.schema import Protocol
from diarytrial.simulate.course import Course
from diarytrial.simulate.parameters import SimulationParameters
from diarytrial.simulate.people import People

DateArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]
WindowBounds = dict[np.datetime64, tuple[np.datetime64, np.datetime64]]
"""Per diary date, the first and last local instant of its window (filled in as dates come)."""


def study_dates(start: DateArray, day: IntArray) -> DateArray:
    """Calendar dates (datetime64[s] at midnight) of study-day indexes."""
    out: DateArray = (start + day.astype("timedelta64[D]")).astype("datetime64[s]")
    return out


def submission_times(
    protocol: Protocol,
    dates: DateArray,
    hours: npt.NDArray[np.float64],
    tz: ZoneInfo,
    bounds: WindowBounds,
    parameters: SimulationParameters,
    rng: np.random.Generator,
) -> tuple[pd.DatetimeIndex, npt.NDArray[np.bool_]]:
    """UTC instants at which entries reached the server, and which of them were late."""
    diary = protocol.diary
    opens = diary.opens.hour * 3600 + diary.opens.minute * 60 + diary.opens.second
    closes = diary.closes.hour * 3600 + diary.closes.minute * 60 + diary.closes.second
    length = closes - opens + (86400 if diary.crosses_midnight else 0)
    offset = np.clip(np.rint(hours * 3600), 60, length - 60).astype(np.int64)
    local = dates + (opens + offset).astype("timedelta64[s]")
    made = (
        pd.DatetimeIndex(local)
        .tz_localize(tz, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_backward")
        .tz_convert("UTC")
        .floor("s")
        .as_unit("s")
    )
    # The window's own edges (with its daylight-saving rules) have the last word.
    for day in np.unique(dates):
        if day not in bounds:
            first, last = window_bounds(pd.Timestamp(day).date(), tz, diary)
            bounds[day] = (
                np.datetime64(first.replace(tzinfo=None), "s"),
                np.datetime64(last.replace(tzinfo=None), "s"),
            )
    unique, inverse = np.unique(dates, return_inverse=True)
    window_open = np.array([bounds[d][0] for d in unique])[inverse]
    window_close = np.array([bounds[d][1] for d in unique])[inverse]
    instant = np.clip(
        made.tz_localize(None).to_numpy(), window_open, window_close - np.timedelta64(1, "s")
    )
    grace = diary.late_sync_grace_hours * 3600
    late = (rng.random(len(dates)) < parameters.late_share) & (grace > 60)
    delay = (60 + np.floor(rng.random(len(dates)) * max(grace - 60, 1))).astype(np.int64)
    instant = np.where(late, window_close + delay.astype("timedelta64[s]"), instant)
    return pd.DatetimeIndex(instant).tz_localize("UTC"), late


def diary_rows(
    protocol: Protocol,
    people: People,
    course: Course,
    ids: pd.Categorical,
    tz: ZoneInfo,
    bounds: WindowBounds,
    parameters: SimulationParameters,
    rng: np.random.Generator,
    keep: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    who_day, day = np.nonzero(course.filled)
    dates = study_dates(people.start[who_day], day)
    hours = people.submit_hours[who_day] + rng.normal(
        0.0, parameters.submit_hours_day_sd, size=len(day)
    )
    submitted, late = submission_times(protocol, dates, hours, tz, bounds, parameters, rng)
    values = course.value[who_day, day, :]  # (filled days, items)
    entry, item = np.nonzero(~np.isnan(values) & keep)
    item_ids = [it.id for it in protocol.diary.items]
    return pd.DataFrame(
        {
            "participant_id": ids[who_day[entry]],
            "diary_date": dates[entry],
            "item": pd.Categorical.from_codes(item, categories=pd.Index(item_ids)),
            "value": values[entry, item],
            "submitted_at": submitted[entry],
            "late": late[entry],
        }
    )
