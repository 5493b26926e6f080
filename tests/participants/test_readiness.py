"""The participants' lock check: those enrolled and neither completed nor withdrawn."""

from __future__ import annotations

import pytest
from tests.builders import make_allocation, make_participant, make_site, make_study

from diarytrial.participants.models import ParticipantStatus
from diarytrial.participants.readiness import participants_open_check
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services import (
    participant_activate,
    participant_complete,
    participant_withdraw,
)
from diarytrial.studies.readiness import lock_readiness

pytestmark = pytest.mark.django_db


def test_only_participants_who_started_and_have_not_ended_are_counted_by_site(
    django_assert_max_num_queries: object,
) -> None:
    study = make_study()
    north, south = make_site(study=study, code="north"), make_site(study=study, code="south")
    make_allocation(study=study)
    # Counted: enrolled (north), randomized (north), active (south).
    make_participant(study=study, site=north)
    make_participant(study=study, site=north, status=ParticipantStatus.RANDOMIZED)
    active = make_participant(study=study, site=south, status=ParticipantStatus.RANDOMIZED)
    participant_activate(participant=active, actor=None)
    # Not counted: screened (eligible or not), completed, withdrawn.
    make_participant(study=study, site=north, status=ParticipantStatus.SCREENED)
    make_participant(study=study, site=south, status=ParticipantStatus.SCREENED, eligible=False)
    done = make_participant(study=study, site=south, status=ParticipantStatus.RANDOMIZED)
    participant_activate(participant=done, actor=None)
    participant_complete(participant=done, on=participant_today(done), actor=None)
    gone = make_participant(study=study, site=north)
    participant_withdraw(
        participant=gone, reason="moved away", on=participant_today(gone), actor=None
    )

    with django_assert_max_num_queries(1):  # type: ignore[operator]
        whole = participants_open_check(study, None)
    assert (whole.key, whole.count, whole.blocks_lock) == ("open_participants", 3, True)
    assert participants_open_check(study, [north]).count == 2
    assert participants_open_check(study, [south]).count == 1
    assert participants_open_check(study, []).count == 0
    assert participants_open_check(make_study(study_id="other"), None).count == 0


def test_the_check_is_registered_first_on_the_checklist() -> None:
    study = make_study()
    make_participant(study=study)

    items = lock_readiness(study)

    assert items[0].key == "open_participants"
    assert items[0].count == 1
    assert items[0].label == "Participants neither completed nor withdrawn"
