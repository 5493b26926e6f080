"""The participant pages: list, detail, and the forms from screening to withdrawal and emergency
unblinding, per role, with their validation errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.builders import (
    client_for,
    make_allocation,
    make_dispensing,
    make_kits,
    make_member,
    make_participant,
    make_site,
    make_study,
)

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_today
from diarytrial.studies.models import Role, Site, Study

pytestmark = pytest.mark.django_db

Status = ParticipantStatus


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def stanford(study: Study) -> Site:
    return make_site(study=study, code="stanford", name="Stanford Pain Clinic")


@pytest.fixture
def boston(study: Study) -> Site:
    return make_site(study=study, code="boston", name="Boston Rheumatology")


PASSWORD = "emergency 24/7"
SIGN = {"password": PASSWORD, "meaning": "responsible"}
"""An electronic signature: the member's password and the meaning."""


def member(study: Study, role: Role, sites: list[Site] | None = None) -> Client:
    return client_for(make_member(study=study, role=role, sites=sites, password=PASSWORD).user)


def url(study: Study, name: str = "", participant: Participant | None = None) -> str:
    base = f"/studies/{study.slug}/participants/"
    if participant is not None:
        base += f"{participant.code}/"
    return base + (f"{name}/" if name else "")


def errors_of(html: str) -> list[str]:
    """The texts of the error lists on a page."""
    return re.findall(
        r"<li>([^<]*)</li>",
        "".join(re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)),
    )


def days_ago(n: int) -> dt.date:
    return timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=n)


# --- list -------------------------------------------------------------------------------------


def test_the_list_shows_code_site_status_period_and_dose_level(
    study: Study, stanford: Site
) -> None:
    make_allocation(study=study)
    randomized = make_participant(
        study=study, site=stanford, status=Status.RANDOMIZED, start_date=days_ago(20)
    )
    screened = make_participant(study=study, site=stanford, status=Status.SCREENED)

    response = member(study, Role.INVESTIGATOR).get(url(study))

    assert response.status_code == 200
    text = response.text
    row = re.search(rf"<tr>\s*<td><a [^>]*><code>{randomized.code}</code>.*?</tr>", text, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    assert "stanford" in cells[1]
    assert "Randomized" in cells[2]
    # Study day 21 (20 in the participant's zone while UTC is already on the next day):
    # treatment day 7 (6), since the first visit; never a period or a condition.
    assert randomized.start_date is not None
    study_day = (participant_today(randomized) - randomized.start_date).days + 1
    assert cells[3] == f"treatment day {study_day - 14} (since visit 1)"
    assert cells[4] == "standard"
    assert screened.code in text
    assert "2 participants" in text


def test_a_coordinator_lists_only_the_participants_of_their_sites(
    study: Study, stanford: Site, boston: Site
) -> None:
    mine = make_participant(study=study, site=stanford)
    theirs = make_participant(study=study, site=boston)

    text = member(study, Role.COORDINATOR, sites=[stanford]).get(url(study)).text

    assert mine.code in text
    assert theirs.code not in text


def test_the_list_filters_by_status_and_htmx_gets_the_table_only(
    study: Study, stanford: Site
) -> None:
    screened = make_participant(study=study, site=stanford, status=Status.SCREENED)
    enrolled = make_participant(study=study, site=stanford)
    client = member(study, Role.COORDINATOR)

    page = client.get(url(study), {"status": ["screened"]})
    fragment = client.get(url(study), {"status": ["enrolled"]}, HTTP_HX_REQUEST="true")

    assert screened.code in page.text
    assert enrolled.code not in page.text
    assert 'value="screened" id="id_status_0" checked' in page.text
    assert fragment.text.lstrip().startswith('<div id="participant-table"')
    assert enrolled.code in fragment.text
    assert screened.code not in fragment.text
    assert "<html" not in fragment.text
    assert "HX-Request" in fragment["Vary"]


def test_an_unknown_status_in_the_filter_is_refused_with_what_is_wrong(
    study: Study, stanford: Site
) -> None:
    participant = make_participant(study=study, site=stanford)

    response = member(study, Role.COORDINATOR).get(url(study), {"status": "nonsense"})

    assert response.status_code == 400
    assert "Status (status): Select a valid choice. nonsense is not one of the" in response.text
    assert participant.code not in response.text


def _list_queries(client: Client, study: Study) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url(study)).status_code == 200
    return len(captured)


