"""The audit trail in words: every record type, field and action the code writes has its wording,
the wording of a staff correction reads as a sentence, and nothing unknown breaks it."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.db import transaction
from tests.builders import make_entry, make_member, make_participant, make_site, make_study
from tests.studies.test_lock import WRITES, World, clock, world  # noqa: F401 (fixtures)

from diarytrial.accounts.services import totp_device_start
from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.redaction import HIDDEN
from diarytrial.audit.services import audit_record
from diarytrial.audit.wording import (
    ACTION_VERBS,
    AuditReading,
    record_wording,
    registered_record_types,
    wording_gaps,
)
from diarytrial.core.errors import ApplicationError
from diarytrial.devices.services import device_pin_check, device_revoke
from diarytrial.diary.services import diary_entry_correct
from diarytrial.exports.services import dataset_export, study_unblind
from diarytrial.monitoring.digest.services import digest_schedule_set, digest_subscription_set
from diarytrial.queries.services import query_answer, query_close, query_raise, query_reopen
from diarytrial.reminders.services import calendar_feed_issue, reminder_settings_set
from diarytrial.studies.access import membership_of
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock, study_unlock

pytestmark = pytest.mark.django_db

SRC = Path(__file__).parents[2] / "src" / "diarytrial"

UNAUDITED_MODELS = frozenset(
    {
        "audit.auditevent",
        "audit.auditchainhead",
        "accounts.signinattempt",
        "accounts.invitation",  # in its user's events: invited, invitation accepted
        "diary.diaryanswer",  # in its entry's event, as answers.<item>
        "diary.sideeffectreport",  # in its entry's event, as side_effects.<id>
        "diary.diarysubmission",  # the upload's copy; its entry's event records the change
        "diary.diaryweektally",  # a count kept beside the entries; each entry has its event
        "queries.querymessage",  # in its query's event, as raise/answer/close/reopen
        "reminders.reminderdelivery",
        "monitoring.digestdelivery",
    }
)
"""Models whose rows have no event of their own (docs/architecture.md, audit)."""


def test_every_action_has_a_verb() -> None:
    assert set(AuditAction.values) <= set(ACTION_VERBS)


def test_every_model_of_the_live_system_has_its_wording_or_no_events() -> None:
    models = {
        model._meta.label_lower
        for model in apps.get_models()
        if model.__module__.startswith("diarytrial.")
    }

    missing = models - registered_record_types() - UNAUDITED_MODELS
    assert not missing, f"record types without wording (register them in the app): {missing}"


def _literal_fields() -> set[str]:
    """Every field name written as a literal in the `changes` of an audit_record call, or as a
    key assigned into a dictionary named `changes`."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "audit_record":
                for keyword in node.keywords:
                    if keyword.arg == "changes" and isinstance(keyword.value, ast.Dict):
                        found.update(
                            key.value
                            for key in keyword.value.keys
                            if isinstance(key, ast.Constant) and isinstance(key.value, str)
                        )
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Store)
                and getattr(node.value, "id", "") == "changes"
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
            ):
                found.add(node.slice.value)
    return found


def test_every_field_the_code_names_in_an_event_has_a_label() -> None:
    labelled = {
        name
        for object_type in registered_record_types()
        for name in (record_wording(object_type).fields if record_wording(object_type) else {})
    }
    fields = _literal_fields()

    assert len(fields) > 40  # the scan finds the calls
    assert fields - labelled == set()


def test_every_event_the_write_services_record_reads_in_words(world: World) -> None:  # noqa: F811
    for name, write in WRITES.items():
        try:
            with transaction.atomic():
                write(world)
        except ApplicationError:
            pass  # a write the world is not in the state for; the others still run
        except Exception as error:  # pragma: no cover - names the service that failed
            raise AssertionError(f"{name}: {error}") from error
    # What the lock test's list leaves out: the lock itself, the security events, queries,
    # reminders, the digest, the export and the unblinding.
    query = query_raise(
        participant=world.randomized,
        kind="diary_entry",
        text="Pain 62 looks high",
        actor=world.investigator,
        diary_entry=world.entry,
    )
    query_answer(query=query, text="Checked with the participant", actor=world.coordinator)
    query_close(query=query, text="Fine", actor=world.investigator)
    query_reopen(query=query, text="One more thing", actor=world.investigator)
    reminder_settings_set(
        participant=world.randomized,
        email="ann@example.org",
        email_enabled=True,
        push_enabled=False,
    )
    calendar_feed_issue(participant=world.randomized)
    site = world.randomized.site
    digest_schedule_set(
        site=site, timezone_name="Europe/London", send_at=dt.time(7), actor=world.administrator
    )
    membership = membership_of(world.coordinator, world.study)
    assert membership is not None
    digest_subscription_set(membership=membership, subscribed=False, actor=world.coordinator)
    totp_device_start(user=world.coordinator)
    for _ in range(5):
        device_pin_check(device=world.device, pin="0000")
    device_revoke(device=world.device, actor=world.coordinator, reason="lost")
    statistician = make_member(study=world.study, role=Role.STATISTICIAN).user
    dataset_export(study=world.study, actor=statistician, blinded=True)
    study_lock(study=world.study, reason="done", actor=world.administrator, override_reason="x")
    study_unblind(study=world.study, reason="final analysis", actor=statistician)
    study_unlock(study=world.study, reason="late query", actor=world.administrator)

    events = list(AuditEvent.objects.order_by("id"))
    types = {event.object_type for event in events}
    gaps = {gap for event in events for gap in wording_gaps(event)}
    worded = AuditReading(zone="America/Los_Angeles", unblinded=False).word_all(events)

    assert len(types) >= 20
    assert gaps == set()
    assert all(row.sentence.endswith(".") for row in worded)
    assert not any("_" in change.label for row in worded for change in row.changes)


