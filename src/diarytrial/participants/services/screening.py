"""Writes of the participants app. Each public function is one transaction that writes its rows
and their audit events together; none of them writes or records an arm.

Status moves only along ``screened -> enrolled -> randomized -> active -> completed``, and to
``withdrawn`` from any status before ``completed``; anything else raises ParticipantStatusError.
Every write locks the participant's row first, so two staff members acting on one participant
at once are served one after the other and the second sees the first one's result.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record, changed_fields, snapshot
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import (
    DoseLevelInvalidError,
    ParticipantIneligibleError,
    ParticipantStatusError,
    ReasonRequiredError,
    ScreeningAnswersInvalidError,
)
from diarytrial.participants.models import (
    Consent,
    DoseLevelChange,
    EligibilityAnswer,
    Participant,
    ParticipantPhase,
    ParticipantStatus,
)
from diarytrial.participants.selectors import participant_protocol, participant_today
from diarytrial.protocol import Protocol, Schedule
from diarytrial.simulate.people import CODE_ALPHABET
from diarytrial.studies.models import Site, Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.studies.services import require_unlocked

Status = ParticipantStatus

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

CODE_PREFIX = "P-"
CODE_LENGTH = 4
_CODE_ATTEMPTS = 50

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


def _code_draw() -> str:
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _save_with_new_code(participant: Participant) -> None:
    """Save a new participant under a random code that no participant of the study has."""
    for _ in range(_CODE_ATTEMPTS):
        code = _code_draw()
        if Participant.objects.filter(study=participant.study, code=code).exists():
            continue
        participant.code = code
        try:
            # A savepoint: a code taken by a concurrent screening between the check and the
            # insert fails only this attempt, not the caller's transaction.
            with transaction.atomic():
                participant.save()
        except IntegrityError:
            if Participant.objects.filter(study=participant.study, code=code).exists():
                continue
            raise
        return
    raise RuntimeError(  # pragma: no cover - needs ~900,000 participants in one study
        f"no free participant code after {_CODE_ATTEMPTS} draws; lengthen CODE_LENGTH"
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _eligibility_grade(
    protocol: Protocol, answers: Mapping[str, bool]
) -> list[tuple[str, str, bool, bool]]:
    """(question id, question, answer, eligible) of each protocol question, in protocol order."""
    asked = {question.id for question in protocol.eligibility}
    unknown = sorted(set(answers) - asked)
    missing = [question.id for question in protocol.eligibility if question.id not in answers]
    problems = []
    if missing:
        problems.append(f"answer every eligibility question; missing: {', '.join(missing)}")
    if unknown:
        problems.append(
            f"the protocol asks no question {', '.join(unknown)} "
            f"(its questions are {', '.join(sorted(asked)) or 'none'})"
        )
    if problems:
        raise ScreeningAnswersInvalidError(
            "The screening answers cannot be used: " + "; ".join(problems) + ".",
            extra={"missing": missing, "unknown": unknown},
        )
    return [
        (
            question.id,
            question.question,
            bool(answers[question.id]),
            bool(answers[question.id]) == question.eligible_answer,
        )
        for question in protocol.eligibility
    ]


@transaction.atomic
def participant_screen(
    *,
    study: Study,
    site: Site,
    answers: Mapping[str, bool],
    timezone: str,
    opioid_use: bool,
    actor: User | None,
    age: int | None = None,
) -> Participant:
    """Screen a person at `site`: a new participant with their eligibility answers.

    Every eligibility question of the study's current protocol must be answered (question id
    -> yes/no). A person whose answers fail the protocol stays ``screened`` with
    ``eligible=False`` and ``ineligibility_reason`` naming each failed question; enrolling them
    is refused. The participant keeps this protocol version through later amendments.
    """
    require_unlocked(study)
    if site.study_id != study.pk:
        raise InvalidInputError(
            f"Site {site.code!r} belongs to another study than {study.slug!r}; screen the "
            f"person at a site of {study.slug!r}.",
            extra={"site": site.code, "study": study.slug},
        )
    zone = _timezone_check(timezone)
    if age is not None and not 0 < age < 130:
        raise InvalidInputError(f"An age of {age} years is not possible; give it in years.")
    version = study_current_protocol(study)
    protocol = protocol_version_load(version).protocol
    graded = _eligibility_grade(protocol, answers)
    failed = [
        f"{question} (answered {_yes_no(answer)})"
        for _, question, answer, eligible in graded
        if not eligible
    ]
    participant = Participant(
        study=study,
        site=site,
        protocol_version=version,
        timezone=zone,
        opioid_use=opioid_use,
        age=age,
        status=Status.SCREENED,
        eligible=not failed,
        ineligibility_reason=("Not eligible: " + "; ".join(failed) + ".") if failed else "",
        created_by=actor,
    )
    participant.full_clean(exclude=["code"])
    _save_with_new_code(participant)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=participant,
        study_slug=study.slug,
        changes={
            "code": (None, participant.code),
            "site": (None, site.code),
            "protocol_version": (None, version.number),
            "timezone": (None, zone),
            "opioid_use": (None, opioid_use),
            "age": (None, age),
            "status": (None, participant.status),
            "eligible": (None, participant.eligible),
            "ineligibility_reason": (None, participant.ineligibility_reason),
        },
    )
    for question_id, _, answer, eligible in graded:
        row = EligibilityAnswer.objects.create(
            participant=participant, question_id=question_id, answer=answer, eligible=eligible
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=row,
            study_slug=study.slug,
            changes={
                "participant": (None, participant.code),
                "question_id": (None, question_id),
                "answer": (None, answer),
                "eligible": (None, eligible),
            },
        )
    return participant


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
