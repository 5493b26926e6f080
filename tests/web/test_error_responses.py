"""Errors: problem details (RFC 7807) under /api/, a plain page elsewhere, nothing leaked."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from diarytrial.core.problems import PROBLEM_CONTENT_TYPE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web.problem_urls")]


@pytest.fixture
def lenient_client() -> Client:
    """A client that returns the 500 page instead of raising the view's exception."""
    return Client(raise_request_exception=False)


def test_an_application_error_under_api_is_problem_details(client: Client) -> None:
    response = client.get("/api/conflict")

    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json() == {
        "type": "https://diarytrial.org/problems/conflict",
        "title": "Conflicts with what is recorded",
        "status": 409,
        "detail": "Participant P-007 is enrolled already.",
        "code": "conflict",
        "participant": "P-007",
    }


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/denied", 403, "permission_denied"),
        ("/api/missing-study", 404, "study_not_found"),
        ("/api/django-denied", 403, "permission_denied"),
        ("/api/no-such-thing", 404, "not_found"),
    ],
)
def test_every_api_error_is_problem_details(
    client: Client, path: str, status: int, code: str
) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    problem = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"https://diarytrial.org/problems/{code}"
    assert problem["title"]
    assert problem["detail"]
    assert "internal reason" not in response.text


def test_an_unexpected_api_error_says_nothing_of_its_cause(lenient_client: Client) -> None:
    response = lenient_client.get("/api/crash")

    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "server_error"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "status", "shown"),
    [
        ("/page/denied", 403, "Only the pharmacist sees kit contents."),
        ("/page/conflict", 409, "Participant P-007 is enrolled already."),
        ("/page/django-denied", 403, "You are not allowed to do this."),
        ("/page/no-such-thing", 404, "There is nothing at this address."),
    ],
)
def test_page_errors_are_plain_html(client: Client, path: str, status: int, shown: str) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert shown in response.text
    assert "internal reason" not in response.text


def test_an_unexpected_page_error_shows_a_plain_page(lenient_client: Client) -> None:
    response = lenient_client.get("/page/crash")

    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret" not in response.text
    assert "Traceback" not in response.text


def test_debug_is_off_in_test() -> None:
    from django.conf import settings

    assert settings.DEBUG is False


# --- bad requests: a 4xx that says so, a warning line without a traceback ------------------------

BIG_FORM = "note=" + "x" * 3_000_000  # over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.levelname} {record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info is not None or record.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize(
    ("path", "content_type", "shown"),
    [
        ("/page/form", "text/html; charset=utf-8", "larger than this site accepts"),
        ("/api/form", PROBLEM_CONTENT_TYPE, '"code": "request_too_large"'),
    ],
)
def test_a_body_over_the_size_limit_is_a_413_not_a_500(
    lenient_client: Client,
    caplog: pytest.LogCaptureFixture,
    path: str,
    content_type: str,
    shown: str,
) -> None:
    response = lenient_client.post(path, BIG_FORM, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert response["Content-Type"] == content_type
    assert shown in response.text
    assert _tracebacks(caplog) == []
    assert "RequestDataTooBig" in {record.name.rsplit(".", 1)[-1] for record in caplog.records}


@pytest.mark.urls("diarytrial.web.urls")
def test_the_sign_in_form_refuses_a_body_over_the_limit_with_a_413_page(
    lenient_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = lenient_client.post(
        "/accounts/sign-in/", BIG_FORM, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 413
    assert "nothing was saved" in response.text
    assert _tracebacks(caplog) == []


def test_a_host_this_site_does_not_serve_is_a_400_and_one_warning(
    lenient_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = lenient_client.get("/api/conflict", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert _tracebacks(caplog) == []
    [warning] = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert warning.levelname == "WARNING"
    assert "evil.example" in warning.getMessage()


@pytest.mark.parametrize("path", ["/api/unavailable", "/page/unavailable"])
def test_a_documented_503_is_one_warning_line_without_a_traceback(
    client: Client, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 503
    assert "use e-mail" in response.text
    assert _tracebacks(caplog) == []
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert (line.name, line.levelname) == ("diarytrial.web", "WARNING")
    assert line.getMessage().startswith("service_unavailable: Text messages are not available")


def test_an_unexpected_error_is_logged_with_its_traceback(
    lenient_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    lenient_client.get("/api/crash")

    assert any(record.exc_info for record in caplog.records)  # what the checks above rely on


def test_problem_details_follow_the_api_under_a_path_prefix(client: Client) -> None:
    # Served under /trial (SCRIPT_NAME): the address is /trial/api/..., the API still /api/.
    response = client.get("/api/no-such-thing", SCRIPT_NAME="/trial")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
