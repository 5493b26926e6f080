"""What signing refuses; the messages are shown on the signing forms as they are."""

from __future__ import annotations

from diarytrial.core.errors import InvalidInputError


class SigningRefusedError(InvalidInputError):
    """The password or the code is wrong; the message does not say which, on purpose."""

    code = "signing_refused"
    title = "Signature refused"
    http_status = 403


class SigningLockedError(InvalidInputError):
    """Too many failed signing attempts: signing is paused for a while."""

    code = "signing_locked"
    title = "Signing paused"
    http_status = 429


class MeaningRequiredError(InvalidInputError):
    """A signature must say what it means: approved, reviewed or responsible for."""

    code = "signature_meaning_required"
    title = "Meaning of the signature required"
