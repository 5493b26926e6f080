"""Phones whose clocks are off by three days either way, and a participant who moves abroad in
the middle of the trial, through the phone's API on PostgreSQL: each entry is kept under the
diary date the server's clock gives it, the phone's claim (its time and UTC offset) is
recorded, the difference is flagged for staff, and the exported dataset carries the server's
dates.

Night by night, the server's clock is set to when the upload arrives; the phone asks for
tonight's form first, as it does, and sends the date of the form it was given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.builders import client_for, device_client, make_member, make_participant, make_study
from tests.faults.postgres import postgres_fault

from diarytrial.audit.selectors import audit_verify
from diarytrial.diary.models import DiaryEntry
from diarytrial.exports.services import dataset_export
from diarytrial.participants.models import Participant
from diarytrial.participants.services import participant_timezone_change
from diarytrial.protocol import load_example
from diarytrial.studies.models import Role

pytestmark = [*postgres_fault(), pytest.mark.django_db]

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
LDN = load_example("ldn-fibromyalgia").protocol
THREE_DAYS = dt.timedelta(days=3)


@dataclass(frozen=True)
class Night:
    """One upload: when it reaches the server (local time in `zone`), what the phone claims."""

    label: str
    day: int
    """Days after the participant's start date."""
    hour: float
    zone: ZoneInfo
    phone_error: dt.timedelta
    """How far the phone's clock is off."""
    phone_zone: ZoneInfo
    filled_hours_before: float = 0.0
    """Filled offline this long before it was sent (0: sent as it was filled)."""
    flagged: bool = False


NIGHTS = (
    Night("right clock", 1, 21, LA, dt.timedelta(0), LA),
    Night("three days ahead", 2, 21, LA, THREE_DAYS, LA, flagged=True),
    Night("three days behind", 3, 21, LA, -THREE_DAYS, LA, flagged=True),
    # Landed in London: 04:30 there is 20:30 of the evening before in Los Angeles.
    Night("abroad, zone not changed yet", 4, 20.5, LA, dt.timedelta(0), LONDON, flagged=True),
    # Staff change the participant's zone to London before this night (MOVE_AFTER).
    Night("abroad, zone changed", 5, 21, LONDON, dt.timedelta(0), LONDON),
    Night("offline, three days behind", 6, 33, LONDON, -THREE_DAYS, LONDON, 11, flagged=True),
)
MOVE_AFTER = 4


def _local(start: dt.date, night: Night) -> dt.datetime:
    """The instant the upload reaches the server: `hour` o'clock (past 24: the next day)."""
    midnight = dt.datetime.combine(start + dt.timedelta(days=night.day), dt.time(0), night.zone)
    return (midnight.astimezone(dt.UTC) + dt.timedelta(hours=night.hour)).astimezone(dt.UTC)


def _form_date(phone: Client) -> str:
    form = phone.get("/api/diary/form").json()
    return str(form["diary_date"])


def _send(phone: Client, night: Night, form_date: str, received: dt.datetime) -> dict[str, str]:
    filled = received - dt.timedelta(hours=night.filled_hours_before)
    claim = (filled + night.phone_error).astimezone(night.phone_zone)
    response = phone.post(
        "/api/diary/entries",
        {
            "client_id": str(uuid.uuid4()),
            "form_date": form_date,
            "answers": {item.id: item.lowest + night.day for item in LDN.diary.items},
            "completed_at_device": claim.isoformat(),
        },
        content_type="application/json",
        HTTP_X_CSRFTOKEN=phone.cookies["csrftoken"].value,
    )
    assert response.status_code == 201, response.content
    return {"diary_date": response.json()["diary_date"], "claim": claim.isoformat()}


def test_wrong_phone_clocks_and_a_move_abroad_keep_the_servers_dates_and_are_flagged(
    controlled_clock: time_machine.Traveller,
) -> None:
    today = timezone.now().astimezone(LA).date()
    start = today - dt.timedelta(days=20)
    participant: Participant = make_participant(
        study=make_study(), start_date=start, tz="America/Los_Angeles"
    )
    phone = device_client(participant)
    staff = make_member(study=participant.study, role=Role.COORDINATOR).user
    sent: dict[str, dict[str, str]] = {}
    form_dates: dict[str, str] = {}
    for night in NIGHTS:
        if night.day == MOVE_AFTER + 1:
            controlled_clock.move_to(_local(start, night) - dt.timedelta(hours=6))
            participant_timezone_change(
                participant=participant, timezone="Europe/London", reason="moved", actor=staff
            )
        received = _local(start, night)
        filled = received - dt.timedelta(hours=night.filled_hours_before)
        controlled_clock.move_to(filled)
        form_dates[night.label] = _form_date(phone)  # the form the phone was given, online
        controlled_clock.move_to(received)
        sent[night.label] = _send(phone, night, form_dates[night.label], received)

    entries = {e.diary_date.isoformat(): e for e in DiaryEntry.objects.all()}
    for night in NIGHTS:
        entry = entries[sent[night.label]["diary_date"]]
        claim = dt.datetime.fromisoformat(sent[night.label]["claim"])
        # The server's date: the form it issued, i.e. the window the server's clock was in.
        assert entry.diary_date.isoformat() == form_dates[night.label], night.label
        assert entry.completed_at_device == claim, night.label
        assert entry.device_utc_offset == claim.utcoffset() // dt.timedelta(minutes=1)
        assert entry.device_time_differs is night.flagged, night.label
    assert len(entries) == len(NIGHTS)
    assert entries[form_dates["abroad, zone not changed yet"]].timezone == "America/Los_Angeles"
    assert entries[form_dates["abroad, zone changed"]].timezone == "Europe/London"
    assert entries[form_dates["offline, three days behind"]].late is True
    assert audit_verify().ok

    statistician = make_member(study=participant.study, role=Role.STATISTICIAN).user
    exported = dataset_export(study=participant.study, actor=statistician, blinded=True)
    diary = exported.table("diary")
    assert sorted({d.date().isoformat() for d in diary["diary_date"]}) == sorted(
        form_dates.values()
    )

    listed = client_for(staff).get(
        reverse(
            "diary:entries",
            kwargs={"study": participant.study.slug, "participant": participant.code},
        )
    )
    page = listed.content.decode()
    assert page.count("Phone&#x27;s clock 3 days") == 3
    assert page.count("Phone&#x27;s time zone UTC+00:00") == 1
