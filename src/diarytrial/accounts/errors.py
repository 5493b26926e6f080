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


class InvitationInvalidError(ApplicationError):
    """An invitation link that is unknown (mistyped, cut short, tampered with), used already,
    expired, replaced by a newer one, or whose account was deactivated."""

    code = "invitation_invalid"
    title = "Invitation link not valid"
    http_status = 410


class StaffAccountError(ApplicationError):
    """A change to a staff account that is refused (deactivating oneself, an account of
    another study's team, a two-step reset of an account without a device)."""

    code = "staff_account_refused"
    title = "Change refused"
    http_status = 409
