"""Emergency unblinding of one participant: who may, what is recorded, who is told."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import transaction
from tests.builders import make_allocation, make_member, make_participant, make_study

from diarytrial.audit.models import AuditEvent
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.participants.errors import ReasonRequiredError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import load_example
from diarytrial.randomization.errors import NotRandomizedError
from diarytrial.randomization.models import AllocationSlot
from diarytrial.randomization.services import participant_unblind_emergency, unblinding
from diarytrial.studies.models import Role, Study

pytestmark = pytest.mark.django_db

LDN = load_example("ldn-fibromyalgia").protocol
Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def _last_event_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def _trial() -> tuple[Study, Participant]:
    study = make_study()
    make_allocation(study=study)
    return study, make_participant(study=study, status=ParticipantStatus.RANDOMIZED)


def _investigator(study: Study, name: str, email: str) -> User:
    user = make_member(study=study, role=Role.INVESTIGATOR, username=name).user
    user.email = email
    user.save(update_fields=["email"])
    return user


def test_an_investigator_sees_the_sequence_at_once_and_the_investigators_are_told(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    study, participant = _trial()
    actor = _investigator(study, "dr-a", "a@example.org")
    _investigator(study, "dr-b", "b@example.org")
    coordinator = make_member(study=study, role=Role.COORDINATOR).user
    coordinator.email = "coordinator@example.org"
    coordinator.save(update_fields=["email"])
    mark = _last_event_id()

    with django_capture_on_commit_callbacks(execute=True):
        result = participant_unblind_emergency(
            participant=participant, reason="anaphylaxis in the emergency room", actor=actor
        )

    slot = AllocationSlot.objects.get(used_by=participant)
    assert result.sequence_code == slot.sequence_code
    assert result.arms == LDN.sequence_from_code(slot.sequence_code)
    assert result.arm_names == tuple(LDN.arm(arm).name for arm in result.arms)
    stored = Participant.objects.get(pk=participant.pk)
    assert stored.emergency_unblinded_at is not None
    assert participant.emergency_unblinded_at == stored.emergency_unblinded_at

    (event,) = AuditEvent.objects.filter(id__gt=mark)
    assert (event.action, event.object_type, event.actor) == (
        "unblind",
        "participants.participant",
        actor,
    )
    assert event.reason == "anaphylaxis in the emergency room"
    assert [c["field"] for c in event.changes] == ["emergency_unblinded_at"]
    assert slot.sequence_code not in str(event.changes)

    (message,) = mail.outbox
    assert sorted(message.to) == ["a@example.org", "b@example.org"]
    assert participant.code in message.subject
    assert "anaphylaxis in the emergency room" in message.body
    assert "dr-a" in message.body
    # Apart from the study's id (ldn_fibromyalgia) and the participant's code, nothing in the
    # mail names the sequence or an arm.
    text = (message.subject + message.body).replace(study.slug, "").replace(participant.code, "")
    for secret in (slot.sequence_code, *result.arms, *result.arm_names):
        assert secret not in text


def test_the_pharmacist_may_unblind_too() -> None:
    study, participant = _trial()
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user

    result = participant_unblind_emergency(
        participant=participant, reason="overdose", actor=pharmacist
    )

    assert result.participant_code == participant.code


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.STATISTICIAN, Role.ADMINISTRATOR])
def test_other_roles_may_not_and_nothing_is_recorded(role: Role) -> None:
    study, participant = _trial()
    user = make_member(study=study, role=role).user
    mark = _last_event_id()

    with pytest.raises(PermissionDeniedError):
        participant_unblind_emergency(participant=participant, reason="curious", actor=user)

    assert not AuditEvent.objects.filter(id__gt=mark).exists()
    assert Participant.objects.get(pk=participant.pk).emergency_unblinded_at is None


def test_neither_the_superuser_nor_an_investigator_of_another_study_may(
    admin_user: User,
) -> None:
    _, participant = _trial()
    other = make_study(study_id="other")
    stranger = make_member(study=other, role=Role.INVESTIGATOR).user

    for user in (admin_user, stranger):
        with pytest.raises(PermissionDeniedError):
            participant_unblind_emergency(participant=participant, reason="x", actor=user)


def test_a_reason_is_required() -> None:
    study, participant = _trial()
    actor = _investigator(study, "dr-a", "a@example.org")

    with pytest.raises(ReasonRequiredError, match="Say why"):
        participant_unblind_emergency(participant=participant, reason="  ", actor=actor)


def test_a_participant_not_randomized_has_nothing_to_reveal() -> None:
    study = make_study()
    participant = make_participant(study=study)
    actor = _investigator(study, "dr-a", "a@example.org")

    with pytest.raises(NotRandomizedError, match="not randomized"):
        participant_unblind_emergency(participant=participant, reason="x", actor=actor)


def test_a_second_unblinding_is_recorded_and_keeps_the_first_time(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    study, participant = _trial()
    actor = _investigator(study, "dr-a", "a@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        participant_unblind_emergency(participant=participant, reason="first", actor=actor)
    first = Participant.objects.get(pk=participant.pk).emergency_unblinded_at
    mark = _last_event_id()

    with django_capture_on_commit_callbacks(execute=True):
        participant_unblind_emergency(participant=participant, reason="second", actor=actor)

    assert Participant.objects.get(pk=participant.pk).emergency_unblinded_at == first
    assert [(e.action, e.reason) for e in AuditEvent.objects.filter(id__gt=mark)] == [
        ("unblind", "second")
    ]
    assert len(mail.outbox) == 2


def _unblind_then_fail(participant: Participant, actor: User) -> None:
    with transaction.atomic():
        participant_unblind_emergency(participant=participant, reason="x", actor=actor)
        raise RuntimeError("boom")


def test_a_rolled_back_unblinding_records_nothing_and_mails_nobody(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    study, participant = _trial()
    actor = _investigator(study, "dr-a", "a@example.org")
    mark = _last_event_id()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        _unblind_then_fail(participant, actor)

    assert not AuditEvent.objects.filter(id__gt=mark).exists()
    assert Participant.objects.get(pk=participant.pk).emergency_unblinded_at is None
    assert mail.outbox == []


def test_a_mail_failure_does_not_hide_the_result(
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    study, participant = _trial()
    actor = _investigator(study, "dr-a", "a@example.org")

    def refuse(**kwargs: object) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr(unblinding, "send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        result = participant_unblind_emergency(participant=participant, reason="x", actor=actor)

    assert result.sequence_code in ("AB", "BA")
    assert "could not e-mail the investigators" in caplog.text
