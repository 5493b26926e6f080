"""The questions asked at the visits of the visit calendar: the PGIC (`pgic_answer_record`) and
the blinding guess (`blinding_guess_record`), each answered once per visit after the first, on
the participant's phone or on paper recorded by staff; `period_answer_from_phone` takes the
phone's answer to a question the diary asks now.

An answer is kept by visit, not by treatment period: the visits fall on the same days for every
sequence, so neither the questions nor the answers tell the sequence. Which period a visit
closes, if any, is for the unblinded export to say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.diary.errors import AlreadyAnsweredError, PgicAnswerInvalidError
from diarytrial.diary.models import BlindingGuess, GuessChoice, PgicAnswer
from diarytrial.diary.selectors import diary_questions_due
from diarytrial.diary.selectors.visits import AnswerVisit, answer_visits
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import (
    participant_protocol,
    participant_schedule,
    participant_today,
)
from diarytrial.participants.services import participant_lock
from diarytrial.studies.services import require_unlocked

Status = ParticipantStatus


def _answer_visit(
    participant: Participant, *, visit: int, answered_on: dt.date, pgic: bool
) -> AnswerVisit:
    """The visit an answer closes, once the answer is checked; PgicAnswerInvalidError or
    ParticipantStatusError in words when it cannot be taken."""
    code = participant.code
    if participant.status not in (
        Status.RANDOMIZED,
        Status.ACTIVE,
        Status.COMPLETED,
        Status.WITHDRAWN,
    ):
        raise ParticipantStatusError(
            f"Participant {code} is {Status(participant.status).label.lower()}; end-of-period "
            f"questions are answered once they are randomized.",
            extra={"participant": code, "status": participant.status},
        )
    visits: tuple[AnswerVisit, ...] = ()
    if participant_schedule(participant=participant):
        visits = answer_visits(participant=participant, protocol=participant_protocol(participant))
    allowed = {v.number: v for v in visits if v.pgic or not pgic}
    found = None if isinstance(visit, bool) else allowed.get(visit)
    if found is None:
        what = "the PGIC is" if pgic else "the questions are"
        raise PgicAnswerInvalidError(
            f"Visit {visit} is not a visit at which {what} asked for participant {code}; the "
            f"visits are {', '.join(str(v) for v in allowed) or 'none'}.",
            extra={"participant": code, "visit": visit},
        )
    if answered_on > participant_today(participant):
        raise PgicAnswerInvalidError(
            f"The answer date {answered_on.isoformat()} is in the future.",
            extra={"participant": code},
        )
    if answered_on < found.day:
        raise PgicAnswerInvalidError(
            f"The answer date {answered_on.isoformat()} is before visit {visit} "
            f"({found.day.isoformat()}); the questions are asked from the visit on.",
            extra={"participant": code, "visit": visit},
        )
    return found


@transaction.atomic
def pgic_answer_record(
    *,
    participant: Participant,
    visit: int,
    score: int,
    answered_on: dt.date,
    actor: User | None = None,
) -> PgicAnswer:
    """Record the PGIC (score 1 very much improved ... 7 very much worse) given at `visit`.

    `actor` None means the participant answered on their device; a staff user records a paper
    answer. The same answer again returns the recorded one; a different answer for a visit
    that has one is refused (AlreadyAnsweredError); visits at which the protocol does not ask
    the PGIC (the first, or all but the last when it is asked at the end of the study), scores
    off 1..7 and dates in the future or before the visit are refused (PgicAnswerInvalidError).
    """
    require_unlocked(participant.study)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 7:
        raise PgicAnswerInvalidError(
            f"The PGIC score must be a whole number from 1 (very much improved) to 7 (very "
            f"much worse); got {score!r}."
        )
    locked = participant_lock(participant)
    _answer_visit(locked, visit=visit, answered_on=answered_on, pgic=True)
    existing = PgicAnswer.objects.filter(participant=locked, visit=visit).first()
    if existing is not None:
        if existing.score == score and existing.answered_on == answered_on:
            return existing
        raise AlreadyAnsweredError(
            f"Participant {locked.code} answered the PGIC of visit {visit} already (on "
            f"{existing.answered_on.isoformat()}); an answer is given once.",
            extra={"participant": locked.code, "visit": visit},
        )
    answer = PgicAnswer(
        participant=locked, visit=visit, score=score, answered_on=answered_on, recorded_by=actor
    )
    _period_answer_save(answer, participant=locked, actor=actor, field="score", value=score)
    return answer


def _period_answer_save(
    row: PgicAnswer | BlindingGuess,
    *,
    participant: Participant,
    actor: User | None,
    field: str,
    value: object,
) -> None:
    """Save an end-of-period answer and its audit event (by the participant when no actor)."""
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        actor_label=None if actor is not None else participant.code,
        action=AuditAction.CREATE,
        obj=row,
        study_slug=participant.study.slug,
        changes={
            "participant": (None, participant.code),
            "visit": (None, row.visit),
            field: (None, value),
            "answered_on": (None, row.answered_on),
        },
    )


@transaction.atomic
def blinding_guess_record(
    *,
    participant: Participant,
    visit: int,
    guess: str,
    answered_on: dt.date,
    actor: User | None = None,
) -> BlindingGuess:
    """Record what the participant believes they took since the visit before `visit`.

    `guess` is ``drug``, ``placebo`` or ``dont_know``. Like `pgic_answer_record`: once per
    visit after the first (the same guess again returns it), `actor` None for the
    participant's device.
    """
    require_unlocked(participant.study)
    if guess not in GuessChoice.values:
        raise PgicAnswerInvalidError(
            f"The guess must be one of {', '.join(GuessChoice.values)}; got {guess!r}."
        )
    locked = participant_lock(participant)
    _answer_visit(locked, visit=visit, answered_on=answered_on, pgic=False)
    existing = BlindingGuess.objects.filter(participant=locked, visit=visit).first()
    if existing is not None:
        if existing.guess == guess and existing.answered_on == answered_on:
            return existing
        raise AlreadyAnsweredError(
            f"Participant {locked.code} gave their guess at visit {visit} already (on "
            f"{existing.answered_on.isoformat()}); a guess is given once.",
            extra={"participant": locked.code, "visit": visit},
        )
    row = BlindingGuess(
        participant=locked, visit=visit, guess=guess, answered_on=answered_on, recorded_by=actor
    )
    _period_answer_save(row, participant=locked, actor=actor, field="guess", value=guess)
    return row


@dataclass(frozen=True)
class PeriodAnswered:
    """An end-of-period answer from the phone, and whether this request recorded it."""

    answer: PgicAnswer | BlindingGuess
    created: bool


@transaction.atomic
def period_answer_from_phone(
    *, participant: Participant, kind: Literal["pgic", "blinding"], visit: int, value: int | str
) -> PeriodAnswered:
    """Record the PGIC score or blinding guess the participant gave on their phone.

    A first answer is taken only for a question the diary asks now (`diary_questions_due`),
    refused in words that name no date (PgicAnswerInvalidError). The same answer sent again
    returns the recorded one, whatever day it comes (`created` False); another answer is
    AlreadyAnsweredError.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    model: type[PgicAnswer] | type[BlindingGuess] = PgicAnswer if kind == "pgic" else BlindingGuess
    given = model.objects.filter(participant=locked, visit=visit).first()
    if given is None and not any(
        q.kind == kind and q.visit == visit for q in diary_questions_due(participant=locked)
    ):
        raise PgicAnswerInvalidError(
            f"There is no question of visit {visit} to answer now. The diary shows the "
            f"end-of-period questions when they are due.",
            extra={"visit": visit},
        )
    answered_on = given.answered_on if given is not None else participant_today(locked)
    answer: PgicAnswer | BlindingGuess
    if kind == "pgic":
        answer = pgic_answer_record(
            participant=locked, visit=visit, score=int(value), answered_on=answered_on
        )
    else:
        answer = blinding_guess_record(
            participant=locked, visit=visit, guess=str(value), answered_on=answered_on
        )
    return PeriodAnswered(answer=answer, created=given is None)
