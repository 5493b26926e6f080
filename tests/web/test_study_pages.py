"""The staff pages of a study: the list of one's studies and the study's home page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.builders import make_member, make_protocol_text, make_site, make_study, make_user

from diarytrial.studies.models import Role, Study
from diarytrial.studies.selectors import study_current_protocol
from diarytrial.studies.services import study_amend_protocol

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def study() -> Study:
    return make_study(created_by=make_user(username="founder"))


def test_the_list_shows_the_users_studies_with_their_role(study: Study) -> None:
    other = make_study(study_id="other_trial")
    make_study(study_id="not_mine")
    member = make_member(study=study, role=Role.PHARMACIST, username="pia")
    from diarytrial.studies.services import membership_grant

    membership_grant(study=other, user=member.user, role=Role.COORDINATOR, actor=None)

    response = client_for(member.user).get("/studies/")

    assert response.status_code == 200
    text = response.text
    assert "ldn_fibromyalgia" in text
    assert "other_trial" in text
    assert "not_mine" not in text
    assert "Pharmacist" in text
    assert "Coordinator" in text


def test_the_list_says_what_to_do_without_any_study() -> None:
    response = client_for(make_user(username="new")).get("/studies/")

    assert "You have no role in any study yet" in response.text


def test_the_home_page_shows_the_study_as_recorded(study: Study) -> None:
    site = make_site(study=study, code="stanford", name="Stanford Pain Clinic")
    make_member(study=study, role=Role.COORDINATOR, sites=[site], username="cora")
    investigator = make_member(study=study, role=Role.INVESTIGATOR, username="ivan")
    version = study_current_protocol(study)

    response = client_for(investigator.user).get(f"/studies/{study.slug}/")

    assert response.status_code == 200
    text = response.text
    assert study.title in text
    assert "protocol version 1" in text
    assert version.sha256 in text
    assert "Stanford Pain Clinic" in text
    assert "cora" in text
    assert "ivan" in text
    assert "Investigator" in text  # the user's role in the header
    assert "History of this study" in text
    assert "founder" in text  # who created it, from the audit trail


def test_a_coordinator_sees_only_their_sites_on_the_home_page(study: Study) -> None:
    mine = make_site(study=study, code="stanford", name="Stanford Pain Clinic")
    make_site(study=study, code="boston", name="Boston Rheumatology")
    coordinator = make_member(study=study, role=Role.COORDINATOR, sites=[mine])

    text = client_for(coordinator.user).get(f"/studies/{study.slug}/").text

    assert "Stanford Pain Clinic" in text
    assert "Boston Rheumatology" not in text


def test_a_user_without_membership_is_refused(study: Study) -> None:
    response = client_for(make_user(username="outsider")).get(f"/studies/{study.slug}/")

    assert response.status_code == 403
    assert study.title not in response.text


def test_anonymous_is_sent_to_sign_in(client: Client, study: Study) -> None:
    response = client.get(f"/studies/{study.slug}/")

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/sign-in/?next=/studies/{study.slug}/"


def test_the_page_uses_no_external_resources(study: Study) -> None:
    member = make_member(study=study, role=Role.STATISTICIAN)

    text = client_for(member.user).get(f"/studies/{study.slug}/").text

    assert "/static/vendor/htmx.min.js" in text
    assert "/static/diarytrial.css" in text
    assert "https://" not in text.split("<main")[0]  # nothing fetched from elsewhere


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_home_page_queries_do_not_grow(study: Study) -> None:
    viewer = make_member(study=study, role=Role.INVESTIGATOR, username="viewer")
    client = client_for(viewer.user)
    url = f"/studies/{study.slug}/"
    few = queries(client, url)

    sites = [make_site(study=study, code=f"site{n}") for n in range(3)]
    for n in range(3):
        make_member(study=study, role=Role.COORDINATOR, sites=sites[: n + 1], username=f"c{n}")
        study_amend_protocol(
            study=study,
            text=make_protocol_text(note=f"amendment {n}"),
            source=f"v{n + 2}.toml",
            created_by=make_user(username=f"amender{n}"),
        )

    assert queries(client, url) == few


def test_list_queries_do_not_grow() -> None:
    user = make_user(username="many")
    client = client_for(user)
    from diarytrial.studies.services import membership_grant

    membership_grant(study=make_study(study_id="s0"), user=user, role=Role.COORDINATOR, actor=None)
    few = queries(client, "/studies/")
    for n in range(1, 4):
        membership_grant(
            study=make_study(study_id=f"s{n}"), user=user, role=Role.INVESTIGATOR, actor=None
        )

    assert queries(client, "/studies/") == few
