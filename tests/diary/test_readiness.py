"""The diary's lock check: end-of-period answers missing once their answering days ran out.

The LDN example asks the PGIC and the blinding guess at visits 2 to 6 (treatment days 28, 42,
84, 98, 126), each from the visit's day for 14 days more: a randomized participant who
started on START (nine months before NOW) and answered nothing misses 5 x 2 = 10 answers.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from tests.builders import make_allocation, make_participant, make_site
from tests.diary.helpers import LDN, NOW, START, visit_day

from diarytrial.diary.models import BlindingGuess, PgicAnswer
from diarytrial.diary.readiness import end_of_period_answers_missing_check
from diarytrial.diary.selectors import diary_questions_due
from diarytrial.diary.selectors.days import last_diary_day
from diarytrial.diary.selectors.tonight import QUESTION_STATUSES
from diarytrial.diary.selectors.visits import answer_visits
from diarytrial.diary.services import blinding_guess_record, pgic_answer_record
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_schedule, participant_today
from diarytrial.participants.services import participant_withdraw
from diarytrial.randomization.models import AllocationSlot
from diarytrial.studies.models import Study

pytestmark = pytest.mark.django_db


def _at_noon_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(20, 0), tzinfo=dt.UTC)  # 12:00 in Los Angeles


def test_missing_answers_count_the_visits_whose_days_ran_out_by_site(
    participant: Participant,
    clock: time_machine.Traveller,
    django_assert_max_num_queries: object,
) -> None:
    study = participant.study  # enrolled, not randomized: never asked
    make_allocation(study=study)
    first, _untouched = (
        make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=START)
        for _ in range(2)
    )
    visit_2 = visit_day(first, 2)
    pgic_answer_record(participant=first, visit=2, score=3, answered_on=visit_2)
    blinding_guess_record(participant=first, visit=2, guess="drug", answered_on=visit_2)
    # Visit 2 five days ago: its questions are still asked, nothing is missing yet.
    recent = make_participant(
        study=study,
        status=ParticipantStatus.RANDOMIZED,
        start_date=NOW.date() - dt.timedelta(days=41 + 5),
    )
    assert [q.visit for q in diary_questions_due(participant=recent)] == [2, 2]
    # Withdrawn the day after visit 3: asked at visits 2 and 3 only.
    clock.move_to(_at_noon_utc(START - dt.timedelta(days=1)))
    left = make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=START)
    clock.move_to(_at_noon_utc(visit_day(left, 3) + dt.timedelta(days=1)))
    participant_withdraw(
        participant=left,
        reason="moved away",
        on=visit_day(left, 3) + dt.timedelta(days=1),
        actor=None,
    )
    clock.move_to(NOW)
    other_site = make_site(study=study, code="boston")
    make_participant(
        study=study, site=other_site, status=ParticipantStatus.RANDOMIZED, start_date=START
    )

    with django_assert_max_num_queries(3):  # type: ignore[operator]
        whole = end_of_period_answers_missing_check(study, None)
    assert (whole.key, whole.count) == ("missing_end_of_period_answers", 8 + 10 + 0 + 4 + 10)
    assert not whole.blocks_lock  # shown, but missing data by now, not work before the lock
    assert end_of_period_answers_missing_check(study, [participant.site]).count == 22
    assert end_of_period_answers_missing_check(study, [other_site]).count == 10
    assert end_of_period_answers_missing_check(study, []).count == 0


def test_queries_do_not_grow_with_participants(
    participant: Participant, django_assert_max_num_queries: object
) -> None:
    study = participant.study
    make_allocation(study=study)
    randomized = [
        make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=START)
        for _ in range(6)
    ]
    sequences = AllocationSlot.objects.filter(used_by__in=randomized).values("sequence_code")
    assert sequences.distinct().count() == 2  # both sequences are among them

    with django_assert_max_num_queries(3):  # type: ignore[operator]
        # Ten each, whatever the sequence: the count tells no allocation.
        assert end_of_period_answers_missing_check(study, None).count == 60


def _missing_one_by_one(study: Study) -> int:
    """The count worked out participant by participant with the diary's own selectors: the
    visits each is asked (`answer_visits`, within `last_diary_day`) whose days ran out before
    their today, less the answers they gave."""
    missing = 0
    for participant in Participant.objects.filter(
        study=study, status__in=QUESTION_STATUSES, start_date__isnull=False
    ):
        phases = participant_schedule(participant=participant)
        if not phases:
            continue
        last = last_diary_day(participant, max(phase.end for phase in phases))
        today = participant_today(participant)
        pgic = set(participant.pgic_answers.values_list("visit", flat=True))
        guesses = set(participant.blinding_guesses.values_list("visit", flat=True))
        for visit in answer_visits(participant=participant, protocol=LDN):
            if visit.asked(last) and visit.last_answer_day < today:
                missing += (visit.pgic and visit.number not in pgic) + (visit.number not in guesses)
    return missing


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_database_count_equals_the_count_participant_by_participant(
    participant: Participant, seed: int
) -> None:
    """Starts, time zones, withdrawals, completions and answers drawn at random (answers also
    at visits still open, or after the diary's end): the database's count is the count made
    one participant at a time."""
    rng = random.Random(seed)
    study = participant.study
    make_allocation(study=study)
    today = NOW.date()  # in Los Angeles, the builder's time zone
    # On the edges: visit 2's days (from start + 41, 14 more) ran out yesterday, or run out
    # today; withdrawn on visit 3's day (not asked) or the day after (asked); completed on
    # visit 4's day (asked) or the day before (not asked). Nothing answered.
    edges = [
        make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=start)
        for start in (today - dt.timedelta(days=56), today - dt.timedelta(days=55), *[START] * 4)
    ]
    for person, shift in zip(edges[2:4], (0, 1), strict=True):
        Participant.objects.filter(pk=person.pk).update(
            status=ParticipantStatus.WITHDRAWN,
            withdrawn_on=visit_day(person, 3) + dt.timedelta(days=shift),
            withdrawal_reason="moved",
        )
    for person, shift in zip(edges[4:], (0, -1), strict=True):
        Participant.objects.filter(pk=person.pk).update(
            status=ParticipantStatus.COMPLETED,
            completed_on=visit_day(person, 4) + dt.timedelta(days=shift),
        )
    zones = ("America/Los_Angeles", "Europe/London", "Asia/Tokyo", "Pacific/Auckland")
    for _ in range(10):
        start = NOW.date() - dt.timedelta(days=rng.randrange(20, 200))
        person = make_participant(
            study=study,
            status=ParticipantStatus.RANDOMIZED,
            start_date=start,
            tz=rng.choice(zones),
        )
        ended = start + dt.timedelta(days=rng.randrange(30, 160))
        roll = rng.random()
        if roll < 0.3 and ended < NOW.date():
            Participant.objects.filter(pk=person.pk).update(
                status=ParticipantStatus.WITHDRAWN, withdrawn_on=ended, withdrawal_reason="moved"
            )
        elif roll < 0.5 and ended < NOW.date():
            Participant.objects.filter(pk=person.pk).update(
                status=ParticipantStatus.COMPLETED, completed_on=ended
            )
        for number in range(2, 7):
            day = visit_day(person, number)
            if rng.random() < 0.6:
                PgicAnswer.objects.create(
                    participant=person, visit=number, score=rng.randint(1, 7), answered_on=day
                )
            if rng.random() < 0.6:
                BlindingGuess.objects.create(
                    participant=person, visit=number, guess="placebo", answered_on=day
                )

    expected = _missing_one_by_one(study)
    assert expected > 0
    assert end_of_period_answers_missing_check(study, None).count == expected
