"""The reminders' JSON API (``/api/reminders/``), for the phone's settings page.

Authenticated by the device cookie like the diary's API (`device_auth`); writes need Django's
CSRF token in the ``X-CSRFToken`` header. Errors are problem details with the services' codes;
each endpoint declares them (`ProblemOut`), among them 503 ``push_not_configured`` where the
site has no Web Push keys. Text fields are bounded by their columns and refuse control
characters, so no value reaches the database that it cannot hold.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status
from ninja.params.functions import Query
from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from diarytrial.core.problems import ProblemOut
from diarytrial.devices.api_auth import device_auth
from diarytrial.devices.models import Device
from diarytrial.reminders.errors import PushNotConfiguredError
from diarytrial.reminders.selectors import (
    calendar_feed_active,
    push_configured,
    push_subscription_list,
    reminder_settings_get,
)
from diarytrial.reminders.services import (
    calendar_feed_issue,
    calendar_feed_revoke,
    push_subscription_save,
    push_subscriptions_remove,
    reminder_settings_set,
)

router = Router(tags=["reminders"], auth=device_auth)

_PRINTABLE = r"^[^\x00-\x20\x7f]+$"  # a URL or key: no spaces, no control characters
_BASE64URL = r"^[A-Za-z0-9_-]+={0,2}$"
_LOCKED: dict[int, type[Schema]] = {423: ProblemOut}  # the study's database is locked
_REFUSED: dict[int, type[Schema]] = {**_LOCKED, 422: ProblemOut}
_NO_PUSH: dict[int, type[Schema]] = {503: ProblemOut}  # push_not_configured


def _device(request: HttpRequest) -> Device:
    device: Device = request.auth  # type: ignore[attr-defined]
    return device


class SettingsOut(Schema):
    email: str | None
    email_enabled: bool
    push_enabled: bool
    push_available: bool = Field(description="The site can send phone notifications.")
    push_subscribed: bool = Field(description="This phone is subscribed to notifications.")
    calendar_active: bool = Field(description="The participant has a working calendar link.")


class SettingsIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ana@example.org", "email_enabled": True, "push_enabled": False}]
        },
    )

    email: str | None = Field(default=None, max_length=254)
    email_enabled: StrictBool
    push_enabled: StrictBool


class PushKeyOut(Schema):
    public_key: str


class SubscriptionKeys(Schema):
    p256dh: str = Field(max_length=200, pattern=_BASE64URL)
    auth: str = Field(max_length=100, pattern=_BASE64URL)


class SubscriptionIn(Schema):
    """A browser's PushSubscription.toJSON()."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "endpoint": "https://push.example.org/send/c1KrmpTuRm",
                    "keys": {
                        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u"
                        "-Ts1XbjhazAkj7I99e8QcYP7DkM",
                        "auth": "tBHItJI5svbpez7KI4CCXg",
                    },
                    "expirationTime": None,
                }
            ]
        }
    )

    endpoint: str = Field(max_length=2048, pattern=_PRINTABLE)
    keys: SubscriptionKeys
    expirationTime: StrictInt | StrictFloat | None = None  # noqa: N815 (the browser's name)


class SubscriptionOut(Schema):
    subscribed: bool


class CalendarOut(Schema):
    url: str = Field(description="The secret calendar address; shown this once.")
    webcal_url: str


def _settings_out(device: Device) -> SettingsOut:
    participant = device.participant
    chosen = reminder_settings_get(participant=participant)
    return SettingsOut(
        email=chosen.email or None,
        email_enabled=chosen.email_enabled,
        push_enabled=chosen.push_enabled,
        push_available=push_configured(),
        push_subscribed=push_subscription_list(participant=participant)
        .filter(device=device)
        .exists(),
        calendar_active=calendar_feed_active(participant=participant),
    )


@router.get(
    "/reminders/settings",
    response=SettingsOut,
    summary="The participant's reminder settings",
    url_name="reminders_settings_get",
)
def settings_get(request: HttpRequest) -> SettingsOut:
    return _settings_out(_device(request))


@router.put(
    "/reminders/settings",
    response={200: SettingsOut, **_REFUSED},
    summary="Change the reminder settings",
    url_name="reminders_settings_put",
)
def settings_put(request: HttpRequest, body: SettingsIn) -> SettingsOut:
    device = _device(request)
    reminder_settings_set(
        participant=device.participant,
        email=body.email,
        email_enabled=body.email_enabled,
        push_enabled=body.push_enabled,
    )
    return _settings_out(device)


def _require_push() -> None:
    if not push_configured():
        raise PushNotConfiguredError(
            "Phone notifications are not available on this site; use e-mail reminders or the "
            "calendar instead."
        )


@router.get(
    "/reminders/push-key",
    response={200: PushKeyOut, **_NO_PUSH},
    summary="The site's Web Push (VAPID) public key",
    url_name="reminders_push_key",
)
def push_key(request: HttpRequest) -> PushKeyOut:
    _require_push()
    return PushKeyOut(public_key=settings.VAPID_PUBLIC_KEY)


@router.post(
    "/reminders/push-subscriptions",
    response={201: SubscriptionOut, **_REFUSED, **_NO_PUSH},
    summary="Subscribe this phone to push reminders",
    url_name="reminders_push_subscribe",
)
def push_subscribe(request: HttpRequest, body: SubscriptionIn) -> Status[SubscriptionOut]:
    _require_push()
    device = _device(request)
    push_subscription_save(
        participant=device.participant,
        device=device,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
    )
    return Status(201, SubscriptionOut(subscribed=True))


@router.delete(
    "/reminders/push-subscriptions",
    response={200: SubscriptionOut, **_LOCKED},
    summary="Stop push reminders on this phone",
    url_name="reminders_push_unsubscribe",
)
def push_unsubscribe(
    request: HttpRequest,
    endpoint: str | None = Query(None, max_length=2048, pattern=_PRINTABLE),
) -> SubscriptionOut:
    device = _device(request)
    push_subscriptions_remove(participant=device.participant, device=device, endpoint=endpoint)
    return SubscriptionOut(subscribed=False)


@router.post(
    "/reminders/calendar",
    response={201: CalendarOut, **_LOCKED},
    summary="Make a new secret calendar address (the previous one stops working)",
    url_name="reminders_calendar_create",
)
def calendar_create(request: HttpRequest) -> Status[CalendarOut]:
    issued = calendar_feed_issue(participant=_device(request).participant)
    url = settings.SITE_URL + reverse("reminders:calendar", kwargs={"token": issued.token})
    return Status(201, CalendarOut(url=url, webcal_url="webcal://" + url.partition("://")[2]))


@router.delete(
    "/reminders/calendar",
    response={200: dict[str, Any], **_LOCKED},
    summary="Stop the calendar address",
    url_name="reminders_calendar_delete",
)
def calendar_delete(request: HttpRequest) -> dict[str, Any]:
    calendar_feed_revoke(participant=_device(request).participant)
    return {"calendar_active": False}
