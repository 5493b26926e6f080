"""The security headers on answers the route matrix does not make (error pages, failures), the
matrix's own check of them (`security_problems`), and the phone's offline copies under no-store.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.test import Client
from django.urls import reverse
from tests.builders import device_client, make_participant, make_study
from tests.web.matrix import security_problems

from diarytrial.phone.views import OFFLINE_COPY_HEADER


def test_a_bare_response_lacks_every_header() -> None:
    problems = security_problems(JsonResponse({"participant": "P-001"}))

    assert len(problems) == 4
    assert [problem.split(" ")[0] for problem in problems] == [
        "Content-Security-Policy",
        "Referrer-Policy",
        "Permissions-Policy",
        "Cache-Control",
    ]


def page_with(html: str) -> HttpResponse:
    """A page holding `html`, with every header right and the nonce ``abc``."""
    response = HttpResponse(f"<!doctype html><html><body>{html}</body></html>")
    response["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self' 'nonce-abc'; style-src 'self' 'nonce-abc'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response["Referrer-Policy"] = "same-origin"
    response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
    response["Cache-Control"] = "no-store"
    return response


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<script type="text/javascript">alert(1)</script>',
        '<script nonce="other">alert(1)</script>',
        "<style>p { color: red }</style>",
        '<p style="color: red">x</p>',
        '<button onclick="go()">x</button>',
        '<a href="javascript:go()">x</a>',
    ],
)
def test_inline_code_in_a_page_is_found(html: str) -> None:
    assert len(security_problems(page_with(html))) == 1


@pytest.mark.parametrize(
    "html",
    [
        '<script src="/static/x.js" defer></script>',
        '<script nonce="abc">go()</script>',
        '<style nonce="abc">p { color: red }</style>',
        '<script type="application/json" id="settings">{"a": 1}</script>',
    ],
)
def test_files_nonced_code_and_data_blocks_pass(html: str) -> None:
    assert security_problems(page_with(html)) == []


def test_unsafe_sources_in_the_policy_are_found() -> None:
    page = page_with("<p>x</p>")
    page["Content-Security-Policy"] += "; script-src 'self' 'unsafe-inline'"

    assert security_problems(page) == [
        f"Content-Security-Policy allows unsafe code: {page['Content-Security-Policy']!r}"
    ]


@pytest.mark.django_db
@pytest.mark.urls("tests.web.problem_urls")
@pytest.mark.parametrize(
    "path", ["/page/crash", "/api/crash", "/page/conflict", "/api/denied", "/nowhere", "/api/x"]
)
def test_error_pages_and_problems_carry_the_headers(path: str) -> None:
    response = Client(raise_request_exception=False).get(path)

    assert response.status_code >= 400
    assert security_problems(response) == []


@pytest.mark.django_db
def test_the_permissions_policy_switches_off_the_camera_and_location() -> None:
    response = Client().get(reverse("healthz"))

    features = {part.strip() for part in response["Permissions-Policy"].split(",")}
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= features


@pytest.mark.django_db
def test_phone_pages_are_no_store_and_offered_to_the_service_worker_without_a_pin() -> None:
    phone = device_client(make_participant(study=make_study()))

    response = phone.get(reverse("phone:history"))

    assert "no-store" in response["Cache-Control"]
    assert response[OFFLINE_COPY_HEADER] == "keep"
