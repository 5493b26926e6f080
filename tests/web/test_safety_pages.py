"""The safety pages of a participant (adverse events, dose level changes) and the diary columns of
the participant list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.builders import (
    client_for,
    make_adverse_event,
    make_allocation,
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
)

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.participants.models import DoseLevelChange, Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_today
from diarytrial.safety.models import AdverseEvent, EventStatus
from diarytrial.studies.models import Role, Site, Study

pytestmark = pytest.mark.django_db

Status = ParticipantStatus


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def site(study: Study) -> Site:
    return make_site(study=study, code="stanford")


@pytest.fixture
def participant(study: Study, site: Site) -> Participant:
    """Enrolled ten days ago (in the participant's time zone)."""
    created = make_participant(study=study, site=site)
    start = participant_today(created) - dt.timedelta(days=10)
    return make_participant(study=study, site=site, start_date=start)


@pytest.fixture
def coordinator(study: Study) -> Client:
    return client_for(make_member(study=study, role=Role.COORDINATOR).user)


def url(participant: Participant, path: str = "") -> str:
    return f"/studies/{participant.study.slug}/participants/{participant.code}/{path}"


def errors_of(html: str) -> list[str]:
    lists = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>([^<]*)</li>", "".join(lists))


def event_data(participant: Participant, **changes: str) -> dict[str, str]:
    data = {
        "side_effect": "headache",
        "term": "",
        "onset_date": (participant_today(participant) - dt.timedelta(days=2)).isoformat(),
        "end_date": "",
        "severity": "moderate",
        "serious": "no",
        "related": "possible",
        "action": "none",
        "outcome": "recovering",
    }
    data.update(changes)
    return data


# --- adverse events -------------------------------------------------------------------------------


def test_the_form_offers_the_protocols_side_effects_first_then_another_event(
    participant: Participant, coordinator: Client
) -> None:
    text = coordinator.get(url(participant, "adverse-events/new/")).text

    labels = re.findall(r'name="side_effect" value="([^"]+)"', text)
    assert labels == [
        "vivid_dreams",
        "headache",
        "nausea",
        "diarrhea",
        "anxiety",
        "insomnia",
        "other",
    ]
    assert "Another event (write its term)" in text
    assert "<legend>Event:</legend>" in text


def test_recording_a_side_effect_takes_its_label_as_the_term(
    participant: Participant, coordinator: Client
) -> None:
    response = coordinator.post(url(participant, "adverse-events/new/"), event_data(participant))

    assert response.status_code == 302
    assert response["Location"] == url(participant)
    event = AdverseEvent.objects.get()
    assert (event.term, event.side_effect, event.severity) == ("Headache", "headache", "moderate")
    page = coordinator.get(url(participant)).text
    assert "Adverse event Headache recorded." in page
    assert f"recorded adverse event {event.pk} (Headache)" in page  # in the history, in words


def test_another_event_needs_its_term(participant: Participant, coordinator: Client) -> None:
    refused = coordinator.post(
        url(participant, "adverse-events/new/"), event_data(participant, side_effect="other")
    )
    recorded = coordinator.post(
        url(participant, "adverse-events/new/"),
        event_data(participant, side_effect="other", term="Sprained ankle"),
    )

    assert refused.status_code == 200
    assert "Write the event&#x27;s term, e.g. Sprained ankle." in refused.text
    assert recorded.status_code == 302
    event = AdverseEvent.objects.get()
    assert (event.term, event.side_effect) == ("Sprained ankle", "")


def test_dates_and_choices_are_checked_next_to_their_fields(
    participant: Participant, coordinator: Client
) -> None:
    today = participant_today(participant)
    response = coordinator.post(
        url(participant, "adverse-events/new/"),
        event_data(
            participant,
            onset_date=(today + dt.timedelta(days=1)).isoformat(),
            end_date=(today - dt.timedelta(days=5)).isoformat(),
            severity="",
            related="",
        ),
    )

    assert response.status_code == 200
    errors = errors_of(response.text)
    assert any("The onset date" in e and "is in the future" in e for e in errors)
    assert errors.count("This field is required.") == 2
    assert 'id="id_onset_date_error"' in response.text
    assert not AdverseEvent.objects.exists()


def test_the_services_refusal_is_shown_on_the_form(
    participant: Participant, coordinator: Client
) -> None:
    before_consent = participant.start_date - dt.timedelta(days=30)  # type: ignore[operator]

    response = coordinator.post(
        url(participant, "adverse-events/new/"),
        event_data(participant, onset_date=before_consent.isoformat()),
    )

    assert response.status_code == 200
    assert "record it as medical history" in response.text
    assert "This was not done." in response.text


def test_a_serious_event_tells_the_investigators(
    study: Study, participant: Participant, coordinator: Client, django_capture_on_commit_callbacks
) -> None:
    investigator = make_member(study=study, role=Role.INVESTIGATOR).user
    investigator.email = "dr@example.org"
    investigator.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            url(participant, "adverse-events/new/"), event_data(participant, serious="yes")
        )

    assert response.status_code == 302
    assert (
        "It is serious: the investigators are e-mailed." in coordinator.get(url(participant)).text
    )
    assert [m.to for m in mail.outbox] == [["dr@example.org"]]


