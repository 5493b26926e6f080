"""Diary uploads and corrections: validation, idempotency, corrections, audit, notifications."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from tests.builders import (
    make_allocation,
    make_member,
    make_participant,
    make_protocol_text,
    make_site,
    make_study,
    make_user,
)
from tests.diary.helpers import (
    START,
    D,
    answers,
    at,
    events_after,
    fail_after,
    last_event_id,
    submit,
)

from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.diary.errors import (
    DiaryAnswersInvalidError,
    DiaryClientIdConflictError,
    DiaryDateInvalidError,
    DiaryEntryClosedError,
    DiaryEntryStillOpenError,
)
from diarytrial.diary.models import (
    DiaryAnswer,
    DiaryEntry,
    DiarySubmission,
    DiaryWeekTally,
    EntryStatus,
    SideEffectReport,
    SubmissionKind,
)
from diarytrial.diary.selectors import diary_entry_answers, diary_entry_get, diary_entry_list
from diarytrial.diary.services import diary_entry_correct, diary_entry_submit
from diarytrial.participants.errors import ParticipantStatusError, ReasonRequiredError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_withdraw
from diarytrial.studies.models import Role, Site, Study

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
NEXT = D + dt.timedelta(days=1)


def _rows() -> tuple[int, int, int, int, int]:
    return (
        DiaryEntry.objects.count(),
        sum(DiaryWeekTally.objects.values_list("entries", flat=True)),
        DiaryAnswer.objects.count(),
        SideEffectReport.objects.count(),
        DiarySubmission.objects.count(),
    )


# --- a new entry ----------------------------------------------------------------------------------


def test_an_upload_stores_the_entry_its_answers_and_one_audit_event(
    participant: Participant,
) -> None:
    mark = last_event_id()
    client_id = uuid.uuid4()

    entry = submit(
        participant,
        received_at=at(D, 21),
        client_id=client_id,
        values=answers(pain=72, sleep=12.5),
        side_effects={"headache": "somewhat", "vivid_dreams": "not_at_all"},
        capsule_taken=True,
    )

    assert diary_entry_answers(entry=entry) == answers(pain=72, sleep=12.5)
    assert dict(entry.side_effects.values_list("side_effect", "unpleasantness")) == {
        "headache": "somewhat",
        "vivid_dreams": "not_at_all",
    }
    assert (entry.client_id, entry.capsule_taken, entry.status) == (client_id, True, "submitted")
    (submission,) = DiarySubmission.objects.all()
    assert (submission.client_id, submission.kind) == (client_id, SubmissionKind.CREATED)
    (event,) = events_after(mark)
    assert (event.action, event.object_type, event.object_id) == (
        "create",
        "diary.diaryentry",
        str(entry.pk),
    )
    assert (event.actor, event.actor_label) == (None, participant.code)
    changes = {c["field"]: c["new"] for c in event.changes}
    assert changes["answers.pain"] == 72.0
    assert changes["side_effects.headache"] == "somewhat"
    assert changes["diary_date"] == D.isoformat()
    assert changes["late"] is False
    assert changes["client_id"] == str(client_id)


def test_a_failed_transaction_leaves_neither_the_entry_nor_its_event(
    participant: Participant,
) -> None:
    mark = last_event_id()

    with pytest.raises(RuntimeError, match="failed after"):
        fail_after(lambda: submit(participant, received_at=at(D, 21)))

    assert _rows() == (0, 0, 0, 0, 0)
    assert events_after(mark) == []


@pytest.mark.parametrize(
    ("values", "side_effects", "problem"),
    [
        (answers(itch=3), {}, "the diary asks no item itch"),
        ({k: v for k, v in answers().items() if k != "pain"}, {}, "missing: pain"),
        (answers(pain=101), {}, "pain must be a number from 0 to 100"),
        (answers(pain=-1), {}, "pain must be a number from 0 to 100"),
        (answers(pain=math.nan), {}, "pain must be a number from 0 to 100"),
        (answers(pain=True), {}, "pain must be a number"),
        (answers(pain=10**400), {}, "pain must be a number from 0 to 100"),  # beyond any float
        (answers(pain="40"), {}, "pain must be a number"),  # type: ignore[arg-type]
        (answers(), {"rash": "very"}, "the checklist has no side effect rash"),
        (answers(), {"headache": "awful"}, "how unpleasant headache was must be one of"),
    ],
)
def test_answers_that_do_not_fit_the_protocol_are_refused_and_nothing_is_stored(
    participant: Participant, values: dict[str, float], side_effects: dict[str, str], problem: str
) -> None:
    mark = last_event_id()

    with pytest.raises(DiaryAnswersInvalidError, match=problem) as caught:
        submit(participant, received_at=at(D, 21), values=values, side_effects=side_effects)

    assert caught.value.http_status == 422
    assert _rows() == (0, 0, 0, 0, 0)
    assert events_after(mark) == []


def test_an_optional_item_may_be_left_out(participant: Participant) -> None:
    satisfaction = 'anchors = ["Not at all satisfied", "Completely satisfied"]\n'
    text = make_protocol_text(study_id="optional_items")
    assert text.count(satisfaction) == 1
    study = make_study(text=text.replace(satisfaction, satisfaction + "required = false\n"))
    person = make_participant(study=study, start_date=START)
    values = {k: v for k, v in answers().items() if k != "satisfaction"}

    entry = submit(person, received_at=at(D, 21), values=values)

    assert diary_entry_answers(entry=entry) == values


@pytest.mark.parametrize(
    ("client_id", "device", "message"),
    [
        ("not-a-uuid", None, "is not a UUID"),
        (None, dt.datetime(2025, 11, 10, 21, 0), "must carry its time zone"),
    ],
)
def test_malformed_ids_and_naive_times_are_refused(
    participant: Participant, client_id: str | None, device: dt.datetime | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        diary_entry_submit(
            participant=participant,
            client_id=client_id or uuid.uuid4(),
            answers=answers(),
            side_effects={},
            capsule_taken=None,
            completed_at_device=device,
            received_at=at(D, 21),
        )


# --- dates and statuses ---------------------------------------------------------------------------


def test_a_future_diary_date_is_refused(participant: Participant) -> None:
    tomorrow = dt.date(2025, 11, 21)

    with pytest.raises(DiaryDateInvalidError, match="is in the future"):
        submit(participant, received_at=at(tomorrow, 20))

    assert not DiaryEntry.objects.exists()


def test_a_date_before_the_participants_first_diary_day_is_refused(
    participant: Participant,
) -> None:
    with pytest.raises(DiaryDateInvalidError, match=r"before participant .* first diary day"):
        submit(participant, received_at=at(START - dt.timedelta(days=1), 20))


def test_a_date_after_the_schedule_ends_is_refused(participant: Participant) -> None:
    make_allocation(study=participant.study)
    randomized = make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )
    last_day = randomized.phases.order_by("-index").first()
    assert last_day is not None
    assert last_day.end < D

    assert submit(randomized, received_at=at(last_day.end, 20)).diary_date == last_day.end
    with pytest.raises(DiaryDateInvalidError, match=r"after participant .* last diary day"):
        submit(randomized, received_at=at(last_day.end + dt.timedelta(days=1), 20))


def test_a_screened_participant_has_no_diary(participant: Participant) -> None:
    screened = make_participant(study=participant.study, status=ParticipantStatus.SCREENED)

    with pytest.raises(ParticipantStatusError, match="is screened") as caught:
        submit(screened, received_at=at(D, 20))

    assert caught.value.http_status == 409


def test_after_withdrawal_no_diary_is_taken_but_a_late_one_from_before_is_kept(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    today = dt.date(2025, 11, 20)
    yesterday = today - dt.timedelta(days=1)
    participant_withdraw(participant=participant, reason="moved away", on=today, actor=None)

    late = submit(participant, received_at=at(today, 9), completed_at_device=at(yesterday, 21))
    clock.move_to(at(today, 19))
    with pytest.raises(ParticipantStatusError, match="withdrew on 2025-11-20"):
        submit(participant, received_at=at(today, 19))

    assert (late.diary_date, late.late) == (yesterday, True)
    assert DiaryEntry.objects.filter(participant=participant).count() == 1


# --- the same upload again ------------------------------------------------------------------------


def test_the_same_upload_again_returns_its_entry_and_writes_nothing(
    participant: Participant,
) -> None:
    client_id = uuid.uuid4()
    device = at(D, 20, 58)
    first = submit(
        participant, received_at=at(D, 21), completed_at_device=device, client_id=client_id
    )
    mark, rows = last_event_id(), _rows()

    again_in_window = submit(
        participant, received_at=at(D, 22), completed_at_device=device, client_id=client_id
    )
    again_days_later = submit(
        participant,
        received_at=at(D + dt.timedelta(days=6), 12),
        completed_at_device=device,
        client_id=client_id,
    )

    assert again_in_window.pk == again_days_later.pk == first.pk
    assert again_in_window.received_at == at(D, 21)
    assert _rows() == rows
    assert events_after(mark) == []


@pytest.mark.parametrize(
    "change",
    [
        {"values": answers(pain=10)},
        {"side_effects": {"nausea": "somewhat"}},
        {"capsule_taken": False},
        {"completed_at_device": at(D, 20, 30)},
    ],
)
def test_the_same_client_id_with_other_content_is_a_conflict(
    participant: Participant, change: dict[str, Any]
) -> None:
    client_id = uuid.uuid4()
    submit(
        participant, received_at=at(D, 21), completed_at_device=at(D, 20, 58), client_id=client_id
    )
    mark, rows = last_event_id(), _rows()
    upload: dict[str, Any] = {"completed_at_device": at(D, 20, 58), "client_id": client_id}
    upload.update(change)

    with pytest.raises(DiaryClientIdConflictError) as caught:
        submit(participant, received_at=at(D, 22), **upload)

    assert caught.value.http_status == 409
    assert caught.value.code == "diary_client_id_conflict"
    assert _rows() == rows
    assert events_after(mark) == []
    assert diary_entry_answers(entry=DiaryEntry.objects.get()) == answers()


def test_a_client_id_of_another_participants_upload_is_a_conflict(
    participant: Participant,
) -> None:
    other = make_participant(study=participant.study, start_date=START)
    client_id = uuid.uuid4()
    submit(participant, received_at=at(D, 21), completed_at_device=at(D, 20), client_id=client_id)

    with pytest.raises(DiaryClientIdConflictError):
        submit(other, received_at=at(D, 21), completed_at_device=at(D, 20), client_id=client_id)

    assert not DiaryEntry.objects.filter(participant=other).exists()


# --- the participant's own correction -------------------------------------------------------------


def test_a_second_upload_inside_the_window_replaces_the_answers_as_the_participants_correction(
    participant: Participant,
) -> None:
    first = submit(
        participant,
        received_at=at(D, 21),
        values=answers(pain=70),
        side_effects={"headache": "somewhat", "nausea": "not_at_all"},
    )
    mark = last_event_id()

    second = submit(
        participant,
        received_at=at(NEXT, 1),
        values=answers(pain=40),
        side_effects={"headache": "very"},
        capsule_taken=False,
    )

    assert second.pk == first.pk
    assert diary_entry_answers(entry=second) == answers(pain=40)
    assert dict(second.side_effects.values_list("side_effect", "unpleasantness")) == {
        "headache": "very"
    }
    assert (second.capsule_taken, second.received_at, second.status) == (
        False,
        at(NEXT, 1),
        EntryStatus.SUBMITTED,
    )
    assert DiarySubmission.objects.filter(entry=first).count() == 2
    (event,) = events_after(mark)
    assert (event.action, event.actor, event.actor_label) == ("update", None, participant.code)
    changes = {c["field"]: (c["old"], c["new"]) for c in event.changes}
    assert changes["answers.pain"] == (70.0, 40.0)
    assert changes["side_effects.headache"] == ("somewhat", "very")
    assert changes["side_effects.nausea"] == ("not_at_all", None)
    assert changes["capsule_taken"] == (True, False)
    assert "answers.sleep" not in changes


def test_after_the_window_closed_a_second_upload_is_refused_only_staff_may_change_it(
    participant: Participant,
) -> None:
    submit(participant, received_at=at(D, 21), values=answers(pain=70))
    mark, rows = last_event_id(), _rows()

    with pytest.raises(DiaryEntryClosedError, match="tell the study coordinator") as caught:
        submit(
            participant,
            received_at=at(NEXT, 9),
            completed_at_device=at(D, 23),
            values=answers(pain=10),
        )

    assert caught.value.http_status == 409
    assert _rows() == rows
    assert events_after(mark) == []
    assert diary_entry_answers(entry=DiaryEntry.objects.get()) == answers(pain=70)


# --- staff corrections ----------------------------------------------------------------------------


def _staff(study: Study) -> User:
    return make_member(study=study, role=Role.COORDINATOR).user


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_staff_correction_without_a_reason_is_refused_and_nothing_changes(
    participant: Participant, reason: str
) -> None:
    entry = submit(participant, received_at=at(D, 21), values=answers(pain=70))
    staff = _staff(participant.study)
    mark = last_event_id()

    with pytest.raises(ReasonRequiredError) as caught:
        diary_entry_correct(entry=entry, answers={"pain": 7}, reason=reason, actor=staff)

    assert caught.value.http_status == 422
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED
    assert diary_entry_answers(entry=entry) == answers(pain=70)
    assert events_after(mark) == []


def test_a_staff_correction_with_a_reason_is_audited_with_old_and_new_values(
    participant: Participant,
) -> None:
    entry = submit(participant, received_at=at(D, 21), values=answers(pain=70, mood=20))
    staff = _staff(participant.study)
    mark = last_event_id()

    corrected = diary_entry_correct(
        entry=entry,
        answers={"pain": 7, "mood": 20},
        reason="participant slipped on the slider; confirmed by phone",
        actor=staff,
    )

    assert diary_entry_answers(entry=corrected) == answers(pain=7, mood=20)
    assert corrected.status == entry.status == EntryStatus.CORRECTED
    (event,) = events_after(mark)
    assert (event.action, event.actor, event.reason) == (
        "update",
        staff,
        "participant slipped on the slider; confirmed by phone",
    )
    assert event.changes == [
        {"field": "answers.pain", "old": 70.0, "new": 7.0},
        {"field": "status", "old": "submitted", "new": "corrected"},
    ]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"itch": 3}, DiaryAnswersInvalidError, "no item itch"),
        ({"pain": 250}, DiaryAnswersInvalidError, "from 0 to 100"),
        ({"pain": 50}, InvalidInputError, "nothing to change"),
    ],
)
def test_a_staff_correction_that_does_not_fit_or_changes_nothing_is_refused(
    participant: Participant,
    changes: dict[str, float],
    error: type[Exception],
    message: str,
) -> None:
    entry = submit(participant, received_at=at(D, 21))
    staff = _staff(participant.study)
    mark = last_event_id()

    with pytest.raises(error, match=message):
        diary_entry_correct(entry=entry, answers=changes, reason="check", actor=staff)

    assert events_after(mark) == []


def test_staff_do_not_correct_an_entry_whose_window_is_still_open(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    entry = submit(participant, received_at=at(D, 21), values=answers(pain=70))
    staff = _staff(participant.study)
    clock.move_to(at(D, 23))
    mark = last_event_id()

    with pytest.raises(DiaryEntryStillOpenError, match="still open until 03:00") as caught:
        diary_entry_correct(entry=entry, answers={"pain": 7}, reason="check", actor=staff)

    assert caught.value.http_status == 409
    assert diary_entry_answers(entry=entry) == answers(pain=70)
    assert events_after(mark) == []


def test_a_correction_needs_a_staff_user(participant: Participant) -> None:
    entry = submit(participant, received_at=at(D, 21))

    with pytest.raises(PermissionDeniedError):
        diary_entry_correct(entry=entry, answers={"pain": 1}, reason="x", actor=None)  # type: ignore[arg-type]


def test_a_failed_transaction_leaves_the_correction_undone(participant: Participant) -> None:
    entry = submit(participant, received_at=at(D, 21), values=answers(pain=70))
    staff = _staff(participant.study)
    mark = last_event_id()

    with pytest.raises(RuntimeError, match="failed after"):
        fail_after(
            lambda: diary_entry_correct(entry=entry, answers={"pain": 1}, reason="ok", actor=staff)
        )

    entry.refresh_from_db()
    assert (entry.status, diary_entry_answers(entry=entry)) == ("submitted", answers(pain=70))
    assert events_after(mark) == []


# --- "very unpleasant" ----------------------------------------------------------------------------


def _coordinator(study: Study, name: str, sites: list[Site] | None) -> User:
    user = make_member(study=study, role=Role.COORDINATOR, sites=sites, username=name).user
    user.email = f"{name}@example.org"
    user.save(update_fields=["email"])
    return user


def test_very_unpleasant_tells_the_sites_coordinators_and_changes_nothing(
    participant: Participant, django_capture_on_commit_callbacks: Capture
) -> None:
    study = participant.study
    here = participant.site
    elsewhere = make_site(study=study, code="boston")
    _coordinator(study, "here", [here])
    _coordinator(study, "everywhere", None)
    _coordinator(study, "there", [elsewhere])
    investigator = make_member(study=study, role=Role.INVESTIGATOR).user
    investigator.email = "investigator@example.org"
    investigator.save(update_fields=["email"])
    level = participant.dose_level

    with django_capture_on_commit_callbacks(execute=True):
        submit(
            participant,
            received_at=at(D, 21),
            side_effects={"vivid_dreams": "very", "nausea": "somewhat"},
        )

    (message,) = mail.outbox
    assert sorted(message.to) == ["everywhere@example.org", "here@example.org"]
    assert participant.code in message.subject
    assert "Vivid dreams" in message.body
    assert "Nausea" not in message.body
    assert "blinded dose change" in message.body
    # The study's slug and the participant's random code (P-J8MG has an "mg") are no dose.
    body = message.body.replace(study.slug, "the study").replace(participant.code, "P-")
    body = body.lower()
    for secret in ("ldn", "naltrexone", "placebo", "3.0", "4.5", "mg"):
        assert secret not in body
    participant.refresh_from_db()
    assert participant.dose_level == level


def test_only_a_newly_very_unpleasant_side_effect_sends_a_mail(
    participant: Participant, django_capture_on_commit_callbacks: Capture
) -> None:
    _coordinator(participant.study, "here", None)

    with django_capture_on_commit_callbacks(execute=True):
        submit(participant, received_at=at(D, 21), side_effects={"headache": "somewhat"})
        submit(participant, received_at=at(D, 22), side_effects={"headache": "very"})
        submit(participant, received_at=at(D, 23), side_effects={"headache": "very"})

    assert len(mail.outbox) == 1


def test_no_mail_is_sent_when_the_upload_is_rolled_back(
    participant: Participant, django_capture_on_commit_callbacks: Capture
) -> None:
    _coordinator(participant.study, "here", None)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="failed after"),
    ):
        fail_after(
            lambda: submit(participant, received_at=at(D, 21), side_effects={"headache": "very"})
        )

    assert callbacks == []
    assert mail.outbox == []


# --- selectors ------------------------------------------------------------------------------------


def test_the_entry_list_and_get(participant: Participant) -> None:
    second = submit(participant, received_at=at(NEXT, 20))
    first = submit(participant, received_at=at(D, 20))
    make_user(username="unrelated")

    assert list(diary_entry_list(participant=participant)) == [first, second]
    assert list(diary_entry_list(participant=participant, since=NEXT)) == [second]
    assert diary_entry_get(participant=participant, diary_date=D) == first
    assert diary_entry_get(participant=participant, diary_date=START) is None


# --- the week tallies -----------------------------------------------------------------------------


Tally = tuple[int, int, int, dt.date, int, int]
"""A week's tally: site, entries, late ones, the last, the days with one, with a late one."""


