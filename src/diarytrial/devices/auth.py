"""How a request proves it comes from a participant's enrolled phone.

The phone holds a random token in the ``dt_device`` cookie (HttpOnly, SameSite=Lax, Secure in
production, kept for 400 days); the database keeps the token's SHA-256 only. A phone whose
device is revoked, or that never enrolled, is nobody. A device with a PIN is also *locked*
until the PIN is entered: the ``dt_pin`` cookie, signed with the site's key and bound to the
device and its PIN, unlocks it for `PIN_UNLOCK_SECONDS`.

Staff sign-in (Django's session) and the device cookie are separate: a phone never gets a
staff session, and a staff session never reads a participant's diary through these helpers.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from diarytrial.devices.models import Device
from diarytrial.devices.services import device_seen
from diarytrial.devices.tokens import token_hash

DEVICE_COOKIE = "dt_device"
PIN_COOKIE = "dt_pin"
DEVICE_COOKIE_SECONDS = 400 * 24 * 3600  # the longest life browsers allow a cookie
PIN_UNLOCK_HOURS = 12
PIN_UNLOCK_SECONDS = PIN_UNLOCK_HOURS * 3600
_PIN_SALT = "diarytrial.devices.pin"
_CACHE = "_diarytrial_device"


def request_device(request: HttpRequest) -> Device | None:
    """The active device of the request's ``dt_device`` cookie, or None (absent, unknown,
    revoked). Looked up once per request; marks the device seen at most once an hour."""
    if hasattr(request, _CACHE):
        cached: Device | None = getattr(request, _CACHE)
        return cached
    device: Device | None = None
    token = request.COOKIES.get(DEVICE_COOKIE, "")
    if 20 <= len(token) <= 100:
        device = (
            Device.objects.select_related(
                "participant__study", "participant__site", "participant__protocol_version"
            )
            .filter(token_hash=token_hash(token), revoked_at__isnull=True)
            .first()
        )
    if device is not None:
        device_seen(device=device)
    setattr(request, _CACHE, device)
    return device


def _pin_binding(device: Device) -> str:
    # Bound to the PIN's hash too: a new PIN (or none) voids every earlier unlock.
    return f"{device.pk}:{hashlib.sha256(device.pin_hash.encode()).hexdigest()[:16]}"


def device_unlocked(request: HttpRequest, device: Device) -> bool:
    """False only when `device` has a PIN and this request carries no valid unlock for it."""
    if not device.has_pin:
        return True
    value = request.COOKIES.get(PIN_COOKIE, "")
    try:
        bound = signing.TimestampSigner(salt=_PIN_SALT).unsign(value, max_age=PIN_UNLOCK_SECONDS)
    except signing.BadSignature:
        return False
    return bound == _pin_binding(device)


def _cookie_set(response: HttpResponseBase, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=bool(settings.SESSION_COOKIE_SECURE),
        httponly=True,
        samesite="Lax",
    )


def device_cookie_set(response: HttpResponseBase, token: str) -> None:
    """Give the phone its device token (after enrolment)."""
    _cookie_set(response, DEVICE_COOKIE, token, DEVICE_COOKIE_SECONDS)


def pin_cookie_set(response: HttpResponseBase, device: Device) -> None:
    """Unlock `device` on this phone for `PIN_UNLOCK_SECONDS` (after the right PIN)."""
    value = signing.TimestampSigner(salt=_PIN_SALT).sign(_pin_binding(device))
    _cookie_set(response, PIN_COOKIE, value, PIN_UNLOCK_SECONDS)


def device_cookie_clear(response: HttpResponseBase) -> None:
    """Forget the device and its unlock on this phone."""
    response.delete_cookie(DEVICE_COOKIE, path="/", samesite="Lax")
    response.delete_cookie(PIN_COOKIE, path="/", samesite="Lax")
