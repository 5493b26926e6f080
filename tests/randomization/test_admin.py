"""The admin (a blinded administrator's tool) lists randomization records without allocation."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import NoReverseMatch, reverse
from tests.builders import make_allocation, make_kits, make_participant, make_study

from diarytrial.participants.models import ParticipantStatus
from diarytrial.randomization.models import (
    AllocationList,
    Dispensing,
    Kit,
    KitBatch,
    Randomization,
)
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.randomization.services import kit_dispense

pytestmark = pytest.mark.django_db

UNBLINDED_LABELS = ("Seed", "Salt", "Arm:", "Dose level:", "Sequence code", "Block sizes")


@pytest.fixture
def staff_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_pages_show_no_allocation_and_refuse_changes(staff_client: Client) -> None:
    study = make_study()
    make_allocation(study=study)
    make_kits(study=study, per_arm_and_level=1)
    participant = make_participant(study=study, status=ParticipantStatus.RANDOMIZED)
    kit_dispense(
        participant=participant,
        period=1,
        kit=kit_to_dispense(participant=participant, period=1),
        actor=None,
    )
    records = {
        "allocationlist": AllocationList.objects.get(),
        "randomization": Randomization.objects.get(),
        "kitbatch": KitBatch.objects.get(),
        "kit": Kit.objects.first(),
        "dispensing": Dispensing.objects.get(),
    }

    for name, record in records.items():
        assert record is not None
        listing = staff_client.get(reverse(f"admin:randomization_{name}_changelist"))
        page = staff_client.get(reverse(f"admin:randomization_{name}_change", args=[record.pk]))
        add = staff_client.get(reverse(f"admin:randomization_{name}_add"))
        assert (listing.status_code, page.status_code, add.status_code) == (200, 200, 403)
        for label in UNBLINDED_LABELS:
            assert label not in page.text, (name, label)
            assert label not in listing.text, (name, label)


def test_slots_have_no_admin_page() -> None:
    with pytest.raises(NoReverseMatch):
        reverse("admin:randomization_allocationslot_changelist")
