"""How the JSON API reads a request body: JSON only, UTF-8, at most `API_BODY_LIMIT` bytes.

`JsonBodyParser` is the parser of the API's Ninja instance. It refuses, before anything is
validated or stored:

- a body in another format than JSON (``Content-Type`` other than ``application/json`` or a
  ``+json`` type, or none): 415 ``unsupported_media_type``;
- a body over `API_BODY_LIMIT` (a diary upload is about 1 KB): 413 ``request_too_large``
  (Django refuses one over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` before it is read, with the same
  problem);
- text that is not JSON as RFC 8259 defines it: not UTF-8, ``NaN`` or ``Infinity``, a lone
  surrogate escape (``"\\ud800"``), trailing text, nesting deeper than 200 levels, a number of
  thousands of digits: 422 ``validation_error`` naming the line and column.

The JSON is read by pydantic's own parser (``pydantic_core.from_json``), which is strict about
all of this; Python's ``json`` module accepts ``NaN`` and lone surrogates, which no database
column can hold.
"""

from __future__ import annotations

from typing import Any, cast

import pydantic_core
from django.http import HttpRequest
from ninja.parser import Parser

from diarytrial.core.errors import RequestTooLargeError, UnsupportedMediaTypeError

API_BODY_LIMIT = 64 * 1024
"""The largest body the API reads, in bytes: far above any diary upload or setting."""


class JsonBodyError(ValueError):
    """A body that is not JSON; its message says where, for the 422 problem's ``errors``."""


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def not_json_refusal(request: HttpRequest) -> UnsupportedMediaTypeError:
    """The 415 for a body sent in another format than JSON, naming the format it came in."""
    content_type = request.content_type or ""
    sent = f"as {content_type}" if content_type else "without a Content-Type"
    return UnsupportedMediaTypeError(
        f"The body was sent {sent}; this address reads JSON only. Send it with the header "
        f"Content-Type: application/json."
    )


class JsonBodyParser(Parser):
    """Ninja's parser for the API: a body is JSON, UTF-8 and small, or it is refused."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if not _is_json(request.content_type or ""):
            raise not_json_refusal(request)
        body = request.body
        if len(body) > API_BODY_LIMIT:
            raise RequestTooLargeError(
                f"The body is {len(body):,} bytes; this address takes at most "
                f"{API_BODY_LIMIT:,}. Nothing was saved: send only the fields described at "
                f"/api/docs."
            )
        try:
            document = pydantic_core.from_json(body, allow_inf_nan=False)
        except ValueError as error:
            raise JsonBodyError(f"The body is not valid JSON in UTF-8: {error}.") from None
        # Any JSON value: the endpoint's schema refuses one that is not an object (422).
        return cast(dict[str, Any], document)
