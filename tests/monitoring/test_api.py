"""The study dashboard as JSON: the page's numbers, the page's roles and sites, problems for
everything else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.builders import client_for, device_client, make_member, make_site, make_study
from tests.monitoring.helpers import NOON, day, enrolled, fill, fill_late, nights

from diarytrial.core.problems import PROBLEM_CONTENT_TYPE
from diarytrial.studies.models import Role, Site, Study

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def noon() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def sites(study: Study) -> tuple[Site, Site]:
    return make_site(study=study, code="stanford"), make_site(study=study, code="boston")


def _url(study: Study) -> str:
    return f"/api/studies/{study.slug}/dashboard"


def test_the_numbers_of_the_page(study: Study, sites: tuple[Site, Site]) -> None:
    coordinator = make_member(study=study, role=Role.COORDINATOR, sites=[sites[0]]).user
    mine = enrolled(study, sites[0], start=day(10))
    fill(mine, [day(10), day(11)])
    fill_late(mine, day(12))
    theirs = enrolled(study, sites[1], start=day(1))

    response = client_for(coordinator).get(_url(study))

    assert response.status_code == 200
    body = response.json()
    assert body["sites"] == ["stanford"]
    assert theirs.code not in response.text
    assert body["tonight"] == {"site": None, "expected": 1, "received": 0, "window_open": 0}
    [row] = body["grid"]["rows"]
    assert row["participant"] == mine.code
    assert (row["filled"], row["late"], row["missed"], row["missed_in_a_row"]) == (3, 1, 7, 7)
    nights_by_date = dict(zip(body["grid"]["nights"], row["nights"], strict=True))
    assert nights_by_date["2026-03-12"] == "late"
    assert nights_by_date["2026-03-20"] == "not_yet_due"
    assert body["missed_in_a_row"][0]["phone"] == "none"
    assert body["enrolment"]["target"] == 30
    assert body["enrolment"]["all_sites"] is False
    assert len(body["weeks"]) == 12


def test_filters_sort_and_page(study: Study, sites: tuple[Site, Site]) -> None:
    investigator = make_member(study=study, role=Role.INVESTIGATOR).user
    first = enrolled(study, sites[0], start=day(1))
    second = enrolled(study, sites[1], start=day(1))
    fill(second, nights(day(1), day(19)))
    client = client_for(investigator)

    boston = client.get(_url(study), {"site": "boston"}).json()
    worst = client.get(_url(study), {"sort": "-missed", "status": "enrolled", "page": 5}).json()

    assert [row["participant"] for row in boston["grid"]["rows"]] == [second.code]
    assert [row["participant"] for row in worst["grid"]["rows"]] == [first.code, second.code]
    assert worst["grid"]["page"] == 1


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"sort": "arm"}, "validation_error"),
        ({"status": "unblinded"}, "validation_error"),
        ({"page": "0"}, "validation_error"),
        ({"page": "x"}, "validation_error"),
        ({"page": "9" * 30}, "validation_error"),
        ({"site": "s" * 500}, "validation_error"),
        ({"site": "boston"}, "invalid_input"),  # not the coordinator's site
    ],
)
def test_bad_values_are_problems(
    study: Study, sites: tuple[Site, Site], query: dict[str, str], code: str
) -> None:
    coordinator = make_member(study=study, role=Role.COORDINATOR, sites=[sites[0]]).user

    response = client_for(coordinator).get(_url(study), query)

    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == code


def test_who_is_refused(study: Study, sites: tuple[Site, Site]) -> None:
    participant = enrolled(study, sites[0], start=day(1))
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user

    anonymous = Client().get(_url(study))
    phone = device_client(participant).get(_url(study))
    refused = client_for(pharmacist).get(_url(study))
    unknown = client_for(pharmacist).get("/api/studies/no_such_study/dashboard")

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_signed_in")
    assert (phone.status_code, phone.json()["code"]) == (401, "not_signed_in")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert (unknown.status_code, unknown.json()["code"]) == (403, "permission_denied")
    assert all(
        r["Content-Type"] == PROBLEM_CONTENT_TYPE for r in (anonymous, phone, refused, unknown)
    )


def test_the_query_count_does_not_grow(study: Study, sites: tuple[Site, Site]) -> None:
    client = client_for(make_member(study=study, role=Role.INVESTIGATOR).user)
    for index in range(3):
        fill(enrolled(study, sites[index % 2], start=day(1)), [day(2), day(3)])
    with CaptureQueriesContext(connection) as few:
        client.get(_url(study))
    for index in range(27):
        fill(enrolled(study, sites[index % 2], start=day(1 + index % 4)), [day(5), day(6)])
    with CaptureQueriesContext(connection) as many:
        body = client.get(_url(study)).json()
    assert body["grid"]["total"] == 30
    assert len(many.captured_queries) == len(few.captured_queries)
