"""What the diary services refuse; each message says what happened and what to do.

Messages may reach a participant's phone: they name dates and times in the participant's own
time zone and never an arm.
"""

from __future__ import annotations

from diarytrial.core.errors import ConflictError, InvalidInputError


class DiaryWindowClosedError(ConflictError):
    """An entry received outside every window and not a late upload within the grace period.

    ``extra["next_window_opens"]`` is the next opening (ISO 8601, UTC).
    """

    code = "diary_window_closed"


class DiaryEntryClosedError(ConflictError):
    """A second entry for a diary date whose window has closed: only staff may change it now."""

    code = "diary_entry_closed"


class DiaryEntryStillOpenError(ConflictError):
    """A staff correction of an entry whose window is still open: the participant may change it."""

    code = "diary_entry_still_open"


class DiaryClientIdConflictError(ConflictError):
    """An upload whose client id was used before for different content (or participant)."""

    code = "diary_client_id_conflict"


class DiaryAnswersInvalidError(InvalidInputError):
    """Answers or side effects that do not fit the protocol: unknown, missing or out of range."""

    code = "diary_answers_invalid"


class DiaryDateInvalidError(InvalidInputError):
    """A diary date in the future, before the participant's start, or after their schedule."""

    code = "diary_date_invalid"


class PgicAnswerInvalidError(InvalidInputError):
    """A PGIC answer or blinding guess for a period, score or date the protocol does not allow."""

    code = "pgic_answer_invalid"


class AlreadyAnsweredError(ConflictError):
    """A second, different PGIC answer or blinding guess for the same period."""

    code = "already_answered"
