"""The nightly entry window in a participant's own time zone.

A *diary date* is the local date on which its window opens. With a window of 18:00 to 03:00,
an entry made at 01:30 on Tuesday belongs to Monday's diary date.

The window is a span of instants: it opens at `opens` local time on the diary date and closes
at `closes` local time (on the next day when the window crosses midnight). Daylight-saving
changes are handled as follows, so that every instant belongs to at most one window:

- an edge that falls on a repeated hour (clocks go back) takes its *later* occurrence when it
  closes a window and its *earlier* occurrence when it opens one, so no entry time is lost;
- an edge that falls in a skipped hour (clocks go forward) moves forward by the length of
  the gap, as a wall clock would show it.

Dates and times hold the years 1 to 9999 only. A window that reaches outside them (the last
diary date of year 9999, the first of year 1 in a zone ahead of UTC) cannot be placed: the
functions raise `WindowOutOfRangeError` (a ValueError) rather than an arithmetic overflow, and
`diary_date_at` answers None for an instant whose window cannot be placed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from diarytrial.protocol.schema import Diary

UTC = dt.UTC


class WindowOutOfRangeError(ValueError):
    """A window, or a day next to one, that falls outside the years 1 to 9999."""


def _day_after(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days` days; WindowOutOfRangeError past the first or last date."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        raise WindowOutOfRangeError(
            f"the day {days:+d} from {day.isoformat()} is outside the years 1 to 9999"
        ) from None


def _instant(day: dt.date, clock: dt.time, tz: ZoneInfo, *, later: bool) -> dt.datetime:
    """The UTC instant of local `clock` on `day`, resolving repeated and skipped times."""
    try:
        return _resolved_instant(day, clock, tz, later=later)
    except OverflowError:
        raise WindowOutOfRangeError(
            f"{clock.isoformat('minutes')} on {day.isoformat()} in {tz.key} is outside the "
            f"years 1 to 9999 in UTC"
        ) from None


def _resolved_instant(day: dt.date, clock: dt.time, tz: ZoneInfo, *, later: bool) -> dt.datetime:
    naive = dt.datetime.combine(day, clock)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    exists = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive
    if not exists:  # skipped hour: read the wall clock forward past the gap
        return max(first.astimezone(UTC), second.astimezone(UTC))
    return (second if later else first).astimezone(UTC)


def window_bounds(
    diary_date: dt.date, tz: ZoneInfo, diary: Diary
) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants at which the window of `diary_date` opens and closes (closing excluded).

    Raises WindowOutOfRangeError when the window reaches outside the years 1 to 9999.
    """
    opens = _instant(diary_date, diary.opens, tz, later=False)
    close_day = _day_after(diary_date, 1) if diary.crosses_midnight else diary_date
    closes = _instant(close_day, diary.closes, tz, later=True)
    return opens, closes


def diary_date_at(instant: dt.datetime, tz: ZoneInfo, diary: Diary) -> dt.date | None:
    """The diary date whose window contains `instant`, or None between windows (and for an
    instant whose window cannot be placed, at the ends of the years 1 to 9999).

    >>> from diarytrial.protocol import load_example
    >>> diary = load_example("ldn-fibromyalgia").protocol.diary
    >>> la = ZoneInfo("America/Los_Angeles")
    >>> diary_date_at(dt.datetime(2026, 3, 3, 9, 30, tzinfo=UTC), la, diary)  # 01:30 local
    datetime.date(2026, 3, 2)
    >>> diary_date_at(dt.datetime(2026, 3, 3, 20, 0, tzinfo=UTC), la, diary) is None  # noon
    True
    """
    if instant.tzinfo is None:
        raise ValueError("the instant must be time-zone aware (UTC), not a naive datetime")
    try:
        local_day = _local_day(instant, tz)
    except WindowOutOfRangeError:
        return None
    for shift in (0, -1):
        try:
            day = _day_after(local_day, shift)
            opens, closes = window_bounds(day, tz, diary)
        except WindowOutOfRangeError:
            continue
        if opens <= instant < closes:
            return day
    return None


def next_window_opening(instant: dt.datetime, tz: ZoneInfo, diary: Diary) -> dt.datetime:
    """The first window opening strictly after `instant`, in UTC.

    Raises WindowOutOfRangeError when that opening would fall after the year 9999.
    """
    try:
        day = _day_after(_local_day(instant, tz), -1)
    except WindowOutOfRangeError:
        if instant.year != 1:
            raise
        day = dt.date.min  # at the start of the calendar: no earlier day to look back to
    while True:
        try:
            opens = _instant(day, diary.opens, tz, later=False)
        except WindowOutOfRangeError:
            if day.year != 1:
                raise
        else:
            if opens > instant:
                return opens
        day = _day_after(day, 1)


def _local_day(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    try:
        return instant.astimezone(tz).date()
    except OverflowError:
        raise WindowOutOfRangeError(
            f"{instant.isoformat()} in {tz.key} is outside the years 1 to 9999"
        ) from None


def zone_where_it_is(hour: int, now: dt.datetime) -> str:
    """An ``Etc/GMT±N`` zone whose clock shows `hour` o'clock (and `now`'s minutes) at `now`:
    for a demo or a test that needs a diary window open, or closed, at the real time.

    >>> zone_where_it_is(20, dt.datetime(2026, 11, 26, 15, 30, tzinfo=dt.UTC))
    'Etc/GMT-5'
    >>> zone_where_it_is(20, dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC))
    'Etc/GMT'
    """
    offset = (hour - now.astimezone(dt.UTC).hour + 12) % 24 - 12  # hours east of UTC, -12..11
    # POSIX-style names: Etc/GMT-5 is five hours *east* of Greenwich.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
