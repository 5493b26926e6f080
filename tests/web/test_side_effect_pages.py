"""The side effects reported in the diary on the staff pages: the study's list, confirming one as
an adverse event, dismissing one, and the candidates on the participant's page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.builders import (
    LEFT_OPEN,
    client_for,
    make_entry,
    make_member,
    make_participant,
    make_site,
)
from tests.builders import make_study as new_study
from tests.diary.helpers import NOW, START

from diarytrial.audit.models import AuditEvent
from diarytrial.participants.models import Participant
from diarytrial.safety.models import AdverseEvent, ReviewDecision, SideEffectReview
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db

NOV = [dt.date(2025, 11, day) for day in range(1, 31)]  # NOV[3] is 4 November
EVENT = {
    "term": "",
    "end_date": "",
    "severity": "mild",
    "serious": "no",
    "related": "possible",
    "action": "none",
    "outcome": "recovering",
}


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def study() -> Study:
    return new_study()


@pytest.fixture
def site(study: Study) -> Site:
    return make_site(study=study, code="stanford")


@pytest.fixture
def participant(study: Study, site: Site) -> Participant:
    return make_participant(study=study, site=site, start_date=START)


@pytest.fixture
def coordinator(study: Study, site: Site) -> Client:
    return client_for(make_member(study=study, role=Role.COORDINATOR, sites=[site]).user)


def nights(participant: Participant, effect: str, *days_and_levels: tuple[int, str]) -> None:
    for index, level in days_and_levels:
        make_entry(participant=participant, diary_date=NOV[index], side_effects={effect: level})


def list_url(study: Study) -> str:
    return f"/studies/{study.slug}/side-effects/"


def decision_url(participant: Participant, effect: str, first: dt.date, what: str) -> str:
    return (
        f"/studies/{participant.study.slug}/side-effects/{participant.code}/{effect}/"
        f"{first.isoformat()}/{what}/"
    )


def errors_of(html: str) -> list[str]:
    lists = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>([^<]*)</li>", "".join(lists))


def test_the_list_shows_one_line_per_episode_very_unpleasant_marked_first(
    participant: Participant, coordinator: Client
) -> None:
    nights(participant, "headache", *[(i, "somewhat") for i in range(10)])
    nights(participant, "nausea", (12, "very"))

    text = coordinator.get(list_url(participant.study)).text

    rows = re.findall(r"<tr>\s*<td><a [^>]*><code>(P-\w+)</code></a></td>(.*?)</tr>", text, re.S)
    assert [row[0] for row in rows] == [participant.code, participant.code]
    assert 'Nausea <strong class="tag">very unpleasant</strong>' in rows[0][1]
    assert "10 nights, 2025-11-01 to 2025-11-10" in rows[1][1]
    assert "very unpleasant" not in rows[1][1]
    assert 'href="/studies/' in text
    assert "/nausea/2025-11-13/confirm/" in text


def test_a_coordinator_sees_the_candidates_of_their_sites_only(
    study: Study, participant: Participant, coordinator: Client
) -> None:
    elsewhere = make_participant(
        study=study, site=make_site(study=study, code="boston"), start_date=START
    )
    nights(participant, "headache", (1, "somewhat"))
    nights(elsewhere, "insomnia", (1, "very"))
    investigator = client_for(make_member(study=study, role=Role.INVESTIGATOR).user)

    mine = coordinator.get(list_url(study)).text
    everyone = investigator.get(list_url(study)).text

    assert participant.code in mine
    assert elsewhere.code not in mine
    assert participant.code in everyone
    assert elsewhere.code in everyone
    assert (
        coordinator.get(decision_url(elsewhere, "insomnia", NOV[1], "confirm")).status_code == 404
    )
    assert (
        coordinator.post(
            decision_url(elsewhere, "insomnia", NOV[1], "dismiss"), {"reason": "x"}
        ).status_code
        == 404
    )
    assert not SideEffectReview.objects.exists()


@pytest.mark.parametrize("role", [Role.PHARMACIST, Role.STATISTICIAN, Role.ADMINISTRATOR])
def test_other_roles_are_refused(study: Study, participant: Participant, role: Role) -> None:
    nights(participant, "headache", (1, "somewhat"))
    client = client_for(make_member(study=study, role=role).user)

    assert client.get(list_url(study)).status_code == 403
    assert client.get(decision_url(participant, "headache", NOV[1], "confirm")).status_code == 403


def test_confirming_records_the_event_from_the_first_night(
    participant: Participant, coordinator: Client
) -> None:
    nights(participant, "nausea", (3, "somewhat"), (4, "very"))
    url = decision_url(participant, "nausea", NOV[3], "confirm")

    form = coordinator.get(url).text
    refused = coordinator.post(url, {**EVENT, "severity": "", "end_date": "2025-11-02"})
    done = coordinator.post(url, {**EVENT, "notes": "Called her"})

    assert "Record the adverse event" in form
    assert 'value="Nausea"' in form  # the term, pre-filled
    assert "starts on the first night it was reported, 2025-11-04" in form
    assert 'name="onset_date"' not in form
    assert 'name="side_effect"' not in form
    errors = errors_of(refused.text)
    assert "This field is required." in errors
    assert "The end date is before the first night it was reported (2025-11-04)." in errors
    assert done.status_code == 302
    assert done["Location"] == list_url(participant.study)
    event = AdverseEvent.objects.get()
    assert (event.term, event.onset_date, event.side_effect) == ("Nausea", NOV[3], "nausea")
    review = SideEffectReview.objects.get()
    assert (review.decision, review.reason) == (ReviewDecision.CONFIRMED, "Called her")
    after = coordinator.get(list_url(participant.study)).text
    assert "recorded as an adverse event from 2025-11-04" in after
    assert "No side effect reported in the diary is waiting for a decision." in after
    assert coordinator.get(url).status_code == 404  # decided: nothing to confirm


def test_dismissing_from_the_list_needs_a_reason(
    participant: Participant, coordinator: Client
) -> None:
    nights(participant, "headache", (1, "somewhat"), (2, "somewhat"))
    url = decision_url(participant, "headache", NOV[1], "dismiss")

    refused = coordinator.post(url, {"reason": "  "})
    done = coordinator.post(url, {"reason": "Known, mild, not an AE"})

    assert refused.status_code == 200
    assert "Say why it is not an adverse event." in errors_of(refused.text)
    assert "Please correct what is marked below." in refused.text
    assert done.status_code == 302
    review = SideEffectReview.objects.get()
    assert (review.decision, review.reason) == (ReviewDecision.DISMISSED, "Known, mild, not an AE")
    assert not AdverseEvent.objects.exists()
    event = AuditEvent.objects.get(object_type="safety.sideeffectreview")
    assert event.reason == "Known, mild, not an AE"
    assert "dismissed: not an adverse event" in coordinator.get(list_url(participant.study)).text


def test_the_participants_page_lists_the_candidates_and_returns_there(
    participant: Participant, coordinator: Client
) -> None:
    nights(participant, "insomnia", (5, "very"), (6, "very"))
    detail = f"/studies/{participant.study.slug}/participants/{participant.code}/"

    page = coordinator.get(detail).text
    link = re.search(r'href="([^"]*/insomnia/2025-11-06/dismiss/\?back=participant)"', page)
    assert "Side effects reported in the diary, waiting for a decision" in page
    assert "Insomnia, 2 nights from 2025-11-06 to 2025-11-07, <strong>very unpleasant" in page
    assert link is not None
    form = coordinator.get(link.group(1)).text
    assert 'name="back" value="participant"' in form
    done = coordinator.post(link.group(1), {"reason": "Known", "back": "participant"})

    assert done["Location"] == detail
    after = coordinator.get(detail).text
    assert "waiting for a decision" not in after
    assert "reviewed a side effect reported in the diary" in after  # the history, in words
    assert "Decision: dismissed" in after


def test_nothing_to_decide_on_a_locked_study(
    study: Study, participant: Participant, coordinator: Client
) -> None:
    nights(participant, "headache", (1, "somewhat"))
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    study_lock(study=study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)

    text = coordinator.get(list_url(study)).text
    refused = coordinator.post(
        decision_url(participant, "headache", NOV[1], "dismiss"), {"reason": "mild"}
    )

    assert "locked for analysis" in text
    assert "Confirm as adverse event" not in text
    assert refused.status_code == 200
    assert "was locked for analysis" in refused.text
    assert not SideEffectReview.objects.exists()


def test_list_queries_do_not_grow_with_candidates(study: Study, site: Site) -> None:
    client = client_for(make_member(study=study, role=Role.INVESTIGATOR).user)
    first = make_participant(study=study, site=site, start_date=START)
    nights(first, "headache", (1, "somewhat"))
    with CaptureQueriesContext(connection) as one:
        assert client.get(list_url(study)).status_code == 200

    for _ in range(5):
        person = make_participant(study=study, site=site, start_date=START)
        nights(person, "nausea", (2, "very"), (3, "somewhat"), (9, "somewhat"))
    with CaptureQueriesContext(connection) as many:
        text = client.get(list_url(study)).text

    assert text.count("Confirm as adverse event") == 11
    assert len(many) == len(one)
