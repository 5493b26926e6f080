"""Which diary date an upload belongs to: the server's clock and the participant's own zone.

The LDN window is 18:00 to 03:00 local time; a diary date is the date its window opened.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from tests.diary.helpers import (
    LA,
    LONDON,
    D,
    answers,
    at,
    events_after,
    last_event_id,
    submit,
)

from diarytrial.diary.errors import DiaryDateInvalidError, DiaryWindowClosedError
from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.services import diary_entry_submit
from diarytrial.participants.models import Participant
from diarytrial.participants.services import participant_timezone_change

pytestmark = pytest.mark.django_db

NEXT = D + dt.timedelta(days=1)
SPRING = dt.date(2025, 3, 8)  # Los Angeles clocks jump from 02:00 to 03:00 on 9 March 2025
FALL = dt.date(2025, 11, 1)  # and fall back from 02:00 to 01:00 on 2 November 2025


@pytest.mark.parametrize(
    ("day", "clock_time"),
    [
        (D, dt.time(18, 0)),  # the window opens
        (D, dt.time(23, 59, 59)),
        (NEXT, dt.time(0, 0)),  # past midnight: still the evening before
        (NEXT, dt.time(2, 59, 59)),  # the last second before it closes
    ],
)
def test_an_upload_belongs_to_the_evening_whose_window_it_reaches(
    participant: Participant, day: dt.date, clock_time: dt.time
) -> None:
    received = at(day, clock_time.hour, clock_time.minute, clock_time.second)

    entry = submit(participant, received_at=received)

    assert (entry.diary_date, entry.late, entry.received_at) == (D, False, received)
    assert entry.timezone == "America/Los_Angeles"


@pytest.mark.parametrize(
    ("received", "next_opening"),
    [
        (at(NEXT, 3, 0), at(NEXT, 18, 0)),  # the closing instant is outside the window
        (at(D, 17, 59, 59), at(D, 18, 0)),
        (at(D, 12, 0), at(D, 18, 0)),
    ],
)
def test_between_windows_an_upload_is_refused_saying_when_the_next_window_opens(
    participant: Participant, received: dt.datetime, next_opening: dt.datetime
) -> None:
    mark = last_event_id()

    with pytest.raises(DiaryWindowClosedError) as caught:
        submit(participant, received_at=received, without_device_time=True)

    local = next_opening.astimezone(LA)
    assert f"The next diary window opens at 18:00 on {local:%A} {local.day} {local:%B %Y}" in (
        caught.value.message
    )
    assert caught.value.extra["next_window_opens"] == next_opening.isoformat()
    assert caught.value.http_status == 409
    assert not DiaryEntry.objects.exists()
    assert events_after(mark) == []


@pytest.mark.parametrize(
    "device_error",
    [
        dt.timedelta(days=-5),
        dt.timedelta(days=-2),
        dt.timedelta(hours=-30),
        dt.timedelta(days=3),
    ],
)
def test_the_server_clock_decides_when_the_device_clock_is_wrong_by_days(
    participant: Participant, device_error: dt.timedelta
) -> None:
    received = at(D, 21, 0)

    entry = submit(participant, received_at=received, completed_at_device=received + device_error)

    assert (entry.diary_date, entry.late) == (D, False)
    assert entry.completed_at_device == received + device_error  # recorded as the device said


def test_a_device_clock_days_ahead_does_not_open_a_window(participant: Participant) -> None:
    received = at(D, 12, 0)

    with pytest.raises(DiaryWindowClosedError):
        submit(participant, received_at=received, completed_at_device=at(D + dt.timedelta(2), 21))


def test_without_received_at_the_servers_own_clock_is_used(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    clock.move_to(at(NEXT, 1, 15))

    entry = diary_entry_submit(
        participant=participant,
        client_id="2f0c6a52-8f0e-4a51-9d33-1c6f0e7b9a10",
        answers=answers(),
        side_effects={},
        capsule_taken=None,
        completed_at_device=at(D, 9, 0),  # the device thinks it is the morning before
    )

    assert (entry.diary_date, entry.received_at, entry.late) == (D, at(NEXT, 1, 15), False)
    assert str(entry.client_id) == "2f0c6a52-8f0e-4a51-9d33-1c6f0e7b9a10"


def test_spring_forward_the_window_is_an_hour_shorter_and_still_closes_at_three(
    participant: Participant,
) -> None:
    sunday = SPRING + dt.timedelta(days=1)
    opens, closes = at(SPRING, 18), at(sunday, 3)
    assert closes - opens == dt.timedelta(hours=8)

    before_the_jump = submit(participant, received_at=at(sunday, 1, 59, 59))
    last_second = submit(participant, received_at=closes - dt.timedelta(seconds=1))

    assert before_the_jump.diary_date == last_second.diary_date == SPRING
    with pytest.raises(DiaryWindowClosedError):
        submit(participant, received_at=closes, without_device_time=True)


def test_fall_back_the_window_is_an_hour_longer_and_the_repeated_hour_belongs_to_it(
    participant: Participant,
) -> None:
    sunday = FALL + dt.timedelta(days=1)
    opens, closes = at(FALL, 18), at(sunday, 3)
    assert closes - opens == dt.timedelta(hours=10)

    first_130 = submit(participant, received_at=at(sunday, 1, 30, fold=0))
    second_130 = submit(participant, received_at=at(sunday, 1, 30, fold=1))
    last_second = submit(participant, received_at=closes - dt.timedelta(seconds=1))

    assert at(sunday, 1, 30, fold=1) - at(sunday, 1, 30, fold=0) == dt.timedelta(hours=1)
    assert {first_130.diary_date, second_130.diary_date, last_second.diary_date} == {FALL}
    with pytest.raises(DiaryWindowClosedError):
        submit(participant, received_at=closes, without_device_time=True)


def test_a_participant_who_moves_fills_the_diary_in_their_new_zone(
    participant: Participant,
) -> None:
    in_la = submit(participant, received_at=at(D, 20))
    participant_timezone_change(
        participant=participant, timezone="Europe/London", reason="moved to London", actor=None
    )
    later = D + dt.timedelta(days=2)

    in_london = submit(participant, received_at=at(later, 19, tz=LONDON))

    assert (in_london.diary_date, in_london.timezone) == (later, "Europe/London")
    in_la.refresh_from_db()
    assert (in_la.diary_date, in_la.timezone) == (D, "America/Los_Angeles")
    # 20:00 in Los Angeles is 04:00 in London: no window there.
    with pytest.raises(DiaryWindowClosedError, match=r"04:00 on .*your time"):
        submit(participant, received_at=at(later + dt.timedelta(1), 20), without_device_time=True)


# --- late uploads ---------------------------------------------------------------------------------


def test_an_upload_completed_in_the_window_and_received_after_it_is_kept_as_late(
    participant: Participant,
) -> None:
    entry = submit(participant, received_at=at(NEXT, 9), completed_at_device=at(D, 22))

    assert (entry.diary_date, entry.late) == (D, True)
    assert entry.received_at == at(NEXT, 9)
    assert entry.completed_at_device == at(D, 22)


def test_a_late_upload_is_taken_up_to_the_grace_period_after_its_window_closed(
    participant: Participant,
) -> None:
    closes = at(NEXT, 3)
    grace = dt.timedelta(hours=72)

    at_the_limit = submit(participant, received_at=closes + grace, completed_at_device=at(D, 22))
    with pytest.raises(DiaryWindowClosedError, match="up to 72 hours after its window closes"):
        submit(
            participant,
            received_at=closes + grace + dt.timedelta(seconds=1),
            completed_at_device=at(D - dt.timedelta(days=1), 22),
        )

    assert (at_the_limit.diary_date, at_the_limit.late) == (D, True)


def test_received_at_the_closing_instant_it_is_late(participant: Participant) -> None:
    entry = submit(participant, received_at=at(NEXT, 3), completed_at_device=at(NEXT, 2, 58))

    assert (entry.diary_date, entry.late) == (D, True)


def test_a_late_upload_whose_device_time_is_between_windows_is_refused(
    participant: Participant,
) -> None:
    with pytest.raises(DiaryWindowClosedError, match="No diary window is open now"):
        submit(participant, received_at=at(NEXT, 9), completed_at_device=at(D, 15))


def test_an_offline_entry_received_inside_the_next_window_counts_for_that_window(
    participant: Participant,
) -> None:
    # The rule as designed: inside a window the server's clock decides, whatever the device
    # says. An entry completed offline on Monday evening and sent on Tuesday evening is
    # Tuesday's (its device time is kept, so the case can be found later).
    entry = submit(participant, received_at=at(NEXT, 19), completed_at_device=at(D, 22))

    assert (entry.diary_date, entry.late) == (NEXT, False)
    assert entry.completed_at_device == at(D, 22)


def _submit_form(
    participant: Participant, *, form_date: dt.date, received_at: dt.datetime
) -> DiaryEntry:
    import uuid

    return diary_entry_submit(
        participant=participant,
        client_id=uuid.uuid4(),
        answers=answers(),
        side_effects={},
        capsule_taken=True,
        completed_at_device=None,  # the device clock is not needed: the form names its date
        received_at=received_at,
        form_date=form_date,
    )


def test_an_offline_entry_synced_in_the_next_window_stays_with_its_own_date(
    participant: Participant,
) -> None:
    # Filled offline on the form of D, uploaded during the window of the day after.
    entry = _submit_form(participant, form_date=D, received_at=at(NEXT, 20, 0))
    assert (entry.diary_date, entry.late) == (D, True)
    tonight = _submit_form(participant, form_date=NEXT, received_at=at(NEXT, 21, 0))
    assert (tonight.diary_date, tonight.late) == (NEXT, False)
    assert DiaryEntry.objects.filter(participant=participant).count() == 2


def test_a_form_is_refused_before_its_window_and_after_the_grace(
    participant: Participant,
) -> None:
    with pytest.raises(DiaryWindowClosedError, match="has not opened yet"):
        _submit_form(participant, form_date=NEXT, received_at=at(D, 20, 0))
    # 72 hours of grace after the window of D closed (03:00 on the next morning)
    late = at(NEXT, 3, 0) + dt.timedelta(hours=72, seconds=1)
    with pytest.raises(DiaryWindowClosedError, match="72 hours after its window closes"):
        _submit_form(participant, form_date=D, received_at=late)
    assert not DiaryEntry.objects.filter(participant=participant).exists()


def test_a_form_date_at_the_ends_of_the_calendar_is_refused_not_an_overflow(
    participant: Participant,
) -> None:
    # The window of 31 December 9999 would close in the year 10000, which no date can hold.
    with pytest.raises(DiaryDateInvalidError, match="9999-12-31 is not a date of this diary"):
        _submit_form(participant, form_date=dt.date.max, received_at=at(D, 20, 0))
    with pytest.raises(DiaryWindowClosedError, match="Monday 1 January 1 closed at"):
        _submit_form(participant, form_date=dt.date.min, received_at=at(D, 20, 0))
    assert not DiaryEntry.objects.filter(participant=participant).exists()
