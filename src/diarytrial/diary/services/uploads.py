"""The participant's diary uploads: `diary_upload_receive` records one upload from the phone
(`diary_entry_submit` returns its entry only), in named steps: the upload checked, the same
upload again recognised under the participant's lock, the diary date decided by the server's
clock (`windows`), then the entry created or replaced with its record, audit event and e-mails.

**Nothing is lost, nothing is counted twice.** An upload carries a client id: the same upload
again returns the entry it made; the same id with other content is a conflict (409). A second
upload for a date inside its window is the participant's own correction and replaces the
answers; after the window closes only staff change an entry (`corrections`), with a reason.
Every change lands in the audit trail with old and new values; e-mails go out once the
transaction commits.

Lock order: the study's row (`require_unlocked`), the participant's row, the audit chain head.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from diarytrial.core.errors import InvalidInputError
from diarytrial.diary.device_time import DeviceTime, device_time_compare
from diarytrial.diary.errors import DiaryClientIdConflictError, DiaryEntryClosedError
from diarytrial.diary.models import DiaryEntry, DiarySubmission
from diarytrial.diary.selectors import diary_day_words
from diarytrial.diary.services.content import DiaryContent, diary_content_check
from diarytrial.diary.services.entries import ReceivedUpload, _entry_create, _entry_replace
from diarytrial.diary.services.windows import _date_check, _window_date
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.participants.services import participant_lock
from diarytrial.protocol import Protocol, window_bounds
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.services import require_unlocked


@dataclass(frozen=True)
class _Upload:
    """One upload checked before any lock is taken: its client id, the moment the server
    received it, the participant's protocol, the content, and what the device claims."""

    client_id: uuid.UUID
    received_at: dt.datetime
    protocol: Protocol
    content: DiaryContent
    completed_at_device: dt.datetime | None
    device_utc_offset: dt.timedelta | None
    form_date: dt.date | None


@dataclass(frozen=True)
class _Dated:
    """Where an upload belongs: its diary date, whether it is late, the participant's time
    zone the window was computed in, and the device's time against the server's."""

    day: dt.date
    late: bool
    zone: zoneinfo.ZoneInfo
    device: DeviceTime


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInputError(
            f"{name} must carry its time zone (e.g. 2026-03-02T21:15:00+00:00), not a local "
            f"time without one."
        )
    return value


def _offset_check(offset: dt.timedelta | None) -> None:
    if offset is not None and abs(offset) >= dt.timedelta(hours=24):
        raise InvalidInputError(
            f"The device's UTC offset {offset} is not a time zone's: an offset lies within 24 "
            f"hours of UTC (e.g. -08:00 or +05:30)."
        )


