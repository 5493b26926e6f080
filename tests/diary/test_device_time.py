"""The phone's clock and time zone against the server's (``diary.device_time``): an entry is kept
under the diary date the server's clock gives it, the phone's claim (its time and UTC offset)
is recorded, and a difference is flagged for staff.

The participant lives in Los Angeles (UTC-08:00 in November); the clock is moved to the moment
each upload reaches the server, which then decides as it does for the phone's API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import client_for, device_client, make_member
from tests.diary.helpers import LA, LONDON, D, answers, at, events_after, last_event_id

from diarytrial.core.errors import InvalidInputError
from diarytrial.diary.device_time import DEVICE_CLOCK_TOLERANCE, device_time_compare
from diarytrial.diary.errors import DiaryWindowClosedError
from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.services import diary_entry_submit
from diarytrial.participants.models import Participant
from diarytrial.participants.services import participant_timezone_change
from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db

PST = dt.timedelta(hours=-8)
NEXT = D + dt.timedelta(days=1)
THREE_DAYS = dt.timedelta(days=3)


def _upload(
    participant: Participant,
    *,
    device_time: dt.datetime | None,
    offset: dt.timedelta | None = PST,
    form_date: dt.date | None = None,
    pain: float = 50,
) -> DiaryEntry:
    """An upload at the clock's moment, the phone claiming `device_time` with `offset`."""
    return diary_entry_submit(
        participant=participant,
        client_id=uuid.uuid4(),
        answers=answers(pain=pain),
        side_effects={},
        capsule_taken=True,
        completed_at_device=device_time,
        device_utc_offset=offset,
        form_date=form_date,
    )


def _three_days_ahead_on_d(participant: Participant, clock: time_machine.Traveller) -> None:
    """D's entry at 21:00 from a phone whose clock is three days ahead."""
    clock.move_to(at(D, 21))
    _upload(participant, device_time=at(D, 21) + THREE_DAYS, form_date=D)


def _event_changes(mark: int) -> dict[str, object]:
    (event,) = events_after(mark)
    return {change["field"]: change["new"] for change in event.changes}


# --- the phone's clock ----------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [THREE_DAYS, -THREE_DAYS], ids=["ahead", "behind"])
@pytest.mark.parametrize("form_date", [D, None], ids=["form date", "no form date"])
def test_a_phone_clock_three_days_off_keeps_the_servers_date_records_and_flags(
    participant: Participant,
    clock: time_machine.Traveller,
    shift: dt.timedelta,
    form_date: dt.date | None,
) -> None:
    received = at(D, 21)
    clock.move_to(received)
    mark = last_event_id()

    entry = _upload(participant, device_time=received + shift, form_date=form_date)

    assert (entry.diary_date, entry.late, entry.received_at) == (D, False, received)
    assert entry.completed_at_device == received + shift
    assert entry.device_clock_difference == shift.total_seconds()
    assert (entry.device_utc_offset, entry.device_time_differs) == (-480, True)
    changes = _event_changes(mark)
    assert changes["device_clock_difference"] == shift.total_seconds()
    assert changes["device_time_differs"] is True
    assert changes["diary_date"] == D.isoformat()


