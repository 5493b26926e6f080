"""The migration that keeps the end-of-period answers by visit, both ways."""

from __future__ import annotations

import pytest
from tests.builders import make_allocation, make_participant
from tests.diary.helpers import START, migrate_to, migrate_to_latest

from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.randomization.models import AllocationSlot

BEFORE = [("diary", "0002_entry_device_time")]
AFTER = [("diary", "0003_answers_by_visit")]


@pytest.mark.django_db(transaction=True)
def test_answers_by_period_move_to_the_visit_on_the_period_s_last_day(
    participant: Participant,
) -> None:
    study = participant.study
    make_allocation(study=study)
    randomized = make_participant(
        study=study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )
    code = AllocationSlot.objects.get(used_by=randomized).sequence_code
    # LDN first (AB): period 1 ends on treatment day 84, visit 4; placebo first: day 28, visit 2.
    visit_of_period_one = 4 if code == "AB" else 2
    try:
        old = migrate_to(BEFORE).loader.project_state(BEFORE).apps
        answer = old.get_model("diary", "PgicAnswer").objects.create(
            participant_id=randomized.pk, period=1, score=3, answered_on=START
        )
        guess = old.get_model("diary", "BlindingGuess").objects.create(
            participant_id=randomized.pk, period=2, guess="drug", answered_on=START
        )

        new = migrate_to(AFTER).loader.project_state(AFTER).apps
        assert new.get_model("diary", "PgicAnswer").objects.get(pk=answer.pk).visit == (
            visit_of_period_one
        )
        assert new.get_model("diary", "BlindingGuess").objects.get(pk=guess.pk).visit == 6

        back = migrate_to(BEFORE).loader.project_state(BEFORE).apps
        assert back.get_model("diary", "PgicAnswer").objects.get(pk=answer.pk).period == 1
        assert back.get_model("diary", "BlindingGuess").objects.get(pk=guess.pk).period == 2
    finally:
        migrate_to_latest()  # going back also took back the data queries' tables, say
