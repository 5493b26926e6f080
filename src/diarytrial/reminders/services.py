"""Writes of the reminders app: a participant's choices, push subscriptions and calendar
addresses, each one transaction with its audit event; and the delivery log of the reminders
sent, which is operational and not audited (`reminder_delivery_schedule`,
`reminder_delivery_claim`, `reminder_delivery_finish`, `push_subscription_mark_sent`): two rows
a participant a night would drown the trail, and none of them is trial data.

The audit trail says that an e-mail address was set, changed or removed, never the address:
the trail cannot be erased, and the address is kept for reminders only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.devices.models import Device
from diarytrial.devices.tokens import token_hash
from diarytrial.participants.models import Participant
from diarytrial.reminders.errors import PushSubscriptionInvalidError, ReminderEmailInvalidError
from diarytrial.reminders.models import (
    CalendarFeed,
    DeliveryStatus,
    PushSubscription,
    ReminderDelivery,
    ReminderSettings,
)
from diarytrial.studies.services import require_unlocked


def _actor_label(participant: Participant) -> str:
    return participant.code


@transaction.atomic
def reminder_settings_set(
    *, participant: Participant, email: str | None, email_enabled: bool, push_enabled: bool
) -> ReminderSettings:
    """Save the participant's reminder choices: where e-mails go, and which channels are on.

    `email` None or empty removes the address. Refuses a malformed address, and e-mail
    reminders without an address (ReminderEmailInvalidError).
    """
    require_unlocked(participant.study)
    address = (email or "").strip()
    if address:
        try:
            validate_email(address)
        except ValidationError:
            raise ReminderEmailInvalidError(
                f"{address!r} does not look like an e-mail address; check it (it should look "
                f"like name@example.org) and save again.",
                extra={"field": "email"},
            ) from None
    if email_enabled and not address:
        raise ReminderEmailInvalidError(
            "To get reminders by e-mail, give the address they should go to.",
            extra={"field": "email"},
        )
    row, created = ReminderSettings.objects.select_for_update().get_or_create(
        participant=participant
    )
    changes: dict[str, tuple[object, object]] = {}
    if row.email != address:
        changes["email"] = (
            "set" if row.email else None,
            ("changed" if row.email else "set") if address else "removed",
        )
    if row.email_enabled != email_enabled:
        changes["email_enabled"] = (row.email_enabled, email_enabled)
    if row.push_enabled != push_enabled:
        changes["push_enabled"] = (row.push_enabled, push_enabled)
    if not changes and not created:
        return row
    row.email = address
    row.email_enabled = email_enabled
    row.push_enabled = push_enabled
    row.updated_at = timezone.now()
    row.save()
    audit_record(
        actor=None,
        actor_label=_actor_label(participant),
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=row,
        study_slug=participant.study.slug,
        changes=changes,
    )
    return row


def _endpoint_check(endpoint: str) -> str:
    url = endpoint.strip()
    parts = urlsplit(url)
    schemes = ("https",) if settings.PRODUCTION else ("https", "http")
    if parts.scheme not in schemes or not parts.netloc or len(url) > 2048:
        raise PushSubscriptionInvalidError(
            "The phone's notification subscription has no usable address; turn phone "
            "notifications off and on again.",
            extra={"field": "endpoint"},
        )
    return url


@transaction.atomic
def push_subscription_save(
    *, participant: Participant, device: Device | None, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Keep the browser's push subscription (a PushSubscription's JSON) and turn pushes on.

    The same endpoint again replaces its keys. Refuses a subscription without an https
    endpoint or keys (PushSubscriptionInvalidError).
    """
    require_unlocked(participant.study)
    url = _endpoint_check(endpoint)
    if not p256dh.strip() or not auth.strip() or len(p256dh) > 200 or len(auth) > 100:
        raise PushSubscriptionInvalidError(
            "The phone's notification subscription has no keys; turn phone notifications off "
            "and on again.",
            extra={"field": "keys"},
        )
    row = PushSubscription.objects.select_for_update().filter(endpoint=url).first()
    created = row is None
    if row is None:
        row = PushSubscription(endpoint=url)
    row.participant = participant
    row.device = device
    row.p256dh = p256dh.strip()
    row.auth = auth.strip()
    row.save()
    audit_record(
        actor=None,
        actor_label=_actor_label(participant),
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=row,
        study_slug=participant.study.slug,
        changes={"device": (None, device.pk if device else None)},
    )
    chosen, made = ReminderSettings.objects.select_for_update().get_or_create(
        participant=participant
    )
    if not chosen.push_enabled:
        chosen.push_enabled = True
        chosen.updated_at = timezone.now()
        chosen.save(update_fields=["push_enabled", "updated_at"])
        audit_record(
            actor=None,
            actor_label=_actor_label(participant),
            action=AuditAction.CREATE if made else AuditAction.UPDATE,
            obj=chosen,
            study_slug=participant.study.slug,
            changes={"push_enabled": (False, True)},
            reason="the participant allowed notifications on a phone",
        )
    return row


