"""An upload's entry written: a new entry (`_entry_create`) or the participant's own correction
inside the window (`_entry_replace`), each with its `DiarySubmission` record and audit event,
and the e-mail to the site's coordinators, once the transaction commits, when a side effect is
newly "very unpleasant". `ReceivedUpload` is what one upload did.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.diary.device_time import DeviceTime
from diarytrial.diary.models import (
    DiaryEntry,
    DiarySubmission,
    DiaryWeekTally,
    EntryStatus,
    SubmissionKind,
    Unpleasantness,
)
from diarytrial.diary.notifications import site_coordinator_emails, very_unpleasant_notify
from diarytrial.diary.services.content import (
    DiaryContent,
    _content_changes,
    _content_write,
    _stored_content,
)
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol


@dataclass(frozen=True)
class ReceivedUpload:
    """What one upload did: its entry, its own record, and whether it created the entry,
    replaced its answers (the participant's correction inside the window) or repeated an
    earlier upload with the same client id and content (nothing written)."""

    entry: DiaryEntry
    submission: DiarySubmission
    outcome: Literal["created", "corrected", "repeated"]


def _newly_very(old: DiaryContent | None, new: DiaryContent) -> list[str]:
    before = old.side_effects if old else {}
    return [
        effect
        for effect, level in sorted(new.side_effects.items())
        if level == Unpleasantness.VERY and before.get(effect) != Unpleasantness.VERY
    ]


def _notify_very(participant: Participant, day: dt.date, effects: list[str]) -> None:
    if not effects:
        return
    protocol = participant_protocol(participant)
    labels = {effect.id: effect.label for effect in protocol.diary.side_effects}
    recipients = site_coordinator_emails(participant)
    study_slug, code, site_code = participant.study.slug, participant.code, participant.site.code
    named = [labels.get(effect, effect) for effect in effects]
    transaction.on_commit(
        lambda: very_unpleasant_notify(
            study_slug=study_slug,
            participant_code=code,
            site_code=site_code,
            diary_date=day.isoformat(),
            side_effects=named,
            recipients=recipients,
        )
    )


def _week_tally_add(participant: Participant, day: dt.date, *, late: bool) -> None:
    """Count one more entry (late or not) in the week (Monday to Sunday) of `day`: one upsert,
    which neither reads first nor races another upload."""
    table = connection.ops.quote_name(DiaryWeekTally._meta.db_table)
    later = "GREATEST" if connection.vendor == "postgresql" else "MAX"  # of two values
    week = day - dt.timedelta(days=day.weekday())
    night = 1 << day.weekday()  # the day's bit in `nights` (and `late_nights`)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (participant_id, site_id, week, entries, late, last_entry, "
            f"nights, late_nights) VALUES (%s, %s, %s, 1, %s, %s, %s, %s) "
            f"ON CONFLICT (participant_id, week) DO UPDATE SET "
            f"entries = {table}.entries + 1, late = {table}.late + excluded.late, "
            f"last_entry = {later}({table}.last_entry, excluded.last_entry), "
            f"nights = {table}.nights | excluded.nights, "
            f"late_nights = {table}.late_nights | excluded.late_nights",
            [
                participant.pk,
                participant.site_id,
                week,
                int(late),
                day,
                night,
                night if late else 0,
            ],
        )


def _entry_create(
    *,
    participant: Participant,
    day: dt.date,
    client_id: uuid.UUID,
    zone: zoneinfo.ZoneInfo,
    received_at: dt.datetime,
    device: DeviceTime,
    late: bool,
    content: DiaryContent,
) -> ReceivedUpload:
    completed_at_device = device.completed_at
    entry = DiaryEntry(
        participant=participant,
        diary_date=day,
        client_id=client_id,
        timezone=zone.key,
        received_at=received_at,
        completed_at_device=completed_at_device,
        **device.entry_fields(),
        late=late,
        capsule_taken=content.capsule_taken,
        status=EntryStatus.SUBMITTED,
        updated_at=timezone.now(),
    )
    # Every value was checked above, and the date and client id are free (under the lock);
    # the database's constraints back this up, so no full_clean() and its queries here.
    entry.save()
    _week_tally_add(participant, day, late=late)
    _content_write(entry, None, content)
    submission = DiarySubmission.objects.create(
        entry=entry,
        client_id=client_id,
        kind=SubmissionKind.CREATED,
        received_at=received_at,
        completed_at_device=completed_at_device,
        late=late,
        content=content.as_json(),
    )
    audit_record(
        actor=None,
        actor_label=participant.code,
        action=AuditAction.CREATE,
        obj=entry,
        study_slug=participant.study.slug,
        changes={
            "participant": (None, participant.code),
            "diary_date": (None, day),
            "client_id": (None, client_id),
            "timezone": (None, zone.key),
            "received_at": (None, received_at),
            "completed_at_device": (None, completed_at_device),
            **{field: (None, value) for field, value in device.entry_fields().items()},
            "late": (None, late),
            **_content_changes(DiaryContent({}, {}, None), content),
            "capsule_taken": (None, content.capsule_taken),
        },
    )
    _notify_very(participant, day, _newly_very(None, content))
    return ReceivedUpload(entry=entry, submission=submission, outcome="created")


def _entry_replace(
    *,
    entry: DiaryEntry,
    participant: Participant,
    client_id: uuid.UUID,
    received_at: dt.datetime,
    device: DeviceTime,
    content: DiaryContent,
) -> ReceivedUpload:
    """The participant's own correction inside the window: the new upload's answers replace."""
    completed_at_device = device.completed_at
    old = _stored_content(entry)
    changes = _content_changes(old, content)
    changes["received_at"] = (entry.received_at, received_at)
    device_fields: dict[str, Any] = {"completed_at_device": completed_at_device}
    device_fields.update(device.entry_fields())
    for field, value in device_fields.items():
        if getattr(entry, field) != value:
            changes[field] = (getattr(entry, field), value)
        setattr(entry, field, value)
    _content_write(entry, old, content)
    entry.capsule_taken = content.capsule_taken
    entry.received_at = received_at
    entry.updated_at = timezone.now()
    entry.save(update_fields=["capsule_taken", "received_at", *device_fields, "updated_at"])
    submission = DiarySubmission.objects.create(
        entry=entry,
        client_id=client_id,
        kind=SubmissionKind.CORRECTED,
        received_at=received_at,
        completed_at_device=completed_at_device,
        late=False,
        content=content.as_json(),
    )
    audit_record(
        actor=None,
        actor_label=participant.code,
        action=AuditAction.UPDATE,
        obj=entry,
        study_slug=participant.study.slug,
        changes=changes,
        reason="the participant's own correction inside the diary window",
    )
    _notify_very(participant, entry.diary_date, _newly_very(old, content))
    return ReceivedUpload(entry=entry, submission=submission, outcome="corrected")
