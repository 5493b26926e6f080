"""Wrong PINs and the lockout they cause are security events on the audit trail; the hourly
"last seen" mark is the devices app's one unaudited write."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone
from tests.builders import make_device, make_participant, make_study

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.devices.auth import DEVICE_COOKIE, request_device
from diarytrial.devices.models import Device
from diarytrial.devices.services import LAST_SEEN_EVERY, device_pin_check, device_pin_set
from diarytrial.participants.models import Participant

pytestmark = pytest.mark.django_db

PIN = "7391"
WRONG = "4826"


@pytest.fixture
def participant() -> Participant:
    return make_participant(study=make_study())


def _events_of(device: Device, since: int) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="devices.device", object_id=str(device.pk), pk__gt=since
        )
    )


def _last_event_id() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last is not None else 0


def test_each_wrong_pin_is_an_event_and_the_right_one_resets_the_count(
    participant: Participant,
) -> None:
    device, _ = make_device(participant)
    device_pin_set(device=device, pin=PIN)
    since = _last_event_id()

    device_pin_check(device=device, pin=WRONG)
    device_pin_check(device=device, pin=WRONG)
    device_pin_check(device=device, pin=PIN)
    device_pin_check(device=device, pin=PIN)  # nothing to reset: no event

    events = _events_of(device, since)
    assert [(event.action, event.changes) for event in events] == [
        (AuditAction.PIN_WRONG, [{"field": "pin_failures", "old": 0, "new": 1}]),
        (AuditAction.PIN_WRONG, [{"field": "pin_failures", "old": 1, "new": 2}]),
        (AuditAction.UPDATE, [{"field": "pin_failures", "old": 2, "new": 0}]),
    ]
    assert {event.actor_label for event in events} == {participant.code}
    assert {event.study_slug for event in events} == {participant.study.slug}
    assert {event.actor_id for event in events} == {None}
    assert audit_verify().ok


def test_the_fifth_wrong_pin_is_recorded_with_the_lockout_and_no_pin(
    participant: Participant,
) -> None:
    device, _ = make_device(participant)
    device_pin_set(device=device, pin=PIN)
    since = _last_event_id()

    for _ in range(5):
        device_pin_check(device=device, pin=WRONG)

    events = _events_of(device, since)
    assert [event.action for event in events] == [AuditAction.PIN_WRONG] * 5 + [
        AuditAction.PIN_LOCKOUT
    ]
    lockout = events[-1]
    assert lockout.changes == [
        {"field": "revoked_at", "old": None, "new": device.revoked_at.isoformat()}  # type: ignore[union-attr]
    ]
    assert lockout.reason == "a wrong PIN was entered 5 times in a row"
    recorded = json.dumps([[event.changes, event.reason] for event in events])
    stored = Device.objects.get(pk=device.pk)
    assert PIN not in recorded
    assert WRONG not in recorded
    assert stored.pin_hash not in recorded
    assert audit_verify().ok


def test_a_wrong_pin_on_a_revoked_device_records_nothing(participant: Participant) -> None:
    device, _ = make_device(participant)
    device_pin_set(device=device, pin=PIN)
    for _ in range(5):
        device_pin_check(device=device, pin=WRONG)
    since = _last_event_id()

    assert not device_pin_check(device=device, pin=WRONG)
    assert _events_of(device, since) == []


def test_a_request_marks_the_device_seen_at_most_once_an_hour_unaudited(
    participant: Participant,
) -> None:
    start = timezone.now()
    device, token = make_device(participant)
    since = _last_event_id()

    def seen_after(delay: dt.timedelta) -> dt.datetime | None:
        with time_machine.travel(start + delay, tick=False):
            request = RequestFactory().get("/d/")
            request.COOKIES[DEVICE_COOKIE] = token
            assert request_device(request) is not None
        return Device.objects.get(pk=device.pk).last_seen_at

    assert seen_after(dt.timedelta(minutes=59)) == start
    assert seen_after(LAST_SEEN_EVERY) == start + LAST_SEEN_EVERY
    assert seen_after(LAST_SEEN_EVERY + dt.timedelta(minutes=30)) == start + LAST_SEEN_EVERY
    assert AuditEvent.objects.filter(pk__gt=since).count() == 0