def test_an_entry_sent_late_from_a_phone_three_days_behind_is_late_under_its_form_date(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    clock.move_to(at(NEXT, 9))  # the window of D closed at 03:00

    entry = _upload(participant, device_time=at(D, 22) - THREE_DAYS, form_date=D)

    assert (entry.diary_date, entry.late, entry.device_time_differs) == (D, True, True)


@pytest.mark.parametrize("shift", [THREE_DAYS, -THREE_DAYS], ids=["ahead", "behind"])
def test_between_windows_a_phone_clock_three_days_off_opens_no_other_date(
    participant: Participant, clock: time_machine.Traveller, shift: dt.timedelta
) -> None:
    clock.move_to(at(NEXT, 9))  # between windows: only a late entry could be kept now

    with pytest.raises(DiaryWindowClosedError, match="next diary window opens"):
        _upload(participant, device_time=at(D, 22) + shift)

    assert not DiaryEntry.objects.exists()


def test_an_entry_filled_offline_and_sent_the_next_morning_is_not_flagged(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    clock.move_to(at(NEXT, 9))

    entry = _upload(participant, device_time=at(D, 22), form_date=D)

    assert (entry.late, entry.device_time_differs) == (True, False)
    assert entry.device_clock_difference == -11 * 3600


@pytest.mark.parametrize(
    ("ahead", "flagged"),
    [(dt.timedelta(minutes=2), False), (DEVICE_CLOCK_TOLERANCE + dt.timedelta(seconds=1), True)],
)
def test_a_clock_a_little_ahead_is_tolerated_up_to_the_tolerance(
    participant: Participant,
    clock: time_machine.Traveller,
    ahead: dt.timedelta,
    flagged: bool,
) -> None:
    clock.move_to(at(D, 21))

    entry = _upload(participant, device_time=at(D, 21) + ahead, form_date=D)

    assert entry.device_time_differs is flagged


def test_an_upload_without_the_phones_time_records_and_flags_nothing(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    clock.move_to(at(D, 21))

    entry = _upload(participant, device_time=None, offset=None, form_date=D)

    assert (entry.completed_at_device, entry.device_utc_offset) == (None, None)
    assert (entry.device_clock_difference, entry.device_time_differs) == (None, False)


def test_the_participants_correction_from_a_phone_set_right_clears_the_flag(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    _three_days_ahead_on_d(participant, clock)
    clock.move_to(at(D, 22))
    mark = last_event_id()

    entry = _upload(participant, device_time=at(D, 22), form_date=D, pain=30)

    assert (entry.device_time_differs, entry.device_clock_difference) == (False, 0)
    (event,) = events_after(mark)
    changes = {c["field"]: (c["old"], c["new"]) for c in event.changes}
    assert changes["device_time_differs"] == (True, False)
    assert changes["device_clock_difference"] == (THREE_DAYS.total_seconds(), 0)


def test_an_offset_that_is_no_time_zones_is_refused(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    clock.move_to(at(D, 21))

    with pytest.raises(InvalidInputError, match="within 24 hours of UTC"):
        _upload(participant, device_time=at(D, 21), offset=dt.timedelta(hours=25), form_date=D)

    assert not DiaryEntry.objects.exists()


# --- the phone's time zone ------------------------------------------------------------------------


def test_a_participant_who_moves_keeps_the_servers_dates_and_the_phones_zone_is_flagged_until_staff_change_theirs(  # noqa: E501
    participant: Participant, clock: time_machine.Traveller
) -> None:
    monday = D
    clock.move_to(at(monday, 21))
    at_home = _upload(participant, device_time=at(monday, 21), form_date=monday)
    # Landed in London: the phone reads 04:30 on Wednesday (UTC+00:00), still Tuesday's window
    # in Los Angeles, where the participant's diary still is.
    tuesday = monday + dt.timedelta(days=1)
    clock.move_to(at(tuesday, 20, 30))
    landed = _upload(participant, device_time=at(tuesday, 20, 30), offset=dt.timedelta(0))
    clock.move_to(at(tuesday + dt.timedelta(days=1), 12, tz=LONDON))
    participant_timezone_change(
        participant=participant, timezone="Europe/London", reason="moved to London", actor=None
    )
    wednesday = tuesday + dt.timedelta(days=1)
    clock.move_to(at(wednesday, 21, tz=LONDON))

    settled = _upload(
        participant,
        device_time=at(wednesday, 21, tz=LONDON),
        offset=dt.timedelta(0),
        form_date=wednesday,
    )

    assert (at_home.diary_date, at_home.device_time_differs) == (monday, False)
    assert (landed.diary_date, landed.timezone) == (tuesday, "America/Los_Angeles")
    assert (landed.device_utc_offset, landed.device_time_differs) == (0, True)
    assert landed.device_clock_difference == 0  # the clock was right, the zone was not
    assert (settled.diary_date, settled.timezone) == (wednesday, "Europe/London")
    assert (settled.device_utc_offset, settled.device_time_differs) == (0, False)


def test_the_api_records_the_offset_the_phone_wrote(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    clock.move_to(at(D, 21))
    phone = device_client(participant)
    phone.get("/api/diary/form")
    body = {
        "client_id": str(uuid.uuid4()),
        "form_date": D.isoformat(),
        "answers": answers(),
        # 05:00 in London is 21:00 in Los Angeles: the right instant, another zone.
        "completed_at_device": at(D, 21).astimezone(LONDON).isoformat(),
    }

    response = phone.post(
        "/api/diary/entries",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=phone.cookies["csrftoken"].value,
    )

    assert response.status_code == 201, response.content
    entry = DiaryEntry.objects.get()
    assert (entry.diary_date, entry.device_utc_offset, entry.device_time_differs) == (D, 0, True)


# --- what staff see -------------------------------------------------------------------------------


def test_staff_see_the_phones_clock_and_zone_beside_the_night(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    _three_days_ahead_on_d(participant, clock)
    clock.move_to(at(NEXT, 21))
    _upload(participant, device_time=at(NEXT, 21), offset=dt.timedelta(hours=1), form_date=NEXT)
    clock.move_to(at(NEXT + dt.timedelta(days=2), 12))
    staff = client_for(make_member(study=participant.study, role=Role.COORDINATOR).user)
    where = {"study": participant.study.slug, "participant": participant.code}

    listed = staff.get(reverse("diary:entries", kwargs=where)).content.decode()
    page = staff.get(reverse("diary:correct", kwargs={**where, "day": D.isoformat()}))

    assert "Phone&#x27;s clock 3 days ahead of the server&#x27;s" in listed
    assert (
        "Phone&#x27;s time zone UTC+01:00, not the participant&#x27;s "
        "(America/Los_Angeles, UTC-08:00)" in listed
    )
    assert "Phone&#x27;s clock 3 days ahead of the server&#x27;s" in page.content.decode()


# --- the rule itself ------------------------------------------------------------------------------

ZONES = [ZoneInfo(name) for name in ("America/Los_Angeles", "Europe/London", "Asia/Kathmandu")]


@given(
    zone=st.sampled_from(ZONES),
    opens=st.datetimes(
        min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(LA)
    ),
    filled=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=9)),
    travelled=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=80)),
)
def test_a_right_clock_in_the_participants_zone_is_never_flagged(
    zone: ZoneInfo, opens: dt.datetime, filled: dt.timedelta, travelled: dt.timedelta
) -> None:
    opens_utc = opens.astimezone(dt.UTC)  # aware arithmetic in one zone is wall-clock time
    completed = (opens_utc + filled).astimezone(zone)

    device = device_time_compare(
        completed_at_device=completed,
        device_utc_offset=completed.utcoffset(),
        received_at=opens_utc + filled + travelled,
        window_opens=opens,
        zone=zone,
    )

    assert not device.differs


@given(
    error=st.timedeltas(
        min_value=DEVICE_CLOCK_TOLERANCE + dt.timedelta(seconds=1), max_value=dt.timedelta(days=9)
    ),
    ahead=st.booleans(),
)
def test_a_clock_off_by_more_than_the_tolerance_is_flagged(
    error: dt.timedelta, ahead: bool
) -> None:
    opens = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)
    received = opens + dt.timedelta(hours=1)
    completed = received + error if ahead else opens - error

    device = device_time_compare(
        completed_at_device=completed,
        device_utc_offset=PST,
        received_at=received,
        window_opens=opens,
        zone=LA,
    )

    assert device.clock_wrong
    assert device.differs


@pytest.mark.parametrize(
    "claimed",
    [
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12))),
    ],
    ids=["year 1", "year 9999"],
)
def test_a_phone_time_at_the_edge_of_the_calendar_is_flagged_not_a_crash(
    claimed: dt.datetime,
) -> None:
    opens = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)

    device = device_time_compare(
        completed_at_device=claimed,
        device_utc_offset=claimed.utcoffset(),
        received_at=opens + dt.timedelta(hours=1),
        window_opens=opens,
        zone=LA,
    )

    assert device.clock_wrong
    assert isinstance(device.entry_fields()["device_clock_difference"], int)
