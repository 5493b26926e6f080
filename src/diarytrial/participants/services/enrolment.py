"""Enrolment and consent: enrolling an eligible screened participant (their first consent,
start date and start dose level) and recording a further consent of a participant taking part,
e.g. to an amended consent form."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record, snapshot
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import ParticipantIneligibleError, ParticipantStatusError
from diarytrial.participants.models import Consent, Participant
from diarytrial.participants.selectors import participant_protocol, participant_today
from diarytrial.participants.services.common import (
    PARTICIPANT_AUDITED_FIELDS,
    Status,
    _audit,
    _dose_level_change_create,
    _sync,
    participant_lock,
)
from diarytrial.participants.services.status import participant_transition_check
from diarytrial.protocol import Protocol
from diarytrial.studies.services import require_unlocked


def _start_level(protocol: Protocol, *, opioid_use: bool) -> str:
    dosing = protocol.dosing
    if opioid_use and dosing.opioid_start_level:
        return dosing.opioid_start_level
    return dosing.start_level


def _consent_create(
    *,
    participant: Participant,
    form_version: str,
    consented_on: dt.date,
    obtained_by: User,
    actor: User | None,
) -> Consent:
    version = form_version.strip()
    if not version:
        raise InvalidInputError(
            "Give the version of the consent form the participant signed, e.g. 2.1."
        )
    if consented_on > participant_today(participant):
        raise InvalidInputError(
            f"The consent date {consented_on.isoformat()} is in the future; record consent "
            f"once it is given."
        )
    consent = Consent(
        participant=participant,
        form_version=version,
        consented_on=consented_on,
        obtained_by=obtained_by,
    )
    consent.full_clean()
    consent.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=consent,
        study_slug=participant.study.slug,
        changes={
            "participant": (None, participant.code),
            "form_version": (None, version),
            "consented_on": (None, consented_on),
            "obtained_by": (None, obtained_by.get_username()),
        },
    )
    return consent


@transaction.atomic
def participant_enrol(
    *,
    participant: Participant,
    consent_form_version: str,
    consented_on: dt.date,
    obtained_by: User,
    start_date: dt.date,
    actor: User | None,
) -> Participant:
    """Enrol an eligible screened participant: record their consent, start date and dose level.

    The start date is the first baseline day (study day 1) and may not precede consent; the
    start dose level is the protocol's ``opioid_start_level`` for opioid users (when it sets
    one), else its ``start_level``.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    participant_transition_check(locked, Status.ENROLLED)
    if not locked.eligible:
        raise ParticipantIneligibleError(
            f"Participant {locked.code} cannot be enrolled. {locked.ineligibility_reason}",
            extra={"participant": locked.code},
        )
    if start_date < consented_on:
        raise InvalidInputError(
            f"The start date {start_date.isoformat()} is before consent on "
            f"{consented_on.isoformat()}; the first baseline day must follow consent."
        )
    protocol = participant_protocol(locked)
    _consent_create(
        participant=locked,
        form_version=consent_form_version,
        consented_on=consented_on,
        obtained_by=obtained_by,
        actor=actor,
    )
    level = _start_level(protocol, opioid_use=locked.opioid_use)
    before = snapshot(locked, PARTICIPANT_AUDITED_FIELDS)
    locked.status = Status.ENROLLED
    locked.start_date = start_date
    locked.start_dose_level = level
    locked.dose_level = level
    locked.enrolled_at = timezone.now()
    locked.full_clean()
    locked.save()
    _audit(locked, actor=actor, before=before)
    _dose_level_change_create(
        participant=locked, level=level, effective_on=start_date, reason="start", actor=actor
    )
    _sync(participant, locked)
    return locked


@transaction.atomic
def consent_record(
    *,
    participant: Participant,
    form_version: str,
    consented_on: dt.date,
    obtained_by: User,
    actor: User | None,
) -> Consent:
    """Record a further consent (e.g. to an amended consent form) of an enrolled participant."""
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    if locked.status not in (Status.ENROLLED, Status.RANDOMIZED, Status.ACTIVE):
        raise ParticipantStatusError(
            f"Participant {locked.code} is {Status(locked.status).label.lower()}; record a "
            f"further consent only for a participant who is taking part. To enrol, use "
            f"enrolment, which records the first consent.",
            extra={"participant": locked.code, "status": locked.status},
        )
    return _consent_create(
        participant=locked,
        form_version=form_version,
        consented_on=consented_on,
        obtained_by=obtained_by,
        actor=actor,
    )
