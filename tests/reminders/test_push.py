"""Web Push reminders to a local push service: encrypted for the browser, signed with VAPID."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import time_machine
from tests.builders import make_device
from tests.reminders.helpers import FORBIDDEN_WORDS, BrowserKeys, D, PushService, at, vapid_claims

from diarytrial.audit.models import AuditEvent
from diarytrial.participants.models import Participant
from diarytrial.reminders.management.commands.worker import tasks_drain
from diarytrial.reminders.models import DeliveryStatus, PushSubscription, ReminderDelivery
from diarytrial.reminders.services import push_subscription_save
from diarytrial.reminders.tasks import reminders_schedule


def _subscribe(participant: Participant, push: PushService, name: str = "phone-1") -> BrowserKeys:
    keys = BrowserKeys.new()
    device, _ = make_device(participant)
    push_subscription_save(
        participant=participant,
        device=device,
        endpoint=push.endpoint(name),
        p256dh=keys.p256dh,
        auth=keys.auth,
    )
    return keys


def _night(clock: time_machine.Traveller) -> None:
    clock.move_to(at(D, 18, 11))  # after any spread of 10 minutes
    reminders_schedule()
    tasks_drain()


def test_the_push_is_encrypted_for_the_browser_and_signed_with_the_sites_vapid_key(
    participant: Participant, push: PushService, clock: time_machine.Traveller, settings: Any
) -> None:
    keys = _subscribe(participant, push)

    _night(clock)

    [request] = push.received
    assert request.path == "/push/phone-1"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["urgency"] == "normal"
    assert 0 < int(request.headers["ttl"]) <= 9 * 3600  # until the window closes at 03:00
    claims = vapid_claims(request.headers["authorization"], settings.VAPID_PUBLIC_KEY)
    assert claims["aud"] == push.base_url
    assert claims["sub"] == "mailto:trial-team@example.org"
    assert claims["exp"] > time.time()
    payload = keys.decrypt(request.body)
    assert payload == {
        "title": "Your diary is open",
        "body": "Tonight's diary is open until 03:00 (your time). It takes a few minutes.",
        "url": "/d/",
        "tag": f"diary-{D.isoformat()}",
    }
    assert not [word for word in FORBIDDEN_WORDS if word in str(payload).lower()]
    delivery = ReminderDelivery.objects.get()
    assert (delivery.channel, delivery.status) == ("push", DeliveryStatus.SENT)
    assert PushSubscription.objects.get().last_sent_at is not None


def test_every_subscribed_phone_gets_it_but_not_a_revoked_one(
    participant: Participant, push: PushService, clock: time_machine.Traveller
) -> None:
    from diarytrial.devices.services import device_revoke

    _subscribe(participant, push, "phone-1")
    _subscribe(participant, push, "phone-2")
    lost = PushSubscription.objects.get(endpoint=push.endpoint("phone-2")).device
    assert lost is not None
    device_revoke(device=lost, actor=None, reason="phone lost")

    _night(clock)

    assert [request.path for request in push.received] == ["/push/phone-1"]


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed_with_an_audit_event(
    participant: Participant, push: PushService, clock: time_machine.Traveller, status: int
) -> None:
    _subscribe(participant, push)
    push.status = status

    _night(clock)

    assert len(push.received) == 1
    assert not PushSubscription.objects.exists()
    delivery = ReminderDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SKIPPED
    removed = AuditEvent.objects.filter(object_type="reminders.pushsubscription").last()
    assert removed is not None
    assert removed.action == "remove"
    assert str(status) in removed.reason
    # The next night, no phone is subscribed: nothing is scheduled on push.
    clock.move_to(at(D + dt.timedelta(days=1), 18, 11))
    assert reminders_schedule() == 0


def test_a_push_service_error_keeps_the_subscription_and_marks_the_reminder_failed(
    participant: Participant, push: PushService, clock: time_machine.Traveller
) -> None:
    _subscribe(participant, push)
    push.status = 500

    _night(clock)

    assert PushSubscription.objects.count() == 1
    assert ReminderDelivery.objects.get().status == DeliveryStatus.FAILED


def test_without_vapid_keys_no_push_is_scheduled(
    participant: Participant, push: PushService, clock: time_machine.Traveller, settings: Any
) -> None:
    _subscribe(participant, push)
    settings.VAPID_PRIVATE_KEY = ""

    _night(clock)

    assert push.received == []
    assert not ReminderDelivery.objects.exists()
