"""The diary's lock check: end-of-period answers missing once their answering days ran out.

The LDN example asks the PGIC and the blinding guess at visits 2 to 6 (treatment days 28, 42,
84, 98, 126), each from the visit's day for 14 days more: a randomized participant who
started on START (nine months before NOW) and answered nothing misses 5 x 2 = 10 answers.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from tests.builders import make_allocation, make_participant, make_site
from tests.diary.helpers import NOW, START, visit_day

from diarytrial.diary.readiness import end_of_period_answers_missing_check
from diarytrial.diary.selectors import diary_questions_due
from diarytrial.diary.services import blinding_guess_record, pgic_answer_record
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_withdraw
from diarytrial.randomization.models import AllocationSlot

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
