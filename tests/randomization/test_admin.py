"""The admin is a blinded administrator's tool: no allocation in it, by any page or query string.

The randomization app has no admin pages; a participant's planned phases and end-of-period
answers are not shown; the audit trail shows that allocation events happened, never their
values; and no list can be filtered by a field it does not show (``?arm=ldn``).
"""

from __future__ import annotations

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import User
from django.test import Client
from django.urls import NoReverseMatch, reverse
from tests.builders import make_allocation, make_kits, make_participant, make_study

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.redaction import HIDDEN
from diarytrial.participants.models import ParticipantStatus
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.randomization.services import kit_dispense

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_no_model_that_holds_allocation_has_an_admin_page() -> None:
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in site._registry}
    assert not {m for m in registered if m.startswith("randomization.")}
    assert "participants.participantphase" not in registered
    assert {"diary.pgicanswer", "diary.blindingguess"}.isdisjoint(registered)
    for name in ("allocationlist", "allocationslot", "kit", "kitbatch", "dispensing"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:randomization_{name}_changelist")


def _randomized_and_dispensed() -> int:
    study = make_study()
    make_allocation(study=study)
    make_kits(study=study, per_arm_and_level=1)
    participant = make_participant(study=study, status=ParticipantStatus.RANDOMIZED)
    kit_dispense(
        participant=participant,
        visit=1,
        kit=kit_to_dispense(participant=participant, visit=1),
        actor=None,
    )
    return participant.pk


def test_the_participant_page_shows_no_phases(staff_client: Client) -> None:
    pk = _randomized_and_dispensed()
    page = staff_client.get(reverse("admin:participants_participant_change", args=[pk]))
    assert page.status_code == 200
    assert "Participant phase" not in page.text
    assert "Condition" not in page.text


def test_allocation_events_show_that_they_happened_without_their_values(
    staff_client: Client,
) -> None:
    _randomized_and_dispensed()
    kit_events = AuditEvent.objects.filter(object_type="randomization.kit")
    phase_events = AuditEvent.objects.filter(object_type="participants.participantphase")
    assert kit_events.exists()
    assert phase_events.exists()
    for event in [*kit_events[:3], *phase_events[:3]]:
        page = staff_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
        assert page.status_code == 200
        assert HIDDEN in page.text
        for change in event.changes:
            value = change["new"]
            if isinstance(value, str) and len(value) > 1:
                assert f"&quot;{value}&quot;" not in page.text, (event.object_type, change)
        for word in ("&quot;ldn&quot;", "&quot;placebo&quot;", "&quot;active&quot;"):
            assert word not in page.text
    listing = staff_client.get(reverse("admin:audit_auditevent_changelist"))
    assert listing.status_code == 200
    assert "randomization.kit" in listing.text  # the events are listed


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("admin:audit_auditevent_changelist", "changes__icontains=ldn"),
        ("admin:audit_auditevent_changelist", "reason__icontains=x"),
        ("admin:participants_participant_changelist", "phases__condition=active"),
        ("admin:participants_participant_changelist", "randomization__slot__sequence_code=AB"),
        ("admin:diary_diaryentry_changelist", "capsule_taken=1"),
        ("admin:safety_adverseevent_changelist", "participant__phases__arm=ldn"),
    ],
)
def test_no_list_filters_by_a_field_it_does_not_show(
    staff_client: Client, page: str, query: str
) -> None:
    _randomized_and_dispensed()
    response = staff_client.get(f"{reverse(page)}?{query}")
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_a_listed_filter_still_works(staff_client: Client) -> None:
    _randomized_and_dispensed()
    response = staff_client.get(
        reverse("admin:audit_auditevent_changelist") + "?object_type=randomization.kit"
    )
    assert response.status_code == 200


def test_pages_render_an_event_through_the_redaction() -> None:
    from django.template.loader import render_to_string

    event = AuditEvent(
        object_type="participants.participant",
        changes=[
            {"field": "arm", "old": None, "new": "ldn"},
            {"field": "status", "old": "enrolled", "new": "randomized"},
        ],
    )
    blinded = render_to_string("audit/_changes.html", {"event": event, "unblinded": False})
    unblinded = render_to_string("audit/_changes.html", {"event": event, "unblinded": True})
    assert "ldn" not in blinded
    assert HIDDEN in blinded
    assert "randomized" in blinded
    assert "ldn" in unblinded
