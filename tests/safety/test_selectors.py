"""Reads of the safety app: events by participant and study, dose history, diary candidates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.builders import make_adverse_event, make_entry, make_participant, make_site
from tests.diary.helpers import START

from diarytrial.participants.models import Participant
from diarytrial.safety.selectors import (
    SideEffectCandidate,
    adverse_event_list,
    adverse_event_listing,
    adverse_events_for_study,
    dose_history,
    side_effect_candidates,
    side_effect_checklist,
)
from diarytrial.safety.services import (
    adverse_event_record,
    adverse_event_remove,
    dose_level_change,
)
from diarytrial.studies.models import Site

pytestmark = pytest.mark.django_db

NOV = [dt.date(2025, 11, day) for day in range(1, 31)]  # NOV[3] is 4 November


def test_events_of_a_participant_leave_out_removed_ones_unless_asked(
    participant: Participant,
) -> None:
    later = make_adverse_event(participant=participant, onset_date=NOV[9])
    earlier = make_adverse_event(participant=participant, onset_date=NOV[2], term="Nausea")
    removed = make_adverse_event(participant=participant, onset_date=NOV[4])
    adverse_event_remove(event=removed, reason="duplicate", actor=None)

    assert adverse_event_list(participant=participant) == [earlier, later]
    assert adverse_event_list(participant=participant, include_removed=True) == [
        earlier,
        removed,
        later,
    ]


def test_events_of_a_study_are_those_of_the_given_sites_only(participant: Participant) -> None:
    study = participant.study
    boston = make_site(study=study, code="boston")
    there = make_participant(study=study, site=boston, start_date=START)
    here_event = make_adverse_event(participant=participant, onset_date=NOV[1])
    there_event = make_adverse_event(participant=there, onset_date=NOV[5])

    assert list(adverse_events_for_study(study=study, sites=[participant.site])) == [here_event]
    assert list(adverse_events_for_study(study=study, sites=Site.objects.all())) == [
        there_event,
        here_event,
    ]
    assert list(adverse_events_for_study(study=study, sites=[])) == []


def test_the_dose_history_starts_with_the_start_level(participant: Participant) -> None:
    dose_level_change(participant=participant, level="reduced", reason="vivid dreams", actor=None)

    history = dose_history(participant=participant)

    assert [(c.level, c.reason) for c in history] == [
        ("standard", "start"),
        ("reduced", "vivid dreams"),
    ]


def test_candidates_are_episodes_not_covered_by_an_event_very_unpleasant_first(
    participant: Participant,
) -> None:
    study = participant.study
    for day, effects in [
        (NOV[0], {"headache": "somewhat"}),
        (NOV[1], {"headache": "somewhat", "nausea": "not_at_all"}),
        (NOV[2], {"vivid_dreams": "very"}),
        (NOV[5], {"headache": "very"}),
        (NOV[8], {"headache": "somewhat"}),
    ]:
        make_entry(participant=participant, diary_date=day, side_effects=effects)
    # Headache from 1 to 3 November is confirmed as one event that ended on the 3rd.
    make_adverse_event(participant=participant, onset_date=NOV[0], end_date=NOV[2])

    candidates = side_effect_candidates(study=study, sites=[participant.site])

    # The headache of the 6th and the 9th is one episode (three days apart).
    assert [
        (c.side_effect, [(r.diary_date, r.unpleasantness) for r in c.reports]) for c in candidates
    ] == [
        ("headache", [(NOV[5], "very"), (NOV[8], "somewhat")]),
        ("vivid_dreams", [(NOV[2], "very")]),
        ("nausea", [(NOV[1], "not_at_all")]),
    ]
    first = candidates[0]
    assert isinstance(first, SideEffectCandidate)
    assert (first.participant_code, first.site_code, first.label, first.very) == (
        participant.code,
        participant.site.code,
        "Headache",
        True,
    )
    assert (first.first_reported, first.last_reported, first.worst) == (NOV[5], NOV[8], "very")
    assert not candidates[2].very
    assert side_effect_candidates(study=study, sites=[]) == []


def test_an_ongoing_event_covers_every_later_report_and_a_confirmed_report_leaves(
    participant: Participant,
) -> None:
    entry = make_entry(participant=participant, diary_date=NOV[3], side_effects={"nausea": "very"})
    make_entry(participant=participant, diary_date=NOV[6], side_effects={"nausea": "somewhat"})
    make_entry(participant=participant, diary_date=NOV[7], side_effects={"insomnia": "somewhat"})
    # Confirmed from the report of the 4th, with the onset put on the 5th, and ongoing.
    adverse_event_record(
        participant=participant,
        term="",
        side_effect="nausea",
        onset_date=NOV[4],
        severity="mild",
        serious=False,
        related="possible",
        action="none",
        outcome="recovering",
        actor=None,
        from_diary_entry=entry,
    )

    candidates = side_effect_candidates(study=participant.study, sites=[participant.site])

    assert [(c.first_reported, c.side_effect) for c in candidates] == [(NOV[7], "insomnia")]


def test_nights_far_apart_are_two_candidates(participant: Participant) -> None:
    for day in (NOV[0], NOV[1], NOV[2], NOV[6], NOV[7]):
        make_entry(participant=participant, diary_date=day, side_effects={"headache": "somewhat"})

    candidates = side_effect_candidates(study=participant.study, sites=[participant.site])

    assert [(c.first_reported, c.last_reported, len(c.reports)) for c in candidates] == [
        (NOV[6], NOV[7], 2),
        (NOV[0], NOV[2], 3),
    ]


def test_candidates_take_four_queries_however_many_reports(participant: Participant) -> None:
    others = [make_participant(study=participant.study, start_date=START) for _ in range(3)]
    for person in [participant, *others]:
        for day in NOV[:4]:
            make_entry(participant=person, diary_date=day, side_effects={"headache": "somewhat"})
    make_adverse_event(participant=others[0], onset_date=NOV[3])

    with CaptureQueriesContext(connection) as captured:
        candidates = side_effect_candidates(study=participant.study, sites=[participant.site])

    assert [len(c.reports) for c in candidates] == [4, 4, 4, 3]
    assert len(captured.captured_queries) == 4


@pytest.mark.parametrize(
    ("outcome", "end", "unresolved"),
    [
        ("recovering", None, True),
        ("recovered", None, True),  # its end date is missing
        ("recovered", 3, False),
        ("recovering", 3, True),
        ("not_recovered", 3, True),
        ("unknown", 3, True),
    ],
)
def test_an_event_is_unresolved_until_it_ended_recovered(
    participant: Participant, outcome: str, end: int | None, unresolved: bool
) -> None:
    event = make_adverse_event(
        participant=participant,
        onset_date=NOV[1],
        outcome=outcome,
        end_date=NOV[1 + end] if end is not None else None,
    )
    study = participant.study

    (listed,) = adverse_event_listing(study=study, sites=[participant.site])
    only_unresolved = adverse_event_listing(
        study=study, sites=[participant.site], unresolved_only=True
    )

    assert listed.pk == event.pk
    assert listed.unresolved is unresolved  # type: ignore[attr-defined]
    assert [e.pk for e in only_unresolved] == ([event.pk] if unresolved else [])


def test_the_listing_filters_serious_term_and_onset_and_leaves_out_removed_events(
    participant: Participant,
) -> None:
    site = participant.site
    headache = make_adverse_event(participant=participant, onset_date=NOV[2], serious=True)
    nausea = make_adverse_event(
        participant=participant, onset_date=NOV[5], term="Nausea", side_effect="nausea"
    )
    removed = make_adverse_event(participant=participant, onset_date=NOV[6], term="Nausea")
    adverse_event_remove(event=removed, reason="duplicate", actor=None)
    study = participant.study

    def listed(**filters: object) -> list[int]:
        return [e.pk for e in adverse_event_listing(study=study, sites=[site], **filters)]  # type: ignore[arg-type]

    assert listed() == [nausea.pk, headache.pk]  # newest onset first
    assert listed(serious_only=True) == [headache.pk]
    assert listed(term="AUSE") == [nausea.pk]
    assert listed(onset_from=NOV[3]) == [nausea.pk]
    assert listed(onset_to=NOV[2]) == [headache.pk]
    assert listed(onset_from=NOV[2], onset_to=NOV[2]) == [headache.pk]
    assert adverse_event_listing(study=study, sites=[]).count() == 0


def test_the_side_effect_checklist_names_every_side_effect_of_the_study(
    participant: Participant,
) -> None:
    checklist = side_effect_checklist(study=participant.study)

    assert checklist["headache"] == "Headache"
    assert "nausea" in checklist
