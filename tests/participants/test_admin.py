"""The admin shows participants and refuses to change them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.builders import make_allocation, make_participant, make_site, make_study

from diarytrial.participants.models import ParticipantStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_participant_pages_are_read_only(staff_client: Client) -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=ParticipantStatus.RANDOMIZED)

    listing = staff_client.get(reverse("admin:participants_participant_changelist"))
    detail = staff_client.get(
        reverse("admin:participants_participant_change", args=[participant.pk])
    )
    add = staff_client.get(reverse("admin:participants_participant_add"))
    delete = staff_client.get(
        reverse("admin:participants_participant_delete", args=[participant.pk])
    )

    assert listing.status_code == 200
    assert participant.code in listing.text
    assert detail.status_code == 200
    assert "acr_criteria" in detail.text
    assert (add.status_code, delete.status_code) == (403, 403)


def test_participant_list_queries_do_not_grow_with_rows(staff_client: Client) -> None:
    study = make_study()
    site = make_site(study=study)
    url = reverse("admin:participants_participant_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == 200
        return len(captured)

    make_participant(study=study, site=site)
    few = queries()
    for _ in range(3):
        make_participant(study=study, site=site)

    assert queries() == few
