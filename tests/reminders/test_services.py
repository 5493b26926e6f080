"""The reminders' write services: each refused once the study is locked, each audited."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.apps import apps
from tests.builders import LEFT_OPEN, make_device, make_member
from tests.reminders.helpers import NOON

from diarytrial.audit.selectors import audit_verify
from diarytrial.participants.models import Participant
from diarytrial.reminders import services
from diarytrial.reminders.models import PushSubscription
from diarytrial.reminders.services import (
    calendar_feed_issue,
    calendar_feed_revoke,
    push_subscription_remove,
    push_subscription_save,
    push_subscriptions_remove,
    reminder_settings_set,
)
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock, study_unlock


def _subscription(participant: Participant) -> PushSubscription:
    device, _ = make_device(participant)
    return PushSubscription.objects.create(
        participant=participant,
        device=device,
        endpoint="https://push.example.net/a",
        p256dh="key",
        auth="secret",
    )


WRITES: dict[str, Callable[[Participant], Any]] = {
    "reminder_settings_set": lambda p: reminder_settings_set(
        participant=p, email="ana@example.org", email_enabled=True, push_enabled=True
    ),
    "push_subscription_save": lambda p: push_subscription_save(
        participant=p, device=None, endpoint="https://push.example.net/b", p256dh="k", auth="s"
    ),
    "push_subscription_remove": lambda p: push_subscription_remove(
        subscription=_subscription(p), reason="gone"
    ),
    "push_subscriptions_remove": lambda p: push_subscriptions_remove(
        participant=p, device=_subscription(p).device
    ),
    "calendar_feed_issue": lambda p: calendar_feed_issue(participant=p),
    "calendar_feed_revoke": lambda p: calendar_feed_revoke(participant=p),
}


def _rows() -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_app_config("reminders").get_models()
    }


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_is_refused_once_the_study_is_locked(
    participant: Participant, clock: time_machine.Traveller, name: str
) -> None:
    administrator = make_member(study=participant.study, role=Role.ADMINISTRATOR).user
    study_lock(
        study=participant.study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN
    )
    before = _rows()

    with pytest.raises(StudyLockedError):
        WRITES[name](participant)

    assert _rows() == before
    study_unlock(study=participant.study, reason="query", actor=administrator)
    WRITES[name](participant)
    assert audit_verify().ok


# The delivery log's writes: not audited, and they must work on a locked study too (the worker
# marks a reminder of a study locked since it was scheduled as skipped).
OPERATIONAL = {
    "reminder_delivery_schedule",
    "reminder_delivery_claim",
    "reminder_delivery_finish",
    "push_subscription_mark_sent",
}


def test_every_write_service_is_in_the_list() -> None:
    public = {
        name
        for name, function in inspect.getmembers(services, inspect.isfunction)
        if function.__module__ == services.__name__ and not name.startswith("_")
    }

    assert public == set(WRITES) | OPERATIONAL


def test_saving_the_same_settings_again_records_nothing_new(participant: Participant) -> None:
    from diarytrial.audit.models import AuditEvent

    reminder_settings_set(
        participant=participant, email="ana@example.org", email_enabled=True, push_enabled=False
    )
    count = AuditEvent.objects.count()
    reminder_settings_set(
        participant=participant, email="ana@example.org", email_enabled=True, push_enabled=False
    )
    reminder_settings_set(
        participant=participant, email="ben@example.org", email_enabled=True, push_enabled=False
    )

    last = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == count + 1
    assert last is not None
    assert last.changes == [{"field": "email", "old": "set", "new": "changed"}]


def test_the_delivery_log_is_written_on_a_locked_study_and_never_audited(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    from diarytrial.audit.models import AuditEvent
    from diarytrial.reminders.models import DeliveryStatus, ReminderDelivery

    subscription = _subscription(participant)
    administrator = make_member(study=participant.study, role=Role.ADMINISTRATOR).user
    study_lock(
        study=participant.study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN
    )
    events = AuditEvent.objects.count()
    day = NOON.date()
    send_at = NOON

    made = services.reminder_delivery_schedule(
        participant=participant, diary_date=day, channels=["email", "push"], scheduled_for=send_at
    )
    again = services.reminder_delivery_schedule(
        participant=participant, diary_date=day, channels=["email", "push"], scheduled_for=send_at
    )
    first = services.reminder_delivery_claim(delivery=made[0])
    second = services.reminder_delivery_claim(delivery=made[0])
    finished = services.reminder_delivery_finish(
        delivery=made[0], status=DeliveryStatus.SKIPPED, detail="x" * 400
    )
    services.push_subscription_mark_sent(subscription=subscription)

    assert [row.channel for row in made] == ["email", "push"]
    assert again == []
    assert (first, second) == (True, False)
    stored = ReminderDelivery.objects.get(pk=finished.pk)
    assert (stored.status, len(stored.detail)) == (DeliveryStatus.SKIPPED, 300)
    assert stored.finished_at is not None
    assert PushSubscription.objects.get().last_sent_at == subscription.last_sent_at is not None
    assert AuditEvent.objects.count() == events
