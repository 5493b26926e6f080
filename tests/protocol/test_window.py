"""The nightly window in the participant's time zone, across midnight and DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from diarytrial.protocol import (
    WindowOutOfRangeError,
    diary_date_at,
    load_example,
    next_window_opening,
    parse_protocol,
    window_bounds,
)
from diarytrial.protocol.schema import Diary

DIARY = load_example("ldn-fibromyalgia").protocol.diary  # 18:00 to 03:00
UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
ZONES = [LA, LONDON, ZoneInfo("Australia/Sydney"), ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]


def _local(tz: ZoneInfo, *args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz, fold=fold).astimezone(UTC)  # type: ignore[misc]


def test_edges_of_an_ordinary_night() -> None:
    day = dt.date(2026, 2, 10)
    assert diary_date_at(_local(LA, 2026, 2, 10, 17, 59, 59), LA, DIARY) is None
    assert diary_date_at(_local(LA, 2026, 2, 10, 18, 0), LA, DIARY) == day
    assert diary_date_at(_local(LA, 2026, 2, 10, 23, 59), LA, DIARY) == day
    assert diary_date_at(_local(LA, 2026, 2, 11, 0, 0), LA, DIARY) == day  # after midnight
    assert diary_date_at(_local(LA, 2026, 2, 11, 2, 59, 59), LA, DIARY) == day
    assert diary_date_at(_local(LA, 2026, 2, 11, 3, 0), LA, DIARY) is None


def test_spring_forward_shortens_the_night() -> None:
    # 2026-03-08 02:00 PST -> 03:00 PDT in Los Angeles, inside the window of 7 March
    opens, closes = window_bounds(dt.date(2026, 3, 7), LA, DIARY)
    assert closes - opens == dt.timedelta(hours=8)
    assert closes == _local(LA, 2026, 3, 8, 3, 0)


def test_fall_back_lengthens_the_night() -> None:
    # 2026-11-01 02:00 PDT -> 01:00 PST: the hour 01:00-02:00 happens twice
    opens, closes = window_bounds(dt.date(2026, 10, 31), LA, DIARY)
    assert closes - opens == dt.timedelta(hours=10)
    second_one_thirty = _local(LA, 2026, 11, 1, 1, 30, fold=1)
    assert diary_date_at(second_one_thirty, LA, DIARY) == dt.date(2026, 10, 31)


def test_edge_in_a_repeated_hour_keeps_the_later_close() -> None:
    protocol = parse_protocol(
        load_example("ldn-fibromyalgia").text.replace("closes = 03:00:00", "closes = 01:30:00")
    ).protocol
    _, closes = window_bounds(dt.date(2026, 10, 31), LA, protocol.diary)
    assert closes == _local(LA, 2026, 11, 1, 1, 30, fold=1)


def test_edge_in_a_skipped_hour_moves_forward() -> None:
    protocol = parse_protocol(
        load_example("ldn-fibromyalgia").text.replace("closes = 03:00:00", "closes = 02:30:00")
    ).protocol
    _, closes = window_bounds(dt.date(2026, 3, 7), LA, protocol.diary)
    assert closes == _local(LA, 2026, 3, 8, 3, 30)


def test_a_participant_who_changes_time_zone() -> None:
    # The same instant is tonight's entry in Los Angeles and outside the window in London.
    instant = _local(LA, 2026, 6, 1, 20, 0)
    assert diary_date_at(instant, LA, DIARY) == dt.date(2026, 6, 1)
    assert diary_date_at(instant, LONDON, DIARY) is None  # 04:00 in London


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        diary_date_at(dt.datetime(2026, 1, 1, 20, 0), LA, DIARY)


def test_next_opening() -> None:
    noon = _local(LA, 2026, 2, 10, 12, 0)
    assert next_window_opening(noon, LA, DIARY) == _local(LA, 2026, 2, 10, 18, 0)
    late = _local(LA, 2026, 2, 10, 19, 0)
    assert next_window_opening(late, LA, DIARY) == _local(LA, 2026, 2, 11, 18, 0)


instants = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC)
)


@given(instants, st.sampled_from(ZONES))
def test_an_instant_belongs_to_the_window_of_its_diary_date(
    instant: dt.datetime, tz: ZoneInfo
) -> None:
    day = diary_date_at(instant, tz, DIARY)
    if day is None:
        for candidate in (instant.astimezone(tz).date() - dt.timedelta(days=k) for k in (0, 1)):
            opens, closes = window_bounds(candidate, tz, DIARY)
            assert not opens <= instant < closes
    else:
        opens, closes = window_bounds(day, tz, DIARY)
        assert opens <= instant < closes
        assert dt.timedelta(hours=8) <= closes - opens <= dt.timedelta(hours=10)


@given(
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)), st.sampled_from(ZONES)
)
def test_windows_never_overlap(day: dt.date, tz: ZoneInfo) -> None:
    _, closes = window_bounds(day, tz, DIARY)
    next_opens, _ = window_bounds(day + dt.timedelta(days=1), tz, DIARY)
    assert closes < next_opens


# --- the ends of the calendar ---------------------------------------------------------------------
# Dates and times hold the years 1 to 9999: a window that reaches outside them cannot be placed,
# and says so (WindowOutOfRangeError), for any diary window in any zone, never an overflow.

EXTREME_ZONES = [
    *ZONES,
    ZoneInfo("Etc/GMT-14"),  # 14 hours ahead of UTC
    ZoneInfo("Etc/GMT+12"),  # 12 hours behind
    ZoneInfo("Pacific/Chatham"),  # a quarter-hour offset, with daylight saving
    ZoneInfo("America/St_Johns"),
]
NEAR_THE_ENDS = dt.timedelta(days=2)
any_zone = st.sampled_from(EXTREME_ZONES)
any_day = st.dates()
any_instant = st.datetimes(timezones=st.just(UTC))


@st.composite
def diaries(draw: st.DrawFn) -> Diary:
    """The LDN diary with any opening and closing time (crossing midnight or not)."""
    clock = st.times().map(lambda t: t.replace(microsecond=0))
    return DIARY.model_copy(update={"opens": draw(clock), "closes": draw(clock)})


def _near_an_end(day: dt.date) -> bool:
    return day - dt.date.min <= NEAR_THE_ENDS or dt.date.max - day <= NEAR_THE_ENDS


@given(any_day, any_zone, diaries())
@example(dt.date.max, LA, DIARY)
@example(dt.date.min, ZoneInfo("Etc/GMT-14"), DIARY)
@example(dt.date.max, ZoneInfo("Etc/GMT+12"), DIARY)
def test_a_window_is_placed_or_refused_at_any_date(
    day: dt.date, tz: ZoneInfo, diary: Diary
) -> None:
    try:
        opens, closes = window_bounds(day, tz, diary)
    except WindowOutOfRangeError:
        assert _near_an_end(day)
        return
    assert opens.tzinfo is UTC
    assert closes.tzinfo is UTC
    assert opens < closes


def test_the_last_date_of_the_calendar_says_why_it_cannot_be_placed() -> None:
    with pytest.raises(WindowOutOfRangeError, match="outside the years 1 to 9999"):
        window_bounds(dt.date.max, LA, DIARY)
    assert isinstance(WindowOutOfRangeError("x"), ValueError)


@given(any_instant, any_zone, diaries())
@example(dt.datetime.max.replace(tzinfo=UTC), ZoneInfo("Etc/GMT-14"), DIARY)
@example(dt.datetime.min.replace(tzinfo=UTC), ZoneInfo("Etc/GMT+12"), DIARY)
def test_any_instant_has_its_diary_date_or_none(
    instant: dt.datetime, tz: ZoneInfo, diary: Diary
) -> None:
    day = diary_date_at(instant, tz, diary)
    if day is not None:
        opens, closes = window_bounds(day, tz, diary)
        assert opens <= instant < closes


@given(any_instant, any_zone, diaries())
@example(dt.datetime.max.replace(tzinfo=UTC), LA, DIARY)
@example(dt.datetime.min.replace(tzinfo=UTC), ZoneInfo("Etc/GMT-14"), DIARY)
@example(dt.datetime(1, 1, 1, 5, tzinfo=UTC), ZoneInfo("Etc/GMT-14"), DIARY)
def test_the_next_opening_is_after_any_instant_or_refused_at_the_end(
    instant: dt.datetime, tz: ZoneInfo, diary: Diary
) -> None:
    try:
        opens = next_window_opening(instant, tz, diary)
    except WindowOutOfRangeError:
        assert dt.datetime.max.replace(tzinfo=UTC) - instant <= NEAR_THE_ENDS
        return
    assert instant < opens <= instant + dt.timedelta(days=2)
    assert diary_date_at(opens, tz, diary) is not None
