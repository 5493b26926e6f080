"""The sign-in throttle: 5 failures within 15 minutes, then 15 minutes of refusal."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client
from tests.builders import make_user

from diarytrial.accounts.models import SignInAttempt
from diarytrial.accounts.throttle import lockout_end

pytestmark = pytest.mark.django_db

PASSWORD = "a long staff password"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
THROTTLED = "Too many failed sign-ins"


def attempt(
    client: Client, username: str, password: str, address: str = "192.0.2.1"
) -> HttpResponse:
    return client.post(
        "/accounts/sign-in/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def signed_in(response: HttpResponse) -> bool:
    return response.status_code == 302


def fail_five_times(client: Client, traveller: time_machine.Traveller) -> None:
    """Five wrong passwords for ana, one a minute from 09:00; the clock is then at 09:05."""
    for _ in range(5):
        assert attempt(client, "ana", "wrong").status_code == 200
        traveller.shift(dt.timedelta(minutes=1))


def test_five_failures_refuse_even_the_right_password_for_15_minutes(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    with time_machine.travel(START, tick=False) as traveller:
        fail_five_times(client, traveller)  # the fifth at 09:04: refused until 09:19

        refused = attempt(client, "ana", PASSWORD)  # 09:05
        traveller.shift(dt.timedelta(minutes=13, seconds=59))  # 09:18:59
        still_refused = attempt(client, "ana", PASSWORD)
        traveller.shift(dt.timedelta(seconds=2))  # 09:19:01
        allowed = attempt(client, "ana", PASSWORD)

    assert refused.status_code == 429
    assert THROTTLED in refused.text
    assert "try again in 14 minutes" in refused.text
    assert still_refused.status_code == 429
    assert "try again in 1 minute." in still_refused.text
    assert signed_in(allowed)


def test_refused_attempts_are_not_counted(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    with time_machine.travel(START, tick=False) as traveller:
        fail_five_times(client, traveller)
        for _ in range(10):
            assert attempt(client, "ana", "wrong").status_code == 429
        traveller.shift(dt.timedelta(minutes=14))

        assert signed_in(attempt(client, "ana", PASSWORD))
    assert SignInAttempt.objects.filter(succeeded=False).count() == 5


def test_failures_spread_over_more_than_15_minutes_do_not_lock(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(6):
            assert attempt(client, "ana", "wrong").status_code == 200
            traveller.shift(dt.timedelta(minutes=4))

        assert signed_in(attempt(client, "ana", PASSWORD))


def test_one_address_guessing_at_many_usernames_is_refused(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    with time_machine.travel(START, tick=False):
        for name in ("a", "b", "c", "d", "e"):
            attempt(client, name, "wrong", address="198.51.100.4")

        from_there = attempt(client, "ana", PASSWORD, address="198.51.100.4")
        from_elsewhere = attempt(client, "ana", PASSWORD, address="203.0.113.8")

    assert from_there.status_code == 429
    assert signed_in(from_elsewhere)


def test_the_username_is_refused_from_every_address(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    with time_machine.travel(START, tick=False):
        for n in range(5):
            attempt(client, "ana", "wrong", address=f"203.0.113.{n + 1}")

        assert attempt(client, "ana", PASSWORD, address="198.51.100.99").status_code == 429


def test_a_success_clears_the_usernames_count(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    other = Client()
    with time_machine.travel(START, tick=False):
        for n in range(4):
            attempt(client, "ana", "wrong", address=f"203.0.113.{n + 1}")
        assert signed_in(attempt(other, "ana", PASSWORD, address="198.51.100.1"))
        for n in range(4):
            attempt(client, "ana", "wrong", address=f"203.0.113.{n + 1}")

        assert signed_in(attempt(Client(), "ana", PASSWORD, address="198.51.100.2"))


T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def minutes(*offsets: float) -> list[dt.datetime]:
    return [T0 + dt.timedelta(minutes=m) for m in offsets]


@pytest.mark.parametrize(
    ("failures", "end"),
    [
        ([], None),
        (minutes(0, 1, 2, 3), None),
        (minutes(0, 1, 2, 3, 15), T0 + dt.timedelta(minutes=30)),
        (minutes(0, 1, 2, 3, 15.5), None),
        (minutes(30, 0, 10, 20, 31, 32, 33), T0 + dt.timedelta(minutes=48)),
    ],
)
def test_lockout_end(failures: list[dt.datetime], end: dt.datetime | None) -> None:
    assert lockout_end(failures) == end
