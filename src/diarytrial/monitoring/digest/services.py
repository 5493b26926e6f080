"""Writes of the daily digest.

The schedule and the subscriptions are staff settings: each change is one audited service.
The delivery log is an operational log, like the reminders' (written here, not audited: one
event a site a day would drown the trail), and docs/architecture.md lists it among the
unaudited writes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.monitoring.digest.selectors import DIGEST_ROLES, digest_subscribed
from diarytrial.monitoring.models import (
    DigestDelivery,
    DigestSchedule,
    DigestStatus,
    DigestSubscription,
)
from diarytrial.studies.access import require_role
from diarytrial.studies.models import Role, Site, StudyMembership


def _zone_checked(name: str) -> str:
    text = name.strip()
    try:
        if not text or len(text) > 64:
            raise ValueError
        zoneinfo.ZoneInfo(text)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise InvalidInputError(
            f"{name[:80]!r} is not a time zone: give an IANA name such as America/Los_Angeles.",
            extra={"field": "timezone"},
        ) from None
    return text


@transaction.atomic
def digest_schedule_set(
    *, site: Site, send_at: dt.time, actor: User, timezone_name: str | None = None
) -> DigestSchedule:
    """Send `site`'s daily digest at `send_at` in `timezone_name`, by default the site's own
    zone (``Site.timezone``, the zone its staff pages show times in); administrators only."""
    require_role(actor, site.study, Role.ADMINISTRATOR)
    zone = _zone_checked(site.timezone if timezone_name is None else timezone_name)
    send_at = send_at.replace(second=0, microsecond=0, tzinfo=None)
    schedule = DigestSchedule.objects.select_for_update().filter(site=site).first()
    if schedule is None:
        schedule = DigestSchedule(site=site, timezone=zone, send_at=send_at)
        schedule.full_clean()
        schedule.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=schedule,
            study_slug=site.study.slug,
            changes={"timezone": (None, zone), "send_at": (None, f"{send_at:%H:%M}")},
        )
        return schedule
    changes = {}
    if schedule.timezone != zone:
        changes["timezone"] = (schedule.timezone, zone)
    if schedule.send_at != send_at:
        changes["send_at"] = (f"{schedule.send_at:%H:%M}", f"{send_at:%H:%M}")
    if not changes:
        return schedule
    schedule.timezone, schedule.send_at, schedule.updated_at = zone, send_at, timezone.now()
    schedule.full_clean()
    schedule.save(update_fields=["timezone", "send_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=schedule,
        study_slug=site.study.slug,
        changes=changes,
    )
    return schedule


@transaction.atomic
def digest_subscription_set(
    *, membership: StudyMembership, subscribed: bool, actor: User
) -> DigestSubscription:
    """Turn the daily digest on or off for `membership`; only its own user may."""
    if membership.pk is None or membership.user_id != actor.pk or not membership.active:
        raise PermissionDeniedError("Only you can choose whether you get the daily digest.")
    if membership.role not in DIGEST_ROLES:
        raise PermissionDeniedError(
            "The daily digest goes to the site team: coordinators and investigators."
        )
    was = digest_subscribed(membership)
    subscription, made = DigestSubscription.objects.select_for_update().get_or_create(
        membership=membership, defaults={"subscribed": subscribed}
    )
    if not made and subscription.subscribed == subscribed:
        return subscription
    subscription.subscribed = subscribed
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=["subscribed", "updated_at"])
    membership.digest_subscription = subscription
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if made else AuditAction.UPDATE,
        obj=subscription,
        study_slug=membership.study.slug,
        changes={"subscribed": (None if made else was, subscribed)},
        reason="" if not made else f"was {'on' if was else 'off'} by default for the role",
    )
    return subscription


def digest_delivery_claim(*, site: Site, local_date: dt.date) -> DigestDelivery | None:
    """Start `site`'s digest of `local_date`; None when a worker started it already.

    Unaudited operational log (see the module's docstring)."""
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(
                site=site, local_date=local_date, status=DigestStatus.SENDING
            )
    except IntegrityError:
        return None


def digest_delivery_finish(
    *, delivery: DigestDelivery, status: DigestStatus, recipients: int = 0, detail: str = ""
) -> DigestDelivery:
    """Record how `delivery` ended. Unaudited operational log."""
    delivery.status = status
    delivery.recipients = recipients
    delivery.detail = detail[:300]
    delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "recipients", "detail", "finished_at"])
    return delivery
