"""Randomization and dispensing under concurrency, on PostgreSQL: each thread is a web process
with its own database connection, and they all start at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from tests.builders import make_allocation, make_kits, make_participant, make_study

from diarytrial.audit.selectors import audit_verify
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import load_example
from diarytrial.protocol.visits import visit_calendar
from diarytrial.randomization.errors import AlreadyRandomizedError, KitNotAvailableError
from diarytrial.randomization.models import (
    AllocationSlot,
    Dispensing,
    Kit,
    KitStatus,
    Randomization,
)
from diarytrial.randomization.services import kit_dispense, participant_randomize

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "needs PostgreSQL: SQLite has no row locks and lets one writer in at a time, so "
            "threads would only queue on the database lock and test nothing; run with "
            "DATABASE_URL=postgres://..."
        ),
    ),
]

LDN = load_example("ldn-fibromyalgia").protocol


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread (and connection), all released at once by a barrier.

    Returns each call's result, or the exception it raised, in the order of `calls`.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = calls[index]()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()  # this thread's connection; the test database is dropped later

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def _randomize(participant: Participant) -> Callable[[], Randomization]:
    return lambda: participant_randomize(participant=participant, actor=None)


def test_fifty_parallel_randomizations_use_fifty_different_slots() -> None:
    study = make_study()
    allocation_list = make_allocation(study=study, size=50)
    participants = [make_participant(study=study) for _ in range(50)]

    results = in_parallel([_randomize(p) for p in participants])

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert Randomization.objects.count() == 50
    used = AllocationSlot.objects.filter(allocation_list=allocation_list, used_by__isnull=False)
    assert used.count() == 50
    assert len(set(used.values_list("used_by", flat=True))) == 50
    assert sorted(used.values_list("position", flat=True)) == list(range(1, 51))
    assert len({r.slot_id for r in results}) == 50
    assert Participant.objects.filter(status=ParticipantStatus.RANDOMIZED).count() == 50
    assert audit_verify().ok


def test_one_participant_randomized_from_ten_places_at_once_is_randomized_once() -> None:
    study = make_study()
    make_allocation(study=study, size=20)
    participant = make_participant(study=study)

    results = in_parallel([_randomize(participant) for _ in range(10)])

    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Randomization": 1, "AlreadyRandomizedError": 9}
    assert all(isinstance(r, Randomization | AlreadyRandomizedError) for r in results), results
    assert Randomization.objects.count() == 1
    assert AllocationSlot.objects.filter(used_by__isnull=False).count() == 1
    assert audit_verify().ok


def test_parallel_randomizations_of_participants_asked_twice_each() -> None:
    study = make_study()
    make_allocation(study=study, size=20)
    participants = [make_participant(study=study) for _ in range(10)]

    results = in_parallel([_randomize(p) for p in participants for _ in range(2)])

    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Randomization": 10, "AlreadyRandomizedError": 10}
    assert Randomization.objects.count() == 10
    assert len(set(Randomization.objects.values_list("slot", flat=True))) == 10


def _ldn_visit(participant: Participant) -> int:
    """The first visit at which `participant` gets an LDN kit (1 or 3 in the LDN protocol)."""
    sequence = LDN.sequence_from_code(AllocationSlot.objects.get(used_by=participant).sequence_code)
    return visit_calendar(LDN).contents[sequence].index("ldn") + 1


def test_a_kit_dispensed_from_ten_places_at_once_is_dispensed_once() -> None:
    study = make_study()
    make_allocation(study=study, size=20)
    make_kits(study=study, per_arm_and_level=1)
    participants = [
        make_participant(study=study, status=ParticipantStatus.RANDOMIZED) for _ in range(10)
    ]
    kit = Kit.objects.get(arm="ldn", dose_level="standard")

    results = in_parallel(
        [
            (lambda p=p: kit_dispense(participant=p, visit=_ldn_visit(p), kit=kit, actor=None))
            for p in participants
        ]
    )

    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Dispensing": 1, "KitNotAvailableError": 9}
    assert all(isinstance(r, Dispensing | KitNotAvailableError) for r in results), results
    assert Dispensing.objects.count() == 1
    assert Kit.objects.get(pk=kit.pk).status == KitStatus.DISPENSED
    assert Participant.objects.filter(status=ParticipantStatus.ACTIVE).count() == 1
    assert audit_verify().ok


def test_different_kits_dispensed_at_once_all_succeed() -> None:
    study = make_study()
    make_allocation(study=study, size=20)
    make_kits(study=study, per_arm_and_level=10)
    participants = [
        make_participant(study=study, status=ParticipantStatus.RANDOMIZED) for _ in range(10)
    ]
    kits = list(Kit.objects.filter(arm="ldn", dose_level="standard").order_by("code"))

    results = in_parallel(
        [
            (lambda p=p, k=k: kit_dispense(participant=p, visit=_ldn_visit(p), kit=k, actor=None))
            for p, k in zip(participants, kits, strict=True)
        ]
    )

    assert [type(r).__name__ for r in results] == ["Dispensing"] * 10
    assert Dispensing.objects.count() == 10
    assert Participant.objects.filter(status=ParticipantStatus.ACTIVE).count() == 10
    assert audit_verify().ok
