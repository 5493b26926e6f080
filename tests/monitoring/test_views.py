"""The study dashboard page: who opens it, which sites they see, what a bad address gets,
and a query count that does not grow with the participants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.builders import client_for, make_member, make_site, make_study
from tests.monitoring.helpers import NOON, day, enrolled, fill, nights

from diarytrial.participants.models import Participant
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.readiness import ReadinessItem

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


@pytest.fixture
def coordinator(study: Study, sites: tuple[Site, Site]) -> User:
    return make_member(study=study, role=Role.COORDINATOR, sites=[sites[0]]).user


def _url(study: Study) -> str:
    return f"/studies/{study.slug}/dashboard/"


def test_a_coordinator_never_sees_another_sites_participants(
    study: Study, sites: tuple[Site, Site], coordinator: User
) -> None:
    mine = enrolled(study, sites[0], start=day(1))
    theirs = enrolled(study, sites[1], start=day(1))
    fill(mine, nights(day(1), day(10)))

    response = client_for(coordinator).get(_url(study))
    text = response.text

    assert response.status_code == 200
    assert mine.code in text
    assert theirs.code not in text
    assert "boston" not in text
    # Even when asked for the other site by name: refused, not shown.
    asked = client_for(coordinator).get(_url(study), {"site": "boston"})
    assert asked.status_code == 400
    assert theirs.code not in asked.text


def test_an_investigator_sees_every_site(study: Study, sites: tuple[Site, Site]) -> None:
    investigator = make_member(study=study, role=Role.INVESTIGATOR).user
    codes = [enrolled(study, site, start=day(1)).code for site in sites]

    text = client_for(investigator).get(_url(study)).text

    assert all(code in text for code in codes)


@pytest.mark.parametrize("role", [Role.PHARMACIST, Role.STATISTICIAN, Role.ADMINISTRATOR])
def test_other_roles_are_refused(study: Study, role: Role) -> None:
    user = make_member(study=study, role=role).user

    assert client_for(user).get(_url(study)).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "arm"},
        {"sort": "code; DROP TABLE x"},
        {"status": "unblinded"},
        {"site": "nowhere"},
        {"page": "-1"},
        {"page": "0"},
        {"page": "1e9"},
        {"page": "99999999999999999999999"},
        {"page": ""},
        {"sort": "x" * 10_000},
    ],
)
def test_a_bad_address_gets_400_with_the_reason(
    study: Study, sites: tuple[Site, Site], coordinator: User, query: dict[str, str]
) -> None:
    participant = enrolled(study, sites[0], start=day(1))

    response = client_for(coordinator).get(_url(study), query)

    if query == {"page": ""}:  # an empty field is the default
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert "was not understood" in response.text
    assert participant.code in response.text  # the default grid, not an error page


def test_a_page_past_the_last_shows_the_last(
    study: Study, sites: tuple[Site, Site], coordinator: User
) -> None:
    participant = enrolled(study, sites[0], start=day(1))

    response = client_for(coordinator).get(_url(study), {"page": "40", "sort": "-run"})

    assert response.status_code == 200
    assert participant.code in response.text


def test_the_page_reads_without_colour_and_states_the_target(
    study: Study, sites: tuple[Site, Site], coordinator: User
) -> None:
    participant = enrolled(study, sites[0], start=day(15))
    fill(participant, [day(15), day(16)])

    text = client_for(coordinator).get(_url(study)).text

    assert '<td class="night night-F">F<span class="visually-hidden"> filled</span></td>' in text
    assert '<td class="night night-M">M<span class="visually-hidden"> missed</span></td>' in text
    assert "against the protocol's target of 30" in text
    assert (
        '<th scope="col" aria-sort="ascending"><a href="?sort=-code">Participant</a></th>' in text
    )
    assert "Missed 2 or more nights in a row" in text
    assert "No phone set up" in text  # 17 to 19 missed, no phone ever set up
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in text


def test_pending_work_renders_whatever_is_registered(
    study: Study, sites: tuple[Site, Site], coordinator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []

    def open_queries(study: Study, site_list: object) -> ReadinessItem:
        seen.append(site_list)
        return ReadinessItem("open_queries", "Open data queries", 3, "Answer them.")

    def outcomes(study: Study, site_list: object) -> ReadinessItem:
        return ReadinessItem("ae_outcomes", "Adverse events without an outcome", 0, "Record it.")

    monkeypatch.setattr(
        "diarytrial.studies.readiness._CHECKS",
        {"open_queries": (20, open_queries), "ae_outcomes": (10, outcomes)},
    )

    text = client_for(coordinator).get(_url(study)).text

    assert text.index("Adverse events without an outcome: 0") < text.index("Open data queries: 3")
    assert "Answer them." in text
    assert seen == [[sites[0]]]  # asked for the coordinator's site only


def test_the_home_page_and_the_menu_link_to_it(study: Study, coordinator: User) -> None:
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user

    home = client_for(coordinator).get(f"/studies/{study.slug}/").text
    other = client_for(pharmacist).get(f"/studies/{study.slug}/").text

    assert home.count(_url(study)) == 2  # the menu and the button
    assert _url(study) not in other


def _participants(study: Study, site: Site, count: int) -> list[Participant]:
    made = []
    for index in range(count):
        participant = enrolled(study, site, start=day(1 + index % 5))
        fill(participant, nights(day(1 + index % 5), day(8 + index % 7)))
        made.append(participant)
    return made


def test_the_query_count_does_not_grow_with_participants(
    study: Study, sites: tuple[Site, Site], coordinator: User
) -> None:
    client = client_for(coordinator)
    _participants(study, sites[0], 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(_url(study)).status_code == 200
    _participants(study, sites[0], 27)
    with CaptureQueriesContext(connection) as many:
        response = client.get(_url(study), {"sort": "-missed"})
    assert response.status_code == 200
    assert response.text.count('<th scope="row"><a href=') >= 30
    assert len(many.captured_queries) == len(few.captured_queries)
