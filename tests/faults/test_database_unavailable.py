"""The phone's API while the database does not answer: a 503 problem document the phone keeps
its entry for (``database_unavailable``, with ``Retry-After``), never a 500 traceback. Runs on
any database: the connection is made to fail (test_postgres_restart.py stops a real one)."""

from __future__ import annotations

import json
import logging
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from diarytrial.core.problems import PROBLEM_CONTENT_TYPE
from diarytrial.devices.auth import DEVICE_COOKIE


@pytest.fixture
def phone() -> Client:
    client = Client(raise_request_exception=False)
    client.cookies[DEVICE_COOKIE] = "a-device-token-the-database-cannot-be-asked-about"
    client.cookies["csrftoken"] = "c" * 32
    return client


@pytest.mark.parametrize(
    "failure",
    [
        OperationalError("connection to server at 127.0.0.1, port 5432 failed"),
        InterfaceError("connection already closed"),
    ],
    ids=["cannot connect", "connection lost"],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_request_while_the_database_is_away_is_a_503_problem(
    phone: Client, failure: Exception, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    with mock.patch.object(connection, "ensure_connection", side_effect=failure):
        if method == "get":
            response = phone.get("/api/diary/form")
        else:
            response = phone.post(
                "/api/diary/entries",
                json.dumps({"client_id": "0b8f3c2e-5d1a-4f8e-9c61-3a2b7d4e5f60"}),
                content_type="application/json",
                HTTP_X_CSRFTOKEN="c" * 32,
            )

    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response["Retry-After"] == "5"
    problem = response.json()
    assert (problem["code"], problem["status"]) == ("database_unavailable", 503)
    assert "sends it again by itself" in problem["detail"]
    assert str(failure) not in response.content.decode()
    # One warning line for the operator, no traceback, no error logged by Django after it.
    (record,) = caplog.records
    assert (record.name, record.levelno, record.exc_info) == (
        "diarytrial.web.api",
        logging.WARNING,
        None,
    )
