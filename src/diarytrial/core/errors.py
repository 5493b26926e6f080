"""One hierarchy for the errors a person can cause and fix: refused input, conflicts, misses.

Services raise these; a management command, a view or the API renders them (pages and API
through ``diarytrial.web.error_responses``). Each class has a stable ``code`` (for RFC 7807
problem details), a short ``title`` and the HTTP status it maps to. Programming errors stay
ordinary exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from diarytrial.protocol import Problem, ProtocolError


class ApplicationError(Exception):
    """Something the user asked for was refused; `message` says what happened and what to do."""

    code: ClassVar[str] = "application_error"
    title: ClassVar[str] = "Request refused"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, extra: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra: dict[str, object] = dict(extra or {})


class InvalidInputError(ApplicationError):
    """The input is well-formed but cannot be used as it is."""

    code = "invalid_input"
    title = "Input cannot be used"
    http_status = 422


class NotFoundError(ApplicationError):
    """The thing asked for does not exist."""

    code = "not_found"
    title = "Not found"
    http_status = 404


class ConflictError(ApplicationError):
    """The request clashes with what is already recorded (a duplicate, a stale state)."""

    code = "conflict"
    title = "Conflicts with what is recorded"
    http_status = 409


class NotSignedInError(ApplicationError):
    """The request needs a signed-in staff user and has none."""

    code = "not_signed_in"
    title = "Sign in first"
    http_status = 401


class PermissionDeniedError(ApplicationError):
    """The signed-in user's role does not allow this (or they have no role in the study)."""

    code = "permission_denied"
    title = "Not allowed"
    http_status = 403


class RequestTooLargeError(ApplicationError):
    """A request body over the size the address accepts."""

    code = "request_too_large"
    title = "Request too large"
    http_status = 413


class UnsupportedMediaTypeError(ApplicationError):
    """A request body in a format the address does not read (the JSON API reads JSON only)."""

    code = "unsupported_media_type"
    title = "Send JSON"
    http_status = 415


class ServiceUnavailableError(ApplicationError):
    """Something this site is not set up to do (a missing key or service): the request is
    fine, and the answer is a documented 503, not a failure of the server."""

    code = "service_unavailable"
    title = "Not available on this site"
    http_status = 503


class ProtocolInvalidError(InvalidInputError):
    """A protocol text that fails validation; `problems` lists every problem found."""

    code = "protocol_invalid"

    def __init__(self, error: ProtocolError) -> None:
        super().__init__(str(error), extra={"source": error.source})
        self.source = error.source
        self.problems: list[Problem] = list(error.problems)

    def describe_problems(self, source: str | None = None) -> list[str]:
        """One line per problem, ``file:line: field: message``, naming `source` as the file."""
        return [problem.describe(source or self.source) for problem in self.problems]
