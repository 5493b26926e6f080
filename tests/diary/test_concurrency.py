"""Diary uploads and the database lock under concurrency, on PostgreSQL: each thread is a web
process with its own connection, and they all start at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from tests.builders import LEFT_OPEN, make_member, make_participant, make_study
from tests.diary.helpers import answers

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.diary.models import DiaryEntry, DiarySubmission
from diarytrial.diary.services import ReceivedUpload, diary_entry_submit, diary_upload_receive
from diarytrial.participants.models import Participant
from diarytrial.protocol import load_example, window_bounds
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.models import Role
from diarytrial.studies.services import require_unlocked, study_lock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite lets one writer in at a time, so threads test nothing",
    ),
]

LDN = load_example("ldn-fibromyalgia").protocol


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread and connection, released together; results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = calls[index]()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def _participant() -> Participant:
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("America/Los_Angeles")).date()
    return make_participant(study=make_study(), start_date=today - dt.timedelta(days=20))


def _in_window(participant: Participant, days_ago: int) -> dt.datetime:
    start = participant.start_date
    assert start is not None
    day = start + dt.timedelta(days=20 - days_ago)
    opens, _ = window_bounds(day, zoneinfo.ZoneInfo(participant.timezone), LDN.diary)
    return opens + dt.timedelta(hours=1)


def _upload(participant: Participant, client_id: uuid.UUID, received_at: dt.datetime) -> Any:
    return lambda: diary_entry_submit(
        participant=participant,
        client_id=client_id,
        answers=answers(),
        side_effects={},
        capsule_taken=True,
        completed_at_device=None,
        received_at=received_at,
    )


def test_the_same_upload_from_eight_places_at_once_makes_one_entry() -> None:
    participant = _participant()
    client_id = uuid.uuid4()
    received = _in_window(participant, 3)

    def receive() -> ReceivedUpload:
        return diary_upload_receive(
            participant=participant,
            client_id=client_id,
            answers=answers(),
            side_effects={},
            capsule_taken=True,
            completed_at_device=None,
            received_at=received,
        )

    results = in_parallel([receive for _ in range(8)])

    assert all(isinstance(r, ReceivedUpload) for r in results), results
    assert {r.entry.pk for r in results} == {DiaryEntry.objects.get().pk}
    # One of them made it (the API answers it 201), the others are repeats (200).
    assert sorted(r.outcome for r in results) == ["created"] + ["repeated"] * 7
    assert DiarySubmission.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="diary.diaryentry").count() == 1


def test_eight_uploads_for_one_date_at_once_make_one_entry_corrected_seven_times() -> None:
    participant = _participant()
    received = _in_window(participant, 3)

    results = in_parallel([_upload(participant, uuid.uuid4(), received) for _ in range(8)])

    assert all(isinstance(r, DiaryEntry) for r in results), results
    assert DiaryEntry.objects.count() == 1
    assert DiarySubmission.objects.count() == 8
    actions = AuditEvent.objects.filter(object_type="diary.diaryentry").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["create"] + ["update"] * 7
    assert audit_verify().ok


def test_no_write_commits_after_the_lock_event() -> None:
    participant = _participant()
    administrator = make_member(study=participant.study, role=Role.ADMINISTRATOR).user
    uploads = [
        _upload(participant, uuid.uuid4(), _in_window(participant, days_ago))
        for days_ago in range(1, 8)
    ]

    def lock() -> Any:
        return study_lock(
            study=participant.study, reason="lock", actor=administrator, override_reason=LEFT_OPEN
        )

    results = in_parallel([lock, *uploads])

    assert not isinstance(results[0], Exception), results[0]
    assert all(isinstance(r, DiaryEntry | StudyLockedError) for r in results[1:]), results
    locked_at = AuditEvent.objects.get(action="lock").pk
    written = AuditEvent.objects.filter(object_type="diary.diaryentry")
    assert not written.filter(pk__gt=locked_at).exists()
    assert written.count() == DiaryEntry.objects.count()
    assert DiaryEntry.objects.count() == sum(isinstance(r, DiaryEntry) for r in results)
    assert audit_verify().ok


def test_uploads_of_one_study_do_not_wait_for_each_other_but_the_lock_waits_for_them() -> None:
    """An upload holds the study's row shared (FOR KEY SHARE): another participant's upload
    goes through meanwhile, while the lock (FOR UPDATE) waits until the upload ends."""
    first = _participant()
    second = make_participant(study=first.study, start_date=first.start_date)
    administrator = make_member(study=first.study, role=Role.ADMINISTRATOR).user
    holding, release = threading.Event(), threading.Event()

    def an_upload_in_progress() -> None:
        try:
            with transaction.atomic():
                require_unlocked(first.study, shared=True)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
        result: list[Any] = []

        def run() -> None:
            try:
                result.append(call())
            except Exception as error:
                result.append(error)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread, result

    holder = threading.Thread(target=an_upload_in_progress)
    holder.start()
    assert holding.wait(timeout=10)
    try:
        upload, uploaded = in_thread(_upload(second, uuid.uuid4(), _in_window(second, 1)))
        upload.join(timeout=5)
        uploaded_while_held = not upload.is_alive()
        locker, locked = in_thread(
            lambda: study_lock(
                study=first.study, reason="lock", actor=administrator, override_reason=LEFT_OPEN
            )
        )
        locker.join(timeout=1)
        waited = locker.is_alive()
    finally:
        release.set()
        holder.join(timeout=10)
    locker.join(timeout=10)
    upload.join(timeout=10)

    assert uploaded_while_held, "the upload waited for another upload of the study"
    assert isinstance(uploaded[0], DiaryEntry), uploaded
    assert waited, "the lock did not wait for the upload in progress"
    assert not isinstance(locked[0], Exception), locked
