"""What the exports services refuse; each message says what to do instead."""

from __future__ import annotations

from diarytrial.core.errors import (
    ConflictError,
    InvalidInputError,
    RequestTooLargeError,
    ServiceUnavailableError,
)


class StudyNotLockedError(ConflictError):
    """Unblinding (or an unblinded export) of a study whose database is not locked."""

    code = "study_not_locked"


class StudyAlreadyUnblindedError(ConflictError):
    """Unblinding a study that is unblinded already."""

    code = "study_already_unblinded"


class StudyNotUnblindedError(ConflictError):
    """An unblinded export of a study that has not been unblinded."""

    code = "study_not_unblinded"


class UnblindReasonRequiredError(InvalidInputError):
    """Unblinding a study without saying why."""

    code = "reason_required"


class CertifiedCopyTooLargeError(RequestTooLargeError):
    """A certified copy of more participants than one copy holds."""

    code = "certified_copy_too_large"


class CertifiedCopyPrintError(ServiceUnavailableError):
    """A casebook's PDF could not be printed."""

    code = "certified_copy_print_failed"
