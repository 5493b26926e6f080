"""A participant's phone for the tests of the API as a whole: enrolled, with tonight's diary
window open at the test's instant (whatever instant the suite runs at), push configured.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone
from tests.builders import make_device, make_participant, make_study

from diarytrial.devices.auth import DEVICE_COOKIE
from diarytrial.participants.models import Participant
from diarytrial.protocol import zone_where_it_is
from diarytrial.reminders.management.commands.vapid_keys import vapid_key_pair

OUR_APPS = frozenset(
    config.label for config in apps.get_app_configs() if config.name.startswith("diarytrial.")
)


@dataclass(frozen=True)
class Phone:
    """The participant's phone as the API sees it: its device cookie and CSRF token."""

    participant: Participant
    client: Client
    device_cookie: str
    csrf_token: str
    tonight: dt.date  # the diary date whose window is open now

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str | None = "application/json",
        csrf: bool = True,
        **headers: Any,
    ) -> Any:
        """One request as the phone sends it (with its CSRF token on writes unless `csrf`)."""
        extra: dict[str, Any] = dict(headers)
        if csrf:
            extra["HTTP_X_CSRFTOKEN"] = self.csrf_token
        if content_type is None:
            extra["CONTENT_TYPE"] = ""
        send = getattr(self.client, method.lower())
        if body is None or method in {"GET", "HEAD"}:  # their data would be the query string
            return send(path, **extra)
        return send(path, body, content_type=content_type or "", **extra)


def phone_with_open_window(settings: Any, *, zone: str | None = None) -> Phone:
    """A new participant three days into the diary, and their phone; the site has Web Push keys.

    The participant lives in `zone`, where tonight's window must be open now; by default in a
    zone where it is 20:xx now.
    """
    public, private = vapid_key_pair()
    settings.VAPID_PUBLIC_KEY = public
    settings.VAPID_PRIVATE_KEY = private
    settings.VAPID_SUBJECT = "mailto:trial-team@example.org"
    now = timezone.now()
    zone = zone or zone_where_it_is(20, now)
    tonight = now.astimezone(ZoneInfo(zone)).date()
    participant = make_participant(
        study=make_study(), start_date=tonight - dt.timedelta(days=3), tz=zone
    )
    _, token = make_device(participant)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies[DEVICE_COOKIE] = token
    assert client.get("/api/diary/form").json()["state"] == "open"  # also sets csrftoken
    return Phone(
        participant=participant,
        client=client,
        device_cookie=token,
        csrf_token=client.cookies["csrftoken"].value,
        tonight=tonight,
    )


def stored_rows() -> dict[str, int]:
    """How many rows each of the project's models has (audit events included)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
    }


def tracebacks_and_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The log records that carry a traceback or are errors: none is due to a client's input."""
    return [
        f"{record.levelname} {record.name}: {record.getMessage()[:200]}"
        for record in caplog.records
        if record.exc_info is not None or record.levelno >= logging.ERROR
    ]