def _tallies() -> dict[tuple[int, dt.date], Tally]:
    return {
        (t.participant_id, t.week): (
            t.site_id,
            t.entries,
            t.late,
            t.last_entry,
            t.nights,
            t.late_nights,
        )
        for t in DiaryWeekTally.objects.all()
    }


def _tallies_of_the_entries() -> dict[tuple[int, dt.date], Tally]:
    """The week tallies counted afresh from the entries."""
    counted: dict[tuple[int, dt.date], Tally] = {}
    for entry in DiaryEntry.objects.select_related("participant"):
        day = entry.diary_date
        key = (entry.participant_id, day - dt.timedelta(days=day.weekday()))
        site, n, late, last, nights, lates = counted.get(
            key, (entry.participant.site_id, 0, 0, day, 0, 0)
        )
        bit = 1 << day.weekday()
        counted[key] = (
            site,
            n + 1,
            late + entry.late,
            max(last, day),
            nights | bit,
            lates | (bit if entry.late else 0),
        )
    return counted


def test_each_new_entry_is_counted_once_in_its_weeks_tally(participant: Participant) -> None:
    sunday = D - dt.timedelta(days=1)
    submit(participant, received_at=at(sunday, 21))
    submit(participant, received_at=at(D, 21), values=answers(pain=70))
    # The participant's own correction inside the window replaces answers: no new entry.
    submit(participant, received_at=at(D, 23), values=answers(pain=40))
    # A late one: completed in Tuesday's window, received after it closed.
    tuesday = D + dt.timedelta(days=1)
    late = submit(
        participant,
        received_at=at(tuesday + dt.timedelta(days=1), 9),
        completed_at_device=at(tuesday, 21),
    )
    assert late.late
    # The same upload again writes nothing.
    submit(
        participant,
        received_at=at(tuesday + dt.timedelta(days=1), 10),
        completed_at_device=at(tuesday, 21),
        client_id=late.client_id,
    )

    site = participant.site_id
    assert _tallies() == _tallies_of_the_entries()
    assert _tallies() == {
        # Sunday is bit 6; Monday bit 0 and Tuesday (late) bit 1.
        (participant.pk, sunday - dt.timedelta(days=6)): (site, 1, 0, sunday, 0b1000000, 0),
        (participant.pk, D): (site, 2, 1, tuesday, 0b11, 0b10),
    }
