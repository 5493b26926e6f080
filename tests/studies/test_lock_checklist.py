"""The lock checklist holds the lock back: refused (409) while items are open, unless an
administrator overrides with a reason, which the study, the LOCK event and the export keep."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from tests.builders import make_adverse_event, make_member, make_participant, make_study

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services import participant_withdraw
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.services import adverse_event_update
from diarytrial.studies.errors import StudyNotReadyToLockError
from diarytrial.studies.models import Role, Study
from diarytrial.studies.selectors import study_lock_record
from diarytrial.studies.services import study_lock, study_unlock

pytestmark = pytest.mark.django_db

OVERRIDE = "Sponsor closed the trial early; the two open items are reported as such."


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def administrator(study: Study) -> User:
    return make_member(study=study, role=Role.ADMINISTRATOR).user


@pytest.fixture
def participant(study: Study) -> Participant:
    return make_participant(study=study)


@pytest.fixture
def event(participant: Participant) -> AdverseEvent:
    return make_adverse_event(participant=participant, outcome="unknown")


def _lock_events(study: Study) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(study_slug=study.slug, action=AuditAction.LOCK))


@pytest.mark.usefixtures("event")
def test_a_lock_with_open_items_is_refused_listing_them(study: Study, administrator: User) -> None:
    with pytest.raises(StudyNotReadyToLockError) as caught:
        study_lock(study=study, reason="last visit done", actor=administrator)

    error = caught.value
    assert (error.http_status, error.code) == (409, "study_not_ready_to_lock")
    assert "Participants neither completed nor withdrawn: 1" in error.message
    assert "Adverse events without an outcome: 1" in error.message
    assert "Side effects awaiting review" not in error.message  # none open
    assert "override reason" in error.message
    assert error.extra["open"] == {
        "open_participants": 1,
        "adverse_events_without_outcome": 1,
    }
    assert Study.objects.get(pk=study.pk).locked_at is None
    assert study.locked_at is None
    assert _lock_events(study) == []


@pytest.mark.parametrize("blank", ["", "   \n"])
def test_a_blank_override_reason_overrides_nothing(
    study: Study, administrator: User, participant: Participant, blank: str
) -> None:
    with pytest.raises(StudyNotReadyToLockError):
        study_lock(study=study, reason="lock", actor=administrator, override_reason=blank)
    assert Study.objects.get(pk=study.pk).locked_at is None


def test_once_the_items_are_closed_the_lock_goes_through_without_override(
    study: Study, administrator: User, participant: Participant, event: AdverseEvent
) -> None:
    today = participant_today(participant)
    adverse_event_update(
        event=event,
        changes={"outcome": "recovered", "end_date": today},
        reason="follow-up call",
        actor=None,
    )
    participant_withdraw(participant=participant, reason="moved away", on=today, actor=None)

    locked = study_lock(study=study, reason="last visit done", actor=administrator)

    assert locked.locked_at is not None
    assert locked.lock_override_reason == ""
    (lock,) = _lock_events(study)
    assert [change["field"] for change in lock.changes] == ["locked_at"]
    record = study_lock_record(study)
    assert record is not None
    assert (record.override_reason, record.open_at_lock) == ("", {})


def test_an_override_given_with_nothing_open_is_not_recorded(
    study: Study, administrator: User
) -> None:
    study_lock(study=study, reason="lock", actor=administrator, override_reason=OVERRIDE)

    assert Study.objects.get(pk=study.pk).lock_override_reason == ""
    (lock,) = _lock_events(study)
    assert [change["field"] for change in lock.changes] == ["locked_at"]


@pytest.mark.usefixtures("event")
def test_an_override_is_kept_on_the_study_and_in_the_lock_event_with_the_open_counts(
    study: Study, administrator: User
) -> None:
    locked = study_lock(
        study=study, reason="last visit done", actor=administrator, override_reason=f" {OVERRIDE} "
    )

    assert locked.lock_override_reason == OVERRIDE == study.lock_override_reason
    assert Study.objects.get(pk=study.pk).lock_override_reason == OVERRIDE
    (lock,) = _lock_events(study)
    assert lock.reason == "last visit done"
    assert {change["field"]: change["new"] for change in lock.changes} == {
        "locked_at": locked.locked_at.isoformat() if locked.locked_at else None,
        "lock_override_reason": OVERRIDE,
        "open_at_lock": {"open_participants": 1, "adverse_events_without_outcome": 1},
    }
    record = study_lock_record(study)
    assert record is not None
    assert record.as_metadata() == {
        "locked_at": lock.changes[0]["new"],
        "override_reason": OVERRIDE,
        "open_at_lock": {"open_participants": 1, "adverse_events_without_outcome": 1},
    }
    assert audit_verify().ok


@pytest.mark.usefixtures("event")
def test_unlocking_clears_the_override_and_the_next_lock_checks_again(
    study: Study, administrator: User
) -> None:
    study_lock(study=study, reason="lock", actor=administrator, override_reason=OVERRIDE)

    study_unlock(study=study, reason="a late query", actor=administrator)

    assert Study.objects.get(pk=study.pk).lock_override_reason == ""
    assert study_lock_record(study) is None
    unlock = AuditEvent.objects.get(study_slug=study.slug, action=AuditAction.UNLOCK)
    assert {"field": "lock_override_reason", "old": OVERRIDE, "new": ""} in unlock.changes
    with pytest.raises(StudyNotReadyToLockError):
        study_lock(study=study, reason="lock again", actor=administrator)