def test_a_diary_report_is_offered_and_confirmed_as_an_event(
    participant: Participant, coordinator: Client
) -> None:
    assert participant.start_date is not None
    day = participant.start_date + dt.timedelta(days=3)
    entry = make_entry(participant=participant, diary_date=day, side_effects={"nausea": "very"})

    page = coordinator.get(url(participant)).text
    link = re.search(r'href="([^"]*/nausea/[^"]*/confirm/\?back=participant)"', page)
    assert "Side effects reported in the diary" in page
    assert f"Nausea, on {day.isoformat()}" in page
    assert link is not None
    form = coordinator.get(link.group(1)).text
    data = {
        k: v for k, v in event_data(participant).items() if k not in ("side_effect", "onset_date")
    }
    response = coordinator.post(link.group(1), {**data, "back": "participant"})

    assert f"starts on the first night it was reported, {day.isoformat()}" in form
    assert response.status_code == 302
    assert response["Location"] == url(participant)
    event = AdverseEvent.objects.get()
    assert (event.from_diary_entry, event.onset_date) == (entry, day)
    assert "Side effects reported in the diary" not in coordinator.get(url(participant)).text


def test_the_event_form_can_be_prefilled_from_a_diary_report(
    participant: Participant, coordinator: Client
) -> None:
    assert participant.start_date is not None
    day = participant.start_date + dt.timedelta(days=3)
    entry = make_entry(participant=participant, diary_date=day, side_effects={"nausea": "very"})
    link = url(participant, f"adverse-events/new/?side_effect=nausea&diary_date={day.isoformat()}")

    form = coordinator.get(link).text
    response = coordinator.post(
        link, event_data(participant, side_effect="nausea", onset_date=day.isoformat())
    )

    assert re.search(r'value="nausea"[^>]*checked', form)
    assert f"Confirms the side effect reported in the diary of {day.isoformat()}" in form
    assert response.status_code == 302
    assert AdverseEvent.objects.get().from_diary_entry == entry


def test_changing_an_event_needs_a_reason_and_a_change(
    participant: Participant, coordinator: Client
) -> None:
    event = make_adverse_event(participant=participant)
    change_url = url(participant, f"adverse-events/{event.pk}/change/")
    form = coordinator.get(change_url).text
    data = event_data(participant, onset_date=event.onset_date.isoformat(), severity="mild")

    without_reason = coordinator.post(change_url, data)
    unchanged = coordinator.post(change_url, {**data, "reason": "checked"})
    changed = coordinator.post(
        change_url, {**data, "outcome": "recovered", "reason": "Seen at the visit"}
    )

    assert re.search(r'value="headache"[^>]*checked', form)
    assert "Say why the event changes." in errors_of(without_reason.text)
    assert "nothing to change" in unchanged.text
    assert changed.status_code == 302
    event.refresh_from_db()
    assert event.outcome == "recovered"
    update = AuditEvent.objects.get(object_type="safety.adverseevent", action=AuditAction.UPDATE)
    assert update.reason == "Seen at the visit"
    assert "Outcome from recovering to recovered" in coordinator.get(url(participant)).text


def test_removing_an_event_keeps_it_marked_with_the_reason(
    participant: Participant, coordinator: Client
) -> None:
    event = make_adverse_event(participant=participant)
    remove_url = url(participant, f"adverse-events/{event.pk}/remove/")

    refused = coordinator.post(remove_url, {"reason": ""})
    removed = coordinator.post(remove_url, {"reason": "Recorded twice"})

    assert "Say why." in errors_of(refused.text)
    assert removed.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.REMOVED
    page = coordinator.get(url(participant)).text
    assert "removed</strong>" in page
    assert "Recorded twice" in page
    assert (
        coordinator.get(url(participant, f"adverse-events/{event.pk}/change/")).status_code == 200
    )
    again = coordinator.post(
        url(participant, f"adverse-events/{event.pk}/change/"),
        {**event_data(participant), "reason": "x"},
    )
    assert "was removed" in again.text


def test_an_event_of_another_participant_is_not_found(
    study: Study, site: Site, participant: Participant, coordinator: Client
) -> None:
    other = make_adverse_event(participant=make_participant(study=study, site=site))

    response = coordinator.get(url(participant, f"adverse-events/{other.pk}/change/"))

    assert response.status_code == 404


