"""The staff pages of a participant's phones: a link shown once with its QR code, revoking."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from tests.builders import (
    LEFT_OPEN,
    client_for,
    make_device,
    make_member,
    make_participant,
    make_study,
)

from diarytrial.devices.models import Device, EnrolmentLink
from diarytrial.devices.services import enrolment_link_redeem
from diarytrial.participants.models import Participant
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant() -> Participant:
    return make_participant(study=make_study())


@pytest.fixture
def coordinator(participant: Participant) -> Client:
    return client_for(make_member(study=participant.study, role=Role.COORDINATOR).user)


def _url(name: str, participant: Participant, **kwargs: object) -> str:
    return reverse(
        f"devices:{name}",
        kwargs={"study": participant.study.slug, "participant": participant.code, **kwargs},
    )


def test_a_new_link_is_shown_once_with_its_qr_code_and_binds_a_phone(
    participant: Participant, coordinator: Client
) -> None:
    assert "Make an enrolment link" in coordinator.get(_url("link", participant)).text
    assert not EnrolmentLink.objects.exists()  # a GET makes nothing

    page = coordinator.post(_url("link", participant))

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "<svg" in page.text
    url = re.search(r'value="(http://testserver/d/enrol/([^/"]+)/)"', page.text)
    assert url is not None
    assert "waiting to be opened" in coordinator.get(_url("list", participant)).text
    enrolment_link_redeem(token=url.group(2), user_agent="Pixel 8")
    listing = coordinator.get(_url("list", participant)).text
    assert "Pixel 8" in listing
    assert "waiting to be opened" not in listing
    assert url.group(2) not in listing


def test_a_lost_phone_is_revoked_with_a_reason(
    participant: Participant, coordinator: Client
) -> None:
    device, _ = make_device(participant)
    url = _url("revoke", participant, device=device.pk)

    refused = coordinator.post(url, {"reason": ""})
    assert "Say why this phone is revoked." in refused.text
    assert Device.objects.get().active

    done = coordinator.post(url, {"reason": "phone lost"}, follow=True)

    assert "can no longer open" in done.text
    assert not Device.objects.get().active
    assert "Revoked" in done.text


def test_another_participants_device_is_not_found(
    participant: Participant, coordinator: Client
) -> None:
    other = make_participant(study=participant.study)
    device, _ = make_device(other)

    assert coordinator.get(_url("revoke", participant, device=device.pk)).status_code == 404


def test_no_new_link_once_the_study_is_locked(
    participant: Participant, coordinator: Client
) -> None:
    administrator = make_member(study=participant.study, role=Role.ADMINISTRATOR).user
    study_lock(
        study=participant.study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN
    )

    page = coordinator.post(_url("link", participant))

    assert "locked" in page.text
    assert not EnrolmentLink.objects.exists()
    assert "Make an enrolment link" not in coordinator.get(_url("list", participant)).text


def test_the_admin_shows_phones_read_only_and_never_a_token_hash(
    participant: Participant, admin_user: object
) -> None:
    device, _ = make_device(participant)
    client = Client()
    client.force_login(admin_user)  # type: ignore[arg-type]

    detail = client.get(reverse("admin:devices_device_change", args=[device.pk]))
    link = client.get(
        reverse("admin:devices_enrolmentlink_change", args=[device.enrolment_link.pk])
    )

    assert detail.status_code == 200
    assert link.status_code == 200
    assert device.token_hash not in detail.text
    assert device.enrolment_link.token_hash not in link.text
    assert client.get(reverse("admin:devices_device_add")).status_code == 403
