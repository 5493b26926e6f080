"""Blinded staff never see allocation on any page they can open.

For every blinded role (coordinator, investigator, statistician before unblinding,
administrator) every page of the participant and pharmacy apps is opened, and none may show an
arm id or name, a sequence code or a dose in mg. Two participants on different sequences, who
started on the same day, look the same on every day of the trial: that is checked over the
whole timeline in test_blinding_timeline.py.

The study's protocol is the LDN example with a title that names no arm, so that a match means a
leak and not the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.builders import (
    client_for,
    make_adverse_event,
    make_allocation,
    make_dispensing,
    make_entry,
    make_kits,
    make_member,
    make_participant,
    make_protocol_text,
)
from tests.web.test_route_matrix import registered_routes

from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import Protocol
from diarytrial.randomization.models import AllocationSlot
from diarytrial.safety.selectors import adverse_event_list
from diarytrial.safety.services import dose_level_change
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.studies.services import site_create, study_create_from_protocol

pytestmark = pytest.mark.django_db

Status = ParticipantStatus
BLINDED = (Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR)
CHECKED_NAMESPACES = (
    "adverse_events",
    "diary",
    "exports",
    "monitoring",
    "participants",
    "randomization",
    "safety",
    "side_effects",
    "studies",
)


def forbidden_patterns(protocol: Protocol) -> dict[str, re.Pattern[str]]:
    """What must never appear on a blinded page: arm ids and names, sequence codes, doses."""
    patterns: dict[str, re.Pattern[str]] = {}
    for arm in protocol.arms:
        patterns[f"arm id {arm.id}"] = re.compile(rf"\b{re.escape(arm.id)}\b", re.I)
        patterns[f"arm name {arm.name}"] = re.compile(re.escape(arm.name), re.I)
        for level, mg in arm.dose_mg.items():
            patterns[f"dose {level} {mg}"] = re.compile(rf"(?<![\d.]){re.escape(str(mg))}(?![\d.])")
    for sequence in protocol.sequences:
        code = protocol.sequence_code(sequence)
        patterns[f"sequence {code}"] = re.compile(rf"\b{code}\b")
    patterns["unit mg"] = re.compile(r"\bmg\b")
    return patterns


@dataclass
class Trial:
    study: Study
    protocol: Protocol
    site: Site
    first: Participant  # on one sequence
    second: Participant  # on the other, started the same day
    screened: Participant
    enrolled: Participant


def sequence_of(participant: Participant) -> str:
    return AllocationSlot.objects.get(used_by=participant).sequence_code


def make_trial() -> Trial:
    """Two randomized participants on different sequences, started the same day, and more."""
    study = study_create_from_protocol(
        text=make_protocol_text(study_id="blindcheck", title="Blinding check of the staff pages"),
        source="trial.toml",
        created_by=None,
    )
    site = site_create(study=study, code="north", name="North Clinic", actor=None)
    protocol = protocol_version_load(study_current_protocol(study)).protocol
    make_allocation(study=study, size=20)
    make_kits(study=study, per_arm_and_level=4)
    start = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=20)
    by_sequence: dict[str, Participant] = {}
    while len(by_sequence) < 2:
        participant = make_participant(
            study=study, site=site, status=Status.RANDOMIZED, start_date=start
        )
        by_sequence.setdefault(sequence_of(participant), participant)
    first, second = (by_sequence[code] for code in sorted(by_sequence))
    for participant in (first, second):
        make_dispensing(participant=participant)
        make_entry(participant=participant, side_effects={"headache": "very"})
        make_entry(
            participant=participant,
            diary_date=start + dt.timedelta(days=1),
            side_effects={"nausea": "somewhat"},
        )
        make_adverse_event(participant=participant, term="Headache", side_effect="headache")
        dose_level_change(
            participant=participant, level="reduced", reason="very unpleasant", actor=None
        )
    return Trial(
        study=study,
        protocol=protocol,
        site=site,
        first=first,
        second=second,
        screened=make_participant(study=study, site=site, status=Status.SCREENED),
        enrolled=make_participant(study=study, site=site),
    )


@pytest.fixture
def trial() -> Trial:
    return make_trial()


def page_urls(trial: Trial) -> dict[str, str]:
    """Every page route of the checked namespaces, with a participant that fits its form."""
    study = {"study": trial.study.slug}

    def of(name: str, participant: Participant) -> str:
        return reverse(name, kwargs={**study, "participant": participant.code})

    urls = {
        "studies:home": reverse("studies:home", kwargs=study),
        "studies:list": reverse("studies:list"),
        "participants:list": reverse("participants:list", kwargs=study),
        "participants:screen": reverse("participants:screen", kwargs=study),
        "participants:detail": of("participants:detail", trial.first),
        "participants:enrol": of("participants:enrol", trial.screened),
        "participants:randomize": of("participants:randomize", trial.enrolled),
        "participants:complete": of("participants:complete", trial.first),
        "participants:withdraw": of("participants:withdraw", trial.first),
        "participants:timezone": of("participants:timezone", trial.first),
        "participants:unblind": of("participants:unblind", trial.first),
        "participants:unblind_result": of("participants:unblind_result", trial.first),
        "safety:adverse_event_new": of("safety:adverse_event_new", trial.first),
        "safety:dose_change": of("safety:dose_change", trial.first),
    }
    event = adverse_event_list(participant=trial.first)[0]
    for name in (
        "safety:adverse_event",
        "safety:adverse_event_change",
        "safety:adverse_event_remove",
    ):
        urls[name] = reverse(
            name, kwargs={**study, "participant": trial.first.code, "event": event.pk}
        )
    for name in registered_routes():
        if name.startswith(("randomization:", "exports:")) and name != "exports:casebook":
            urls[name] = reverse(name, kwargs=study)
    urls["exports:casebook"] = of("exports:casebook", trial.first)
    urls["randomization:allocation_list"] += "?stratum=opioid_use%3Dfalse"
    start = trial.first.start_date
    assert start is not None
    urls["side_effects:list"] = reverse("side_effects:list", kwargs=study)
    for name in ("participants:csv", "adverse_events:list", "adverse_events:csv"):
        urls[name] = reverse(name, kwargs=study)
    urls["side_effects:csv"] = reverse("side_effects:csv", kwargs=study)
    for name in ("side_effects:confirm", "side_effects:dismiss"):
        # The nausea of the second night: no event covers it.
        urls[name] = reverse(
            name,
            kwargs={
                **study,
                "participant": trial.first.code,
                "side_effect": "nausea",
                "first": (start + dt.timedelta(days=1)).isoformat(),
            },
        )
    urls["monitoring:dashboard"] = reverse("monitoring:dashboard", kwargs=study)
    urls["diary:entries"] = of("diary:entries", trial.first)
    urls["diary:correct"] = reverse(
        "diary:correct",
        kwargs={**study, "participant": trial.first.code, "day": start.isoformat()},
    )
    return urls


def test_every_page_route_is_checked(trial: Trial) -> None:
    routes = {name for name in registered_routes() if name.partition(":")[0] in CHECKED_NAMESPACES}

    assert routes == set(page_urls(trial))


def leaks(text: str, protocol: Protocol) -> list[str]:
    return [name for name, pattern in forbidden_patterns(protocol).items() if pattern.search(text)]


@pytest.mark.parametrize("role", BLINDED)
def test_no_page_a_blinded_role_opens_shows_allocation(trial: Trial, role: Role) -> None:
    sites = [trial.site] if role == Role.COORDINATOR else None
    client = client_for(make_member(study=trial.study, role=role, sites=sites).user)
    urls = page_urls(trial)
    urls["participants:detail (second)"] = urls["participants:detail"].replace(
        trial.first.code, trial.second.code
    )
    urls["participants:list (filtered)"] = urls["participants:list"] + "?status=active"
    urls["monitoring:dashboard (sorted)"] = urls["monitoring:dashboard"] + "?sort=-missed"
    urls["api:study_dashboard"] = reverse("api:study_dashboard", kwargs={"study": trial.study.slug})

    opened = 0
    for name, url in urls.items():
        for method in ("get", "post"):
            response = getattr(client, method)(url, follow=True)
            found = leaks(response.text, trial.protocol)
            assert not found, f"{role} {method.upper()} {name} ({response.status_code}): {found}"
            opened += response.status_code == 200
    assert opened >= 6  # the pages the role reaches, and their forms' error pages


def test_the_pharmacist_pages_do_show_allocation(trial: Trial) -> None:
    """The check above would see a leak: the same patterns match the unblinded pages."""
    client = client_for(make_member(study=trial.study, role=Role.PHARMACIST).user)
    urls = page_urls(trial)

    assert leaks(client.get(urls["randomization:kits"]).text, trial.protocol)
    assert leaks(client.get(urls["randomization:allocation_list"]).text, trial.protocol)


LISTING_DOWNLOADS = ("participants:csv", "adverse_events:csv", "side_effects:csv")


def _csv(client: Client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_listing_downloads_are_blinded_and_alike_for_every_blinded_role(trial: Trial) -> None:
    """No arm word in any listing's CSV; the same columns for every blinded role; and the two
    participants on different sequences, who lived the same trial, have the same rows but for
    their codes."""
    headers: dict[str, set[tuple[str, ...]]] = {name: set() for name in LISTING_DOWNLOADS}
    for role in BLINDED:
        client = client_for(make_member(study=trial.study, role=role).user)
        for name in LISTING_DOWNLOADS:
            if name == "side_effects:csv" and role not in (Role.COORDINATOR, Role.INVESTIGATOR):
                continue
            rows = _csv(client, reverse(name, kwargs={"study": trial.study.slug}))
            found = leaks("\n".join(",".join(row) for row in rows), trial.protocol)
            assert not found, f"{role} {name}: {found}"
            headers[name].add(tuple(rows[0]))
            # The participant's code (and an event's own number) come before the other cells.
            code_at = rows[0].index("participant_id")
            mine = [row[code_at + 1 :] for row in rows[1:] if row[code_at] == trial.first.code]
            theirs = [row[code_at + 1 :] for row in rows[1:] if row[code_at] == trial.second.code]
            assert mine, f"{role} {name}: no row of {trial.first.code}"
            assert mine == theirs, f"{role} {name}"
    assert all(len(seen) == 1 for seen in headers.values()), headers