def test_a_coordinator_of_another_site_cannot_reach_the_forms(
    study: Study, participant: Participant
) -> None:
    elsewhere = make_site(study=study, code="boston")
    client = client_for(
        make_member(study=study, role=Role.COORDINATOR, sites=[elsewhere], username="bo").user
    )

    assert client.get(url(participant, "adverse-events/new/")).status_code == 404
    assert client.post(url(participant, "dose/"), {}).status_code == 404


# --- dose level ---------------------------------------------------------------------------------


def test_the_dose_form_offers_the_other_levels_as_lower_or_higher(
    participant: Participant, coordinator: Client
) -> None:
    text = coordinator.get(url(participant, "dose/")).text

    assert re.findall(r'name="level" value="([^"]+)"', text) == ["reduced"]
    assert "reduced (lower)" in text
    assert "Now at dose level <strong>standard</strong>" in text


def test_lowering_and_restoring_the_dose_level(
    participant: Participant, coordinator: Client
) -> None:
    today = participant_today(participant).isoformat()

    refused = coordinator.post(
        url(participant, "dose/"), {"level": "reduced", "effective_on": today}
    )
    lowered = coordinator.post(
        url(participant, "dose/"),
        {"level": "reduced", "effective_on": today, "reason": "Vivid dreams, very unpleasant"},
    )
    offered = coordinator.get(url(participant, "dose/")).text
    restored = coordinator.post(
        url(participant, "dose/"),
        {"level": "standard", "effective_on": today, "reason": "Dreams gone"},
    )

    assert "Say why the dose level changes." in errors_of(refused.text)
    assert lowered.status_code == 302
    assert "standard (higher)" in offered
    assert restored.status_code == 302
    participant.refresh_from_db()
    assert participant.dose_level == "standard"
    assert list(
        DoseLevelChange.objects.filter(participant=participant).values_list("level", flat=True)
    ) == ["standard", "reduced", "standard"]
    page = coordinator.get(url(participant)).text
    assert "Vivid dreams, very unpleasant" in page


def test_a_dose_change_in_the_future_or_to_an_unknown_level_is_refused(
    participant: Participant, coordinator: Client
) -> None:
    tomorrow = (participant_today(participant) + dt.timedelta(days=1)).isoformat()

    response = coordinator.post(
        url(participant, "dose/"), {"level": "huge", "effective_on": tomorrow, "reason": "x"}
    )

    errors = errors_of(response.text)
    assert any("Select a valid choice" in e for e in errors)
    assert any("is in the future" in e for e in errors)
    participant.refresh_from_db()
    assert participant.dose_level == "standard"


def test_the_detail_offers_safety_actions_to_coordinators_and_investigators_only(
    study: Study, participant: Participant, coordinator: Client
) -> None:
    pharmacist = client_for(make_member(study=study, role=Role.PHARMACIST).user)

    assert "Record an adverse event" in coordinator.get(url(participant)).text
    assert "Change the dose level" in coordinator.get(url(participant)).text
    assert "Record an adverse event" not in pharmacist.get(url(participant)).text
    assert pharmacist.get(url(participant, "dose/")).status_code == 403


# --- the diary in the participant list ------------------------------------------------------------


def test_the_list_shows_the_last_diary_and_the_nights_kept(
    participant: Participant, coordinator: Client
) -> None:
    assert participant.start_date is not None
    for offset in (0, 1, 2, 5):
        make_entry(
            participant=participant, diary_date=participant.start_date + dt.timedelta(offset)
        )

    text = coordinator.get(f"/studies/{participant.study.slug}/participants/").text

    row = re.search(rf"<code>{participant.code}</code>.*?</tr>", text, re.S)
    assert row is not None
    last = (participant.start_date + dt.timedelta(days=5)).isoformat()
    assert f"<td>{last}</td>" in row.group(0)
    assert '40% <span class="muted">(4 of 10)</span>' in row.group(0)  # 10 nights to yesterday


def test_list_queries_do_not_grow_with_diaries(study: Study, site: Site) -> None:
    make_allocation(study=study, size=40)
    client = client_for(make_member(study=study, role=Role.INVESTIGATOR).user)
    first = make_participant(study=study, site=site, status=Status.RANDOMIZED)
    make_entry(participant=first)
    list_url = f"/studies/{study.slug}/participants/"
    with CaptureQueriesContext(connection) as one:
        client.get(list_url)

    for _ in range(10):
        make_entry(participant=make_participant(study=study, site=site, status=Status.RANDOMIZED))
    with CaptureQueriesContext(connection) as many:
        client.get(list_url)

    assert len(many) == len(one)
