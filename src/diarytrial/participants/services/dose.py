"""The participant's blinded dose level: setting a new level of their protocol from a given
day, with the reason, as a new dose level change."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.audit.services import snapshot
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import DoseLevelInvalidError, ParticipantStatusError
from diarytrial.participants.models import DoseLevelChange, Participant
from diarytrial.participants.selectors import participant_protocol, participant_today
from diarytrial.participants.services.common import (
    PARTICIPANT_AUDITED_FIELDS,
    Status,
    _audit,
    _dose_level_change_create,
    _sync,
    participant_lock,
    required_reason,
)
from diarytrial.studies.services import require_unlocked


@transaction.atomic
def participant_dose_level_set(
    *,
    participant: Participant,
    level: str,
    reason: str,
    actor: User | None,
    effective_on: dt.date | None = None,
) -> Participant:
    """Set the participant's blinded dose level from `effective_on` (default: their today).

    `level` is a level id of the participant's protocol (e.g. ``reduced``). The pharmacist's
    next kit follows the new level. The safety app calls this when a dose is lowered.
    """
    require_unlocked(participant.study)
    text = required_reason(reason, f"the dose level of {participant.code} changes")
    locked = participant_lock(participant)
    if locked.status not in (Status.ENROLLED, Status.RANDOMIZED, Status.ACTIVE):
        raise ParticipantStatusError(
            f"Participant {locked.code} is {Status(locked.status).label.lower()}; only an "
            f"enrolled, randomized or active participant's dose level can change.",
            extra={"participant": locked.code, "status": locked.status},
        )
    levels = participant_protocol(locked).dosing.levels
    if level not in levels:
        raise DoseLevelInvalidError(
            f"{level!r} is not a dose level of this participant's protocol; choose one of "
            f"{', '.join(levels)}.",
            extra={"level": level, "levels": list(levels)},
        )
    if level == locked.dose_level:
        raise DoseLevelInvalidError(
            f"Participant {locked.code} is at dose level {level!r} already; nothing to change.",
            extra={"level": level},
        )
    day = effective_on or participant_today(locked)
    latest = (
        DoseLevelChange.objects.filter(participant=locked).order_by("-effective_on", "-id").first()
    )
    if latest is not None and day < latest.effective_on:
        raise InvalidInputError(
            f"The new level cannot take effect on {day.isoformat()}, before the current level "
            f"took effect ({latest.effective_on.isoformat()}).",
        )
    _dose_level_change_create(
        participant=locked, level=level, effective_on=day, reason=text, actor=actor
    )
    before = snapshot(locked, PARTICIPANT_AUDITED_FIELDS)
    locked.dose_level = level
    locked.save(update_fields=["dose_level"])
    _audit(locked, actor=actor, before=before, reason=text)
    _sync(participant, locked)
    return locked
