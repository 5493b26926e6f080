"""The participant's part of the randomization app's services: storing the planned phases of a
randomized participant without their arms, and flagging an emergency unblinding. Neither is a
service of its own: each runs inside the randomization service's transaction, which has locked
the participant."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record, snapshot
from diarytrial.participants.models import Participant, ParticipantPhase
from diarytrial.participants.services.common import PARTICIPANT_AUDITED_FIELDS, Status, _audit
from diarytrial.participants.services.status import participant_transition_check
from diarytrial.protocol import Schedule


def participant_mark_randomized(
    *, participant: Participant, schedule: Schedule, at: dt.datetime, actor: User | None
) -> list[ParticipantPhase]:
    """Store the planned phases of `schedule` without their arms; status becomes randomized.

    Part of ``randomization.services.participant_randomize``, which locks `participant` and
    runs this inside its transaction; not a service of its own.
    """
    participant_transition_check(participant, Status.RANDOMIZED)
    phases = []
    for phase in schedule.phases:
        row = ParticipantPhase(
            participant=participant,
            index=phase.index,
            kind=phase.kind,
            period=phase.period,
            block=phase.block,
            start=phase.start,
            end=phase.end,
        )
        row.full_clean()
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=row,
            study_slug=participant.study.slug,
            changes={
                "participant": (None, participant.code),
                "index": (None, row.index),
                "kind": (None, row.kind),
                "period": (None, row.period),
                "block": (None, row.block),
                "start": (None, row.start),
                "end": (None, row.end),
            },
        )
        phases.append(row)
    before = snapshot(participant, PARTICIPANT_AUDITED_FIELDS)
    participant.status = Status.RANDOMIZED
    participant.randomized_at = at
    participant.save(update_fields=["status", "randomized_at"])
    _audit(participant, actor=actor, before=before)
    return phases


def participant_mark_emergency_unblinded(
    *, participant: Participant, reason: str, actor: User | None
) -> None:
    """Flag `participant` as unblinded in an emergency and record the UNBLIND event.

    Part of ``randomization.services.participant_unblind_emergency`` (which checks the role
    and returns the sequence); the event records when and why, never the sequence.
    """
    before = snapshot(participant, PARTICIPANT_AUDITED_FIELDS)
    if participant.emergency_unblinded_at is None:
        participant.emergency_unblinded_at = timezone.now()
        participant.save(update_fields=["emergency_unblinded_at"])
    _audit(participant, actor=actor, before=before, action=AuditAction.UNBLIND, reason=reason)
