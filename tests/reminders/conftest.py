"""Fixtures of the reminder tests: Web Push keys, the local servers, a participant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from tests.builders import make_participant, make_study
from tests.reminders.helpers import (
    NOON,
    START,
    PushService,
    SmtpServer,
    push_service,
    smtp_server,
)

from diarytrial.participants.models import Participant
from diarytrial.reminders.management.commands.vapid_keys import vapid_key_pair


@pytest.fixture(autouse=True)
def reminder_settings(settings: Any) -> Any:
    public, private = vapid_key_pair()
    settings.VAPID_PUBLIC_KEY = public
    settings.VAPID_PRIVATE_KEY = private
    settings.VAPID_SUBJECT = "mailto:trial-team@example.org"
    settings.SITE_URL = "https://trial.example.org"
    settings.REMINDER_SPREAD_MINUTES = 10
    return settings


@pytest.fixture
def smtp(reminder_settings: Any) -> Iterator[SmtpServer]:
    with smtp_server() as server:
        reminder_settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        reminder_settings.EMAIL_HOST = server.host
        reminder_settings.EMAIL_PORT = server.port
        reminder_settings.EMAIL_USE_TLS = False
        reminder_settings.EMAIL_HOST_USER = ""
        reminder_settings.EMAIL_HOST_PASSWORD = ""
        yield server


@pytest.fixture
def push() -> Iterator[PushService]:
    with push_service() as service:
        yield service


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The clock, standing still at NOON until a test moves it."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def participant(db: None, clock: time_machine.Traveller) -> Participant:
    """Enrolled since START in Los Angeles (before randomization: no planned end)."""
    return make_participant(study=make_study(), start_date=START)
