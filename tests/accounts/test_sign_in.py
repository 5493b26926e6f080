"""Signing in with a password and, once set up, a TOTP code; signing out."""

from __future__ import annotations

import logging

import pytest
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from pytest_django import Settings
from tests.builders import make_totp_device, make_user, totp_code

from diarytrial.accounts.models import SignInAttempt

pytestmark = pytest.mark.django_db

PASSWORD = "a long staff password"
SIGN_IN = "/accounts/sign-in/"


def sign_in(
    client: Client, username: str, password: str = PASSWORD, code: str = "", **extra: str
) -> HttpResponse:
    return client.post(SIGN_IN, {"username": username, "password": password, "code": code, **extra})


def signed_in_username(client: Client) -> str | None:
    response = client.get(reverse("studies:list"))
    return response.wsgi_request.user.get_username() if response.status_code == 200 else None


def test_sign_in_page_is_a_form(client: Client) -> None:
    response = client.get(SIGN_IN)

    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text
    assert 'autocomplete="one-time-code"' in response.text


def test_a_password_signs_in_a_user_without_an_authenticator(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)

    response = sign_in(client, "ana")

    assert response.status_code == 302
    assert response["Location"] == reverse("studies:list")
    assert signed_in_username(client) == "ana"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)

    wrong_password = sign_in(client, "ana", password="not it")
    unknown_user = sign_in(client, "nobody")

    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert "The username, password or code is not right" in response.text
    assert signed_in_username(client) is None


def test_password_and_code_sign_in_and_verify_the_session(client: Client) -> None:
    user = make_user(username="ana", password=PASSWORD)
    device = make_totp_device(user)

    response = sign_in(client, "ana", code=totp_code(device, steps_ahead=1))

    assert response.status_code == 302
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    page = client.get(reverse("studies:list"))
    assert page.wsgi_request.user.is_verified()


@pytest.mark.parametrize("code", ["", "000000", "abc"])
def test_a_user_with_an_authenticator_is_refused_without_a_valid_code(
    client: Client, code: str
) -> None:
    user = make_user(username="ana", password=PASSWORD)
    device = make_totp_device(user)
    if code == "000000" and totp_code(device, steps_ahead=1) == code:
        code = "999999"

    response = sign_in(client, "ana", code=code)

    assert response.status_code == 200
    assert "The username, password or code is not right" in response.text
    assert signed_in_username(client) is None


def test_a_code_is_accepted_once(client: Client) -> None:
    user = make_user(username="ana", password=PASSWORD)
    device = make_totp_device(user)
    code = totp_code(device, steps_ahead=1)
    assert sign_in(client, "ana", code=code).status_code == 302
    client.post(reverse("accounts:sign_out"))

    replay = sign_in(client, "ana", code=code)

    assert replay.status_code == 200
    assert signed_in_username(client) is None


def test_signing_in_gives_the_session_a_new_key(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    before = client.session
    before["planted"] = "by someone else"
    before.save()
    planted_key = before.session_key

    sign_in(client, "ana")

    new_key = client.cookies["sessionid"].value
    assert new_key != planted_key
    assert not Session.objects.filter(session_key=planted_key).exists()
    assert Session.objects.filter(session_key=new_key).exists()


def test_sign_in_goes_to_next_only_on_this_site(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    make_user(username="ben", password=PASSWORD)

    inside = sign_in(client, "ana", next="/studies/?page=2")
    client.post(reverse("accounts:sign_out"))
    outside = sign_in(client, "ben", next="https://evil.example.org/")

    assert inside["Location"] == "/studies/?page=2"
    assert outside["Location"] == reverse("studies:list")


def test_attempts_are_recorded_and_logged(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    make_user(username="ana", password=PASSWORD)

    with caplog.at_level(logging.INFO, logger="diarytrial.accounts"):
        sign_in(client, "ana", password="wrong")
        sign_in(client, "ana")

    attempts = list(SignInAttempt.objects.values_list("username", "ip_address", "succeeded"))
    assert attempts == [("ana", "127.0.0.1", False), ("ana", "127.0.0.1", True)]
    messages = [record.getMessage() for record in caplog.records]
    assert "sign-in failed: username='ana' ip=127.0.0.1" in messages
    assert "sign-in succeeded: username='ana' ip=127.0.0.1" in messages
    assert not any("wrong" in message or PASSWORD in message for message in messages)


def test_an_inactive_user_cannot_sign_in(client: Client) -> None:
    user = make_user(username="ana", password=PASSWORD)
    user.is_active = False
    user.save()

    assert sign_in(client, "ana").status_code == 200
    assert signed_in_username(client) is None


def test_sign_out_asks_then_ends_the_session(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    sign_in(client, "ana")
    key = client.cookies["sessionid"].value

    confirm = client.get(reverse("accounts:sign_out"))
    response = client.post(reverse("accounts:sign_out"))

    assert confirm.status_code == 200
    assert "End your session" in confirm.text
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert signed_in_username(client) is None


def test_the_client_address_comes_from_the_proxy_only_when_trusted(
    client: Client, settings: Settings
) -> None:
    make_user(username="ana", password=PASSWORD)
    forwarded = {"HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}

    client.post(SIGN_IN, {"username": "ana", "password": "x"}, **forwarded)
    settings.TRUST_X_FORWARDED_FOR = True
    client.post(SIGN_IN, {"username": "ana", "password": "x"}, **forwarded)

    addresses = list(SignInAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == ["127.0.0.1", "198.51.100.7"]


def test_a_signed_in_user_is_never_sent_back_to_the_sign_in_page(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    sign_in(client, "ana")

    response = client.get(f"{SIGN_IN}?next={SIGN_IN}")

    assert response.status_code == 302
    assert response["Location"] == reverse("studies:list")
