"""What signing in refuses; the messages are shown on the sign-in page as they are."""

from __future__ import annotations

from diarytrial.core.errors import ApplicationError


class SignInRefusedError(ApplicationError):
    """Wrong username, password or code; the message does not say which, on purpose."""

    code = "sign_in_refused"
    title = "Sign-in refused"
    http_status = 401


class SignInThrottledError(ApplicationError):
    """Too many failed sign-ins for this username or from this address: wait, then try again."""

    code = "sign_in_throttled"
    title = "Too many failed sign-ins"
    http_status = 429
