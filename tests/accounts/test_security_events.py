"""Adding and removing a two-step (TOTP) device are security events on the audit trail, by
the user whose device it is, never with the device's key."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.builders import make_totp_device, make_user, totp_code

from diarytrial.accounts.services import (
    totp_device_confirm,
    totp_device_remove,
    totp_device_start,
)
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


def test_an_administrator_removes_a_device_in_the_admin_on_the_record(
    admin_user: User, client: Client
) -> None:
    ana = make_user(username="ana")
    ben = make_user(username="ben")
    devices = [make_totp_device(ana), make_totp_device(ben)]
    client.force_login(admin_user)
    page = client.get(f"/admin/otp_totp/totpdevice/{devices[0].pk}/change/")

    one = client.post(f"/admin/otp_totp/totpdevice/{devices[0].pk}/delete/", {"post": "yes"})
    selected = client.post(
        "/admin/otp_totp/totpdevice/",
        {"action": "delete_selected", "_selected_action": [devices[1].pk], "post": "yes"},
    )

    assert page.status_code == 200
    assert devices[0].key not in page.text
    assert (one.status_code, selected.status_code) == (302, 302)
    assert not TOTPDevice.objects.exists()
    removed = [event for event in _device_events() if event.action == AuditAction.TWO_STEP_REMOVE]
    assert [(event.object_id, event.actor_id) for event in removed] == [
        (str(devices[0].pk), admin_user.pk),
        (str(devices[1].pk), admin_user.pk),
    ]
    assert removed[0].changes == [{"field": "confirmed", "old": True, "new": None}]
    assert removed[0].reason == "removed on the admin's page of two-step devices"
    assert audit_verify().ok


def test_the_admin_neither_adds_nor_edits_devices(admin_user: User, client: Client) -> None:
    device = make_totp_device(make_user(username="ana"))
    client.force_login(admin_user)

    added = client.get("/admin/otp_totp/totpdevice/add/")
    edited = client.post(
        f"/admin/otp_totp/totpdevice/{device.pk}/change/", {"name": "x", "key": "00" * 20}
    )

    assert added.status_code == 403
    assert edited.status_code == 403
    assert TOTPDevice.objects.get().key == device.key


def test_removing_a_device_that_is_gone_records_nothing(admin_user: User) -> None:
    device = make_totp_device(make_user(username="ana"))
    totp_device_remove(device=device, actor=admin_user, reason="lost phone")
    count = AuditEvent.objects.count()

    totp_device_remove(device=device, actor=admin_user, reason="lost phone")

    assert AuditEvent.objects.count() == count