def test_list_queries_do_not_grow_with_participants(study: Study, stanford: Site) -> None:
    make_allocation(study=study, size=40)
    client = member(study, Role.COORDINATOR, sites=[stanford])
    make_participant(study=study, site=stanford, status=Status.RANDOMIZED)
    one = _list_queries(client, study)

    for n in range(29):
        status = (Status.RANDOMIZED, Status.ENROLLED, Status.SCREENED)[n % 3]
        make_participant(study=study, site=stanford, status=status, start_date=days_ago(n))

    assert _list_queries(client, study) == one


# --- detail -----------------------------------------------------------------------------------


def test_a_participant_of_another_site_is_not_found_for_a_coordinator(
    study: Study, stanford: Site, boston: Site
) -> None:
    theirs = make_participant(study=study, site=boston)

    response = member(study, Role.COORDINATOR, sites=[stanford]).get(url(study, "", theirs))

    assert response.status_code == 404
    assert theirs.code in response.text  # the message repeats the code asked for, no more
    assert "Boston" not in response.text


def test_an_unknown_code_is_not_found(study: Study, stanford: Site) -> None:
    response = member(study, Role.INVESTIGATOR).get(url(study) + "P-ZZZZ/")

    assert response.status_code == 404


def test_blinded_readers_see_the_visits_and_no_phase(study: Study, stanford: Site) -> None:
    make_allocation(study=study)
    start = days_ago(60)
    participant = make_participant(
        study=study, site=stanford, status=Status.RANDOMIZED, start_date=start
    )

    text = member(study, Role.INVESTIGATOR).get(url(study, "", participant)).text

    schedule = text.split('id="schedule"')[1].split("</table>")[0]
    rows = re.findall(
        r"<tr[^>]*>\s*<td>(Visit \d)</td>\s*<td>([\d-]+)</td>\s*<td>(\d+)</td>", schedule
    )
    assert [(name, int(day)) for name, _date, day in rows] == [
        ("Visit 1", 0),
        ("Visit 2", 28),
        ("Visit 3", 42),
        ("Visit 4", 84),
        ("Visit 5", 98),
        ("Visit 6", 126),
    ]
    assert rows[2][1] == (start + dt.timedelta(days=13 + 42)).isoformat()
    assert "days 43–84" in schedule
    # Study day 61 is treatment day 47: in the days of the kit of visit 3.
    assert re.search(r'<tr class="current">\s*<td>Visit 3</td>', schedule)
    for word in ("Treatment period", "Washout", "period 1", "Planned phases"):
        assert word not in text


def test_the_pharmacist_also_sees_the_planned_phases(study: Study, stanford: Site) -> None:
    make_allocation(study=study)
    participant = make_participant(
        study=study, site=stanford, status=Status.RANDOMIZED, start_date=days_ago(20)
    )

    text = member(study, Role.PHARMACIST).get(url(study, "", participant)).text

    phases = text.split('id="phases"')[1].split("</table>")[0]
    assert "Washout" in phases
    assert "Treatment period 2" in phases
    assert "Visit 6" in text


def test_the_detail_shows_kits_doses_screening_consent_and_history(
    study: Study, stanford: Site
) -> None:
    make_allocation(study=study)
    make_kits(study=study)
    participant = make_participant(study=study, site=stanford, status=Status.RANDOMIZED)
    dispensing = make_dispensing(participant=participant)

    text = member(study, Role.COORDINATOR).get(url(study, "", participant)).text

    assert f"kit for days 1-28: kit <code>{dispensing.kit.code}</code> dispensed on" in text
    assert "Visit 1, treatment day 0 (" in text
    assert "Meets the 1990 American College of Rheumatology criteria" in text
    assert "Consent form version 1.0" in text
    assert "Dose level history" in text
    assert "screened participant" in text  # the history in words (audit.wording)
    assert "recorded a screening answer" in text
    assert "Status from randomized to active" in text


