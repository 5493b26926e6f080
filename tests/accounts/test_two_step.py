"""TOTP required: set up an authenticator before anything else; confirm a session with a code."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django import Settings
from tests.builders import make_totp_device, make_user, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "a long staff password"
TWO_STEP = "/accounts/two-step/"


@pytest.fixture
def totp_required(settings: Settings) -> None:
    settings.DIARYTRIAL_REQUIRE_TOTP = True


def sign_in(client: Client, username: str, code: str = "") -> None:
    response = client.post(
        "/accounts/sign-in/", {"username": username, "password": PASSWORD, "code": code}
    )
    assert response.status_code == 302


@pytest.mark.usefixtures("totp_required")
def test_without_an_authenticator_everything_leads_to_the_set_up_page(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    sign_in(client, "ana")

    studies = client.get("/studies/")
    api = client.get("/api/anything")
    setup = client.get(TWO_STEP)

    assert studies.status_code == 302
    assert studies["Location"] == f"{TWO_STEP}?next=/studies/"
    assert api.status_code == 403
    assert api["Content-Type"] == "application/problem+json"
    assert api.json()["code"] == "two_step_required"
    assert setup.status_code == 200
    assert "<svg" in setup.text
    assert "Set up two-step sign-in" in setup.text
    assert "nothing else opens until you have" in setup.text
    assert client.get("/healthz").status_code == 200


@pytest.mark.usefixtures("totp_required")
def test_setting_up_confirms_the_device_and_the_session(client: Client) -> None:
    user = make_user(username="ana", password=PASSWORD)
    sign_in(client, "ana")
    client.get(TWO_STEP)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        wrong = client.post(TWO_STEP, {"code": "12345x"})
        # django-otp makes the device wait after a wrong code: 1 s, then 2 s, 4 s, ...
        traveller.shift(dt.timedelta(seconds=2))
        right = client.post(TWO_STEP, {"code": totp_code(device), "next": "/studies/"})

    assert wrong.status_code == 200
    assert "This code is not right" in wrong.text
    assert right.status_code == 302
    assert right["Location"] == "/studies/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/studies/").status_code == 200
    assert client.get(TWO_STEP).status_code == 200  # now says it is set up
    assert "is set up" in client.get(TWO_STEP).text


@pytest.mark.usefixtures("totp_required")
def test_the_set_up_key_stays_the_same_until_confirmed(client: Client) -> None:
    user = make_user(username="ana", password=PASSWORD)
    sign_in(client, "ana")

    first = client.get(TWO_STEP)
    second = client.get(TWO_STEP)

    assert TOTPDevice.objects.filter(user=user).count() == 1
    key = TOTPDevice.objects.get(user=user).bin_key
    assert first.context["secret"] == second.context["secret"]
    assert len(key) == 20


@pytest.mark.usefixtures("totp_required")
def test_with_an_authenticator_sign_in_needs_the_code_and_then_nothing_else(
    client: Client,
) -> None:
    user = make_user(username="ana", password=PASSWORD)
    device = make_totp_device(user)

    sign_in(client, "ana", code=totp_code(device, steps_ahead=1))

    assert client.get("/studies/").status_code == 200


@pytest.mark.usefixtures("totp_required")
def test_an_unconfirmed_session_of_a_user_with_a_device_asks_for_the_code(
    client: Client,
) -> None:
    user = make_user(username="ana", password=PASSWORD)
    device = make_totp_device(user)
    client.force_login(user)  # as if the device had been added in another session

    asked = client.get("/studies/")
    page = client.get(TWO_STEP)
    confirmed = client.post(TWO_STEP, {"code": totp_code(device, steps_ahead=1)})

    assert asked.status_code == 302
    assert "Confirm your sign-in" in page.text
    assert confirmed.status_code == 302
    assert client.get("/studies/").status_code == 200


def test_when_not_required_a_user_may_still_set_up_an_authenticator(client: Client) -> None:
    user = make_user(username="ana", password=PASSWORD)
    sign_in(client, "ana")

    assert client.get("/studies/").status_code == 200
    setup = client.get(TWO_STEP)
    device = TOTPDevice.objects.get(user=user)
    client.post(TWO_STEP, {"code": totp_code(device)})

    assert "Add a code from an authenticator app" in setup.text
    device.refresh_from_db()
    assert device.confirmed


def test_the_two_step_page_needs_a_signed_in_user(client: Client) -> None:
    response = client.get(TWO_STEP)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_the_require_setting_follows_the_environment() -> None:
    from django.conf import settings

    assert settings.DIARYTRIAL_REQUIRE_TOTP is False  # test environment default
