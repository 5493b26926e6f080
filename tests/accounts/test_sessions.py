"""Staff sessions end after 30 idle minutes; activity keeps them going."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from tests.builders import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long staff password"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_a_session_ends_after_30_idle_minutes_and_activity_extends_it(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)
    with time_machine.travel(START, tick=False) as traveller:
        client.post("/accounts/sign-in/", {"username": "ana", "password": PASSWORD})

        traveller.shift(dt.timedelta(minutes=29))
        active_1 = client.get("/studies/")
        traveller.shift(dt.timedelta(minutes=29))  # 58 minutes after signing in
        active_2 = client.get("/studies/")
        traveller.shift(dt.timedelta(minutes=30, seconds=1))
        idle = client.get("/studies/")

    assert (active_1.status_code, active_2.status_code) == (200, 200)
    assert idle.status_code == 302
    assert idle["Location"].startswith("/accounts/sign-in/")


def test_the_session_cookie_lives_30_minutes(client: Client) -> None:
    make_user(username="ana", password=PASSWORD)

    client.post("/accounts/sign-in/", {"username": "ana", "password": PASSWORD})

    assert client.cookies["sessionid"]["max-age"] == 1800
    assert client.cookies["sessionid"]["httponly"]
