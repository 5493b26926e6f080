"""Sending one reminder: an e-mail through Django's mail API, or a Web Push (VAPID).

Both say only that the diary is open, until when, and where: never an arm, a dose or the
study's name (an e-mail may be read by others, a push may show on a locked screen).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

from diarytrial.participants.models import Participant
from diarytrial.reminders.models import PushSubscription
from diarytrial.reminders.selectors import push_subscription_list
from diarytrial.reminders.services import push_subscription_mark_sent, push_subscription_remove

logger = logging.getLogger(__name__)

SUBJECT = "Your diary is open"
PUSH_TIMEOUT_SECONDS = 10
GONE = (404, 410)


def diary_path() -> str:
    """The path of the phone's diary page (``/d/``)."""
    try:
        return reverse("phone:home")
    except NoReverseMatch:
        return "/d/"


def diary_url() -> str:
    """The diary page's full address, for e-mails and calendars."""
    return f"{settings.SITE_URL}{diary_path()}"


def _local_clock(instant: dt.datetime, participant: Participant) -> str:
    return instant.astimezone(zoneinfo.ZoneInfo(participant.timezone)).strftime("%H:%M")


def reminder_text(participant: Participant, closes: dt.datetime) -> str:
    """The reminder's one sentence, with the window's closing in the participant's time."""
    return (
        f"Tonight's diary is open until {_local_clock(closes, participant)} (your time). "
        f"It takes a few minutes."
    )


def email_send(*, participant: Participant, address: str, closes: dt.datetime) -> None:
    """E-mail the reminder to `address`; raises what the mail backend raises."""
    body = (
        f"Hello,\n\n{reminder_text(participant, closes)} Fill it in on your phone:\n\n"
        f"{diary_url()}\n\n"
        f"You get this e-mail because you asked for diary reminders. To stop them, open the "
        f"diary on your phone, go to Settings and turn e-mail reminders off.\n"
    )
    send_mail(SUBJECT, body, None, [address], fail_silently=False)


@dataclass(frozen=True)
class PushOutcome:
    """What the push services answered: delivered, gone (removed) and failed subscriptions."""

    delivered: int
    gone: int
    failed: int


def push_payload(participant: Participant, diary_date: dt.date, closes: dt.datetime) -> str:
    """The JSON the service worker shows: title, body, the page to open, a tag per night."""
    return json.dumps(
        {
            "title": SUBJECT,
            "body": reminder_text(participant, closes),
            "url": diary_path(),
            "tag": f"diary-{diary_date.isoformat()}",
        }
    )


def push_one(subscription: PushSubscription, *, payload: str, ttl: int) -> int:
    """Send `payload` to one subscription; the push service's HTTP status."""
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=payload,
            vapid_private_key=settings.VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=ttl,
            timeout=PUSH_TIMEOUT_SECONDS,
            headers={"Urgency": "normal", "Topic": "diary"},
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        return int(status) if status is not None else 0
    return int(response.status_code)


def push_send(*, participant: Participant, diary_date: dt.date, closes: dt.datetime) -> PushOutcome:
    """Push the reminder to every phone of the participant; a subscription the push service
    says is gone (404, 410) is removed. Never raises for one phone's failure."""
    payload = push_payload(participant, diary_date, closes)
    ttl = max(60, int((closes - timezone.now()).total_seconds()))
    delivered = gone = failed = 0
    for subscription in list(push_subscription_list(participant=participant)):
        try:
            status = push_one(subscription, payload=payload, ttl=ttl)
        except Exception:
            logger.exception("push to subscription %s failed", subscription.pk)
            status = 0
        if 200 <= status < 300:
            delivered += 1
            push_subscription_mark_sent(subscription=subscription)
        elif status in GONE:
            gone += 1
            push_subscription_remove(
                subscription=subscription, reason=f"the push service answered {status}: gone"
            )
        else:
            failed += 1
            logger.warning("push to subscription %s answered %s", subscription.pk, status)
    return PushOutcome(delivered=delivered, gone=gone, failed=failed)