def test_the_history_leaves_out_phases_slots_randomizations_and_kits(
    study: Study, stanford: Site
) -> None:
    make_allocation(study=study)
    make_kits(study=study)
    participant = make_participant(study=study, site=stanford, status=Status.RANDOMIZED)
    make_dispensing(participant=participant)

    text = member(study, Role.INVESTIGATOR).get(url(study, "", participant)).text
    history = text.split('id="history"')[1].split("</table>")[0]

    assert "slot" not in history.lower()
    assert "phase" not in history.lower()
    assert "Randomization" not in history
    # Each planned phase is an audit event; none is shown.
    phases = AuditEvent.objects.filter(object_type="participants.participantphase").count()
    assert phases == 4


# --- screening ----------------------------------------------------------------------------------


def _screening(site: str = "stanford", **answers: str) -> dict[str, str]:
    data = {
        "site": site,
        "timezone": "America/Los_Angeles",
        "opioid_use": "no",
        "age": "47",
        "eligibility_acr_criteria": "yes",
        "eligibility_pain_at_least_4": "yes",
        "eligibility_taking_opioid_antagonist": "no",
    }
    data.update(answers)
    return data


def test_screening_creates_an_eligible_participant_and_goes_to_their_page(
    study: Study, stanford: Site
) -> None:
    client = member(study, Role.COORDINATOR, sites=[stanford])

    response = client.post(url(study, "screen"), _screening())

    participant = Participant.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(study, "", participant)
    assert participant.eligible
    assert participant.age == 47
    assert not participant.opioid_use
    page = client.get(response["Location"]).text
    assert "is screened and eligible" in page
    assert "Enrol</a>" in page


def test_screening_an_ineligible_person_records_them_with_the_reason(
    study: Study, stanford: Site
) -> None:
    client = member(study, Role.INVESTIGATOR)

    response = client.post(
        url(study, "screen"), _screening(eligibility_taking_opioid_antagonist="yes")
    )

    participant = Participant.objects.get()
    assert not participant.eligible
    page = client.get(response["Location"]).text
    assert "not eligible" in page
    assert "opioid antagonist" in page
    assert "Enrol</a>" not in page


def test_screening_says_next_to_each_field_what_is_missing(study: Study, stanford: Site) -> None:
    data = _screening()
    del data["eligibility_pain_at_least_4"], data["opioid_use"]
    data["timezone"] = "Mars/Olympus_Mons"

    response = member(study, Role.COORDINATOR).post(url(study, "screen"), data)

    assert response.status_code == 200
    assert not Participant.objects.exists()
    text = response.text
    assert "Answer this question: yes or no." in text
    assert "Select a valid choice. Mars/Olympus_Mons is not one of the available choices." in text
    assert 'aria-invalid="true"' in text
    assert 'id="id_eligibility_pain_at_least_4_error"' in text
    assert "Please correct what is marked below." in text


def test_a_coordinator_screens_only_at_their_sites(
    study: Study, stanford: Site, boston: Site
) -> None:
    client = member(study, Role.COORDINATOR, sites=[stanford])

    page = client.get(url(study, "screen")).text
    response = client.post(url(study, "screen"), _screening(site="boston"))

    assert "Boston" not in page
    assert response.status_code == 200
    assert not Participant.objects.exists()
    assert "Select a valid choice" in response.text


@pytest.mark.parametrize("role", [Role.PHARMACIST, Role.STATISTICIAN, Role.ADMINISTRATOR])
def test_other_roles_cannot_screen(study: Study, stanford: Site, role: Role) -> None:
    response = member(study, role).post(url(study, "screen"), _screening())

    assert response.status_code == 403
    assert not Participant.objects.exists()


def test_forms_need_the_csrf_token(study: Study, stanford: Site) -> None:
    membership = make_member(study=study, role=Role.COORDINATOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)

    response = client.post(url(study, "screen"), _screening())

    assert response.status_code == 403
    assert not Participant.objects.exists()


# --- enrolment ----------------------------------------------------------------------------------


