"""The JSON API keeps to its OpenAPI document: a schemathesis run against /api/openapi.json.

Schemathesis reads the document the API serves and sends each operation requests generated from
it, in process through the WSGI application (no network): the documents' examples, cases at and
beyond each schema constraint (the coverage phase, which includes malformed ones) and random
ones (fuzzing), with the cookie and CSRF token of an enrolled phone whose diary window is open,
so the endpoints are exercised past their 401. Every response is checked: no server error, a
status and a media type the document declares, a body that fits the declared schema. The run is
deterministic (fixed seed, derandomized, no example database) and bounded (`MAX_EXAMPLES` per
operation in the fuzzing phase, `EXPECTED_CASES` in all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from tests.web.api_phone import Phone, phone_with_open_window, tracebacks_and_errors

from diarytrial.core.problems import PROBLEM_CONTENT_TYPE
from diarytrial.web.wsgi import application

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 12
EXPECTED_CASES = range(400, 700)  # all phases of the 14 operations: 543 at this seed
CONFIG = {
    "seed": 20_251_120,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    # A request the document accepts may still be refused by the diary's own rules (answers
    # that are not the protocol's items, a question not due): a 422 with the service's code.
    # The test adds the stricter check: never `validation_error` for such a request.
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "423"]
        }
    },
    # The handlers' literal values as candidate data: read from source, so off, to stay quick.
    "analysis": {"constants": {"enabled": False}},
}


# When the upload that docs/api.md shows (the document's example) was made: 21:14 on Monday
# 2 March 2026 in Los Angeles, so the examples phase sends it while its window is open.
EXAMPLE_MOMENT = dt.datetime(2026, 3, 3, 5, 14, 9, tzinfo=dt.UTC)


@pytest.fixture
def phone(settings: Any) -> Iterator[Phone]:
    with time_machine.travel(EXAMPLE_MOMENT, tick=False):
        made = phone_with_open_window(settings, zone="America/Los_Angeles")
        # The WSGI application closes the database connection at each request, which would
        # end the test's transaction; Django's test client stops that for the requests it sends
        # (and reconnects the handler after each), so this test does it for schemathesis's.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            yield made
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def cases_run() -> Iterator[list[str]]:
    """The cases sent, one label each: the run must be as large as intended, no smaller."""
    sent: list[str] = []
    yield sent
    assert len(sent) in EXPECTED_CASES, f"{len(sent)} cases, not {EXPECTED_CASES}"


# Read from the running application at import: the document it serves is the one tested.
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", application, config=SchemathesisConfig.from_dict(CONFIG)
)


# Cases are made before any test runs, so they carry stand-ins that each test replaces with
# its own phone's cookie and token (`_as_the_phone`).
DEVICE_STAND_IN = "device-cookie-of-the-test-phone"
CSRF_STAND_IN = "csrf-token-of-the-test-phone"


@schema.auth()
class PhoneAuth:
    """The phone's device cookie, and the CSRF cookie and header its writes need. Schemathesis
    leaves them out of the cases that test what the API does without them."""

    def get(self, case: Any, context: Any) -> str:
        return DEVICE_STAND_IN

    def set(self, case: Any, data: str, context: Any) -> None:
        case.cookies = {**(case.cookies or {}), "dt_device": data, "csrftoken": CSRF_STAND_IN}
        case.headers = {**(case.headers or {}), "X-CSRFToken": CSRF_STAND_IN}


def _as_the_phone(case: Any, phone: Phone) -> None:
    real = {DEVICE_STAND_IN: phone.device_cookie, CSRF_STAND_IN: phone.csrf_token}
    for values in (case.cookies, case.headers):
        for name, value in (values or {}).items():
            values[name] = real.get(value, value)


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_every_response_keeps_to_the_openapi_document(
    case: Any, phone: Phone, cases_run: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    _as_the_phone(case, phone)
    response = case.call_and_validate()
    cases_run.append(f"{case.method} {case.path}")
    if response.status_code >= 400:
        assert response.headers["content-type"] == [PROBLEM_CONTENT_TYPE]
    if response.status_code == 422 and case.meta and case.meta.generation.mode.is_positive:
        # What the document calls valid, the API reads: only the diary's own rules refuse it.
        assert response.json()["code"] != "validation_error", response.text
    assert tracebacks_and_errors(caplog) == []


def test_the_document_declares_every_problem_the_api_sends() -> None:
    document = Client().get("/api/openapi.json").json()
    writes = set()

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
            for status, response in errors.items():
                assert list(response["content"]) == [PROBLEM_CONTENT_TYPE], (label, status)
                assert response["description"], (label, status)
            assert {"401", "403", "500", "503"} <= set(errors), label
            if "requestBody" in operation:
                assert {"413", "415", "422"} <= set(errors), label
            if method != "get":
                writes.add(label)
                assert "423" in errors, label  # the study locked for analysis

    assert len(writes) == 9
    assert "ProblemOut" in document["components"]["schemas"]
    for label in ("GET /api/reminders/push-key", "POST /api/reminders/push-subscriptions"):
        method, path = label.split()
        assert "503" in document["paths"][path][method.lower()]["responses"], label