@transaction.atomic
def push_subscription_remove(*, subscription: PushSubscription, reason: str) -> None:
    """Forget one push subscription (the participant turned it off, or the push service said
    it is gone)."""
    participant = subscription.participant
    require_unlocked(participant.study)
    row = PushSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
    if row is None:
        return
    audit_record(
        actor=None,
        actor_label=_actor_label(participant),
        action=AuditAction.REMOVE,
        obj=row,
        study_slug=participant.study.slug,
        changes={"endpoint": ("set", None)},
        reason=reason,
    )
    row.delete()


@transaction.atomic
def push_subscriptions_remove(
    *, participant: Participant, device: Device | None, endpoint: str | None = None
) -> int:
    """Forget the subscriptions `device` made (only `endpoint`'s when given); how many."""
    require_unlocked(participant.study)
    rows = PushSubscription.objects.filter(participant=participant, device=device)
    if endpoint:
        rows = rows.filter(endpoint=endpoint.strip())
    count = 0
    for row in list(rows):
        push_subscription_remove(subscription=row, reason="turned off on the phone")
        count += 1
    return count


@dataclass(frozen=True)
class IssuedFeed:
    """A new calendar feed and its token in clear (shown once, then only its hash is kept)."""

    feed: CalendarFeed
    token: str


@transaction.atomic
def calendar_feed_issue(*, participant: Participant) -> IssuedFeed:
    """A new secret calendar address for the participant; the previous one stops working."""
    require_unlocked(participant.study)
    _calendar_feeds_revoke(participant)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(participant=participant, token_hash=token_hash(token))
    audit_record(
        actor=None,
        actor_label=_actor_label(participant),
        action=AuditAction.CREATE,
        obj=feed,
        study_slug=participant.study.slug,
    )
    return IssuedFeed(feed=feed, token=token)


@transaction.atomic
def calendar_feed_revoke(*, participant: Participant) -> int:
    """Stop the participant's calendar address; how many were active (0 or 1)."""
    require_unlocked(participant.study)
    return _calendar_feeds_revoke(participant)


def _calendar_feeds_revoke(participant: Participant) -> int:
    moment = timezone.now()
    active = list(
        CalendarFeed.objects.select_for_update().filter(
            participant=participant, revoked_at__isnull=True
        )
    )
    for feed in active:
        feed.revoked_at = moment
        feed.save(update_fields=["revoked_at"])
        audit_record(
            actor=None,
            actor_label=_actor_label(participant),
            action=AuditAction.UPDATE,
            obj=feed,
            study_slug=participant.study.slug,
            changes={"revoked_at": (None, moment)},
        )
    return len(active)


@transaction.atomic
def reminder_delivery_schedule(
    *,
    participant: Participant,
    diary_date: dt.date,
    channels: Iterable[str],
    scheduled_for: dt.datetime,
) -> list[ReminderDelivery]:
    """Create the delivery rows of `participant`'s night `diary_date` on `channels` not made
    yet; the new ones (empty when an earlier minute or another scheduler made them all).
    Not audited: an operational log."""
    made = []
    for channel in channels:
        try:
            with transaction.atomic():
                made.append(
                    ReminderDelivery.objects.create(
                        participant=participant,
                        diary_date=diary_date,
                        channel=channel,
                        scheduled_for=scheduled_for,
                    )
                )
        except IntegrityError:
            continue  # made already, by an earlier minute or by another scheduler
    return made


def reminder_delivery_claim(*, delivery: ReminderDelivery) -> bool:
    """Take `delivery` from scheduled to sending; False when another worker took it.

    One conditional UPDATE, so that of two workers only one wins. Not audited."""
    taken = ReminderDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SCHEDULED).update(
        status=DeliveryStatus.SENDING
    )
    return taken == 1


def reminder_delivery_finish(
    *, delivery: ReminderDelivery, status: DeliveryStatus, detail: str = ""
) -> ReminderDelivery:
    """Record how `delivery` ended (sent, skipped or failed, and why). Not audited."""
    delivery.status = status
    delivery.detail = detail[:300]
    delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "detail", "finished_at"])
    return delivery


def push_subscription_mark_sent(*, subscription: PushSubscription) -> None:
    """Note that a push to `subscription` was accepted just now. Not audited."""
    sent_at = timezone.now()
    PushSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=sent_at)
    subscription.last_sent_at = sent_at
