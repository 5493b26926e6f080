"""What the data query services refuse; each message says what to do instead."""

from __future__ import annotations

from diarytrial.core.errors import ConflictError, InvalidInputError, NotFoundError


class QueryTextInvalidError(InvalidInputError):
    """A message that is empty, or longer than a thread takes."""

    code = "query_text_invalid"


class QueryTargetInvalidError(InvalidInputError):
    """A query about a record that is not the participant's, or about nothing a query names."""

    code = "query_target_invalid"


class QueryStateError(ConflictError):
    """A step the query's status does not allow (answering a closed query, closing it twice)."""

    code = "query_state"


class QueryNotFoundError(NotFoundError):
    """No query with this number among those the reader may see."""

    code = "query_not_found"
