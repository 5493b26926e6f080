"""Diary compliance nights: due, filled, late, missed and not yet due, overall and per phase."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from diarytrial.protocol.compliance import diary_compliance_nights, due_span, last_night_due

D = dt.date(2026, 3, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def test_a_withdrawn_participant_owes_nothing_from_the_withdrawal_day() -> None:
    # Schedule of 10 nights, withdrawn on day 6: the last diary day is day 5.
    nights = diary_compliance_nights(
        start=day(0),
        last_day=day(5),
        as_of=day(8),
        filled={day(0), day(2), day(6)},  # day 6, after withdrawal, does not count
        late={day(2), day(6)},
        periods=[(day(0), day(3)), (day(4), day(9))],
    )
    assert (nights.overall.expected, nights.overall.filled, nights.overall.late) == (6, 2, 1)
    assert (nights.overall.missed, nights.overall.not_yet_due) == (4, 0)
    first, second = nights.periods
    assert (first.expected, first.filled, first.missed, first.not_yet_due) == (4, 2, 2, 0)
    assert (second.expected, second.filled, second.missed, second.not_yet_due) == (2, 0, 2, 0)


def test_before_the_first_night_nothing_is_due_and_the_share_is_none() -> None:
    nights = diary_compliance_nights(start=day(3), last_day=day(9), as_of=day(1), filled=())
    assert (nights.overall.expected, nights.overall.not_yet_due) == (0, 7)
    assert nights.overall.share is None


def test_an_open_ended_diary_has_no_count_of_nights_to_come() -> None:
    nights = diary_compliance_nights(start=day(0), last_day=None, as_of=day(4), filled={day(1)})
    assert (nights.overall.expected, nights.overall.filled) == (5, 1)
    assert nights.overall.not_yet_due is None
    assert nights.overall.share == 0.2


def test_withdrawn_before_the_first_night_owes_no_night() -> None:
    nights = diary_compliance_nights(
        start=day(3), last_day=day(1), as_of=day(9), filled=(), periods=[(day(3), day(5))]
    )
    assert (nights.overall.expected, nights.overall.not_yet_due) == (0, 0)
    assert (nights.periods[0].expected, nights.periods[0].not_yet_due) == (0, 0)


def test_tonight_is_due_once_its_entry_is_in() -> None:
    assert last_night_due(latest_closed=day(3), filled={day(4)}) == day(4)
    assert last_night_due(latest_closed=day(3), filled={day(2), day(5)}) == day(3)


@given(
    lengths=st.lists(st.integers(1, 30), min_size=1, max_size=5),
    stop=st.one_of(st.none(), st.integers(-5, 160)),
    cut=st.integers(-5, 160),
    filled=st.sets(st.integers(-10, 170)),
    late=st.sets(st.integers(-10, 170)),
)
def test_phases_add_up_to_the_whole_and_every_night_is_counted_once(
    lengths: list[int], stop: int | None, cut: int, filled: set[int], late: set[int]
) -> None:
    spans, first = [], 0
    for length in lengths:
        spans.append((day(first), day(first + length - 1)))
        first += length
    end = first - 1 if stop is None else min(first - 1, stop)
    nights = diary_compliance_nights(
        start=day(0),
        last_day=day(end),
        as_of=day(cut),
        filled={day(n) for n in filled},
        late={day(n) for n in late},
        periods=spans,
    )
    whole = nights.overall
    assert whole.expected == sum(p.expected for p in nights.periods)
    assert whole.filled == sum(p.filled for p in nights.periods)
    assert whole.late == sum(p.late for p in nights.periods)
    assert whole.not_yet_due == sum(p.not_yet_due or 0 for p in nights.periods)
    assert whole.expected + (whole.not_yet_due or 0) == max(0, end + 1)
    due = set(range(0, min(end, cut) + 1))
    assert whole.expected == len(due)
    assert whole.filled == len(due & filled)
    assert whole.late == len(due & filled & late)
    assert 0 <= whole.missed == len(due - filled)


def test_the_due_span_holds_the_nights_counted_as_expected() -> None:
    """`due_span` (the dashboard's) and `diary_compliance_nights` count the same nights."""
    d = dt.date
    start = d(2026, 3, 10)
    for last_day in (None, d(2026, 3, 5), d(2026, 3, 9), d(2026, 3, 10), d(2026, 3, 20)):
        for as_of in (d(2026, 3, 1), d(2026, 3, 9), d(2026, 3, 10), d(2026, 3, 15), d(2026, 4, 1)):
            span = due_span(start=start, last_day=last_day, as_of=as_of)
            counted = diary_compliance_nights(
                start=start, last_day=last_day, as_of=as_of, filled=()
            ).overall.expected
            assert counted == (0 if span is None else (span[1] - span[0]).days + 1)
            if span is not None:
                week = [(span[0], span[0] + dt.timedelta(days=4))]
                in_week = (
                    diary_compliance_nights(
                        start=start, last_day=last_day, as_of=as_of, filled=(), periods=week
                    )
                    .periods[0]
                    .expected
                )
                assert in_week == (min(span[1], week[0][1]) - span[0]).days + 1
