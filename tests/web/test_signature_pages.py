"""The signing pages: an adverse event's page (the investigator signs it off), a participant's
casebook, and where signatures show (the participant's page); refusals said plainly, hostile
input refused without a 500, and no allocation with any signature for blinded readers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from tests.builders import (
    client_for,
    make_adverse_event,
    make_entry,
    make_member,
    make_participant,
    make_study,
    make_totp_device,
    totp_code,
)
from tests.web.test_blinding_pages import leaks, make_trial

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.exports.signing import casebook_sign
from diarytrial.participants.models import Participant
from diarytrial.randomization.signing import participant_unblind_emergency_signed
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.services import adverse_event_update
from diarytrial.safety.signing import adverse_event_sign
from diarytrial.signatures.models import Signature
from diarytrial.signatures.services import SigningCredentials
from diarytrial.studies.models import Role, Study

pytestmark = pytest.mark.django_db

PASSWORD = "sign here 2026"
SIGN = {"password": PASSWORD, "meaning": "approved"}


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def participant(study: Study) -> Participant:
    return make_participant(study=study)


def _user(study: Study, role: Role, name: str | None = None) -> User:
    user = make_member(study=study, role=role, username=name, password=PASSWORD).user
    if role == Role.INVESTIGATOR:
        user.first_name, user.last_name = "Ines", "Garcia"
        user.save(update_fields=["first_name", "last_name"])
    return user


def _event_url(participant: Participant, event: AdverseEvent) -> str:
    return reverse(
        "safety:adverse_event",
        kwargs={
            "study": participant.study.slug,
            "participant": participant.code,
            "event": event.pk,
        },
    )


def _detail(participant: Participant) -> str:
    return reverse(
        "participants:detail",
        kwargs={"study": participant.study.slug, "participant": participant.code},
    )


def _casebook(participant: Participant) -> str:
    return reverse(
        "exports:casebook",
        kwargs={"study": participant.study.slug, "participant": participant.code},
    )


def _errors(html: str) -> str:
    return " ".join(re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))


def test_an_investigator_signs_an_adverse_event_off(study: Study, participant: Participant) -> None:
    event = make_adverse_event(participant=participant)
    investigator = client_for(_user(study, Role.INVESTIGATOR, "dr-ines"))
    url = _event_url(participant, event)

    form = investigator.get(url).text
    signed = investigator.post(url, SIGN)
    page = investigator.get(url).text
    detail = investigator.get(_detail(participant)).text

    assert "Your electronic signature" in form
    assert "Signing as <strong>Ines Garcia</strong> (<code>dr-ines</code>)" in form
    assert 'name="code"' not in form  # no authenticator app: the password alone
    for meaning in ("Approved", "Reviewed", "Responsible for"):
        assert meaning in form
    assert signed.status_code == 302
    assert "<strong>Approved</strong> by Ines Garcia (<code>dr-ines</code>)" in page
    assert "Valid" in page
    # The time, in the site's zone with its offset.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC[+\u2212]\d\d:\d\d", page)
    assert "signed off</span>" in detail
    assert f'href="{url}"' in detail


def test_a_changed_event_shows_its_signature_no_longer_valid(
    study: Study, participant: Participant
) -> None:
    event = make_adverse_event(participant=participant)
    signer = _user(study, Role.INVESTIGATOR)
    adverse_event_sign(
        event=event,
        participant=participant,
        credentials=SigningCredentials(
            signer=signer, password=PASSWORD, code="", meaning="reviewed"
        ),
    )
    adverse_event_update(
        event=AdverseEvent.objects.get(pk=event.pk),
        changes={"severity": "severe"},
        reason="worse",
        actor=None,
    )
    coordinator = client_for(_user(study, Role.COORDINATOR))

    page = coordinator.get(_event_url(participant, event)).text
    detail = coordinator.get(_detail(participant)).text

    assert "No longer valid" in page
    assert "The content changed after it was signed" in page
    assert "signature no longer valid" in detail
    assert '<form method="post" novalidate' not in page  # a coordinator reads, does not sign


def test_a_coordinator_cannot_sign(study: Study, participant: Participant) -> None:
    event = make_adverse_event(participant=participant)
    coordinator = client_for(_user(study, Role.COORDINATOR))

    response = coordinator.post(_event_url(participant, event), SIGN)

    assert response.status_code == 403
    assert "Only an investigator signs off" in response.text
    assert not Signature.objects.exists()


def test_a_wrong_password_is_refused_on_the_form_and_audited(
    study: Study, participant: Participant
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = client_for(_user(study, Role.INVESTIGATOR))
    url = _event_url(participant, event)

    refused = [investigator.post(url, {**SIGN, "password": "guess"}) for _ in range(5)]
    locked = investigator.post(url, SIGN)

    assert all(r.status_code == 200 for r in refused)
    assert "the password or the code is not right" in refused[0].text
    assert "Signing is paused after 5 failed tries" in refused[-1].text
    assert "Signing is paused" in locked.text
    assert not Signature.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_FAILED).count() == 5
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_LOCKOUT).count() == 1


@pytest.mark.parametrize(
    "posted",
    [
        {},
        {"meaning": "approved"},
        {"password": PASSWORD},
        {"password": PASSWORD, "meaning": "agreed"},
        {"password": PASSWORD, "meaning": "approved\x00"},
        {"password": "x" * 5000, "meaning": "approved"},
        {"password": "\x00", "meaning": "<script>alert(1)</script>"},
    ],
)
def test_hostile_input_is_refused_plainly(
    study: Study, participant: Participant, posted: dict[str, object]
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = client_for(_user(study, Role.INVESTIGATOR))

    response = investigator.post(_event_url(participant, event), posted)

    assert response.status_code == 200
    assert _errors(response.text) or "This was not done." in response.text
    assert "<script>alert" not in response.text
    assert not Signature.objects.exists()


def test_a_signer_with_an_authenticator_app_gives_its_code(
    study: Study, participant: Participant
) -> None:
    event = make_adverse_event(participant=participant)
    user = _user(study, Role.INVESTIGATOR)
    device = make_totp_device(user)
    investigator = client_for(user)
    url = _event_url(participant, event)

    form = investigator.get(url).text
    without = investigator.post(url, SIGN)
    signed = investigator.post(url, {**SIGN, "code": totp_code(device, steps_ahead=1)})

    assert 'name="code"' in form
    assert "Enter the code your authenticator app shows now." in _errors(without.text)
    assert signed.status_code == 302
    assert Signature.objects.count() == 1


def test_the_casebook_is_signed_off_and_shows_on_the_participants_page(
    study: Study, participant: Participant
) -> None:
    make_entry(participant=participant)
    investigator = client_for(_user(study, Role.INVESTIGATOR))
    coordinator = client_for(_user(study, Role.COORDINATOR))
    url = _casebook(participant)

    page = investigator.get(url).text
    signed = investigator.post(url, {**SIGN, "meaning": "responsible"})
    detail = coordinator.get(_detail(participant)).text
    coordinator_page = coordinator.get(url).text
    refused = coordinator.post(url, SIGN)

    assert "Diary entries</dt><dd>1</dd>" in page
    assert "Sign off the casebook" in page
    assert signed.status_code == 302
    assert "Casebook sign-off" in detail
    assert "<strong>Responsible for</strong> by Ines Garcia" in detail
    assert "Valid" in detail
    assert "Sign off the casebook" not in coordinator_page
    assert refused.status_code == 403

    make_adverse_event(participant=participant)  # the casebook holds its adverse events too
    assert "No longer valid" in coordinator.get(_detail(participant)).text


def test_signatures_show_no_allocation_to_blinded_readers() -> None:
    trial = make_trial()
    signer = _user(trial.study, Role.INVESTIGATOR, "dr-sign")

    def sign(meaning: str) -> SigningCredentials:
        return SigningCredentials(signer=signer, password=PASSWORD, code="", meaning=meaning)

    [event] = AdverseEvent.objects.filter(participant=trial.first)
    adverse_event_sign(event=event, participant=trial.first, credentials=sign("approved"))
    casebook_sign(participant=trial.first, credentials=sign("reviewed"))
    participant_unblind_emergency_signed(
        participant=trial.second, reason="overdose", credentials=sign("responsible")
    )
    urls = [
        _detail(trial.first),
        _detail(trial.second),
        _event_url(trial.first, event),
        _casebook(trial.first),
        _casebook(trial.second),
    ]
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR):
        reader = make_member(study=trial.study, role=role, username=f"reader-{role.value}").user
        client: Client = client_for(reader)
        for url in urls:
            response = client.get(url)
            assert not leaks(response.text, trial.protocol), f"{role} {url}"
    # The unblinding's signature is shown where the unblinding is, and only there.
    coordinator = client_for(User.objects.get(username="reader-coordinator"))
    second = coordinator.get(_detail(trial.second)).text
    assert "Unblinded in an emergency" in second
    assert "<strong>Responsible for</strong> by Ines Garcia" in second
    assert "Responsible for" not in coordinator.get(_detail(trial.first)).text
    assert "Responsible for" not in coordinator.get(_casebook(trial.second)).text
