"""Errors: problem details (RFC 7807) under /api/, a plain page elsewhere, nothing leaked."""

from __future__ import annotations

import pytest
from django.test import Client

from diarytrial.web.error_responses import PROBLEM_CONTENT_TYPE

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
