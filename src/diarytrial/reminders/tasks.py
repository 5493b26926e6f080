"""The reminder scheduler and the task that sends one participant's reminders of one night.

Every minute `reminders_schedule` (run by ``diarytrial worker``) looks for participants whose
diary window is open in their own time zone and who have no entry yet. For each channel they
chose it creates a `ReminderDelivery` row, unique per participant, diary date and channel, and
enqueues `reminder_send` to run at the opening plus the participant's spread. A second
scheduler (or the next minute's run) finds the rows there and enqueues nothing.

`reminder_send` runs in the worker. It takes each of its rows from ``scheduled`` to
``sending`` with one conditional UPDATE (`reminder_delivery_claim`), so that of two workers
only one sends; then it checks again and sends nothing when tonight's entry is in, the window
has closed, the participant withdrew or completed, the study was locked, or the channel was
turned off.

Delivery rows are an operational log, not trial data: they are written by the named services of
``reminders.services`` but not audited (two events a participant a night would drown the trail),
and the scheduler leaves locked studies alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from diarytrial.diary.models import DiaryEntry
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.protocol import window_bounds
from diarytrial.reminders.models import Channel, DeliveryStatus, ReminderDelivery
from diarytrial.reminders.selectors import (
    REMINDED_STATUSES,
    DueReminder,
    channels_of,
    is_diary_day,
    reminder_settings_get,
    reminders_due,
)
from diarytrial.reminders.sending import email_send, push_send
from diarytrial.reminders.services import (
    reminder_delivery_claim,
    reminder_delivery_finish,
    reminder_delivery_schedule,
)

logger = logging.getLogger(__name__)


def _schedule_one(due: DueReminder) -> bool:
    """Create the delivery rows of `due` not made yet and enqueue their task; True if any.

    One transaction: the rows and their queued task commit together or not at all."""
    with transaction.atomic():
        made = reminder_delivery_schedule(
            participant=due.participant,
            diary_date=due.diary_date,
            channels=due.channels,
            scheduled_for=due.send_at,
        )
        if made:
            reminder_send.using(run_after=due.send_at).enqueue(
                due.participant.pk, due.diary_date.isoformat()
            )
        return bool(made)


def reminders_schedule(*, now: dt.datetime | None = None) -> int:
    """Enqueue the reminders of every window open at `now` (default: now); how many
    participants got new ones."""
    moment = now or timezone.now()
    scheduled = 0
    for due in reminders_due(now=moment):
        if ReminderDelivery.objects.filter(
            participant=due.participant, diary_date=due.diary_date, channel__in=due.channels
        ).count() == len(due.channels):
            continue
        if _schedule_one(due):
            scheduled += 1
    if scheduled:
        logger.info("scheduled the reminders of %d participant(s)", scheduled)
    return scheduled


def _skip_reason(
    participant: Participant, day: dt.date, channel: str, moment: dt.datetime
) -> tuple[str, dt.datetime | None]:
    """Why the reminder must not go out now ("" when it may), and the window's closing."""
    if participant.status not in REMINDED_STATUSES:
        return f"the participant is {participant.status}", None
    if participant.study.locked_at is not None:  # loaded just before, with the participant
        return "the study's database is locked", None
    if not is_diary_day(participant, day):
        return "not a diary day of the participant", None
    if DiaryEntry.objects.filter(participant=participant, diary_date=day).exists():
        return "tonight's entry is in", None
    protocol = participant_protocol(participant)
    _, closes = window_bounds(day, zoneinfo.ZoneInfo(participant.timezone), protocol.diary)
    if moment >= closes:
        return "the window had closed", closes
    if channel not in channels_of(participant):
        return "the participant turned this reminder off", closes
    return "", closes


def _send(delivery: ReminderDelivery, participant: Participant, closes: dt.datetime) -> None:
    if delivery.channel == Channel.EMAIL:
        address = reminder_settings_get(participant=participant).email
        try:
            email_send(participant=participant, address=address, closes=closes)
        except Exception as error:
            logger.exception("could not e-mail the reminder %s", delivery.pk)
            reminder_delivery_finish(
                delivery=delivery,
                status=DeliveryStatus.FAILED,
                detail=f"mail: {type(error).__name__}",
            )
            return
        reminder_delivery_finish(delivery=delivery, status=DeliveryStatus.SENT)
        return
    outcome = push_send(participant=participant, diary_date=delivery.diary_date, closes=closes)
    if outcome.delivered:
        reminder_delivery_finish(
            delivery=delivery, status=DeliveryStatus.SENT, detail=f"{outcome.delivered} phone(s)"
        )
    elif outcome.failed:
        reminder_delivery_finish(
            delivery=delivery,
            status=DeliveryStatus.FAILED,
            detail=f"{outcome.failed} push(es) refused",
        )
    else:
        reminder_delivery_finish(
            delivery=delivery, status=DeliveryStatus.SKIPPED, detail="no phone subscribed any more"
        )


def reminders_send(*, participant_id: int, diary_date: dt.date) -> dict[str, str]:
    """Send the scheduled reminders of `participant_id` for `diary_date`; each channel's
    outcome (``sent``, ``skipped``, ``failed``; absent: another worker had it)."""
    participant = Participant.objects.select_related("study", "protocol_version").get(
        pk=participant_id
    )
    outcome: dict[str, str] = {}
    rows = ReminderDelivery.objects.filter(
        participant=participant, diary_date=diary_date, status=DeliveryStatus.SCHEDULED
    ).order_by("channel")
    for delivery in rows:
        if not reminder_delivery_claim(delivery=delivery):
            continue
        reason, closes = _skip_reason(participant, diary_date, delivery.channel, timezone.now())
        if reason or closes is None:
            reminder_delivery_finish(
                delivery=delivery, status=DeliveryStatus.SKIPPED, detail=reason
            )
        else:
            _send(delivery, participant, closes)
        outcome[delivery.channel] = str(delivery.status)
    return outcome


@task()
def reminder_send(participant_id: int, diary_date: str) -> dict[str, str]:
    """The queued form of `reminders_send` (arguments as JSON: the date in ISO 8601)."""
    return reminders_send(
        participant_id=participant_id, diary_date=dt.date.fromisoformat(diary_date)
    )
