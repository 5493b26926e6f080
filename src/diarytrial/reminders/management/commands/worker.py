"""``diarytrial worker``: the schedulers and the background task worker in one process.

Every minute it runs the periodic jobs the apps registered (`diarytrial.core.periodic`): the
reminders look for diary windows that opened and enqueue their reminders, the monitoring app
sends each site's daily digest when its hour has come. In between it runs the tasks that are
due, from the database queue (django-tasks' database backend).
``--once`` does one round of both and exits: for cron and for tests.
"""

from __future__ import annotations

import signal
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import OperationalError, close_old_connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from diarytrial.core.periodic import periodic_jobs

TICK_SECONDS = 60


def tasks_drain(*, worker_id: str | None = None) -> int:
    """Run every task that is due now, one after another, then return how many ran.

    The database worker's own loop, without its connection housekeeping (the caller's loop
    does that between rounds): each task is claimed under a lock, so several workers may run.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id or get_random_string(32),
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        due = DBTaskResult.objects.ready().filter(backend_name=worker.backend_name)
        try:
            with exclusive_transaction(due.db):
                claimed = due.get_locked()
                if claimed is not None:
                    claimed.claim(worker.worker_id)
        except OperationalError as error:
            if is_locked_database_exception(error):
                return ran  # another worker holds the queue: the next round goes on
            raise
        if claimed is None:
            return ran
        worker.run_task(claimed)
        ran += 1


class Command(BaseCommand):
    help = (
        "Send the diary reminders: every minute, find the windows that opened and queue their "
        "reminders, and run the queued tasks as they fall due. Stop with Ctrl+C or SIGTERM."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="one round (schedule, then run the tasks due now) and exit; for cron and tests",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait between looks at the task queue (default 1)",
        )

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        self.verbosity = int(options.get("verbosity", 1))
        worker_id = get_random_string(32)
        if once:
            self._round(worker_id)
            return
        self.stopping = False
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, self._stop)
        self.stdout.write("diarytrial worker: sending reminders; stop with Ctrl+C.")
        next_tick = 0.0
        while not self.stopping:
            close_old_connections()
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_SECONDS
                self._schedule()
            tasks_drain(worker_id=worker_id)
            close_old_connections()
            deadline = time.monotonic() + interval
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))
        self.stdout.write("diarytrial worker: stopped.")

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _schedule(self) -> dict[str, int]:
        now = timezone.now()
        counts = {name: job(now) for name, job in periodic_jobs()}
        if self.verbosity > 1:
            for name, count in counts.items():
                if count:
                    self.stdout.write(f"{name}: {count}")
        return counts

    def _round(self, worker_id: str) -> None:
        counts = self._schedule()
        tasks_drain(worker_id=worker_id)
        if self.verbosity > 0:
            self.stdout.write(
                f"scheduled the reminders of {counts.get('reminders', 0)} participant(s); "
                f"sent {counts.get('digests', 0)} daily digest(s); ran the due tasks"
            )
