"""Side effects reported in the diary, confirmed as adverse events or dismissed by staff."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.builders import LEFT_OPEN, make_entry, make_member

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.participants.errors import ReasonRequiredError
from diarytrial.participants.models import Participant
from diarytrial.safety.errors import AdverseEventInvalidError, SideEffectCandidateClosedError
from diarytrial.safety.models import AdverseEvent, ReviewDecision, SideEffectReview
from diarytrial.safety.selectors import side_effect_candidates
from diarytrial.safety.services import (
    adverse_event_remove,
    side_effect_candidate_confirm,
    side_effect_candidate_dismiss,
)
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db

NOV = [dt.date(2025, 11, day) for day in range(1, 31)]  # NOV[3] is 4 November
EVENT = {
    "severity": "mild",
    "serious": False,
    "related": "possible",
    "action": "none",
    "outcome": "recovering",
}


def nights(participant: Participant, effect: str, *days_and_levels: tuple[int, str]) -> None:
    for index, level in days_and_levels:
        make_entry(participant=participant, diary_date=NOV[index], side_effects={effect: level})


def open_candidates(participant: Participant) -> list[tuple[str, dt.date, int]]:
    return [
        (c.side_effect, c.first_reported, len(c.reports))
        for c in side_effect_candidates(study=participant.study, sites=[participant.site])
    ]


def test_thirty_nights_running_are_one_candidate(participant: Participant) -> None:
    nights(participant, "headache", *[(i, "somewhat") for i in range(18)])

    assert open_candidates(participant) == [("headache", NOV[0], 18)]


def test_confirming_records_one_event_from_the_first_night_and_closes_the_candidate(
    participant: Participant,
) -> None:
    nights(participant, "nausea", (2, "somewhat"), (3, "very"), (4, "somewhat"))
    coordinator = make_member(study=participant.study, role=Role.COORDINATOR).user
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    review = side_effect_candidate_confirm(
        participant=participant,
        side_effect="nausea",
        first_reported=NOV[2],
        actor=coordinator,
        notes="Called: nausea after dinner",
        **EVENT,
    )

    event = AdverseEvent.objects.get()
    assert (event.term, event.side_effect, event.onset_date) == ("Nausea", "nausea", NOV[2])
    assert event.from_diary_entry is not None
    assert event.from_diary_entry.diary_date == NOV[2]
    assert review.adverse_event == event
    assert (review.decision, review.first_reported, review.last_reported, review.worst) == (
        ReviewDecision.CONFIRMED,
        NOV[2],
        NOV[4],
        "very",
    )
    assert review.reports == [
        {"diary_date": "2025-11-03", "unpleasantness": "somewhat"},
        {"diary_date": "2025-11-04", "unpleasantness": "very"},
        {"diary_date": "2025-11-05", "unpleasantness": "somewhat"},
    ]
    assert open_candidates(participant) == []
    events = list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))
    assert [(e.object_type, e.action) for e in events] == [
        ("safety.adverseevent", AuditAction.CREATE),
        ("safety.sideeffectreview", AuditAction.CREATE),
    ]
    changes = {c["field"]: c["new"] for c in events[1].changes}
    assert changes["decision"] == "confirmed"
    assert changes["adverse_event"] == event.pk
    assert changes["nights"] == 3
    assert events[1].reason == "Called: nausea after dinner"
    assert events[1].actor == coordinator
    assert audit_verify().ok


def test_a_candidate_is_decided_once(participant: Participant) -> None:
    nights(participant, "nausea", (2, "somewhat"))
    side_effect_candidate_confirm(
        participant=participant, side_effect="nausea", first_reported=NOV[2], actor=None, **EVENT
    )

    with pytest.raises(SideEffectCandidateClosedError, match="not waiting for a decision") as c:
        side_effect_candidate_confirm(
            participant=participant,
            side_effect="nausea",
            first_reported=NOV[2],
            actor=None,
            **EVENT,
        )
    with pytest.raises(SideEffectCandidateClosedError):
        side_effect_candidate_dismiss(
            participant=participant,
            side_effect="nausea",
            first_reported=NOV[2],
            reason="mild",
            actor=None,
        )

    assert c.value.http_status == 409
    assert AdverseEvent.objects.count() == 1
    assert SideEffectReview.objects.count() == 1


def test_a_refused_event_leaves_the_candidate_open(participant: Participant) -> None:
    nights(participant, "nausea", (2, "somewhat"))

    with pytest.raises(AdverseEventInvalidError, match="before the onset"):
        side_effect_candidate_confirm(
            participant=participant,
            side_effect="nausea",
            first_reported=NOV[2],
            actor=None,
            end_date=NOV[1],
            **EVENT,
        )

    assert not AdverseEvent.objects.exists()
    assert not SideEffectReview.objects.exists()
    assert open_candidates(participant) == [("nausea", NOV[2], 1)]


@pytest.mark.parametrize("reason", ["", "   "])
def test_dismissing_needs_a_reason(participant: Participant, reason: str) -> None:
    nights(participant, "headache", (2, "somewhat"))

    with pytest.raises(ReasonRequiredError, match="Say why"):
        side_effect_candidate_dismiss(
            participant=participant,
            side_effect="headache",
            first_reported=NOV[2],
            reason=reason,
            actor=None,
        )

    assert not SideEffectReview.objects.exists()


def test_a_dismissal_covers_its_episode_until_a_worse_night_or_a_new_episode(
    participant: Participant,
) -> None:
    nights(participant, "headache", (0, "somewhat"), (1, "not_at_all"))
    review = side_effect_candidate_dismiss(
        participant=participant,
        side_effect="headache",
        first_reported=NOV[0],
        reason="Known, mild, not an AE",
        actor=None,
    )
    assert (review.decision, review.reason, review.adverse_event) == (
        ReviewDecision.DISMISSED,
        "Known, mild, not an AE",
        None,
    )
    event = AuditEvent.objects.get(object_type="safety.sideeffectreview")
    assert event.reason == "Known, mild, not an AE"

    # The episode goes on, no worse: nothing to decide.
    nights(participant, "headache", (3, "somewhat"), (5, "somewhat"))
    assert open_candidates(participant) == []

    # A night rated worse than anything dismissed is a new candidate, and the nights after it.
    nights(participant, "headache", (6, "very"), (7, "somewhat"))
    assert open_candidates(participant) == [("headache", NOV[6], 2)]
    side_effect_candidate_dismiss(
        participant=participant,
        side_effect="headache",
        first_reported=NOV[6],
        reason="Migraine history, known",
        actor=None,
    )

    # After more than three days without it, a new episode is a new candidate.
    nights(participant, "headache", (12, "somewhat"))
    assert open_candidates(participant) == [("headache", NOV[12], 1)]


def test_removing_the_confirmed_event_does_not_bring_the_nights_back(
    participant: Participant,
) -> None:
    nights(participant, "insomnia", (2, "somewhat"), (3, "somewhat"))
    review = side_effect_candidate_confirm(
        participant=participant, side_effect="insomnia", first_reported=NOV[2], actor=None, **EVENT
    )
    assert review.adverse_event is not None

    adverse_event_remove(event=review.adverse_event, reason="recorded in error", actor=None)

    assert open_candidates(participant) == []


def test_an_ended_event_leaves_later_episodes_to_decide(participant: Participant) -> None:
    nights(participant, "nausea", (2, "somewhat"), (3, "somewhat"))
    side_effect_candidate_confirm(
        participant=participant,
        side_effect="nausea",
        first_reported=NOV[2],
        actor=None,
        end_date=NOV[3],
        **{**EVENT, "outcome": "recovered"},
    )
    nights(participant, "nausea", (5, "somewhat"), (10, "somewhat"))

    assert open_candidates(participant) == [("nausea", NOV[10], 1), ("nausea", NOV[5], 1)]


def test_a_locked_study_refuses_both_decisions(participant: Participant) -> None:
    nights(participant, "headache", (2, "somewhat"))
    study = participant.study
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    study_lock(study=study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)

    with pytest.raises(StudyLockedError):
        side_effect_candidate_confirm(
            participant=participant,
            side_effect="headache",
            first_reported=NOV[2],
            actor=None,
            **EVENT,
        )
    with pytest.raises(StudyLockedError):
        side_effect_candidate_dismiss(
            participant=participant,
            side_effect="headache",
            first_reported=NOV[2],
            reason="mild",
            actor=None,
        )

    assert not AdverseEvent.objects.exists()
    assert not SideEffectReview.objects.exists()
