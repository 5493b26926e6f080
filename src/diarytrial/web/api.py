"""The JSON API: one Ninja instance under ``/api/``, each app's router mounted below it.

OpenAPI UI at ``/api/docs``, schema at ``/api/openapi.json`` (docs/api.md explains the API in
words). Every error under ``/api/`` is an RFC 7807 problem document made by
``diarytrial.core.problems.problem_response``: the services' `ApplicationError`s with
their code, title, status and extension members; a body that does not fit its schema or is not
JSON (422 ``validation_error``), is not sent as JSON (415) or is too large (413, see
``web/api_body.py``); a request without an enrolled phone (401 ``device_not_enrolled``); an
unknown address (404, whatever the method and DEBUG), a method the address does not take (405),
and anything unexpected (500 ``server_error``, logged, nothing of its cause shown); a database
that does not answer (restarting, unreachable) is a 503 ``database_unavailable``. A request
Django finds suspicious (too many form fields) is a 400 problem, logged without a traceback.
The OpenAPI document declares all of these (``web/api_problems.py``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, re_path
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.types import DictStrAny

from diarytrial.core.errors import ApplicationError, RequestTooLargeError
from diarytrial.core.problems import problem_response, render_application_error
from diarytrial.devices.errors import DeviceNotEnrolledError
from diarytrial.diary.api import router as diary_router
from diarytrial.web.api_body import (
    API_BODY_LIMIT,
    JsonBodyError,
    JsonBodyParser,
    not_json_refusal,
)
from diarytrial.web.api_problems import declare_problems

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
    """A NinjaAPI that answers with problems where Ninja and Django would not: a method an
    address does not take (405), an address it does not have (404, even with DEBUG on, whose
    404 page is HTML); and whose OpenAPI document declares every problem it sends."""

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        # csrf_exempt: a POST to an address that does not exist gets its 404, not a 403 page.
        not_found = csrf_exempt(_not_found_view)
        for pattern in patterns:
            if not isinstance(pattern, URLPattern):
                continue
            if pattern.name == "api-root":  # /api/ itself, whose view only raises Http404
                pattern.callback = not_found
            else:
                pattern.callback = _method_not_allowed_as_problem(pattern.callback)
        patterns.append(re_path(r"^.*$", not_found, name="not_found"))  # last: the rest
        return patterns, app_name, namespace

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: DictStrAny | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        declare_problems(document)
        return document


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


def _not_found_view(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return _not_found(request, Http404())


api = ProblemNinjaAPI(
    parser=JsonBodyParser(),
    title="diarytrial API",
    version="1",
    description="The participant's diary: tonight's form, uploads, history, progress and the "
    "end-of-period questions; and, for the staff (signed-in session), the study dashboard. "
    "Errors are RFC 7807 problem documents with a stable `code`.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# Each app's router, one line each; their paths are written in full (/diary/..., /reminders/...).
api.add_router("", diary_router)
api.add_router("", "diarytrial.reminders.api.router")
api.add_router("", "diarytrial.monitoring.api.router")  # staff: signed-in session, not a phone


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return render_application_error(request, error)


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
    # Ninja wraps what our parser (JsonBodyParser) raised in a bare 400: unwrap it.
    cause = error.__cause__
    if isinstance(cause, ApplicationError):
        return render_application_error(request, cause)
    if isinstance(cause, JsonBodyError):
        return _validation_problem([{"loc": ["body"], "msg": str(cause)}])
    code, title = _HTTP_CODES.get(error.status_code, ("http_error", "Request refused"))
    return problem_response(
        status=error.status_code, code=code, title=title, detail=f"{title}: {error.message}."
    )


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    # Django refused to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE: the same 413 as ours.
    return render_application_error(
        request,
        RequestTooLargeError(
            f"The body is larger than this address takes (at most {API_BODY_LIMIT:,} bytes). "
            f"Nothing was saved: send only the fields described at /api/docs."
        ),
    )


@api.exception_handler(RawPostDataException)
def _read_as_a_form(request: HttpRequest, error: RawPostDataException) -> HttpResponse:
    # The CSRF check read a POST's form body (multipart) looking for a token; it is no JSON.
    return render_application_error(request, not_json_refusal(request))


@api.exception_handler(SuspiciousOperation)
@api.exception_handler(MultiPartParserError)
def _unreadable(request: HttpRequest, error: Exception) -> HttpResponse:
    # A form body with thousands of fields, or a broken multipart one, met while the CSRF check
    # looks for a token in it: the client's fault, answered without a traceback in the log.
    logger.warning("refused %s %s: %s", request.method, request.path, error)
    return problem_response(
        status=400,
        code="bad_request",
        title="Bad request",
        detail="The request cannot be read. Send the fields described at /api/docs, as JSON.",
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem_response(
        status=404,
        code="not_found",
        title="Not found",
        detail="There is nothing at this address. The endpoints are described at /api/docs.",
    )


DATABASE_RETRY_AFTER_SECONDS = 5


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    # The database is restarting or out of reach (or broke a deadlock): the same request
    # later will do. The phone keeps its entry on a 5xx and sends it again under the same
    # client id, so an upload whose commit did get through counts once. Connections reconnect
    # by themselves (CONN_HEALTH_CHECKS).
    response = problem_response(
        status=503,
        code="database_unavailable",
        title="Try again in a moment",
        detail="The diary could not reach its database just now. Your phone keeps what you "
        "entered and sends it again by itself, and it is never counted twice; tell the "
        "study's coordinator if this goes on for more than an hour.",
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    # One warning line per request, without a traceback; Django then logs it no more.
    log_response(
        "database unavailable for %s %s: %s",
        request.method,
        request.path,
        error,
        response=response,
        request=request,
        logger=logger,
        level="warning",
    )
    return response


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
