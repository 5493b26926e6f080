"""The calendar feed: a daily event at the window's opening, in the participant's time zone."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
import time_machine
from dateutil.rrule import rrulestr
from django.test import Client
from django.urls import reverse
from tests.builders import make_allocation, make_participant
from tests.reminders.helpers import DST_DAY, FORBIDDEN_WORDS, LA, START, D, at

from diarytrial.participants.models import Participant
from diarytrial.participants.services import participant_withdraw
from diarytrial.randomization.models import AllocationSlot
from diarytrial.reminders.services import calendar_feed_issue, calendar_feed_revoke


def _feed(participant: Participant) -> tuple[int, bytes]:
    issued = calendar_feed_issue(participant=participant)
    response = Client().get(reverse("reminders:calendar", kwargs={"token": issued.token}))
    return response.status_code, response.content


def _event(content: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    return event


def test_the_feed_is_a_daily_event_at_the_local_opening_with_its_time_zone(
    participant: Participant,
) -> None:
    status, content = _feed(participant)

    assert status == 200
    calendar = icalendar.Calendar.from_ical(content)
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "America/Los_Angeles"
    event = _event(content)
    start = event.decoded("DTSTART")
    assert start.replace(tzinfo=None) == dt.datetime(2025, 2, 24, 18, 0)
    assert str(start.tzinfo) == "America/Los_Angeles"
    assert event["URL"] == "https://trial.example.org/d/"
    assert "open until 03:00" in str(event["DESCRIPTION"])
    rule = event["RRULE"]
    assert rule["FREQ"] == ["DAILY"]
    assert "UNTIL" not in rule


def test_after_the_clocks_change_the_event_stays_at_18_00_local(
    participant: Participant,
) -> None:
    event = _event(_feed(participant)[1])
    start = event.decoded("DTSTART").replace(tzinfo=LA)
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)

    occurrences = {o.date(): o for o in rule}

    assert occurrences[START].astimezone(dt.UTC) == at(START, 18)
    assert occurrences[DST_DAY].astimezone(dt.UTC) == at(DST_DAY, 18)
    assert occurrences[DST_DAY].astimezone(dt.UTC).hour == 1  # 18:00 PDT
    assert occurrences[START].astimezone(dt.UTC).hour == 2  # 18:00 PST


def test_the_recurrence_does_not_tell_the_sequence(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    study = participant.study
    make_allocation(study=study)
    counts: dict[str, int] = {}
    for _ in range(10):
        person = make_participant(study=study, start_date=START, status="randomized")  # type: ignore[arg-type]
        sequence = AllocationSlot.objects.get(used_by=person).sequence_code
        counts[sequence] = _event(_feed(person)[1])["RRULE"]["COUNT"][0]
        if len(counts) == 2:
            break

    assert len(counts) == 2, "both sequences should be drawn among ten participants"
    assert set(counts.values()) == {140}  # the longest schedule: 14 + 84 + 14 + 28 days


def test_the_feed_names_no_arm_nor_the_participant(participant: Participant) -> None:
    content = _feed(participant)[1].decode().lower()

    assert not [word for word in FORBIDDEN_WORDS if word in content]
    assert participant.code.lower() not in content


def test_a_withdrawn_participants_feed_is_empty(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    participant_withdraw(participant=participant, reason="moved away", on=D, actor=None)

    status, content = _feed(participant)

    assert status == 200
    assert icalendar.Calendar.from_ical(content).walk("VEVENT") == []


@pytest.mark.parametrize("token", ["wrong-token-of-forty-three-characters-xxxxx", "short"])
def test_a_wrong_or_revoked_address_is_not_found(participant: Participant, token: str) -> None:
    issued = calendar_feed_issue(participant=participant)
    calendar_feed_revoke(participant=participant)

    for secret in (token, issued.token):
        response = Client().get(reverse("reminders:calendar", kwargs={"token": secret}))
        assert response.status_code == 404
