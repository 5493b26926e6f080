"""Two-step sign-in required: when ``DIARYTRIAL_REQUIRE_TOTP`` is on, a signed-in staff user
whose session is not confirmed with a TOTP code reaches only the TOTP page and sign-out.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

from diarytrial.core.problems import problem_response

# Reachable without a confirmed code: what it takes to confirm one, or to leave.
_OPEN_URL_NAMES = ("accounts:two_step", "accounts:sign_out", "healthz")


def session_is_verified(user: object) -> bool:
    """Whether this session's sign-in was confirmed with a TOTP code (set by OTPMiddleware)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


class TwoStepRequiredMiddleware:
    """Sends an unconfirmed session to the TOTP page (set-up or code) before anything else.

    Must come after django-otp's ``OTPMiddleware``, which tells whether the session is verified.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if settings.DIARYTRIAL_REQUIRE_TOTP and self._needs_code(request):
            if request.path.startswith("/api/"):
                return problem_response(
                    status=403,
                    code="two_step_required",
                    title="Two-step sign-in required",
                    detail="Confirm your sign-in with a code from your authenticator app first.",
                )
            return redirect_to_login(
                request.get_full_path(), login_url=reverse("accounts:two_step")
            )
        return self.get_response(request)

    def _needs_code(self, request: HttpRequest) -> bool:
        user = request.user
        if not user.is_authenticated or session_is_verified(user):
            return False
        if request.path.startswith("/" + str(settings.STATIC_URL).lstrip("/")):
            return False
        return request.path not in {reverse(name) for name in _OPEN_URL_NAMES}
