"""Fixtures of the phone page tests: a participant on the LDN protocol in Los Angeles, a phone
bound to them, and the clock inside or outside tonight's window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from tests.builders import make_device, make_participant, make_study

from diarytrial.devices.auth import DEVICE_COOKIE
from diarytrial.participants.models import Participant

LA = ZoneInfo("America/Los_Angeles")
START = dt.date(2025, 11, 3)
TONIGHT = dt.date(2025, 11, 20)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The instant of a wall-clock time in Los Angeles."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LA)


@pytest.fixture
def evening() -> Iterator[time_machine.Traveller]:
    """20:00 in Los Angeles on TONIGHT: the window (18:00 to 03:00) is open."""
    with time_machine.travel(local(TONIGHT, 20), tick=False) as traveller:
        yield traveller


@pytest.fixture
def noon() -> Iterator[time_machine.Traveller]:
    """12:00 in Los Angeles on TONIGHT: between windows."""
    with time_machine.travel(local(TONIGHT, 12), tick=False) as traveller:
        yield traveller


def make_phone(participant: Participant) -> Client:
    """A browser holding a device cookie of `participant`."""
    _, token = make_device(participant)
    client = Client()
    client.cookies[DEVICE_COOKIE] = token
    return client


@pytest.fixture
def participant(db: None) -> Participant:
    with time_machine.travel(local(START, 9), tick=False):
        return make_participant(study=make_study(), start_date=START)
