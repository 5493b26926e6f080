"""The JSON API: one Ninja instance under ``/api/``, each app's router mounted below it.

OpenAPI UI at ``/api/docs``, schema at ``/api/openapi.json`` (docs/api.md explains the API in
words). Every error under ``/api/`` is an RFC 7807 problem document made by
``diarytrial.web.error_responses.problem_response``: the services' `ApplicationError`s with
their code, title, status and extension members; a body that does not fit its schema (422
``validation_error``); a request without an enrolled phone (401 ``device_not_enrolled``); an
unknown address (404), a method the address does not take (405), and anything unexpected
(500 ``server_error``, logged, nothing of its cause shown).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from diarytrial.devices.errors import DeviceNotEnrolledError
from diarytrial.diary.api import router as diary_router
from diarytrial.web.error_responses import problem_response
from diarytrial.web.errors import ApplicationError

logger = logging.getLogger("diarytrial.web.api")

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_signed_in", "Sign in first"),
    403: ("permission_denied", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    429: ("too_many_requests", "Too many requests"),
}


class ProblemNinjaAPI(NinjaAPI):
    """A NinjaAPI whose every URL answers a method it does not take with a problem (405)."""

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _method_not_allowed_as_problem(pattern.callback)
        return patterns, app_name, namespace


def _method_not_allowed_as_problem(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    # Ninja answers such a request itself (a bare 405), before any exception handler runs.
    @functools.wraps(view)  # keeps csrf_exempt: the API checks CSRF in its auth
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        problem = problem_response(
            status=405,
            code="method_not_allowed",
            title="Method not allowed",
            detail=f"This address does not take {request.method} requests; it takes "
            f"{response['Allow']}. The endpoints are described at /api/docs.",
            extra={"allow": [m.strip() for m in response["Allow"].split(",")]},
        )
        problem["Allow"] = response["Allow"]
        return problem

    return wrapped


api = ProblemNinjaAPI(
    title="diarytrial API",
    version="1",
    description="The participant's diary: tonight's form, uploads, history, progress and the "
    "end-of-period questions. Errors are RFC 7807 problem documents with a stable `code`.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# Each app's router, one line each; their paths are written in full (/diary/..., /reminders/...).
api.add_router("", diary_router)
api.add_router("", "diarytrial.reminders.api.router")


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    if error.http_status >= 500:
        logger.error("%s: %s", error.code, error.message, exc_info=error)
    return problem_response(
        status=error.http_status,
        code=error.code,
        title=error.title,
        detail=error.message,
        extra=error.extra,
    )


def _validation_problem(errors: list[dict[str, Any]]) -> HttpResponse:
    described = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in errors
    )
    return problem_response(
        status=422,
        code="validation_error",
        title="Request cannot be read",
        detail=f"The request does not have the expected fields and values ({described}). "
        f"The endpoints and their fields are described at /api/docs.",
        extra={"errors": errors},
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return _validation_problem(
        [
            {"loc": list(problem.get("loc", ())), "msg": str(problem.get("msg", ""))}
            for problem in error.errors
        ]
    )


@api.exception_handler(AuthenticationError)
def _not_enrolled(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _application_error(
        request,
        DeviceNotEnrolledError(
            "This phone is not set up for the diary, or no longer is. Ask the study "
            "coordinator for a new link to set it up."
        ),
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    if error.status_code == 400:  # Ninja could not parse the body as JSON
        return _validation_problem([{"loc": ["body"], "msg": "The body is not valid JSON."}])
    code, title = _HTTP_CODES.get(error.status_code, ("http_error", "Request refused"))
    return problem_response(
        status=error.status_code, code=code, title=title, detail=f"{title}: {error.message}."
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem_response(
        status=404,
        code="not_found",
        title="Not found",
        detail="There is nothing at this address. The endpoints are described at /api/docs.",
    )


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.exception("unexpected error in %s %s", request.method, request.path, exc_info=error)
    return problem_response(
        status=500,
        code="server_error",
        title="Something went wrong",
        detail="The server failed to answer; the error was logged. Try again in a moment, and "
        "tell the study's coordinator if it keeps happening.",
    )
