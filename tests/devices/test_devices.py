"""Phones bound to participants: single-use expiring links, revocable devices, the optional PIN."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from tests.builders import make_device, make_participant, make_study, make_user

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.devices.auth import (
    DEVICE_COOKIE,
    PIN_COOKIE,
    device_unlocked,
    pin_cookie_set,
    request_device,
)
from diarytrial.devices.errors import EnrolmentLinkInvalidError, PinInvalidError
from diarytrial.devices.models import Device, EnrolmentLink
from diarytrial.devices.services import (
    device_pin_check,
    device_pin_clear,
    device_pin_set,
    device_revoke,
    enrolment_link_issue,
    enrolment_link_redeem,
)
from diarytrial.devices.tokens import token_hash
from diarytrial.participants.errors import ParticipantStatusError, ReasonRequiredError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services import participant_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant() -> Participant:
    return make_participant(study=make_study())


@pytest.fixture
def coordinator() -> User:
    return make_user(username="coord")


def _request(**cookies: str) -> object:
    request = RequestFactory().get("/d/")
    request.COOKIES.update(cookies)
    return request


def test_a_link_binds_the_phone_that_opens_it_and_keeps_no_secret_in_clear(
    participant: Participant, coordinator: User
) -> None:
    issued = enrolment_link_issue(participant=participant, actor=coordinator)
    bound = enrolment_link_redeem(token=issued.token, user_agent="Mozilla/5.0 (iPhone)")

    link = EnrolmentLink.objects.get()
    assert link.used_at is not None
    assert link.device == bound.device
    assert bound.device.participant == participant
    assert bound.device.active
    assert bound.device.label == "Mozilla/5.0 (iPhone)"
    assert bound.device.token_hash == token_hash(bound.token) != bound.token
    assert link.token_hash == token_hash(issued.token)
    trail = " ".join(str(e.changes) + e.reason for e in AuditEvent.objects.all())
    assert issued.token not in trail
    assert bound.token not in trail
    assert audit_verify().ok


def test_a_link_works_once(participant: Participant, coordinator: User) -> None:
    issued = enrolment_link_issue(participant=participant, actor=coordinator)
    enrolment_link_redeem(token=issued.token)

    with pytest.raises(EnrolmentLinkInvalidError, match="works once") as caught:
        enrolment_link_redeem(token=issued.token)

    assert caught.value.http_status == 410
    assert Device.objects.count() == 1


def test_a_link_expires_after_72_hours(participant: Participant, coordinator: User) -> None:
    issued = enrolment_link_issue(participant=participant, actor=coordinator)

    with (
        time_machine.travel(timezone.now() + dt.timedelta(hours=72, seconds=1)),
        pytest.raises(EnrolmentLinkInvalidError),
    ):
        enrolment_link_redeem(token=issued.token)
    assert not Device.objects.exists()


def test_a_new_link_replaces_the_unused_one(participant: Participant, coordinator: User) -> None:
    first = enrolment_link_issue(participant=participant, actor=coordinator)
    second = enrolment_link_issue(participant=participant, actor=coordinator)

    with pytest.raises(EnrolmentLinkInvalidError):
        enrolment_link_redeem(token=first.token)
    assert enrolment_link_redeem(token=second.token).device.active


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
def test_an_unknown_link_is_refused(token: str) -> None:
    with pytest.raises(EnrolmentLinkInvalidError, match="Ask your study coordinator"):
        enrolment_link_redeem(token=token)


def test_no_link_for_a_participant_who_is_not_enrolled(coordinator: User) -> None:
    screened = make_participant(study=make_study(), status=ParticipantStatus.SCREENED)

    with pytest.raises(ParticipantStatusError, match="once they are enrolled"):
        enrolment_link_issue(participant=screened, actor=coordinator)


def test_a_link_of_a_participant_who_withdrew_meanwhile_no_longer_works(
    participant: Participant, coordinator: User
) -> None:
    issued = enrolment_link_issue(participant=participant, actor=coordinator)
    participant_withdraw(
        participant=participant,
        on=participant_today(participant),
        reason="moved away",
        actor=coordinator,
    )

    with pytest.raises(EnrolmentLinkInvalidError):
        enrolment_link_redeem(token=issued.token)


def test_the_cookie_names_the_device_until_it_is_revoked(
    participant: Participant, coordinator: User
) -> None:
    device, token = make_device(participant)

    assert request_device(_request(**{DEVICE_COOKIE: token})) == device  # type: ignore[arg-type]
    assert request_device(_request()) is None  # type: ignore[arg-type]
    assert (
        request_device(
            _request(**{DEVICE_COOKIE: token[:-1] + ("B" if token.endswith("A") else "A")})
        )
        is None
    )  # type: ignore[arg-type]

    device_revoke(device=device, actor=coordinator, reason="phone lost")

    assert request_device(_request(**{DEVICE_COOKIE: token})) is None  # type: ignore[arg-type]
    device.refresh_from_db()
    assert device.revoked_reason == "phone lost"


def test_revoking_needs_a_reason(participant: Participant, coordinator: User) -> None:
    device, _ = make_device(participant)

    with pytest.raises(ReasonRequiredError):
        device_revoke(device=device, actor=coordinator, reason="  ")
    device.refresh_from_db()
    assert device.active


def test_a_pin_locks_the_device_until_entered(participant: Participant) -> None:
    device, _token = make_device(participant)
    assert device_unlocked(_request(), device)  # type: ignore[arg-type]

    device_pin_set(device=device, pin="2580")

    assert not device_unlocked(_request(), device)  # type: ignore[arg-type]
    assert device_pin_check(device=device, pin="2580")
    response = HttpResponse()
    pin_cookie_set(response, device)
    unlock = response.cookies[PIN_COOKIE].value
    assert response.cookies[PIN_COOKIE]["httponly"]
    assert device_unlocked(_request(**{PIN_COOKIE: unlock}), device)  # type: ignore[arg-type]
    with time_machine.travel(timezone.now() + dt.timedelta(hours=12, minutes=1)):
        assert not device_unlocked(_request(**{PIN_COOKIE: unlock}), device)  # type: ignore[arg-type]

    device_pin_set(device=device, pin="1111")  # a new PIN voids earlier unlocks

    assert not device_unlocked(_request(**{PIN_COOKIE: unlock}), device)  # type: ignore[arg-type]
    device_pin_clear(device=device)
    assert device_unlocked(_request(), device)  # type: ignore[arg-type]


def test_an_unlock_of_one_device_does_not_open_another(participant: Participant) -> None:
    first, _ = make_device(participant)
    second, _ = make_device(participant)
    device_pin_set(device=first, pin="2580")
    device_pin_set(device=second, pin="2580")
    response = HttpResponse()
    pin_cookie_set(response, first)

    assert not device_unlocked(
        _request(**{PIN_COOKIE: response.cookies[PIN_COOKIE].value}),  # type: ignore[arg-type]
        second,
    )


def test_the_fifth_wrong_pin_in_a_row_revokes_the_device(participant: Participant) -> None:
    device, token = make_device(participant)
    device_pin_set(device=device, pin="2580")
    for attempt in range(1, 5):
        assert not device_pin_check(device=device, pin="0000")
        assert device.pin_failures == attempt
        assert device.active
    assert device_pin_check(device=device, pin="2580")
    assert device.pin_failures == 0

    for _ in range(5):
        device_pin_check(device=device, pin="9999")

    assert not device.active
    assert "wrong PIN" in device.revoked_reason
    assert request_device(_request(**{DEVICE_COOKIE: token})) is None  # type: ignore[arg-type]
    assert audit_verify().ok


@pytest.mark.parametrize("pin", ["123", "12345", "abcd", "12 4", ""])
def test_a_pin_is_four_digits(participant: Participant, pin: str) -> None:
    device, _ = make_device(participant)

    with pytest.raises(PinInvalidError, match="four digits"):
        device_pin_set(device=device, pin=pin)


def test_a_pin_that_is_not_four_digits_is_refused_and_not_counted(
    participant: Participant,
) -> None:
    device, _ = make_device(participant)
    device_pin_set(device=device, pin="2580")

    for _ in range(6):
        with pytest.raises(PinInvalidError):
            device_pin_check(device=device, pin="12")

    device.refresh_from_db()
    assert device.pin_failures == 0
    assert device.active
