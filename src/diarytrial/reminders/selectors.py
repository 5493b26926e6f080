"""Reads of the reminders app: a participant's choices, and who is due a reminder now.

Nothing here names an arm. The schedule is used only to know whether a date is a diary day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from diarytrial.devices.tokens import token_hash
from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.services import DIARY_STATUSES
from diarytrial.participants.models import Participant, ParticipantPhase
from diarytrial.participants.selectors import participant_protocol
from diarytrial.protocol import Protocol, diary_date_at, window_bounds
from diarytrial.reminders.models import (
    CalendarFeed,
    Channel,
    PushSubscription,
    ReminderSettings,
)

REMINDED_STATUSES = DIARY_STATUSES
"""Statuses in which a participant fills the diary and so gets reminders; never withdrawn or
completed participants."""


def reminder_settings_get(*, participant: Participant) -> ReminderSettings:
    """The participant's reminder settings; an unsaved all-off row when they chose none yet."""
    found = ReminderSettings.objects.filter(participant=participant).first()
    return found or ReminderSettings(participant=participant)


def push_subscription_list(*, participant: Participant) -> QuerySet[PushSubscription]:
    """The participant's subscriptions whose phone is still theirs (device not revoked)."""
    return (
        PushSubscription.objects.filter(participant=participant)
        .filter(Q(device__isnull=True) | Q(device__revoked_at__isnull=True))
        .order_by("created_at", "id")
    )


def calendar_feed_participant(*, token: str) -> Participant | None:
    """The participant whose active calendar feed has `token`, or None (unknown, revoked)."""
    if not 20 <= len(token) <= 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("participant__study", "participant__protocol_version")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    return feed.participant if feed is not None else None


def calendar_feed_active(*, participant: Participant) -> bool:
    """True when the participant has a calendar feed address that works."""
    return CalendarFeed.objects.filter(participant=participant, revoked_at__isnull=True).exists()


def reminder_spread(code: str, *, minutes: int | None = None) -> dt.timedelta:
    """How long after the window opens `code`'s reminders go out: 0 to `minutes` minutes.

    Fixed per participant (a hash of the code), so a participant's reminder comes at the same
    time every night while the participants as a whole spread over the minutes.

    >>> reminder_spread("P-7Q3M", minutes=10) == reminder_spread("P-7Q3M", minutes=10)
    True
    >>> dt.timedelta(0) <= reminder_spread("P-7Q3M", minutes=10) <= dt.timedelta(minutes=10)
    True
    >>> reminder_spread("P-7Q3M", minutes=0)
    datetime.timedelta(0)
    """
    span = settings.REMINDER_SPREAD_MINUTES if minutes is None else minutes
    if span <= 0:
        return dt.timedelta(0)
    digest = hashlib.sha256(f"diarytrial reminder {code}".encode()).digest()
    return dt.timedelta(seconds=int.from_bytes(digest[:8], "big") % (span * 60 + 1))


def last_schedule_day(participant: Participant) -> dt.date | None:
    """The last planned diary day, or None while the schedule is open (before randomization)."""
    last = ParticipantPhase.objects.filter(participant=participant).order_by("-index").first()
    return last.end if last is not None else None


def is_diary_day(participant: Participant, day: dt.date) -> bool:
    """True when `participant` fills a diary for `day`: their status, start and schedule allow."""
    if participant.status not in REMINDED_STATUSES:
        return False
    if participant.start_date is None or day < participant.start_date:
        return False
    last = last_schedule_day(participant)
    return last is None or day <= last


@dataclass(frozen=True)
class DueReminder:
    """A participant whose window of `diary_date` is open, and the channels to remind on."""

    participant: Participant
    diary_date: dt.date
    opens: dt.datetime
    closes: dt.datetime
    channels: tuple[Channel, ...]

    @property
    def send_at(self) -> dt.datetime:
        return self.opens + reminder_spread(self.participant.code)


def push_configured() -> bool:
    """True when the site has its VAPID keys, so pushes can be signed."""
    return bool(settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY)


def participants_with_reminders() -> QuerySet[Participant]:
    """Participants who fill the diary, in a study not locked, with a reminder channel on."""
    pushes = PushSubscription.objects.filter(participant=OuterRef("pk")).filter(
        Q(device__isnull=True) | Q(device__revoked_at__isnull=True)
    )
    wanted = Q(reminder_settings__email_enabled=True) & ~Q(reminder_settings__email="")
    if push_configured():
        wanted = wanted | Q(Q(reminder_settings__push_enabled=True), Exists(pushes))
    return (
        Participant.objects.filter(
            status__in=REMINDED_STATUSES,
            start_date__isnull=False,
            study__locked_at__isnull=True,
        )
        .filter(wanted)
        .select_related("study", "protocol_version", "reminder_settings")
        .order_by("pk")
    )


def channels_of(participant: Participant) -> tuple[Channel, ...]:
    """The channels the participant gets reminders on now."""
    chosen = reminder_settings_get(participant=participant)
    channels: list[Channel] = []
    if chosen.email_enabled and chosen.email:
        channels.append(Channel.EMAIL)
    if (
        chosen.push_enabled
        and push_configured()
        and push_subscription_list(participant=participant).exists()
    ):
        channels.append(Channel.PUSH)
    return tuple(channels)


def reminders_due(*, now: dt.datetime) -> Iterator[DueReminder]:
    """Every participant whose diary window is open at `now` in their own time zone, who has
    no entry for it yet, on a diary day of theirs, with the channels they chose."""
    protocols: dict[int, Protocol] = {}
    for participant in participants_with_reminders():
        protocol = protocols.get(participant.protocol_version_id)
        if protocol is None:
            protocol = participant_protocol(participant)
            protocols[participant.protocol_version_id] = protocol
        zone = zoneinfo.ZoneInfo(participant.timezone)
        day = diary_date_at(now, zone, protocol.diary)
        if day is None or not is_diary_day(participant, day):
            continue
        if DiaryEntry.objects.filter(participant=participant, diary_date=day).exists():
            continue
        channels = channels_of(participant)
        if not channels:
            continue
        opens, closes = window_bounds(day, zone, protocol.diary)
        yield DueReminder(
            participant=participant,
            diary_date=day,
            opens=opens,
            closes=closes,
            channels=channels,
        )


def longest_schedule_days(protocol: Protocol) -> int:
    """The number of diary days of the protocol's longest sequence (the same for everyone)."""
    return max(
        sum(template.days for template in protocol.phase_templates(sequence))
        for sequence in protocol.sequences
    )