def test_enrolment_records_consent_and_start(study: Study, stanford: Site) -> None:
    participant = make_participant(study=study, site=stanford, status=Status.SCREENED)
    client = member(study, Role.COORDINATOR)
    today = days_ago(1)

    form = client.get(url(study, "enrol", participant)).text
    response = client.post(
        url(study, "enrol", participant),
        {
            "consent_form_version": "2.1",
            "consented_on": today.isoformat(),
            "start_date": (today + dt.timedelta(days=2)).isoformat(),
        },
    )

    assert "America/Los_Angeles" in form  # the time zone recorded at screening
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.ENROLLED
    assert participant.start_date == today + dt.timedelta(days=2)
    assert participant.consents.get().form_version == "2.1"
    assert "is enrolled" in client.get(response["Location"]).text


def test_enrolment_errors_are_shown_next_to_the_fields(study: Study, stanford: Site) -> None:
    participant = make_participant(study=study, site=stanford, status=Status.SCREENED)
    future = days_ago(-10)

    response = member(study, Role.INVESTIGATOR).post(
        url(study, "enrol", participant),
        {"consent_form_version": "", "consented_on": future.isoformat(), "start_date": "soon"},
    )

    assert response.status_code == 200
    errors = errors_of(response.text)
    assert "This field is required." in errors
    assert any("is in the future" in e for e in errors)
    assert "Enter a valid date." in errors
    participant.refresh_from_db()
    assert participant.status == Status.SCREENED


def test_a_start_before_consent_is_refused_on_the_start_date(study: Study, stanford: Site) -> None:
    participant = make_participant(study=study, site=stanford, status=Status.SCREENED)

    response = member(study, Role.INVESTIGATOR).post(
        url(study, "enrol", participant),
        {
            "consent_form_version": "1",
            "consented_on": days_ago(1).isoformat(),
            "start_date": days_ago(3).isoformat(),
        },
    )

    assert 'id="id_start_date_error"' in response.text
    assert "before consent" in response.text


def test_an_ineligible_person_gets_no_enrolment_form(study: Study, stanford: Site) -> None:
    participant = make_participant(
        study=study, site=stanford, status=Status.SCREENED, eligible=False
    )
    client = member(study, Role.COORDINATOR)

    page = client.get(url(study, "enrol", participant)).text
    client.post(
        url(study, "enrol", participant),
        {"consent_form_version": "1", "consented_on": days_ago(0), "start_date": days_ago(0)},
    )

    assert "cannot be enrolled" in page
    assert "<form" not in page.split("<main")[1].split("</main>")[0]
    participant.refresh_from_db()
    assert participant.status == Status.SCREENED


def test_a_step_that_does_not_fit_the_status_is_refused_with_what_comes_first(
    study: Study, stanford: Site
) -> None:
    enrolled = make_participant(study=study, site=stanford)

    enrol = member(study, Role.COORDINATOR).get(url(study, "enrol", enrolled))
    complete = member(study, Role.INVESTIGATOR).get(url(study, "complete", enrolled))

    assert enrol.status_code == 409
    assert f"Participant {enrolled.code} is enrolled" in enrol.text
    assert "cannot be enrolled" in enrol.text
    assert complete.status_code == 409
    assert "Randomize them first." in complete.text


# --- randomization ------------------------------------------------------------------------------


def test_randomizing_shows_randomized_and_never_the_sequence(study: Study, stanford: Site) -> None:
    make_allocation(study=study)
    participant = make_participant(study=study, site=stanford)
    client = member(study, Role.COORDINATOR)

    confirm = client.get(url(study, "randomize", participant)).text
    response = client.post(url(study, "randomize", participant))
    page = client.get(response["Location"]).text

    assert "cannot be undone" in confirm
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.RANDOMIZED
    assert f"Participant {participant.code} is randomized." in page
    for secret in ("AB", "BA"):
        assert not re.search(rf"\b{secret}\b", page)
    main = page.split("<main")[1]
    assert "naltrexone" not in main.lower()
    assert "placebo" not in main.lower()


