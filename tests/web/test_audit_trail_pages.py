"""The audit trail's pages: who reads which trail, filters, CSV, the PDF's document, the chain's
check, blinding, and a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.audit.test_trail import _tamper
from tests.builders import (
    client_for,
    make_adverse_event,
    make_entry,
    make_member,
    make_participant,
    make_user,
)
from tests.chromium import CHROMIUM
from tests.web.test_blinding_pages import Trial, leaks, make_trial

from diarytrial.audit.models import AuditEvent
from diarytrial.safety.services import adverse_event_update
from diarytrial.studies.models import Role
from diarytrial.studies.services import site_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial() -> Trial:
    return make_trial()


def _url(trial: Trial, name: str, **kwargs: str) -> str:
    return reverse(name, kwargs={"study": trial.study.slug, **kwargs})


def test_a_statistician_reads_every_staff_action_on_one_participant(trial: Trial) -> None:
    investigator = make_member(study=trial.study, role=Role.INVESTIGATOR, username="ivy").user
    event = make_adverse_event(participant=trial.first, term="Dizziness", side_effect="")
    adverse_event_update(
        event=event, changes={"severity": "moderate"}, reason="worse", actor=investigator
    )
    client = client_for(make_member(study=trial.study, role=Role.STATISTICIAN).user)

    page = client.get(_url(trial, "audit:participant", participant=trial.first.code))

    assert page.status_code == 200
    text = page.text
    assert f"Investigator ivy changed adverse event {event.pk} (Dizziness) of participant" in text
    assert "Severity from mild to moderate. Reason: worse." in text
    assert "kit" in text  # the dispensing, its values hidden
    assert trial.second.code not in text
    assert f"Times in {trial.site.timezone} (UTC" in text
    assert not leaks(text, trial.protocol)


def test_the_participant_filter_finds_staff_actions_not_only_the_phones(trial: Trial) -> None:
    client = client_for(make_member(study=trial.study, role=Role.INVESTIGATOR).user)

    page = client.get(_url(trial, "audit:trail") + f"?participant={trial.first.code}")

    codes = {row.participant_code for row in AuditEvent.objects.filter(study_slug=trial.study.slug)}
    assert trial.first.code in codes
    assert "(on their phone) filled the diary" in page.text
    assert "recorded adverse event" in page.text
    assert "dispensed a kit" in page.text


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR])
def test_a_site_role_reads_only_their_sites_participants(trial: Trial, role: Role) -> None:
    other = site_create(study=trial.study, code="south", name="South", actor=None)
    elsewhere = make_participant(study=trial.study, site=other)
    client = client_for(make_member(study=trial.study, role=role, sites=[trial.site]).user)

    study_page = client.get(_url(trial, "audit:trail"))
    refused = client.get(_url(trial, "audit:participant", participant=elsewhere.code))
    rows = list(csv.reader(io.StringIO(client.get(_url(trial, "audit:csv")).text.lstrip("\ufeff"))))

    assert study_page.status_code == 200
    assert trial.first.code in study_page.text
    assert elsewhere.code not in study_page.text
    assert "site south" not in study_page.text  # an event about no participant
    assert refused.status_code == 404
    assert {row[7] for row in rows[1:]} <= set(
        trial.site.participants.values_list("code", flat=True)
    )


def test_the_pharmacist_and_outsiders_do_not_read_the_trail(trial: Trial) -> None:
    pharmacist = client_for(make_member(study=trial.study, role=Role.PHARMACIST).user)

    assert pharmacist.get(_url(trial, "audit:trail")).status_code == 403
    assert pharmacist.get(_url(trial, "audit:csv")).status_code == 403


def test_filters_by_who_what_and_when(trial: Trial) -> None:
    client = client_for(make_member(study=trial.study, role=Role.ADMINISTRATOR).user)
    today = trial.first.start_date + dt.timedelta(days=20)  # type: ignore[operator]
    url = _url(trial, "audit:trail")

    by_phone = client.get(url + f"?who={trial.first.code}")
    removed = client.get(url + "?action=remove")
    future = client.get(url + f"?since={(today + dt.timedelta(days=400)).isoformat()}")

    assert "(on their phone)" in by_phone.text
    assert "Coordinator" not in by_phone.text.split("<tbody>")[1]
    assert "No event matches this filter." in removed.text
    assert "No event matches this filter." in future.text


@pytest.mark.parametrize(
    "query",
    [
        "page=x",
        "since=2026-02-30",
        "action=teleport",
        "record=nowhere.x",
        "who=" + "a" * 151,
        "participant=%00",
        "since=2026-03-02&until=2026-03-01",
    ],
)
def test_a_filter_that_cannot_be_read_says_what_is_wrong(trial: Trial, query: str) -> None:
    client = client_for(make_member(study=trial.study, role=Role.INVESTIGATOR).user)

    page = client.get(_url(trial, "audit:trail") + "?" + query)
    download = client.get(_url(trial, "audit:csv") + "?" + query)

    assert page.status_code == 400
    assert "This list cannot be filtered like that." in page.text
    assert download.status_code == 400


def test_the_csv_holds_every_matching_event_in_words(trial: Trial) -> None:
    client = client_for(make_member(study=trial.study, role=Role.INVESTIGATOR).user)

    response = client.get(_url(trial, "audit:csv") + f"?participant={trial.first.code}")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert response["Content-Disposition"].endswith('-audit-trail-2026-12-07.csv"') or (
        "-audit-trail-" in response["Content-Disposition"]
    )
    assert rows[0][:4] == ["event_id", "occurred_at_utc", "occurred_at_local", "who"]
    assert len(rows) - 1 == AuditEvent.objects.filter(participant_code=trial.first.code).count()
    assert [int(r[0]) for r in rows[1:]] == sorted((int(r[0]) for r in rows[1:]), reverse=True)


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR]
)
def test_a_blinded_readers_page_csv_and_pdf_document_carry_no_allocation(
    trial: Trial, role: Role
) -> None:
    from django.test import RequestFactory

    from diarytrial.staff.audit.views import trail_print_html

    user = make_member(study=trial.study, role=role).user
    client = client_for(user)
    for name in ("audit:trail", "audit:csv"):
        for query in ("", f"?participant={trial.first.code}", "?record=randomization.kit"):
            response = client.get(_url(trial, name) + query)
            assert response.status_code == 200
            assert not leaks(response.content.decode("utf-8-sig"), trial.protocol), (name, query)
    kit = AuditEvent.objects.filter(object_type="randomization.kit").first()
    assert kit is not None
    pages = [
        _url(trial, "audit:participant", participant=participant.code)
        for participant in (trial.first, trial.second)
    ]
    pages.append(_url(trial, "audit:record", object_type=kit.object_type, object_id=kit.object_id))
    pages.append(_url(trial, "audit:user", username=trial.first.code))
    pages.append(_url(trial, "audit:verify"))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not leaks(response.text, trial.protocol), url
    request = RequestFactory().get(_url(trial, "audit:pdf"))
    request.user = user
    request.study = trial.study  # type: ignore[attr-defined]
    request.membership = user.study_memberships.get()  # type: ignore[attr-defined]
    html = trail_print_html(request)  # type: ignore[arg-type]
    assert "(hidden while blinded)" in html
    assert not leaks(html, trial.protocol)


@pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM}")
def test_the_pdf_is_printed_by_chromium(trial: Trial) -> None:
    client = client_for(make_member(study=trial.study, role=Role.STATISTICIAN).user)

    response = client.get(_url(trial, "audit:pdf") + f"?participant={trial.first.code}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_verify_reports_an_intact_chain_then_the_broken_link(trial: Trial) -> None:
    client = client_for(make_member(study=trial.study, role=Role.INVESTIGATOR).user)
    count = AuditEvent.objects.count()

    intact = client.get(_url(trial, "audit:verify"))
    third = AuditEvent.objects.order_by("id")[2]
    _tamper("UPDATE audit_auditevent SET reason = %s WHERE id = %s", "edited", third.pk)
    broken = client.get(_url(trial, "audit:verify"))

    assert f"The audit trail is intact:</strong> {count} events verified" in intact.text
    assert "The audit trail is broken:" in broken.text
    assert f"event {third.pk} does not match its hash" in broken.text


def test_the_trail_page_costs_the_same_queries_however_many_events(trial: Trial) -> None:
    client = client_for(make_member(study=trial.study, role=Role.STATISTICIAN).user)
    url = _url(trial, "audit:trail")
    outsider = make_user(username="outsider")  # no role in the study: asked about once a page
    for number in range(2):
        site_create(study=trial.study, code=f"extra{number}", name="Extra", actor=outsider)
    client.get(url)

    with CaptureQueriesContext(connection) as few:
        client.get(url + "?action=create&page=1")
    for day in range(3, 12):
        make_entry(
            participant=trial.second,
            diary_date=trial.second.start_date + dt.timedelta(days=day),  # type: ignore[operator]
        )
    for number in range(2, 6):
        site_create(study=trial.study, code=f"extra{number}", name="Extra", actor=outsider)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url + "?action=create&page=1")

    assert response.text.count("<tr>") > 10
    assert len(many) == len(few)


def test_the_participant_history_reads_in_words(trial: Trial) -> None:
    client = client_for(make_member(study=trial.study, role=Role.INVESTIGATOR).user)

    page = client.get(_url(trial, "participants:detail", participant=trial.first.code))

    history = page.text.split('id="history"')[1]
    assert "question_id" not in history
    assert "end_date" not in history
    assert "from_diary_entry" not in history
    assert "Question: " in history
    assert "recorded adverse event" in history


@pytest.mark.parametrize(
    ("name", "kwargs", "status"),
    [
        ("audit:user", {"username": "u" * 200}, 400),
        ("audit:user", {"username": "nobody"}, 200),
        ("audit:record", {"object_type": "nowhere.thing", "object_id": "1"}, 400),
        ("audit:record", {"object_type": "safety.adverseevent", "object_id": "9" * 100}, 400),
        ("audit:record", {"object_type": "safety.adverseevent", "object_id": "<b>1<b>"}, 200),
        ("audit:participant", {"participant": "P-NONE"}, 404),
    ],
)
def test_hostile_addresses_are_answered_in_words(
    trial: Trial, name: str, kwargs: dict[str, str], status: int
) -> None:
    client = client_for(make_member(study=trial.study, role=Role.ADMINISTRATOR).user)

    response = client.get(_url(trial, name, **kwargs))

    assert response.status_code == status
    assert "<b>1<b>" not in response.text
    if status == 400:
        assert "This list cannot be filtered like that." in response.text
