"""The safety lock checks: side effects awaiting review, adverse events without an outcome."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.builders import make_adverse_event, make_entry, make_participant, make_site

from diarytrial.participants.models import Participant
from diarytrial.safety.readiness import adverse_events_open_check, side_effects_open_check
from diarytrial.safety.selectors import side_effect_candidates
from diarytrial.safety.services import adverse_event_remove, side_effect_candidate_dismiss
from diarytrial.studies.readiness import lock_readiness

pytestmark = pytest.mark.django_db

NOV = [dt.date(2025, 11, day) for day in range(1, 31)]


def _night(participant: Participant, index: int, **effects: str) -> None:
    make_entry(participant=participant, diary_date=NOV[index], side_effects=effects)


def test_side_effects_awaiting_review_are_the_open_candidates_by_site(
    participant: Participant, django_assert_max_num_queries: object
) -> None:
    study = participant.study
    other_site = make_site(study=study, code="boston")
    elsewhere = make_participant(study=study, site=other_site, start_date=participant.start_date)
    # Headache three nights running is one candidate; nausea a second; vivid dreams a third.
    for index in (1, 2, 3):
        _night(participant, index, headache="somewhat")
    _night(participant, 5, nausea="very")
    _night(participant, 6, vivid_dreams="somewhat")
    _night(elsewhere, 2, headache="very")
    side_effect_candidate_dismiss(
        participant=participant,
        side_effect="vivid_dreams",
        first_reported=NOV[6],
        reason="a nightmare about the move, not the capsules",
        actor=None,
    )

    with django_assert_max_num_queries(6):  # type: ignore[operator]
        whole = side_effects_open_check(study, None)
    assert (whole.key, whole.count, whole.blocks_lock) == ("side_effects_awaiting_review", 3, True)
    assert whole.count == len(side_effect_candidates(study=study, sites=study.sites.all()))
    assert side_effects_open_check(study, [participant.site]).count == 2
    assert side_effects_open_check(study, [other_site]).count == 1
    assert side_effects_open_check(study, []).count == 0


def test_adverse_events_without_an_outcome_are_unknown_or_still_recovering(
    participant: Participant, django_assert_max_num_queries: object
) -> None:
    study = participant.study
    other_site = make_site(study=study, code="boston")
    elsewhere = make_participant(study=study, site=other_site, start_date=participant.start_date)
    onset = NOV[2]
    # Counted: outcome unknown (ended or not), ongoing and recovering.
    make_adverse_event(participant=participant, onset_date=onset, outcome="unknown")
    make_adverse_event(
        participant=participant, onset_date=onset, outcome="unknown", end_date=NOV[4]
    )
    make_adverse_event(participant=elsewhere, onset_date=onset, outcome="recovering")
    # Not counted: recovered, recovering with an end date, ongoing not recovered (final),
    # and a removed event.
    make_adverse_event(participant=participant, onset_date=onset, outcome="recovered")
    make_adverse_event(
        participant=participant, onset_date=onset, outcome="recovering", end_date=NOV[5]
    )
    make_adverse_event(participant=participant, onset_date=onset, outcome="not_recovered")
    removed = make_adverse_event(participant=elsewhere, onset_date=onset, outcome="unknown")
    adverse_event_remove(event=removed, reason="entered twice", actor=None)

    with django_assert_max_num_queries(1):  # type: ignore[operator]
        whole = adverse_events_open_check(study, None)
    assert (whole.key, whole.count, whole.blocks_lock) == (
        "adverse_events_without_outcome",
        3,
        True,
    )
    assert adverse_events_open_check(study, [participant.site]).count == 2
    assert adverse_events_open_check(study, [other_site]).count == 1


def test_both_are_registered_in_order(participant: Participant) -> None:
    keys = [item.key for item in lock_readiness(participant.study)]

    assert keys.index("side_effects_awaiting_review") < keys.index("adverse_events_without_outcome")
    assert keys.index("open_participants") < keys.index("side_effects_awaiting_review")
