"""The audit trail: one event per write, append-only, and a verifiable hash chain."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from tests.builders import make_protocol_text, make_study, make_user

from diarytrial.audit.models import AppendOnlyError, AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_history, audit_verify
from diarytrial.audit.services import audit_record, event_hash
from diarytrial.studies.models import Study
from diarytrial.studies.services import study_amend_protocol

pytestmark = pytest.mark.django_db


def test_creating_a_study_writes_its_events() -> None:
    user = make_user()
    study = make_study(created_by=user)
    events = list(AuditEvent.objects.all())
    assert [(e.action, e.object_type) for e in events] == [
        ("create", "studies.study"),
        ("create", "studies.protocolversion"),
    ]
    assert events[0].actor == user
    assert events[0].actor_label == "coordinator"
    assert events[0].changes == [{"field": "title", "old": None, "new": study.title}]
    assert list(audit_history(study)) == [events[0]]


def test_an_amendment_records_the_version_and_the_title_change() -> None:
    study = make_study()
    before = AuditEvent.objects.latest("id").pk
    study_amend_protocol(
        study=study,
        text=make_protocol_text(title="A new title"),
        source="v2.toml",
        created_by=None,
    )
    new = list(AuditEvent.objects.filter(id__gt=before))
    assert [e.object_type for e in new] == ["studies.protocolversion", "studies.study"]
    assert new[1].changes[0]["new"] == "A new title"
    assert new[1].reason == "protocol amendment, version 2"
    assert new[1].actor_label == "system"


def _create_then_fail() -> None:
    with transaction.atomic():
        make_study()
        raise RuntimeError("boom")


def test_a_rolled_back_write_leaves_no_event() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _create_then_fail()
    assert not Study.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused() -> None:
    study = make_study()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=None, action=AuditAction.UPDATE, obj=study)


def test_events_cannot_be_changed_or_deleted_through_the_model() -> None:
    make_study()
    event = AuditEvent.objects.first()
    assert event is not None
    event.reason = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_from_any_client() -> None:
    make_study()
    for sql in ("UPDATE audit_auditevent SET reason = 'x'", "DELETE FROM audit_auditevent"):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


def test_the_chain_links_every_event() -> None:
    make_study()
    make_study(study_id="second")
    events = list(AuditEvent.objects.all())
    assert events[0].previous_hash == "0" * 64
    for before, after in itertools.pairwise(events):
        assert after.previous_hash == before.hash
    assert all(event_hash(e) == e.hash for e in events)
    check = audit_verify()
    assert check.ok
    assert check.checked == 4


def _tamper(sql: str, *params: object) -> None:
    """Change the table behind the application's back, as an attacker with SQL access might."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a superuser can switch triggers off
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_verify_names_an_altered_event(capsys: pytest.CaptureFixture[str]) -> None:
    make_study()
    make_study(study_id="second")
    second = AuditEvent.objects.all()[1]
    _tamper("UPDATE audit_auditevent SET reason = %s WHERE id = %s", "edited", second.pk)
    check = audit_verify()
    assert check.broken_at == second.pk
    assert "content was altered" in (check.problem or "")
    with pytest.raises(CommandError, match=f"event {second.pk} does not match its hash"):
        call_command("audit", "verify")


def test_verify_names_the_event_after_a_removed_one() -> None:
    make_study()
    make_study(study_id="second")
    events = list(AuditEvent.objects.all())
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", events[1].pk)
    check = audit_verify()
    assert check.broken_at == events[2].pk
    assert "removed or inserted" in (check.problem or "")


def test_verify_command_on_an_intact_trail(capsys: pytest.CaptureFixture[str]) -> None:
    make_study()
    call_command("audit", "verify")
    assert "intact: 2 events verified" in capsys.readouterr().out


def test_hashes_are_unique() -> None:
    make_study()
    event = AuditEvent.objects.first()
    assert event is not None
    duplicate = AuditEvent(
        occurred_at=event.occurred_at,
        actor_label="x",
        action="create",
        object_type="x",
        object_id="1",
        object_repr="x",
        previous_hash=event.previous_hash,
        hash=event.hash,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
