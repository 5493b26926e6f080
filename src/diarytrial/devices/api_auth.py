"""How the JSON API knows the participant's phone: the ``dt_device`` cookie, CSRF on writes.

`DeviceAuth` is the Ninja auth of every participant endpoint under ``/api/``. A request
without an enrolled device is refused with ``device_not_enrolled`` (401, through the API's
`AuthenticationError` handler), a locked PIN-protected device with ``pin_required`` (403).
Cookies travel with every request the browser makes, so writes also need Django's CSRF token
(the ``X-CSRFToken`` header, read by the page from the ``csrftoken`` cookie); reads do not.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from diarytrial.core.errors import PermissionDeniedError
from diarytrial.devices.auth import DEVICE_COOKIE, device_unlocked, request_device
from diarytrial.devices.errors import PinRequiredError
from diarytrial.devices.models import Device


class CsrfFailedError(PermissionDeniedError):
    """A write through the API without the page's CSRF token (or with a stale one)."""

    code = "csrf_failed"
    title = "Reload the page"


class DeviceAuth(APIKeyCookie):
    """The participant's enrolled (and, with a PIN, unlocked) phone; the request's `auth`."""

    param_name = DEVICE_COOKIE

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # Ninja's own check raises a bare HttpError; ours says what to do, as a problem.
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise CsrfFailedError(
                "This page's security token is missing or out of date, so nothing was "
                "saved. Reload the page and try again."
            )
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Device | None:
        device = request_device(request)
        if device is None:
            return None
        if not device_unlocked(request, device):
            raise PinRequiredError(
                "This phone is locked with a PIN. Enter your PIN to open your diary."
            )
        return device


device_auth = DeviceAuth()
