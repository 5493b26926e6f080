"""URLs for tests/web/test_error_responses.py: views that fail in each way, under /api/ and not."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from diarytrial.core.errors import ConflictError, PermissionDeniedError, ServiceUnavailableError
from diarytrial.studies.errors import StudyNotFoundError


def conflict(request: HttpRequest) -> HttpResponse:
    raise ConflictError(
        "Participant P-007 is enrolled already.", extra={"participant": "P-007", "status": 1}
    )


def denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDeniedError("Only the pharmacist sees kit contents.")


def missing_study(request: HttpRequest) -> HttpResponse:
    raise StudyNotFoundError("There is no study 'x'.", extra={"study": "x"})


def django_denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("internal reason that must not be shown")


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internal detail /etc/passwd")


def unavailable(request: HttpRequest) -> HttpResponse:
    raise ServiceUnavailableError("Text messages are not available on this site; use e-mail.")


def form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{len(request.POST)} fields")


failing = [
    path("conflict", conflict),
    path("denied", denied),
    path("missing-study", missing_study),
    path("django-denied", django_denied),
    path("crash", crash),
    path("unavailable", unavailable),
    path("form", form),
]

urlpatterns = [
    path("api/", include(failing)),
    path("page/", include(failing)),
]

handler400 = "diarytrial.web.error_responses.handler400"
handler403 = "diarytrial.web.error_responses.handler403"
handler404 = "diarytrial.web.error_responses.handler404"
handler500 = "diarytrial.web.error_responses.handler500"