def test_randomizing_without_an_allocation_list_says_who_makes_one(
    study: Study, stanford: Site
) -> None:
    participant = make_participant(study=study, site=stanford)

    response = member(study, Role.INVESTIGATOR).post(url(study, "randomize", participant))

    assert response.status_code == 200
    assert "has no allocation list yet; the pharmacist generates it" in response.text
    participant.refresh_from_db()
    assert participant.status == Status.ENROLLED


# --- completion and withdrawal ----------------------------------------------------------------


def test_completion_of_an_active_participant(study: Study, stanford: Site) -> None:
    make_allocation(study=study)
    make_kits(study=study)
    participant = make_participant(
        study=study, site=stanford, status=Status.RANDOMIZED, start_date=days_ago(5)
    )
    make_dispensing(participant=participant)
    client = member(study, Role.INVESTIGATOR)

    future = client.post(url(study, "complete", participant), {"on": days_ago(-3).isoformat()})
    done = client.post(url(study, "complete", participant), {"on": days_ago(1).isoformat()})

    assert "is in the future" in future.text
    assert done.status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.COMPLETED


def test_withdrawal_needs_a_reason_and_keeps_it(study: Study, stanford: Site) -> None:
    participant = make_participant(study=study, site=stanford)
    client = member(study, Role.COORDINATOR)

    today = participant_today(participant)
    refused = client.post(url(study, "withdraw", participant), {"on": today, "reason": "  "})
    too_early = client.post(
        url(study, "withdraw", participant),
        {"on": today - dt.timedelta(days=30), "reason": "Moved abroad"},
    )
    done = client.post(url(study, "withdraw", participant), {"on": today, "reason": "Moved abroad"})

    assert refused.status_code == 200
    assert "Say why the participant withdraws." in errors_of(refused.text)
    assert 'id="id_on_error"' in too_early.text
    assert "before the participant was screened" in too_early.text
    assert done.status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.WITHDRAWN
    assert participant.withdrawal_reason == "Moved abroad"
    page = client.get(done["Location"]).text
    assert "Moved abroad" in page  # in the summary and the history
    assert "Withdraw</a>" not in page


# --- emergency unblinding -----------------------------------------------------------------------


def _randomized(study: Study, site: Site) -> Participant:
    make_allocation(study=study)
    return make_participant(study=study, site=site, status=Status.RANDOMIZED)


def test_emergency_unblinding_warns_first(study: Study, stanford: Site) -> None:
    participant = _randomized(study, stanford)

    text = member(study, Role.INVESTIGATOR).get(url(study, "unblind", participant)).text

    assert "Before you go on" in text
    assert "recorded in the audit trail" in text
    assert "investigators are e-mailed" in text


def test_emergency_unblinding_needs_a_reason_and_a_tick(study: Study, stanford: Site) -> None:
    participant = _randomized(study, stanford)

    response = member(study, Role.INVESTIGATOR).post(
        url(study, "unblind", participant), {"reason": ""}
    )

    assert response.status_code == 200
    errors = errors_of(response.text)
    assert "Say why this participant must be unblinded." in errors
    assert "Tick the box to confirm that you understand." in errors
    assert "Enter your password to sign." in errors
    assert "Choose what your signature means." in errors
    assert not AuditEvent.objects.filter(action=AuditAction.UNBLIND).exists()


