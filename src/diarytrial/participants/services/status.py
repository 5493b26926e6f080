"""The participant's status: the moves it may make (`TRANSITIONS`, checked by
`participant_transition_check`) and the services that are a move and nothing more: making a
randomized participant active, recording completion, and withdrawal with its reason.

Status moves only along ``screened -> enrolled -> randomized -> active -> completed``, and to
``withdrawn`` from any status before ``completed``; anything else raises ParticipantStatusError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.audit.services import snapshot
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services.common import (
    PARTICIPANT_AUDITED_FIELDS,
    Status,
    _audit,
    _sync,
    participant_lock,
    required_reason,
)
from diarytrial.studies.services import require_unlocked

TRANSITIONS: Mapping[str, frozenset[str]] = {
    Status.SCREENED: frozenset({Status.ENROLLED, Status.WITHDRAWN}),
    Status.ENROLLED: frozenset({Status.RANDOMIZED, Status.WITHDRAWN}),
    Status.RANDOMIZED: frozenset({Status.ACTIVE, Status.WITHDRAWN}),
    Status.ACTIVE: frozenset({Status.COMPLETED, Status.WITHDRAWN}),
    Status.COMPLETED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}
"""The statuses each status may move to."""

_VERB = {
    Status.ENROLLED: "enrolled",
    Status.RANDOMIZED: "randomized",
    Status.ACTIVE: "made active",
    Status.COMPLETED: "completed",
    Status.WITHDRAWN: "withdrawn",
}
_NEXT_STEP = {
    Status.SCREENED: "Enrol them first.",
    Status.ENROLLED: "Randomize them first.",
    Status.RANDOMIZED: "Dispense their first kit (or make them active) first.",
    Status.ACTIVE: "",
    Status.COMPLETED: "A completed participant's record stays as it is.",
    Status.WITHDRAWN: "A withdrawn participant's record stays as it is.",
}


def participant_transition_check(participant: Participant, to: str) -> None:
    """Raise ParticipantStatusError unless `participant` may move to status `to`."""
    current = Status(participant.status)
    if to in TRANSITIONS[current]:
        return
    target = Status(to)
    hint = _NEXT_STEP[current] if target != current else ""
    raise ParticipantStatusError(
        f"Participant {participant.code} is {current.label.lower()}, so they cannot be "
        f"{_VERB.get(target, target.label.lower())}." + (f" {hint}" if hint else ""),
        extra={"participant": participant.code, "status": current.value, "to": target.value},
    )


@transaction.atomic
def participant_activate(
    *, participant: Participant, actor: User | None, reason: str = ""
) -> Participant:
    """Make a randomized participant active (on study medication).

    Dispensing the first kit does this by itself; call it directly only when a participant
    starts without a dispensed kit.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    participant_transition_check(locked, Status.ACTIVE)
    before = snapshot(locked, PARTICIPANT_AUDITED_FIELDS)
    locked.status = Status.ACTIVE
    locked.save(update_fields=["status"])
    _audit(locked, actor=actor, before=before, reason=reason)
    _sync(participant, locked)
    return locked


@transaction.atomic
def participant_complete(
    *, participant: Participant, on: dt.date, actor: User | None
) -> Participant:
    """Record that an active participant completed the trial on `on`."""
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    participant_transition_check(locked, Status.COMPLETED)
    if on > participant_today(locked):
        raise InvalidInputError(
            f"The completion date {on.isoformat()} is in the future; record completion on "
            f"the day it happens or later."
        )
    if locked.start_date is not None and on < locked.start_date:
        raise InvalidInputError(
            f"The completion date {on.isoformat()} is before the participant's start date "
            f"{locked.start_date.isoformat()}."
        )
    before = snapshot(locked, PARTICIPANT_AUDITED_FIELDS)
    locked.status = Status.COMPLETED
    locked.completed_on = on
    locked.full_clean()
    locked.save()
    _audit(locked, actor=actor, before=before)
    _sync(participant, locked)
    return locked


@transaction.atomic
def participant_withdraw(
    *, participant: Participant, reason: str, on: dt.date, actor: User | None
) -> Participant:
    """Withdraw a participant from date `on`, saying why; their data are kept, never deleted."""
    require_unlocked(participant.study)
    text = required_reason(reason, f"participant {participant.code} withdraws")
    locked = participant_lock(participant)
    participant_transition_check(locked, Status.WITHDRAWN)
    if on > participant_today(locked):
        raise InvalidInputError(
            f"The withdrawal date {on.isoformat()} is in the future; record a withdrawal on "
            f"the day it happens or later."
        )
    screened_on = participant_today(locked, now=locked.created_at)
    if on < screened_on:
        raise InvalidInputError(
            f"The withdrawal date {on.isoformat()} is before the participant was screened "
            f"({screened_on.isoformat()})."
        )
    before = snapshot(locked, PARTICIPANT_AUDITED_FIELDS)
    locked.status = Status.WITHDRAWN
    locked.withdrawn_on = on
    locked.withdrawal_reason = text
    locked.full_clean()
    locked.save()
    _audit(locked, actor=actor, before=before, reason=text)
    _sync(participant, locked)
    return locked
