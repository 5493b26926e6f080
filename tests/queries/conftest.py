"""Fixtures of the data query tests: a study with two sites, a member of each role, and a
randomized participant at the first site whose diary, adverse event and end-of-period answers
are recorded through the services. The clock stands at NOW (tests/diary/helpers.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib.auth.models import User
from tests.builders import (
    make_adverse_event,
    make_allocation,
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
)
from tests.diary.helpers import NOW, START

from diarytrial.diary.models import BlindingGuess, DiaryEntry, PgicAnswer
from diarytrial.diary.services import blinding_guess_record, pgic_answer_record
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.safety.models import AdverseEvent
from diarytrial.studies.models import Role, Site, Study

VISIT_2 = START + dt.timedelta(days=13 + 28)  # the LDN calendar's second visit


@dataclass
class World:
    study: Study
    sites: list[Site]
    coordinator: User  # of the first site only
    other_coordinator: User  # of the second site only
    investigator: User
    statistician: User
    pharmacist: User
    administrator: User
    participant: Participant  # at the first site
    entry: DiaryEntry
    event: AdverseEvent
    pgic: PgicAnswer
    guess: BlindingGuess


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[time_machine.Traveller]:
    """The clock at NOW: frozen, or ticking from it for a test marked ``ticking`` (browsers)."""
    ticking = request.node.get_closest_marker("ticking") is not None
    with time_machine.travel(NOW, tick=ticking) as traveller:
        yield traveller


@pytest.fixture
def world() -> World:
    study = make_study()
    sites = [make_site(study=study, code="stanford"), make_site(study=study, code="boston")]

    def member(role: Role, name: str, site: Site | None = None) -> User:
        limited = [site] if site is not None else None
        return make_member(study=study, role=role, sites=limited, username=name).user

    make_allocation(study=study)
    participant = make_participant(
        study=study, site=sites[0], status=ParticipantStatus.RANDOMIZED, start_date=START
    )
    return World(
        study=study,
        sites=sites,
        coordinator=member(Role.COORDINATOR, "coordinator", sites[0]),
        other_coordinator=member(Role.COORDINATOR, "boston_coordinator", sites[1]),
        investigator=member(Role.INVESTIGATOR, "investigator"),
        statistician=member(Role.STATISTICIAN, "statistician"),
        pharmacist=member(Role.PHARMACIST, "pharmacist"),
        administrator=member(Role.ADMINISTRATOR, "administrator"),
        participant=participant,
        entry=make_entry(participant=participant, diary_date=START, answers={"pain": 80}),
        event=make_adverse_event(participant=participant),
        pgic=pgic_answer_record(participant=participant, visit=2, score=3, answered_on=VISIT_2),
        guess=blinding_guess_record(
            participant=participant, visit=2, guess="dont_know", answered_on=VISIT_2
        ),
    )
