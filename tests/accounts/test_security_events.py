"""Adding and removing a two-step (TOTP) device are security events on the audit trail, by
the user whose device it is, never with the device's key."""

from __future__ import annotations

import json

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.builders import make_user, totp_code

from diarytrial.accounts.services import totp_device_confirm, totp_device_start
from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_verify

pytestmark = pytest.mark.django_db


def _device_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="otp_totp.totpdevice"))


def test_setting_up_and_confirming_a_device_are_recorded_by_its_user() -> None:
    user = make_user(username="ana")

    device = totp_device_start(user=user)
    totp_device_start(user=user)  # the same unfinished set-up: nothing new
    assert totp_device_confirm(device=device, code=totp_code(device))
    assert totp_device_confirm(device=device, code="")  # confirmed already: nothing new

    events = _device_events()
    assert [(event.action, event.changes) for event in events] == [
        (
            AuditAction.CREATE,
            [
                {"field": "name", "old": None, "new": "authenticator app"},
                {"field": "confirmed", "old": None, "new": False},
            ],
        ),
        (AuditAction.TWO_STEP_ADD, [{"field": "confirmed", "old": False, "new": True}]),
    ]
    assert {(event.actor_id, event.actor_label) for event in events} == {(user.pk, "ana")}
    assert {event.object_id for event in events} == {str(device.pk)}
    assert {event.study_slug for event in events} == {""}
    assert audit_verify().ok


def test_confirming_removes_the_other_unfinished_set_ups_each_recorded() -> None:
    user = make_user(username="ana")
    device = totp_device_start(user=user)
    # An unfinished set-up from another browser, as django-otp would keep it.
    other = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)

    assert totp_device_confirm(device=device, code=totp_code(device))

    removed = [event for event in _device_events() if event.action == AuditAction.TWO_STEP_REMOVE]
    assert [(event.object_id, event.actor_id) for event in removed] == [(str(other.pk), user.pk)]
    assert removed[0].changes == [{"field": "confirmed", "old": False, "new": None}]
    assert list(TOTPDevice.objects.filter(user=user)) == [device]


def test_the_key_never_reaches_the_trail() -> None:
    user = make_user(username="ana")
    device = totp_device_start(user=user)
    totp_device_confirm(device=device, code=totp_code(device))

    recorded = json.dumps(
        [[event.changes, event.reason, event.object_repr] for event in AuditEvent.objects.all()]
    )

    assert device.key not in recorded
    assert device.key.upper() not in recorded


def test_a_wrong_set_up_code_records_nothing() -> None:
    user = make_user(username="ana")
    device = totp_device_start(user=user)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    before = AuditEvent.objects.count()

    assert not totp_device_confirm(device=device, code=wrong)

    assert AuditEvent.objects.count() == before
