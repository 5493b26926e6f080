"""What the participants app's write services share: the participant's row lock, the fields
their audit events compare, the reason a change must give, the check of a time zone's name and
the row of a dose level change."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record, changed_fields
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import ReasonRequiredError
from diarytrial.participants.models import DoseLevelChange, Participant, ParticipantStatus

Status = ParticipantStatus

PARTICIPANT_AUDITED_FIELDS = [
    "status",
    "timezone",
    "start_date",
    "start_dose_level",
    "dose_level",
    "enrolled_at",
    "randomized_at",
    "completed_on",
    "withdrawn_on",
    "withdrawal_reason",
    "emergency_unblinded_at",
]


def participant_lock(participant: Participant) -> Participant:
    """The participant's row, fetched again and locked until the transaction ends."""
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("study", "site", "protocol_version")
        .get(pk=participant.pk)
    )


def _sync(target: Participant, source: Participant) -> None:
    """Copy `source`'s values onto the caller's instance `target`, so it is not left stale."""
    if target is source:
        return
    for field in Participant._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _audit(
    participant: Participant,
    *,
    actor: User | None,
    before: Mapping[str, Any],
    action: AuditAction = AuditAction.UPDATE,
    reason: str = "",
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=participant,
        study_slug=participant.study.slug,
        changes=changed_fields(participant, before, PARTICIPANT_AUDITED_FIELDS),
        reason=reason,
    )


def required_reason(reason: str, what: str) -> str:
    """`reason` stripped; ReasonRequiredError (saying why `what`) when it is blank."""
    text = reason.strip()
    if not text:
        raise ReasonRequiredError(f"Say why {what}: the reason is kept in the audit trail.")
    return text


def _timezone_check(name: str) -> str:
    name = name.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"{name!r} is not an IANA time zone; write it as Region/City, e.g. "
            f"America/Los_Angeles or Europe/London.",
            extra={"timezone": name},
        ) from None
    return name


def _dose_level_change_create(
    *,
    participant: Participant,
    level: str,
    effective_on: dt.date,
    reason: str,
    actor: User | None,
) -> DoseLevelChange:
    change = DoseLevelChange(
        participant=participant,
        effective_on=effective_on,
        level=level,
        reason=reason,
        created_by=actor,
    )
    change.full_clean()
    change.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=change,
        study_slug=participant.study.slug,
        changes={
            "participant": (None, participant.code),
            "effective_on": (None, effective_on),
            "level": (None, level),
        },
        reason=reason,
    )
    return change
