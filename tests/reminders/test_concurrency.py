"""Two schedulers and two workers at once, on PostgreSQL: each reminder is made and sent once.

Each thread is a process of its own with its own connection; they start together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult
from tests.builders import make_participant, make_study
from tests.reminders.helpers import NOON, START, D, SmtpServer, at

from diarytrial.reminders.models import DeliveryStatus, ReminderDelivery
from diarytrial.reminders.services import reminder_settings_set
from diarytrial.reminders.tasks import reminders_schedule, reminders_send

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite lets one writer in at a time, so threads test nothing",
    ),
]


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
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
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_racing_schedulers_and_workers_send_each_reminder_once(smtp: SmtpServer) -> None:
    with time_machine.travel(NOON, tick=False) as clock:
        study = make_study()
        people = [make_participant(study=study, start_date=START) for _ in range(5)]
        for n, person in enumerate(people):
            reminder_settings_set(
                participant=person,
                email=f"p{n}@example.org",
                email_enabled=True,
                push_enabled=False,
            )
        clock.move_to(at(D, 18, 11))

        scheduled = in_parallel([reminders_schedule] * 4)

        assert not [r for r in scheduled if isinstance(r, Exception)], scheduled
        assert sum(scheduled) == 5
        assert ReminderDelivery.objects.count() == 5
        assert DBTaskResult.objects.count() == 5

        sent = in_parallel(
            [
                (lambda p=person: reminders_send(participant_id=p.pk, diary_date=D))
                for person in people
                for _ in range(3)
            ]
        )

        assert not [r for r in sent if isinstance(r, Exception)], sent
        assert sorted(str(r) for r in sent if r) == ["{'email': 'sent'}"] * 5
        assert len(smtp.messages) == 5
        assert sorted(r for [r] in smtp.collector.recipients) == [
            f"p{n}@example.org" for n in range(5)
        ]
        assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {
            DeliveryStatus.SENT
        }
