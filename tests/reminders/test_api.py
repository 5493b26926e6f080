"""The reminders' JSON API, used by the phone's settings page with the device cookie."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from tests.builders import device_client, make_device
from tests.reminders.helpers import BrowserKeys

from diarytrial.audit.models import AuditEvent
from diarytrial.devices.auth import DEVICE_COOKIE
from diarytrial.participants.models import Participant
from diarytrial.reminders.models import PushSubscription, ReminderSettings

SETTINGS = "/api/reminders/settings"
SUBSCRIPTIONS = "/api/reminders/push-subscriptions"
CALENDAR = "/api/reminders/calendar"


def _put(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def phone(participant: Participant) -> Client:
    return device_client(participant)


def test_a_new_participant_has_every_reminder_off(phone: Client) -> None:
    response = phone.get(SETTINGS)

    assert response.status_code == 200
    assert response.json() == {
        "email": None,
        "email_enabled": False,
        "push_enabled": False,
        "push_available": True,
        "push_subscribed": False,
        "calendar_active": False,
    }


def test_saving_an_address_keeps_it_out_of_the_audit_trail(
    phone: Client, participant: Participant
) -> None:
    response = _put(
        phone, SETTINGS, {"email": "ana@example.org", "email_enabled": True, "push_enabled": False}
    )

    assert response.status_code == 200
    assert response.json()["email"] == "ana@example.org"
    assert ReminderSettings.objects.get(participant=participant).email_enabled
    event = AuditEvent.objects.filter(object_type="reminders.remindersettings").get()
    assert event.actor_label == participant.code
    assert "example.org" not in json.dumps(event.changes)
    assert {"field": "email", "old": None, "new": "set"} in event.changes


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"email": "not an address", "email_enabled": True, "push_enabled": False},
            "reminder_email_invalid",
        ),
        ({"email": None, "email_enabled": True, "push_enabled": False}, "reminder_email_invalid"),
        ({"email_enabled": True, "push_enabled": False, "sms": True}, "validation_error"),
        ({"email": "ana@example.org"}, "validation_error"),
    ],
)
def test_settings_that_cannot_be_used_are_refused_as_problems(
    phone: Client, body: dict[str, Any], code: str
) -> None:
    response = _put(phone, SETTINGS, body)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert not ReminderSettings.objects.exists()


def test_without_an_enrolled_phone_nothing_is_read_or_changed(participant: Participant) -> None:
    stranger = Client()
    stranger.cookies[DEVICE_COOKIE] = "x" * 43

    assert stranger.get(SETTINGS).json()["code"] == "device_not_enrolled"
    assert Client().get(SETTINGS).status_code == 401


def test_a_write_without_the_csrf_token_is_refused(participant: Participant) -> None:
    _, token = make_device(participant)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies[DEVICE_COOKIE] = token

    response = _put(
        strict, SETTINGS, {"email": "ana@example.org", "email_enabled": True, "push_enabled": False}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not ReminderSettings.objects.exists()


def test_the_phone_subscribes_to_pushes_and_unsubscribes(
    phone: Client, participant: Participant, settings: Any
) -> None:
    keys = BrowserKeys.new()
    assert phone.get("/api/reminders/push-key").json() == {"public_key": settings.VAPID_PUBLIC_KEY}
    subscription = {
        "endpoint": "https://push.example.net/send/abc",
        "expirationTime": None,
        "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
    }

    made = phone.post(SUBSCRIPTIONS, data=json.dumps(subscription), content_type="application/json")

    assert made.status_code == 201
    stored = PushSubscription.objects.get()
    assert (stored.participant, stored.endpoint, stored.p256dh) == (
        participant,
        subscription["endpoint"],
        keys.p256dh,
    )
    assert stored.device is not None
    after = phone.get(SETTINGS).json()
    assert (after["push_enabled"], after["push_subscribed"]) == (True, True)

    gone = phone.delete(SUBSCRIPTIONS)

    assert gone.status_code == 200
    assert not PushSubscription.objects.exists()
    assert phone.get(SETTINGS).json()["push_subscribed"] is False


def test_a_subscription_without_an_https_endpoint_is_refused_in_production(
    phone: Client, settings: Any
) -> None:
    settings.PRODUCTION = True
    body = {"endpoint": "http://10.0.0.5/internal", "keys": {"p256dh": "a", "auth": "b"}}

    response = phone.post(SUBSCRIPTIONS, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 422
    assert response.json()["code"] == "push_subscription_invalid"


def test_without_vapid_keys_the_phone_is_told_pushes_are_unavailable(
    phone: Client, settings: Any
) -> None:
    settings.VAPID_PUBLIC_KEY = ""

    response = phone.get("/api/reminders/push-key")

    assert response.status_code == 503
    assert response.json()["code"] == "push_not_configured"
    assert phone.get(SETTINGS).json()["push_available"] is False


def test_a_new_calendar_address_replaces_the_old_one_and_can_be_stopped(phone: Client) -> None:
    first = phone.post(CALENDAR).json()["url"]
    second = phone.post(CALENDAR).json()
    path = second["url"].removeprefix("https://trial.example.org")

    assert second["webcal_url"] == "webcal://" + second["url"].removeprefix("https://")
    assert phone.get(SETTINGS).json()["calendar_active"] is True
    assert Client().get(first.removeprefix("https://trial.example.org")).status_code == 404
    assert Client().get(path).status_code == 200

    assert phone.delete(CALENDAR).status_code == 200
    assert Client().get(path).status_code == 404
    assert phone.get(SETTINGS).json()["calendar_active"] is False


def test_the_phone_settings_page_shows_the_reminders_section(phone: Client) -> None:
    page = phone.get("/d/settings/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "data-reminders" in html
    assert 'data-settings-url="/api/reminders/settings"' in html
    assert "reminders/push.js" in html
