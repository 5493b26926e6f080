"""Adverse events (record, change with a reason, remove) and the blinded dose change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from tests.builders import (
    make_adverse_event,
    make_allocation,
    make_entry,
    make_kits,
    make_member,
    make_participant,
)
from tests.diary.helpers import LDN, START, events_after, fail_after, last_event_id

from diarytrial.participants.errors import (
    DoseLevelInvalidError,
    ParticipantStatusError,
    ReasonRequiredError,
)
from diarytrial.participants.models import DoseLevelChange, Participant, ParticipantStatus
from diarytrial.participants.services import participant_withdraw
from diarytrial.randomization.models import AllocationSlot
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.safety.errors import (
    AdverseEventDuplicateError,
    AdverseEventInvalidError,
    AdverseEventRemovedError,
)
from diarytrial.safety.models import AdverseEvent, EventStatus
from diarytrial.safety.services import (
    adverse_event_record,
    adverse_event_remove,
    adverse_event_update,
    dose_level_change,
)
from diarytrial.studies.models import Role, Study

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
TODAY = dt.date(2025, 11, 20)
ARM_WORDS = ("ldn", "naltrexone", "placebo", "3.0", "4.5", " mg")


def _record(participant: Participant, **overrides: Any) -> AdverseEvent:
    values: dict[str, Any] = {
        "participant": participant,
        "term": "Headache",
        "side_effect": "headache",
        "onset_date": dt.date(2025, 11, 3),
        "end_date": None,
        "severity": "moderate",
        "serious": False,
        "related": "possible",
        "action": "none",
        "outcome": "recovering",
        "actor": None,
    }
    values.update(overrides)
    return adverse_event_record(**values)


def _staff(study: Study, role: Role = Role.COORDINATOR, name: str | None = None) -> User:
    user = make_member(study=study, role=role, username=name).user
    user.email = f"{user.username}@example.org"
    user.save(update_fields=["email"])
    return user


def _blinded(text: str, study: Study) -> bool:
    plain = text.replace(study.slug, "the study").lower()
    return not any(word in plain for word in ARM_WORDS)


# --- record ---------------------------------------------------------------------------------------


def test_an_event_is_recorded_with_one_audit_event_naming_every_field(
    participant: Participant,
) -> None:
    staff = _staff(participant.study)
    mark = last_event_id()

    event = _record(participant, actor=staff, end_date=dt.date(2025, 11, 5))

    assert (event.term, event.side_effect, event.status, event.recorded_by) == (
        "Headache",
        "headache",
        EventStatus.RECORDED,
        staff,
    )
    (audit,) = events_after(mark)
    assert (audit.action, audit.object_type, audit.actor) == (
        "create",
        "safety.adverseevent",
        staff,
    )
    assert {c["field"]: c["new"] for c in audit.changes} == {
        "participant": participant.code,
        "term": "Headache",
        "side_effect": "headache",
        "onset_date": "2025-11-03",
        "end_date": "2025-11-05",
        "severity": "moderate",
        "serious": False,
        "related": "possible",
        "action": "none",
        "outcome": "recovering",
    }


def test_the_term_of_a_checklist_side_effect_defaults_to_its_label(
    participant: Participant,
) -> None:
    event = _record(participant, term="", side_effect="vivid_dreams")

    assert event.term == "Vivid dreams"


def test_an_event_outside_the_checklist_has_no_side_effect(participant: Participant) -> None:
    event = _record(participant, term="Sprained ankle", side_effect="")

    assert (event.term, event.side_effect) == ("Sprained ankle", "")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"term": "", "side_effect": ""}, "give the event's term"),
        ({"side_effect": "rash"}, "side effect 'rash' is not on the protocol's checklist"),
        ({"severity": "awful"}, "severity must be one of mild, moderate, severe"),
        ({"related": "maybe"}, "related must be one of"),
        ({"action": "stopped"}, "action must be one of"),
        ({"outcome": "fine"}, "outcome must be one of"),
        ({"serious": "yes"}, "serious must be yes or no"),
        ({"onset_date": TODAY + dt.timedelta(days=1)}, "onset date 2025-11-21 is in the future"),
        ({"onset_date": START - dt.timedelta(days=1)}, "before consent"),
        ({"onset_date": "3 November"}, "is not a date"),
        ({"end_date": dt.date(2025, 11, 1)}, "end date 2025-11-01 is before the onset"),
        ({"end_date": TODAY + dt.timedelta(days=2)}, "is in the future; leave it empty"),
    ],
)
def test_values_that_cannot_be_used_are_refused_and_nothing_is_written(
    participant: Participant, overrides: dict[str, Any], problem: str
) -> None:
    mark = last_event_id()

    with pytest.raises(AdverseEventInvalidError, match=problem) as caught:
        _record(participant, **overrides)

    assert caught.value.http_status == 422
    assert not AdverseEvent.objects.exists()
    assert events_after(mark) == []


def test_a_person_never_enrolled_has_no_adverse_events(participant: Participant) -> None:
    screened = make_participant(study=participant.study, status=ParticipantStatus.SCREENED)

    with pytest.raises(ParticipantStatusError, match="never enrolled") as caught:
        _record(screened, onset_date=TODAY)

    assert caught.value.http_status == 409


def test_a_withdrawn_participants_event_is_still_recorded(participant: Participant) -> None:
    participant_withdraw(participant=participant, reason="side effects", on=TODAY, actor=None)

    event = _record(participant, onset_date=TODAY)

    assert event.participant == participant


def test_a_failed_transaction_leaves_neither_event_nor_audit(participant: Participant) -> None:
    mark = last_event_id()

    with pytest.raises(RuntimeError, match="failed after"):
        fail_after(lambda: _record(participant))

    assert not AdverseEvent.objects.exists()
    assert events_after(mark) == []


def test_a_serious_event_tells_the_investigators_without_a_word_on_allocation(
    participant: Participant, django_capture_on_commit_callbacks: Capture
) -> None:
    study = participant.study
    _staff(study, Role.INVESTIGATOR, "dr-a")
    _staff(study, Role.INVESTIGATOR, "dr-b")
    _staff(study, Role.COORDINATOR, "coordinator")
    _staff(study, Role.PHARMACIST, "pharmacist")
    recorder = _staff(study, Role.COORDINATOR, "recorder")

    with django_capture_on_commit_callbacks(execute=True):
        _record(participant, term="Chest pain", side_effect="", serious=True, actor=recorder)
        _record(participant, term="Mild headache", serious=False)

    (message,) = mail.outbox
    assert sorted(message.to) == ["dr-a@example.org", "dr-b@example.org"]
    assert participant.code in message.subject
    assert "Chest pain" in message.body
    assert "recorder" in message.body
    assert _blinded(message.subject + message.body, study)


def test_no_mail_for_a_serious_event_rolled_back(
    participant: Participant, django_capture_on_commit_callbacks: Capture
) -> None:
    _staff(participant.study, Role.INVESTIGATOR, "dr-a")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError, match="failed after"),
    ):
        fail_after(lambda: _record(participant, serious=True))

    assert mail.outbox == []


# --- from the diary -------------------------------------------------------------------------------


def test_a_diary_report_is_confirmed_once(participant: Participant) -> None:
    entry = make_entry(
        participant=participant,
        diary_date=dt.date(2025, 11, 3),
        side_effects={"headache": "very", "nausea": "somewhat"},
    )

    event = _record(participant, from_diary_entry=entry)

    assert event.from_diary_entry == entry
    with pytest.raises(AdverseEventDuplicateError) as caught:
        _record(participant, from_diary_entry=entry)
    assert caught.value.http_status == 409
    with pytest.raises(AdverseEventInvalidError, match="reports no side effect insomnia"):
        _record(participant, side_effect="insomnia", term="", from_diary_entry=entry)
    adverse_event_remove(event=event, reason="duplicate of a phone report", actor=None)
    again = _record(participant, from_diary_entry=entry)
    assert again.pk != event.pk


def test_another_participants_diary_cannot_be_confirmed(participant: Participant) -> None:
    other = make_participant(study=participant.study, start_date=START)
    entry = make_entry(participant=other, side_effects={"headache": "very"})

    with pytest.raises(AdverseEventInvalidError, match="another participant's"):
        _record(participant, from_diary_entry=entry)


# --- update and remove ----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_change_without_a_reason_is_refused_and_nothing_changes(
    participant: Participant, reason: str
) -> None:
    event = _record(participant)
    mark = last_event_id()

    with pytest.raises(ReasonRequiredError) as caught:
        adverse_event_update(event=event, changes={"severity": "severe"}, reason=reason, actor=None)

    assert caught.value.http_status == 422
    event.refresh_from_db()
    assert event.severity == "moderate"
    assert events_after(mark) == []


def test_a_change_is_audited_with_the_old_and_new_value_of_each_field(
    participant: Participant,
) -> None:
    event = _record(participant)
    staff = _staff(participant.study)
    mark = last_event_id()

    changed = adverse_event_update(
        event=event,
        changes={"severity": "severe", "end_date": "2025-11-09", "outcome": "recovered"},
        reason="follow-up call on 10 November",
        actor=staff,
    )

    assert (changed.severity, changed.end_date, changed.outcome) == (
        "severe",
        dt.date(2025, 11, 9),
        "recovered",
    )
    assert event.severity == "severe"  # the caller's instance follows
    (audit,) = events_after(mark)
    assert (audit.action, audit.actor, audit.reason) == (
        "update",
        staff,
        "follow-up call on 10 November",
    )
    assert {c["field"]: (c["old"], c["new"]) for c in audit.changes} == {
        "severity": ("moderate", "severe"),
        "end_date": (None, "2025-11-09"),
        "outcome": ("recovering", "recovered"),
    }


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"status": "removed"}, "status cannot be changed"),
        ({"participant": None}, "participant cannot be changed"),
        ({"severity": "moderate"}, "nothing to change"),
        ({"severity": "worse"}, "severity must be one of"),
        ({"end_date": dt.date(2025, 11, 1)}, "before the onset"),
    ],
)
def test_changes_that_cannot_be_made_are_refused(
    participant: Participant, changes: dict[str, object], problem: str
) -> None:
    event = _record(participant)
    mark = last_event_id()

    with pytest.raises(AdverseEventInvalidError, match=problem):
        adverse_event_update(event=event, changes=changes, reason="why", actor=None)

    assert events_after(mark) == []


def test_an_event_that_becomes_serious_tells_the_investigators(
    participant: Participant, django_capture_on_commit_callbacks: Capture
) -> None:
    _staff(participant.study, Role.INVESTIGATOR, "dr-a")
    event = _record(participant)

    with django_capture_on_commit_callbacks(execute=True):
        adverse_event_update(
            event=event, changes={"serious": True}, reason="hospitalised", actor=None
        )
        adverse_event_update(
            event=event, changes={"outcome": "recovered"}, reason="discharged", actor=None
        )

    (message,) = mail.outbox
    assert message.to == ["dr-a@example.org"]


def test_removing_keeps_the_row_with_its_reason_and_a_removed_event_cannot_change(
    participant: Participant,
) -> None:
    event = _record(participant)
    mark = last_event_id()

    removed = adverse_event_remove(event=event, reason="entered twice", actor=None)

    assert (removed.status, removed.removal_reason) == (EventStatus.REMOVED, "entered twice")
    assert AdverseEvent.objects.filter(pk=event.pk).exists()
    (audit,) = events_after(mark)
    assert (audit.action, audit.reason) == ("remove", "entered twice")
    assert {c["field"]: (c["old"], c["new"]) for c in audit.changes} == {
        "status": ("recorded", "removed"),
        "removal_reason": ("", "entered twice"),
    }
    with pytest.raises(AdverseEventRemovedError) as caught:
        adverse_event_remove(event=event, reason="again", actor=None)
    assert caught.value.http_status == 409
    with pytest.raises(AdverseEventRemovedError):
        adverse_event_update(event=event, changes={"severity": "mild"}, reason="x", actor=None)
    with pytest.raises(ReasonRequiredError):
        adverse_event_remove(event=_record(participant), reason=" ", actor=None)


# --- dose level -----------------------------------------------------------------------------------


@pytest.fixture
def randomized(participant: Participant) -> list[Participant]:
    """Four randomized participants: the first block of the list holds both sequences."""
    study = participant.study
    make_allocation(study=study)
    make_kits(study=study, per_arm_and_level=4)
    return [
        make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=START)
        for _ in range(4)
    ]


def test_a_dose_change_is_the_same_whatever_the_arm_and_the_next_kit_follows_it(
    randomized: list[Participant],
) -> None:
    sequences = {AllocationSlot.objects.get(used_by=p).sequence_code for p in randomized}
    assert len(sequences) == 2  # both arms are among them
    coordinator = _staff(randomized[0].study)

    for participant in randomized:
        assert kit_to_dispense(participant=participant, visit=1).dose_level == "standard"
        mark = last_event_id()

        change = dose_level_change(
            participant=participant, level="reduced", reason="vivid dreams", actor=coordinator
        )

        assert (change.level, change.effective_on, change.reason, change.created_by) == (
            "reduced",
            TODAY,
            "vivid dreams",
            coordinator,
        )
        participant.refresh_from_db()
        assert participant.dose_level == "reduced"
        assert kit_to_dispense(participant=participant, visit=1).dose_level == "reduced"
        events = events_after(mark)
        assert [(e.action, e.object_type) for e in events] == [
            ("create", "participants.doselevelchange"),
            ("update", "participants.participant"),
        ]
        assert all(_blinded(str(e.changes) + e.reason, participant.study) for e in events)


def test_a_dose_can_be_restored(randomized: list[Participant]) -> None:
    participant = randomized[0]
    dose_level_change(participant=participant, level="reduced", reason="headache", actor=None)

    restored = dose_level_change(
        participant=participant, level="standard", reason="headache gone", actor=None
    )

    assert restored.level == "standard"
    assert list(
        DoseLevelChange.objects.filter(participant=participant)
        .order_by("id")
        .values_list("level", flat=True)
    ) == ["standard", "reduced", "standard"]
    assert kit_to_dispense(participant=participant, visit=1).dose_level == "standard"


@pytest.mark.parametrize(
    ("level", "reason", "error"),
    [
        ("tiny", "vivid dreams", DoseLevelInvalidError),
        ("standard", "vivid dreams", DoseLevelInvalidError),  # the level they are at
        ("reduced", " ", ReasonRequiredError),
    ],
)
def test_a_dose_change_that_cannot_be_made_is_refused_and_nothing_changes(
    participant: Participant, level: str, reason: str, error: type[Exception]
) -> None:
    mark = last_event_id()

    with pytest.raises(error):
        dose_level_change(participant=participant, level=level, reason=reason, actor=None)

    participant.refresh_from_db()
    assert participant.dose_level == LDN.dosing.start_level
    assert events_after(mark) == []


def test_a_withdrawn_participants_dose_cannot_change(participant: Participant) -> None:
    participant_withdraw(participant=participant, reason="moved", on=TODAY, actor=None)

    with pytest.raises(ParticipantStatusError):
        dose_level_change(participant=participant, level="reduced", reason="x", actor=None)


def test_the_event_builder_records_through_the_service(participant: Participant) -> None:
    event = make_adverse_event(participant=participant, serious=False)

    assert (event.onset_date, event.term) == (START, "Headache")
