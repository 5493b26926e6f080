"""Screening: a person seen at a site becomes a participant under a new random code, with their
answers to the eligibility questions of the study's current protocol and whether those make them
eligible."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import ScreeningAnswersInvalidError
from diarytrial.participants.models import EligibilityAnswer, Participant
from diarytrial.participants.services.common import Status, _timezone_check
from diarytrial.protocol import Protocol
from diarytrial.simulate.people import CODE_ALPHABET
from diarytrial.studies.models import Site, Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.studies.services import require_unlocked

CODE_PREFIX = "P-"
CODE_LENGTH = 4
_CODE_ATTEMPTS = 50

_Graded = list[tuple[str, str, bool, bool]]
"""(question id, question, answer, eligible) of each protocol question, in protocol order."""


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


def _eligibility_grade(protocol: Protocol, answers: Mapping[str, bool]) -> _Graded:
    """Each protocol question graded; ScreeningAnswersInvalidError when one is missing or
    unknown."""
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


def _screening_details_check(*, study: Study, site: Site, timezone: str, age: int | None) -> str:
    """The time zone's name, once the site, the zone and the age are checked."""
    if site.study_id != study.pk:
        raise InvalidInputError(
            f"Site {site.code!r} belongs to another study than {study.slug!r}; screen the "
            f"person at a site of {study.slug!r}.",
            extra={"site": site.code, "study": study.slug},
        )
    zone = _timezone_check(timezone)
    if age is not None and not 0 < age < 130:
        raise InvalidInputError(f"An age of {age} years is not possible; give it in years.")
    return zone


def _ineligibility_reason(graded: _Graded) -> str:
    """Each question the answers fail, or empty when the person is eligible."""
    failed = [
        f"{question} (answered {_yes_no(answer)})"
        for _, question, answer, eligible in graded
        if not eligible
    ]
    return ("Not eligible: " + "; ".join(failed) + ".") if failed else ""


def _participant_create(participant: Participant, *, actor: User | None) -> None:
    """Save the new `participant` under a new code, with its CREATE audit event."""
    participant.full_clean(exclude=["code"])
    _save_with_new_code(participant)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=participant,
        study_slug=participant.study.slug,
        changes={
            "code": (None, participant.code),
            "site": (None, participant.site.code),
            "protocol_version": (None, participant.protocol_version.number),
            "timezone": (None, participant.timezone),
            "opioid_use": (None, participant.opioid_use),
            "age": (None, participant.age),
            "status": (None, participant.status),
            "eligible": (None, participant.eligible),
            "ineligibility_reason": (None, participant.ineligibility_reason),
        },
    )


def _eligibility_answers_save(
    participant: Participant, graded: _Graded, *, actor: User | None
) -> None:
    """One audited `EligibilityAnswer` row for each graded question."""
    for question_id, _, answer, eligible in graded:
        row = EligibilityAnswer.objects.create(
            participant=participant, question_id=question_id, answer=answer, eligible=eligible
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=row,
            study_slug=participant.study.slug,
            changes={
                "participant": (None, participant.code),
                "question_id": (None, question_id),
                "answer": (None, answer),
                "eligible": (None, eligible),
            },
        )


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
    zone = _screening_details_check(study=study, site=site, timezone=timezone, age=age)
    version = study_current_protocol(study)
    graded = _eligibility_grade(protocol_version_load(version).protocol, answers)
    reason = _ineligibility_reason(graded)
    participant = Participant(
        study=study,
        site=site,
        protocol_version=version,
        timezone=zone,
        opioid_use=opioid_use,
        age=age,
        status=Status.SCREENED,
        eligible=not reason,
        ineligibility_reason=reason,
        created_by=actor,
    )
    _participant_create(participant, actor=actor)
    _eligibility_answers_save(participant, graded, actor=actor)
    return participant