def test_a_staff_correction_reads_as_a_sentence() -> None:
    study = make_study()
    site = make_site(study=study)
    coordinator = make_member(study=study, role=Role.COORDINATOR, username="jsmith").user
    participant = make_participant(study=study, site=site)
    day = participant.start_date
    assert day is not None
    entry = make_entry(participant=participant, diary_date=day, answers=None)
    with time_machine.travel(
        dt.datetime.combine(day, dt.time(23), tzinfo=dt.UTC) + dt.timedelta(days=2)
    ):
        diary_entry_correct(
            entry=entry, answers={"pain": 26}, reason="transposed digits", actor=coordinator
        )
    event = AuditEvent.objects.latest("id")
    row = AuditReading(zone=None, unblinded=False).word(event)

    old = next(c["old"] for c in event.changes if c["field"] == "answers.pain")
    expected = (
        f"Coordinator jsmith corrected the diary of {day.day} {day:%B %Y} of participant "
        f"{participant.code}: Pain from {old:g} to 26; Status from submitted to corrected "
        f"by staff. Reason: transposed digits."
    )
    assert row.sentence == expected
    assert event.participant_code == participant.code


def test_the_phone_and_the_system_are_named_as_such() -> None:
    study = make_study()
    participant = make_participant(study=study, site=make_site(study=study))
    make_entry(participant=participant)
    rows = AuditReading(zone=None, unblinded=False).word_all(list(AuditEvent.objects.all()))

    assert rows[0].sentence.startswith("The system recorded study ")
    assert rows[-1].sentence.startswith(f"Participant {participant.code} (on their phone) filled")


def _odd_event(**fields: object) -> AuditEvent:
    study = make_study(study_id=f"odd{AuditEvent.objects.count()}")
    with transaction.atomic():
        event = audit_record(actor=None, action=AuditAction.UPDATE, obj=study, study_slug="x")
    for name, value in fields.items():
        setattr(event, name, value)
    return event


@pytest.mark.parametrize(
    "fields",
    [
        {"object_type": "nowhere.unknown", "changes": [{"field": "mystery", "old": 1, "new": 2}]},
        {"action": "teleport"},
        {"changes": "not a list"},
        {"changes": [None, 3, {"no": "field"}]},
        {"changes": [{"field": "title", "old": {"deep": [1, None]}, "new": "2026-02-30"}]},
        {"object_repr": "", "actor_label": ""},
    ],
)
def test_unknown_or_odd_stored_values_still_read(fields: dict[str, object]) -> None:
    event = _odd_event(**fields)

    row = AuditReading(zone="Europe/Paris", unblinded=False).word(event)

    assert row.sentence.endswith(".")


def test_an_unknown_record_and_field_are_reported_as_gaps() -> None:
    event = _odd_event(
        object_type="nowhere.unknown", changes=[{"field": "mystery", "old": 1, "new": 2}]
    )
    assert wording_gaps(event) == ["record type nowhere.unknown"]
    event = _odd_event(changes=[{"field": "mystery", "old": 1, "new": 2}])
    assert wording_gaps(event) == ["field mystery of studies.study"]


def test_a_blinded_reading_hides_allocation_values() -> None:
    event = _odd_event(
        object_type="randomization.kit",
        object_repr="K-7Q3M",
        changes=[{"field": "arm", "old": None, "new": "ldn"}],
    )

    blinded = AuditReading(zone=None, unblinded=False).word(event)
    unblinded = AuditReading(zone=None, unblinded=True).word(event)

    assert blinded.sentence == "The system changed kit K-7Q3M: Arm: (hidden while blinded)."
    assert "ldn" not in blinded.details
    assert HIDDEN in blinded.details
    assert "ldn" in unblinded.details


def test_moments_read_in_the_readers_zone_with_their_offset() -> None:
    reading = AuditReading(zone="America/Los_Angeles", unblinded=False)

    assert reading.value_text("2026-12-07T03:30:00+00:00") == "2026-12-06 19:30 UTC\u221208:00"
    assert reading.value_text("2026-03-03") == "3 March 2026"
    assert reading.value_text(62.0) == "62"
    assert reading.value_text(None) == "nothing"
