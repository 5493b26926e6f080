"""The admin shows studies and protocol versions and refuses to change them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.builders import make_protocol_text, make_study, make_user

from diarytrial.studies.selectors import study_current_protocol
from diarytrial.studies.services import study_amend_protocol

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_study_pages_are_read_only(staff_client: Client) -> None:
    study = make_study()

    listing = staff_client.get(reverse("admin:studies_study_changelist"))
    detail = staff_client.get(reverse("admin:studies_study_change", args=[study.pk]))
    add = staff_client.get(reverse("admin:studies_study_add"))
    delete = staff_client.get(reverse("admin:studies_study_delete", args=[study.pk]))
    post = staff_client.post(
        reverse("admin:studies_study_change", args=[study.pk]), {"title": "changed"}
    )

    assert listing.status_code == 200
    assert study.slug in listing.text
    assert detail.status_code == 200
    assert "ldn-fibromyalgia.toml" in detail.text
    assert (add.status_code, delete.status_code, post.status_code) == (403, 403, 403)
    study.refresh_from_db()
    assert study.title != "changed"


def test_protocol_version_page_shows_the_text(staff_client: Client) -> None:
    version = study_current_protocol(make_study())

    detail = staff_client.get(reverse("admin:studies_protocolversion_change", args=[version.pk]))

    assert detail.status_code == 200
    assert "[[diary.items]]" in detail.text
    assert staff_client.get(reverse("admin:studies_protocolversion_add")).status_code == 403


def test_protocol_version_list_queries_do_not_grow_with_rows(staff_client: Client) -> None:
    url = reverse("admin:studies_protocolversion_changelist")

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(url)
        assert response.status_code == 200
        return len(captured)

    make_study(study_id="trial_a")
    few = queries_for_list()
    for study_id in ("trial_b", "trial_c"):
        study = make_study(study_id=study_id, created_by=make_user(username=study_id))
        study_amend_protocol(
            study=study,
            text=make_protocol_text(study_id=study_id, note="v2"),
            source="p.toml",
            created_by=None,
        )

    assert queries_for_list() == few


def test_study_page_queries_do_not_grow_with_versions(staff_client: Client) -> None:
    study = make_study(created_by=make_user(username="first"))
    url = reverse("admin:studies_study_change", args=[study.pk])

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(url)
        assert response.status_code == 200
        return len(captured)

    few = queries_for_page()
    for n in range(1, 4):
        study_amend_protocol(
            study=study,
            text=make_protocol_text(note=f"amendment {n}"),
            source=f"amendment-{n}.toml",
            created_by=make_user(username=f"user{n}"),
        )

    assert queries_for_page() == few
