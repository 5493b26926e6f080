"""How errors reach a person: a plain HTML page, or RFC 7807 problem details under ``/api/``.

`ApplicationErrorMiddleware` turns an `ApplicationError` that a view lets through into a
response; views that catch one themselves call `render_application_error`. Django's own 400,
403, 404 and 500 go through the ``handler*`` functions (named in ``web/urls.py``), so every
error looks the same; a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 that says so. Nothing
internal is shown: no exception text for unexpected errors, no traceback (DEBUG is off outside
development). Only the unexpected is logged with its traceback: a documented 503 (a feature
this site is not set up for) is one warning line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.log import log_response

from diarytrial.web.errors import ApplicationError, ServiceUnavailableError

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


class ApplicationErrorMiddleware:
    """Renders an `ApplicationError` raised by a view; other exceptions go on to Django."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ApplicationError):
            return render_application_error(request, exception)
        return None


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_response(
            request,
            status=413,
            code="request_too_large",
            title="Request too large",
            detail="What was sent is larger than this site accepts, so nothing was saved. "
            "Go back, shorten what you entered, and send it again.",
        )
    return error_response(
        request,
        status=400,
        code="bad_request",
        title="Bad request",
        detail="The request could not be understood. Go back and try again.",
    )


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request,
        status=403,
        code="permission_denied",
        title="Not allowed",
        detail="You are not allowed to do this. If you need to, ask the study's administrator.",
    )


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request,
        status=404,
        code="not_found",
        title="Not found",
        detail="There is nothing at this address. Check it, or start again from the studies list.",
    )


def handler500(request: HttpRequest) -> HttpResponse:
    return error_response(
        request,
        status=500,
        code="server_error",
        title="Something went wrong",
        detail="The server failed to answer; the error was logged. Try again in a moment, and "
        "tell the study's administrator if it keeps happening.",
    )
