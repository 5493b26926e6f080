"""The digest's scheduler and the task that sends one site's digest of one day.

Every minute `digests_schedule` (a periodic job of ``diarytrial worker``) finds the sites whose
digest time has come today in their own zone and whose digest of today was not started, claims
it (one row per site and local date: of two workers only one wins) and enqueues `digest_send`.
A worker that was down at the digest time sends it when it comes back, the same day; the next
day's digest does not repeat it. Locked studies get no digest: nothing can change any more.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from diarytrial.monitoring.digest.selectors import digest_content, digest_recipients
from diarytrial.monitoring.digest.sending import digest_email_send
from diarytrial.monitoring.digest.services import digest_delivery_claim, digest_delivery_finish
from diarytrial.monitoring.models import DigestDelivery, DigestSchedule, DigestStatus

logger = logging.getLogger(__name__)


def digests_schedule(*, now: dt.datetime | None = None) -> int:
    """Start every digest due at `now` (default: now); how many were started."""
    moment = now or timezone.now()
    started = 0
    schedules = DigestSchedule.objects.select_related("site__study").filter(
        site__study__locked_at__isnull=True
    )
    for schedule in schedules:
        local = moment.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
        if local.time() < schedule.send_at:
            continue
        if DigestDelivery.objects.filter(site=schedule.site, local_date=local.date()).exists():
            continue
        with transaction.atomic():
            delivery = digest_delivery_claim(site=schedule.site, local_date=local.date())
            if delivery is not None:
                digest_send.enqueue(delivery.pk)
                started += 1
    if started:
        logger.info("started %d daily digest(s)", started)
    return started


def digests_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send the digest of `delivery_id` to its recipients; how it ended (its status)."""
    delivery = DigestDelivery.objects.select_related("site__study").get(pk=delivery_id)
    if delivery.status != DigestStatus.SENDING:
        return str(delivery.status)
    content = digest_content(site=delivery.site, now=now)
    if not content.has_news:
        digest_delivery_finish(delivery=delivery, status=DigestStatus.NOTHING)
        return str(delivery.status)
    recipients = digest_recipients(site=delivery.site)
    if not recipients:
        digest_delivery_finish(
            delivery=delivery,
            status=DigestStatus.NO_RECIPIENTS,
            detail="nobody of the site team has the digest on and an e-mail address",
        )
        return str(delivery.status)
    failed = []
    for user in recipients:
        try:
            digest_email_send(content=content, address=user.email)
        except Exception as error:
            logger.warning("daily digest to %s failed: %s", user.get_username(), error)
            failed.append(user.get_username())
    sent = len(recipients) - len(failed)
    digest_delivery_finish(
        delivery=delivery,
        status=DigestStatus.SENT if sent else DigestStatus.FAILED,
        recipients=sent,
        detail=f"failed for {', '.join(failed)}" if failed else "",
    )
    return str(delivery.status)


@task()
def digest_send(delivery_id: int) -> str:
    """The queued form of `digests_send`."""
    return digests_send(delivery_id=delivery_id)
