"""How an error reaches a person: RFC 7807 problem details under ``/api/``, a plain page elsewhere.

Every part of the live system renders its errors through here: `problem_response` for the JSON
API, `error_page_response` for a page, `render_application_error` for an `ApplicationError`
(its status, code, title and message), and `ProblemOut` is the problem document's schema in the
OpenAPI document. Nothing internal is shown: no exception text for unexpected errors, no
traceback. Only the unexpected is logged with its traceback: a documented 503 (a feature this
site is not set up for, a database that is away) is one warning line. The middleware and
Django's ``handler*`` functions that use this live in ``web/error_responses.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.log import log_response
from ninja import Schema
from pydantic import ConfigDict

from diarytrial.core.errors import ApplicationError, ServiceUnavailableError

logger = logging.getLogger("diarytrial.web")

PROBLEM_TYPE_BASE = "https://diarytrial.org/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
_PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "code"})


def wants_problem_details(request: HttpRequest) -> bool:
    """True for the JSON API (paths under ``/api/``), which answers errors as problem details."""
    # path_info, not path: the site may be served under a prefix (SCRIPT_NAME).
    return request.path_info.startswith("/api/")


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: Mapping[str, object] | None = None,
) -> JsonResponse:
    """An ``application/problem+json`` response; `extra` becomes extension members."""
    body: dict[str, object] = {
        key: value for key, value in (extra or {}).items() if key not in _PROBLEM_MEMBERS
    }
    body.update(
        type=f"{PROBLEM_TYPE_BASE}{code}", title=title, status=status, detail=detail, code=code
    )
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def error_page_response(
    request: HttpRequest, *, status: int, title: str, detail: str
) -> HttpResponse:
    """A plain HTML error page saying what happened and what to do."""
    # Rendered without the request on purpose: the page must not depend on the session or the
    # database (which may be what failed), nor show anything about the user.
    html = render_to_string(
        "errors/error.html", {"status": status, "title": title, "detail": detail}
    )
    return HttpResponse(html, status=status)


def error_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: Mapping[str, object] | None = None,
) -> HttpResponse:
    """Problem details under ``/api/``, an HTML page elsewhere."""
    if wants_problem_details(request):
        return problem_response(status=status, code=code, title=title, detail=detail, extra=extra)
    return error_page_response(request, status=status, title=title, detail=detail)


def render_application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """The response for `error`: its status, code, title and message."""
    response = error_response(
        request,
        status=error.http_status,
        code=error.code,
        title=error.title,
        detail=error.message,
        extra=error.extra,
    )
    if isinstance(error, ServiceUnavailableError):
        # Expected and documented: one line for the operator, and Django logs it no more.
        log_response(
            "%s: %s",
            error.code,
            error.message,
            response=response,
            request=request,
            logger=logger,
            level="warning",
        )
    elif error.http_status >= 500:
        logger.error("%s: %s", error.code, error.message, exc_info=error)
    return response


class ProblemOut(Schema):
    """An RFC 7807 problem document; extension members (e.g. ``next_window_opens``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