def test_emergency_unblinding_with_a_wrong_password_reveals_nothing(
    study: Study, stanford: Site
) -> None:
    participant = _randomized(study, stanford)

    response = member(study, Role.INVESTIGATOR).post(
        url(study, "unblind", participant),
        {"reason": "Overdose", "understood": "on", "password": "guess", "meaning": "approved"},
    )

    assert response.status_code == 200
    assert "the password or the code is not right" in response.text
    assert not re.search(r"<strong>(AB|BA)</strong>", response.text)
    assert not AuditEvent.objects.filter(action=AuditAction.UNBLIND).exists()
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_FAILED).count() == 1


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.PHARMACIST])
def test_emergency_unblinding_shows_the_sequence_once(
    study: Study, stanford: Site, role: Role
) -> None:
    participant = _randomized(study, stanford)
    make_member(study=study, role=Role.INVESTIGATOR, username="dr-on-call").user.email = ""
    client = member(study, role)

    response = client.post(
        url(study, "unblind", participant),
        {"reason": "Severe reaction in the emergency room", "understood": "on", **SIGN},
    )
    result = client.get(response["Location"])
    again = client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"] == url(study, "unblind/result", participant)
    assert result.status_code == 200
    assert re.search(r"<strong>(AB|BA)</strong>", result.text)
    assert "Low-dose naltrexone" in result.text
    assert "Placebo" in result.text
    assert "Your signature" in result.text
    assert f"<strong>Responsible for</strong> by {role.value}" in result.text
    assert "no-cache" in result["Cache-Control"]
    assert again.status_code == 302  # shown once: back to the participant's page
    assert "is shown once only" in client.get(again["Location"]).text
    event = AuditEvent.objects.get(action=AuditAction.UNBLIND)
    assert event.reason == "Severe reaction in the emergency room"
    participant.refresh_from_db()
    assert participant.emergency_unblinded_at is not None
    assert len(mail.outbox) <= 1


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.STATISTICIAN, Role.ADMINISTRATOR])
def test_other_roles_cannot_unblind(study: Study, stanford: Site, role: Role) -> None:
    participant = _randomized(study, stanford)

    response = member(study, role).post(
        url(study, "unblind", participant), {"reason": "curious", "understood": "on"}
    )

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.UNBLIND).exists()


def test_the_detail_says_a_participant_was_unblinded(study: Study, stanford: Site) -> None:
    participant = _randomized(study, stanford)
    member(study, Role.PHARMACIST).post(
        url(study, "unblind", participant), {"reason": "Overdose", "understood": "on", **SIGN}
    )

    text = member(study, Role.COORDINATOR).get(url(study, "", participant)).text

    assert "Unblinded in an emergency" in text
    assert "Overdose" in text  # the reason, in the history
    # The signature shows with the unblinding, and nothing of the allocation with it.
    assert "<strong>Responsible for</strong> by pharmacist" in text
    [signatures] = re.findall(r'<ul class="signatures">.*?</ul>', text, re.S)
    assert not re.search(r"\b(AB|BA)\b|naltrexone|Placebo|sequence", signatures, re.I)


# --- actions per role -----------------------------------------------------------------------------


def test_the_detail_offers_each_role_only_its_actions(study: Study, stanford: Site) -> None:
    participant = _randomized(study, stanford)
    detail = url(study, "", participant)

    coordinator = member(study, Role.COORDINATOR).get(detail).text
    investigator = member(study, Role.INVESTIGATOR).get(detail).text
    pharmacist = member(study, Role.PHARMACIST).get(detail).text
    statistician = member(study, Role.STATISTICIAN).get(detail).text

    assert "Withdraw</a>" in coordinator
    assert "Emergency unblinding" not in coordinator
    assert "Withdraw</a>" in investigator
    assert "Emergency unblinding" in investigator
    assert "Withdraw</a>" not in pharmacist
    assert "Emergency unblinding" in pharmacist
    assert "What you can do" not in statistician


def test_a_participant_who_moves_gets_a_new_time_zone_with_a_reason(
    study: Study, stanford: Site
) -> None:
    participant = make_participant(study=study, site=stanford, tz="America/Los_Angeles")
    client = member(study, Role.COORDINATOR)

    form = client.get(url(study, "time-zone", participant))
    refused = client.post(
        url(study, "time-zone", participant), {"timezone": "Europe/London", "reason": ""}
    )
    same = client.post(
        url(study, "time-zone", participant),
        {"timezone": "America/Los_Angeles", "reason": "moved"},
    )
    done = client.post(
        url(study, "time-zone", participant),
        {"timezone": "Europe/London", "reason": "Moved to London"},
    )

    assert 'value="America/Los_Angeles" selected' in form.text
    assert "Say why the time zone changes." in errors_of(refused.text)
    assert "already" in same.text
    assert done.status_code == 302
    participant.refresh_from_db()
    assert participant.timezone == "Europe/London"
    page = client.get(done["Location"]).text
    assert "now follows Europe/London time" in page
    assert "Moved to London" in page  # the reason, in the participant's history
