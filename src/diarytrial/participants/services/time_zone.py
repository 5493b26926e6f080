"""A participant who moves: their diary windows follow a new time zone from then on."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.audit.services import snapshot
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant
from diarytrial.participants.services.common import (
    PARTICIPANT_AUDITED_FIELDS,
    Status,
    _audit,
    _sync,
    _timezone_check,
    participant_lock,
    required_reason,
)
from diarytrial.studies.services import require_unlocked


@transaction.atomic
def participant_timezone_change(
    *, participant: Participant, timezone: str, reason: str, actor: User | None
) -> Participant:
    """The participant moved: their diary windows follow `timezone` from now on, saying why.

    Entries already recorded keep the zone their window was computed in; one entry per diary
    date still holds, so a move cannot open a date twice. Refused after completion or
    withdrawal (ParticipantStatusError), for a name that is not an IANA zone or the zone they
    already have (InvalidInputError).
    """
    require_unlocked(participant.study)
    text = required_reason(reason, f"the time zone of participant {participant.code} changes")
    name = _timezone_check(timezone)
    locked = participant_lock(participant)
    if locked.status in (Status.COMPLETED, Status.WITHDRAWN):
        raise ParticipantStatusError(
            f"Participant {locked.code} is {Status(locked.status).label.lower()}; their time "
            f"zone no longer matters to the diary.",
            extra={"participant": locked.code, "status": locked.status},
        )
    if name == locked.timezone:
        raise InvalidInputError(
            f"Participant {locked.code}'s time zone is {name} already; nothing to change.",
            extra={"participant": locked.code, "timezone": name},
        )
    before = snapshot(locked, PARTICIPANT_AUDITED_FIELDS)
    locked.timezone = name
    locked.save(update_fields=["timezone"])
    _audit(locked, actor=actor, before=before, reason=text)
    _sync(participant, locked)
    return locked
