"""The questions asked at the end of a treatment period: the PGIC (`pgic_answer_record`) and the
blinding guess (`blinding_guess_record`), each answered once per period, on the participant's
phone or on paper recorded by staff; `period_answer_from_phone` takes the phone's answer to a
question the diary asks now.
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


def _treatment_periods(participant: Participant) -> dict[int, dt.date]:
    """Each treatment period of the participant's schedule with its first day."""
    return {
        phase.period: phase.start
        for phase in participant_schedule(participant=participant)
        if phase.period is not None and phase.period > 0
    }


def _period_answer_check(
    participant: Participant, *, period: int, answered_on: dt.date, allowed: tuple[int, ...]
) -> None:
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
    starts = _treatment_periods(participant)
    if period not in allowed or period not in starts:
        raise PgicAnswerInvalidError(
            f"Period {period} is not a period asked about for participant {code}; the "
            f"periods are {', '.join(str(p) for p in allowed if p in starts) or 'none'}.",
            extra={"participant": code, "period": period},
        )
    if answered_on > participant_today(participant):
        raise PgicAnswerInvalidError(
            f"The answer date {answered_on.isoformat()} is in the future.",
            extra={"participant": code},
        )
    if answered_on < starts[period]:
        raise PgicAnswerInvalidError(
            f"The answer date {answered_on.isoformat()} is before period {period} started "
            f"({starts[period].isoformat()}); it is asked at the end of the period.",
            extra={"participant": code, "period": period},
        )


@transaction.atomic
def pgic_answer_record(
    *,
    participant: Participant,
    period: int,
    score: int,
    answered_on: dt.date,
    actor: User | None = None,
) -> PgicAnswer:
    """Record the PGIC (score 1 very much improved ... 7 very much worse) closing `period`.

    `actor` None means the participant answered on their device; a staff user records a paper
    answer. The same answer again returns the recorded one; a different answer for a period
    that has one is refused (AlreadyAnsweredError); periods the protocol does not ask about,
    scores off 1..7 and dates in the future or before the period are refused
    (PgicAnswerInvalidError).
    """
    require_unlocked(participant.study)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 7:
        raise PgicAnswerInvalidError(
            f"The PGIC score must be a whole number from 1 (very much improved) to 7 (very "
            f"much worse); got {score!r}."
        )
    locked = participant_lock(participant)
    protocol = participant_protocol(locked)
    _period_answer_check(
        locked, period=period, answered_on=answered_on, allowed=protocol.pgic_periods()
    )
    existing = PgicAnswer.objects.filter(participant=locked, period=period).first()
    if existing is not None:
        if existing.score == score and existing.answered_on == answered_on:
            return existing
        raise AlreadyAnsweredError(
            f"Participant {locked.code} answered the PGIC of period {period} already (on "
            f"{existing.answered_on.isoformat()}); an answer is given once.",
            extra={"participant": locked.code, "period": period},
        )
    answer = PgicAnswer(
        participant=locked, period=period, score=score, answered_on=answered_on, recorded_by=actor
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
            "period": (None, row.period),
            field: (None, value),
            "answered_on": (None, row.answered_on),
        },
    )


@transaction.atomic
def blinding_guess_record(
    *,
    participant: Participant,
    period: int,
    guess: str,
    answered_on: dt.date,
    actor: User | None = None,
) -> BlindingGuess:
    """Record what the participant believes they took in treatment `period`.

    `guess` is ``drug``, ``placebo`` or ``dont_know``. Like `pgic_answer_record`: once per
    period (the same guess again returns it), `actor` None for the participant's device.
    """
    require_unlocked(participant.study)
    if guess not in GuessChoice.values:
        raise PgicAnswerInvalidError(
            f"The guess must be one of {', '.join(GuessChoice.values)}; got {guess!r}."
        )
    locked = participant_lock(participant)
    periods = tuple(sorted(_treatment_periods(locked)))
    _period_answer_check(locked, period=period, answered_on=answered_on, allowed=periods)
    existing = BlindingGuess.objects.filter(participant=locked, period=period).first()
    if existing is not None:
        if existing.guess == guess and existing.answered_on == answered_on:
            return existing
        raise AlreadyAnsweredError(
            f"Participant {locked.code} gave their guess for period {period} already (on "
            f"{existing.answered_on.isoformat()}); a guess is given once.",
            extra={"participant": locked.code, "period": period},
        )
    row = BlindingGuess(
        participant=locked, period=period, guess=guess, answered_on=answered_on, recorded_by=actor
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
    *, participant: Participant, kind: Literal["pgic", "blinding"], period: int, value: int | str
) -> PeriodAnswered:
    """Record the PGIC score or blinding guess the participant gave on their phone.

    A first answer is taken only for a question the diary asks now (`diary_questions_due`),
    refused in words that name no date (PgicAnswerInvalidError): when a period starts or ends
    could tell its length, hence the arm. The same answer sent again returns the recorded one,
    whatever day it comes (`created` False); another answer is AlreadyAnsweredError.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    model: type[PgicAnswer] | type[BlindingGuess] = PgicAnswer if kind == "pgic" else BlindingGuess
    given = model.objects.filter(participant=locked, period=period).first()
    if given is None and not any(
        q.kind == kind and q.period == period for q in diary_questions_due(participant=locked)
    ):
        raise PgicAnswerInvalidError(
            f"There is no question about treatment period {period} to answer now. The diary "
            f"shows the end-of-period questions when they are due.",
            extra={"period": period},
        )
    answered_on = given.answered_on if given is not None else participant_today(locked)
    answer: PgicAnswer | BlindingGuess
    if kind == "pgic":
        answer = pgic_answer_record(
            participant=locked, period=period, score=int(value), answered_on=answered_on
        )
    else:
        answer = blinding_guess_record(
            participant=locked, period=period, guess=str(value), answered_on=answered_on
        )
    return PeriodAnswered(answer=answer, created=given is None)
