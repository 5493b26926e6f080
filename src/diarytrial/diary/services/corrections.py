"""Staff corrections of a closed diary entry: `diary_entry_correct` changes the answers of the
items given, with a reason, once the entry's window has closed (until then the participant
corrects it by uploading again). The old and new value of each changed item go to the audit
trail.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.diary.errors import DiaryEntryStillOpenError
from diarytrial.diary.models import DiaryEntry, EntryStatus
from diarytrial.diary.selectors import diary_day_words, diary_when_words
from diarytrial.diary.services.content import (
    DiaryContent,
    _answers_check,
    _content_changes,
    _content_write,
    _stored_content,
)
from diarytrial.participants.errors import ReasonRequiredError
from diarytrial.participants.selectors import participant_protocol
from diarytrial.participants.services import participant_lock
from diarytrial.protocol import window_bounds
from diarytrial.studies.services import require_unlocked


@transaction.atomic
def diary_entry_correct(
    *, entry: DiaryEntry, answers: Mapping[str, float], reason: str, actor: User
) -> DiaryEntry:
    """Staff correct answers of `entry` (the items given; the others stay), saying why.

    Refuses without a staff user (PermissionDeniedError) or a reason (ReasonRequiredError),
    while the entry's window is open (DiaryEntryStillOpenError: the participant corrects it
    then), with unknown items or values off the scale (DiaryAnswersInvalidError), or when
    nothing would change (InvalidInputError); nothing changes then. Recorded as an UPDATE with
    the old and new value of each changed item; the entry's status becomes ``corrected``.
    """
    participant = entry.participant
    require_unlocked(participant.study)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDeniedError(
            "A diary entry is corrected by a signed-in staff user only.",
            extra={"participant": participant.code},
        )
    text = reason.strip()
    if not text:
        raise ReasonRequiredError(
            f"Say why the diary of {entry.diary_date.isoformat()} of {participant.code} is "
            f"corrected: the reason is kept in the audit trail with the old and new values."
        )
    locked = participant_lock(participant)
    current = DiaryEntry.objects.select_for_update().get(pk=entry.pk)
    protocol = participant_protocol(locked)
    zone = zoneinfo.ZoneInfo(current.timezone)
    _, closes = window_bounds(current.diary_date, zone, protocol.diary)
    if timezone.now() < closes:
        raise DiaryEntryStillOpenError(
            f"The diary of {diary_day_words(current.diary_date)} is still open until "
            f"{diary_when_words(closes, zone)} ({zone.key}): the participant can change it "
            f"themselves. Correct it after the window closes.",
            extra={"participant": locked.code, "diary_date": current.diary_date.isoformat()},
        )
    clean = _answers_check(protocol, answers, partial=True)
    old = _stored_content(current)
    new = DiaryContent(
        answers={**old.answers, **clean},
        side_effects=old.side_effects,
        capsule_taken=old.capsule_taken,
    )
    changes = _content_changes(old, new)
    if not changes:
        raise InvalidInputError(
            f"The corrected answers are the ones recorded for {entry.diary_date.isoformat()}; "
            f"nothing to change.",
            extra={"participant": locked.code},
        )
    _content_write(current, old, new)
    if current.status != EntryStatus.CORRECTED:
        changes["status"] = (current.status, EntryStatus.CORRECTED)
    current.status = EntryStatus.CORRECTED
    current.updated_at = timezone.now()
    current.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=current,
        study_slug=locked.study.slug,
        changes=changes,
        reason=text,
    )
    entry.status = current.status
    entry.updated_at = current.updated_at
    return current