def _client_uuid(client_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(client_id, uuid.UUID):
        return client_id
    try:
        return uuid.UUID(str(client_id))
    except ValueError:
        raise InvalidInputError(
            f"The client id {client_id!r} is not a UUID; the device makes one per entry "
            f"(e.g. 0b8f3c2e-5d1a-4f8e-9c61-3a2b7d4e5f60)."
        ) from None


def _replay(
    submission: DiarySubmission,
    *,
    participant: Participant,
    content: DiaryContent,
    completed_at_device: dt.datetime | None,
) -> ReceivedUpload:
    """The upload seen before, if this is the same upload again; else a 409."""
    entry = submission.entry
    same = (
        entry.participant_id == participant.pk
        and DiaryContent.from_json(submission.content) == content
        and submission.completed_at_device == completed_at_device
    )
    if not same:
        raise DiaryClientIdConflictError(
            f"The client id {submission.client_id} was used for another diary upload with "
            f"different content; nothing was changed. The device must give each new entry "
            f"a new client id.",
            extra={"client_id": str(submission.client_id)},
        )
    return ReceivedUpload(entry=entry, submission=submission, outcome="repeated")


def _submission_find(client_id: uuid.UUID) -> DiarySubmission | None:
    # order_by("pk"): the default ordering would join the participant and study for nothing.
    rows = DiarySubmission.objects.select_related("entry").filter(client_id=client_id)
    return rows.order_by("pk").first()


def diary_entry_submit(
    *,
    participant: Participant,
    client_id: uuid.UUID | str,
    answers: Mapping[str, float],
    side_effects: Mapping[str, str],
    capsule_taken: bool | None,
    completed_at_device: dt.datetime | None,
    received_at: dt.datetime | None = None,
    form_date: dt.date | None = None,
    device_utc_offset: dt.timedelta | None = None,
) -> DiaryEntry:
    """Record a diary upload (`diary_upload_receive`) and return its entry."""
    return diary_upload_receive(
        participant=participant,
        client_id=client_id,
        answers=answers,
        side_effects=side_effects,
        capsule_taken=capsule_taken,
        completed_at_device=completed_at_device,
        received_at=received_at,
        form_date=form_date,
        device_utc_offset=device_utc_offset,
    ).entry


@transaction.atomic
def diary_upload_receive(
    *,
    participant: Participant,
    client_id: uuid.UUID | str,
    answers: Mapping[str, float],
    side_effects: Mapping[str, str],
    capsule_taken: bool | None,
    completed_at_device: dt.datetime | None,
    received_at: dt.datetime | None = None,
    form_date: dt.date | None = None,
    device_utc_offset: dt.timedelta | None = None,
) -> ReceivedUpload:
    """Record a diary upload from `participant`'s device: its entry, its own record, and
    whether it created the entry, replaced its answers or repeated an earlier upload (decided
    under the participant's lock, so two copies sent at once are one creation, one repeat).

    `answers` maps item ids to values on each item's scale (every required item present);
    `side_effects` maps checklist ids to ``not_at_all``, ``somewhat`` or ``very``. The diary
    date is the one whose window contains `received_at` (default: now, the server's clock);
    between windows the upload is kept as a late entry of the window in which the device says
    it was completed, if that window closed at most ``late_sync_grace_hours`` before, and is
    refused otherwise (DiaryWindowClosedError, saying when the next window opens).

    `form_date` is the diary date of the form the server issued and the phone filled (kept
    with an entry filled offline). With it, the server's clock decides against that date's
    window: received inside it, the entry is on time; received after it closed but within
    ``late_sync_grace_hours``, it is late; otherwise it is refused. So an entry filled offline
    on Monday night and uploaded during Tuesday's window stays Monday's.

    `received_at` is for trusted server-side callers (imports, the demo) only: never let a
    device set it.

    `completed_at_device` and `device_utc_offset` (the offset the phone wrote with its time)
    are the phone's claim: recorded on the entry, and flagged when the phone's clock cannot be
    right or its time zone is not the participant's (``diary.device_time``); the entry is kept
    under the server's diary date all the same.

    Refuses: DiaryAnswersInvalidError, DiaryDateInvalidError (future, outside the schedule),
    ParticipantStatusError (not enrolled, after withdrawal or completion), DiaryEntryClosedError
    (the date has an entry and its window closed: staff correct it), DiaryClientIdConflictError
    (client id reused for other content), StudyLockedError. A "very unpleasant" side effect
    e-mails the site's coordinators; it changes nothing by itself.
    """
    client_uuid = _client_uuid(client_id)
    _aware(completed_at_device, "completed_at_device")
    _offset_check(device_utc_offset)
    moment = _aware(received_at, "received_at") or timezone.now()
    protocol = participant_protocol(participant)
    upload = _Upload(
        client_id=client_uuid,
        received_at=moment,
        protocol=protocol,
        content=diary_content_check(protocol, answers, side_effects, capsule_taken),
        completed_at_device=completed_at_device,
        device_utc_offset=device_utc_offset,
        form_date=form_date,
    )
    try:
        # Shared: uploads of many participants run at once; they meet at the audit chain.
        require_unlocked(participant.study, shared=True)
    except StudyLockedError:
        # A repeated upload is acknowledged even once the study is locked: it changes nothing.
        repeated = _upload_repeated(participant, upload)
        if repeated is None:
            raise
        return repeated
    locked = participant_lock(participant)
    repeated = _upload_repeated(locked, upload)  # sent before, or a concurrent copy got in first
    if repeated is not None:
        return repeated
    return _upload_store(locked, upload, _upload_date(locked, upload))


def _upload_repeated(participant: Participant, upload: _Upload) -> ReceivedUpload | None:
    """The earlier upload with this client id, if this is the same upload again (a 409 if its
    content differs); None when the client id is new."""
    seen = _submission_find(upload.client_id)
    if seen is None:
        return None
    return _replay(
        seen,
        participant=participant,
        content=upload.content,
        completed_at_device=upload.completed_at_device,
    )


def _upload_date(participant: Participant, upload: _Upload) -> _Dated:
    """The upload's diary date by the server's clock (refused when the participant cannot have
    it), and the device's time compared with the server's and with that date's window."""
    protocol = upload.protocol
    zone = zoneinfo.ZoneInfo(participant.timezone)
    day, late = _window_date(
        protocol=protocol,
        zone=zone,
        received_at=upload.received_at,
        completed_at_device=upload.completed_at_device,
        form_date=upload.form_date,
    )
    _date_check(participant, day)
    device = device_time_compare(
        completed_at_device=upload.completed_at_device,
        device_utc_offset=upload.device_utc_offset,
        received_at=upload.received_at,
        window_opens=window_bounds(day, zone, protocol.diary)[0],
        zone=zone,
    )
    return _Dated(day=day, late=late, zone=zone, device=device)


def _upload_store(participant: Participant, upload: _Upload, dated: _Dated) -> ReceivedUpload:
    """A new entry for the date, or the participant's correction of its entry while the window
    is open; a late upload for a date that has its entry is DiaryEntryClosedError."""
    day = dated.day
    entry = (
        DiaryEntry.objects.select_for_update()
        .filter(participant=participant, diary_date=day)
        .order_by("pk")
        .first()
    )
    if entry is None:
        return _entry_create(
            participant=participant,
            day=day,
            client_id=upload.client_id,
            zone=dated.zone,
            received_at=upload.received_at,
            device=dated.device,
            late=dated.late,
            content=upload.content,
        )
    if dated.late:
        raise DiaryEntryClosedError(
            f"The diary of {diary_day_words(day)} was recorded already and its window has "
            f"closed, so it can no longer be changed from the diary. If an answer is wrong, "
            f"tell the study coordinator: staff can correct it.",
            extra={"participant": participant.code, "diary_date": day.isoformat()},
        )
    return _entry_replace(
        entry=entry,
        participant=participant,
        client_id=upload.client_id,
        received_at=upload.received_at,
        device=dated.device,
        content=upload.content,
    )
