"""What the exports services refuse; each message says what to do instead."""

from __future__ import annotations

from diarytrial.core.errors import ConflictError, InvalidInputError


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
