"""The questions asked at the visits after the first: PGIC and the blinding guess, by visit."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.builders import make_allocation, make_member, make_participant
from tests.diary.helpers import START, events_after, fail_after, last_event_id

from diarytrial.diary.errors import AlreadyAnsweredError, PgicAnswerInvalidError
from diarytrial.diary.models import BlindingGuess, PgicAnswer
from diarytrial.diary.selectors import blinding_guess_list, pgic_answer_list
from diarytrial.diary.services import blinding_guess_record, pgic_answer_record
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 11, 20)


@pytest.fixture
def randomized(participant: Participant) -> Participant:
    make_allocation(study=participant.study)
    return make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )


def _visit_day(participant: Participant, visit: int) -> dt.date:
    """The date of `visit` (LDN: treatment days 0, 28, 42, 84, 98, 126 for visits 1..6)."""
    treatment_day = (0, 28, 42, 84, 98, 126)[visit - 1]
    assert participant.start_date is not None
    return participant.start_date + dt.timedelta(days=13 + treatment_day)


def test_the_participants_pgic_is_recorded_once_with_one_event(randomized: Participant) -> None:
    mark = last_event_id()
    day = _visit_day(randomized, 2)

    answer = pgic_answer_record(participant=randomized, visit=2, score=2, answered_on=day)
    again = pgic_answer_record(participant=randomized, visit=2, score=2, answered_on=day)

    assert again.pk == answer.pk
    assert pgic_answer_list(participant=randomized) == [answer]
    (event,) = events_after(mark)
    assert (event.action, event.object_type, event.actor, event.actor_label) == (
        "create",
        "diary.pgicanswer",
        None,
        randomized.code,
    )
    assert {c["field"]: c["new"] for c in event.changes} == {
        "participant": randomized.code,
        "visit": 2,
        "score": 2,
        "answered_on": day.isoformat(),
    }


def test_a_paper_answer_names_the_staff_member_who_entered_it(randomized: Participant) -> None:
    staff = make_member(study=randomized.study, role=Role.COORDINATOR).user
    mark = last_event_id()

    answer = pgic_answer_record(
        participant=randomized, visit=3, score=4, answered_on=TODAY, actor=staff
    )

    assert answer.recorded_by == staff
    (event,) = events_after(mark)
    assert (event.actor, event.actor_label) == (staff, staff.username)


def test_a_different_second_answer_is_refused(randomized: Participant) -> None:
    pgic_answer_record(participant=randomized, visit=2, score=2, answered_on=TODAY)

    with pytest.raises(AlreadyAnsweredError) as caught:
        pgic_answer_record(participant=randomized, visit=2, score=6, answered_on=TODAY)

    assert caught.value.http_status == 409
    assert PgicAnswer.objects.get().score == 2


@pytest.mark.parametrize(
    ("visit", "score", "answered_on", "message"),
    [
        (7, 2, TODAY, "Visit 7 is not a visit at which the PGIC is asked"),
        (1, 2, TODAY, "Visit 1 is not a visit .* the visits are 2, 3, 4, 5, 6"),
        (2, 0, TODAY, "from 1 .* to 7"),
        (2, 8, TODAY, "from 1 .* to 7"),
        (2, True, TODAY, "from 1 .* to 7"),
        (2, 2, TODAY + dt.timedelta(days=1), "in the future"),
        (2, 2, START + dt.timedelta(days=40), r"before visit 2 \(2025-04-06\)"),
    ],
)
def test_answers_the_protocol_does_not_allow_are_refused(
    randomized: Participant, visit: int, score: int, answered_on: dt.date, message: str
) -> None:
    mark = last_event_id()

    with pytest.raises(PgicAnswerInvalidError, match=message) as caught:
        pgic_answer_record(
            participant=randomized, visit=visit, score=score, answered_on=answered_on
        )

    assert caught.value.http_status == 422
    assert events_after(mark) == []


def test_an_unrandomized_participant_is_not_asked(participant: Participant) -> None:
    with pytest.raises(ParticipantStatusError, match="once they are randomized"):
        pgic_answer_record(participant=participant, visit=2, score=2, answered_on=TODAY)


def test_a_failed_transaction_leaves_no_answer_and_no_event(randomized: Participant) -> None:
    mark = last_event_id()

    with pytest.raises(RuntimeError, match="failed after"):
        fail_after(
            lambda: pgic_answer_record(participant=randomized, visit=2, score=2, answered_on=TODAY)
        )

    assert not PgicAnswer.objects.exists()
    assert events_after(mark) == []


def test_the_blinding_guess_is_recorded_once_per_visit(randomized: Participant) -> None:
    mark = last_event_id()

    first = blinding_guess_record(participant=randomized, visit=2, guess="drug", answered_on=TODAY)
    second = blinding_guess_record(
        participant=randomized, visit=3, guess="dont_know", answered_on=TODAY
    )
    again = blinding_guess_record(participant=randomized, visit=2, guess="drug", answered_on=TODAY)

    assert again.pk == first.pk
    assert blinding_guess_list(participant=randomized) == [first, second]
    assert [(e.action, e.object_type) for e in events_after(mark)] == [
        ("create", "diary.blindingguess"),
        ("create", "diary.blindingguess"),
    ]
    with pytest.raises(AlreadyAnsweredError):
        blinding_guess_record(participant=randomized, visit=2, guess="placebo", answered_on=TODAY)
    with pytest.raises(PgicAnswerInvalidError, match="must be one of drug, placebo, dont_know"):
        blinding_guess_record(participant=randomized, visit=3, guess="ldn", answered_on=TODAY)
    assert BlindingGuess.objects.count() == 2


def test_an_answer_at_a_visit_inside_a_period_is_kept_for_either_sequence(
    randomized: Participant,
) -> None:
    # Visit 3 (treatment day 42) closes no period for either sequence of the LDN protocol.
    day = _visit_day(randomized, 3)
    answer = pgic_answer_record(participant=randomized, visit=3, score=4, answered_on=day)
    guess = blinding_guess_record(participant=randomized, visit=3, guess="drug", answered_on=day)
    assert (answer.visit, guess.visit) == (3, 3)
