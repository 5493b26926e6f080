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
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from diarytrial.protocol.schema import Diary

UTC = dt.UTC


def _instant(day: dt.date, clock: dt.time, tz: ZoneInfo, *, later: bool) -> dt.datetime:
    """The UTC instant of local `clock` on `day`, resolving repeated and skipped times."""
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
    """UTC instants at which the window of `diary_date` opens and closes (closing excluded)."""
    opens = _instant(diary_date, diary.opens, tz, later=False)
    close_day = diary_date + dt.timedelta(days=1) if diary.crosses_midnight else diary_date
    closes = _instant(close_day, diary.closes, tz, later=True)
    return opens, closes


def diary_date_at(instant: dt.datetime, tz: ZoneInfo, diary: Diary) -> dt.date | None:
    """The diary date whose window contains `instant`, or None between windows.

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
    local_day = instant.astimezone(tz).date()
    for day in (local_day, local_day - dt.timedelta(days=1)):
        opens, closes = window_bounds(day, tz, diary)
        if opens <= instant < closes:
            return day
    return None


def next_window_opening(instant: dt.datetime, tz: ZoneInfo, diary: Diary) -> dt.datetime:
    """The first window opening strictly after `instant`, in UTC."""
    day = instant.astimezone(tz).date() - dt.timedelta(days=1)
    while True:
        opens, _ = window_bounds(day, tz, diary)
        if opens > instant:
            return opens
        day += dt.timedelta(days=1)


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
