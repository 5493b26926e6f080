"""Tonight's form, the questions due and the history, as the selectors compute them."""

from __future__ import annotations

import datetime as dt

import pytest
from pytest_django import DjangoAssertNumQueries
from tests.builders import make_allocation, make_entry, make_participant
from tests.diary.helpers import START, at, two_sequences, visit_day

from diarytrial.diary.selectors import (
    QUESTIONS_DUE_DAYS,
    diary_form_tonight,
    diary_history,
    diary_questions_due,
)
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_withdraw

pytestmark = pytest.mark.django_db


def test_the_window_is_told_in_local_time_across_a_daylight_saving_change(
    participant: Participant,
) -> None:
    # Clocks go forward at 02:00 on Sunday 9 March 2025 in Los Angeles.
    form = diary_form_tonight(participant=participant, now=at(dt.date(2025, 3, 8), 19))

    assert form.state == "open"
    assert form.diary_date == dt.date(2025, 3, 8)
    assert form.closes_at == dt.datetime(2025, 3, 9, 10, 0, tzinfo=dt.UTC)  # 03:00 PDT
    assert form.message == "Tonight's diary is open until 03:00 on Sunday 9 March 2025."


def test_after_midnight_the_form_is_still_the_evenings(participant: Participant) -> None:
    form = diary_form_tonight(participant=participant, now=at(dt.date(2025, 11, 11), 1, 30))

    assert (form.state, form.diary_date) == ("open", dt.date(2025, 11, 10))


def test_a_withdrawn_participants_diary_is_finished_from_the_withdrawal(
    participant: Participant,
) -> None:
    withdrawn = participant_withdraw(
        participant=participant, on=dt.date(2025, 11, 20), reason="moved away", actor=None
    )

    before = diary_form_tonight(participant=withdrawn, now=at(dt.date(2025, 11, 19), 20))
    after = diary_form_tonight(participant=withdrawn, now=at(dt.date(2025, 11, 20), 20))

    assert (before.state, after.state) == ("open", "finished")


def test_a_screened_person_has_no_diary_yet(participant: Participant) -> None:
    screened = make_participant(study=participant.study, status=ParticipantStatus.SCREENED)

    form = diary_form_tonight(participant=screened)

    assert (form.state, form.next_window_opens) == ("not_started", None)


def test_the_questions_of_a_visit_are_due_for_two_weeks_from_its_day(
    participant: Participant,
) -> None:
    make_allocation(study=participant.study)
    randomized = make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )
    second = visit_day(randomized, 2)  # treatment day 28; visit 3 is 14 days later

    def due(day: dt.date) -> list[tuple[str, int]]:
        questions = diary_questions_due(participant=randomized, now=at(day, 12))
        return [(q.kind, q.visit) for q in questions]

    assert due(second - dt.timedelta(days=1)) == []
    assert due(second) == [("pgic", 2), ("blinding", 2)]
    assert due(second + dt.timedelta(days=QUESTIONS_DUE_DAYS)) == [
        ("pgic", 2),
        ("blinding", 2),
        ("pgic", 3),
        ("blinding", 3),
    ]
    assert due(second + dt.timedelta(days=QUESTIONS_DUE_DAYS + 1)) == [
        ("pgic", 3),
        ("blinding", 3),
    ]


def test_the_questions_name_a_visit_and_its_days_never_a_period(participant: Participant) -> None:
    make_allocation(study=participant.study)
    randomized = make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )
    questions = diary_questions_due(participant=randomized, now=at(visit_day(randomized, 3), 12))
    texts = {q.kind: q.question for q in questions if q.visit == 3}
    assert texts["blinding"] == (
        "Since visit 2 (treatment days 29-42), what do you think your study capsule was?"
    )
    assert texts["pgic"].startswith("Visit 3, treatment day 42: ")
    assert not any("period" in q.question.lower() for q in questions)


def test_two_sequences_started_the_same_day_are_asked_the_same_on_the_same_days(
    participant: Participant,
) -> None:
    make_allocation(study=participant.study)
    first, second = two_sequences(participant.study)
    for offset in range(0, 160):
        now = at(START + dt.timedelta(days=offset), 12)
        asked = [diary_questions_due(participant=p, now=now) for p in (first, second)]
        assert asked[0] == asked[1], START + dt.timedelta(days=offset)
    assert [q.visit for q in diary_questions_due(participant=first, now=at(START, 12))] == []
    end = at(visit_day(first, 6), 12)
    assert [q.visit for q in diary_questions_due(participant=first, now=end)] == [6, 6]


def test_the_history_takes_three_queries_however_long_it_is(
    participant: Participant, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for day in range(1, 6):
        make_entry(participant=participant, diary_date=dt.date(2025, 11, day))

    with django_assert_num_queries(3):
        rows = diary_history(participant=participant)

    assert [row.diary_date.day for row in rows] == [5, 4, 3, 2, 1]
