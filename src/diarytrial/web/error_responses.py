"""Django's error handlers, and the middleware that renders an `ApplicationError`.

`ApplicationErrorMiddleware` turns an `ApplicationError` that a view lets through into a
response (``core/problems.py`` renders it). Django's own 400, 403, 404 and 500 go through the
``handler*`` functions (named in ``web/urls.py``), so every error looks the same; a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 that says so. DEBUG is off outside development.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from diarytrial.core.errors import ApplicationError
from diarytrial.core.problems import error_response, render_application_error


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
