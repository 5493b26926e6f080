"""Helpers of the diary tests: a frozen clock, local times, uploads.

The clock stands at NOW, noon in Los Angeles (between windows); the participant's diary started
on START, so that both of 2025's daylight-saving changes fall inside it. Uploads pass their
`received_at` explicitly (as the demo does), except where the server's own clock is tested.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from diarytrial.audit.models import AuditEvent
from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.services import diary_entry_submit
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import load_example
from diarytrial.randomization.models import AllocationSlot
from diarytrial.studies.models import Study

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2025, 11, 20, 20, 0, tzinfo=dt.UTC)  # 12:00 in Los Angeles
START = dt.date(2025, 2, 24)
D = dt.date(2025, 11, 10)  # a Monday, standard time in Los Angeles
LDN = load_example("ldn-fibromyalgia").protocol


def at(
    day: dt.date, hour: int, minute: int = 0, second: int = 0, *, tz: ZoneInfo = LA, fold: int = 0
) -> dt.datetime:
    """The UTC instant of a local wall-clock time in `tz` (`fold=1`: a repeated hour's second)."""
    local = dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=tz).replace(fold=fold)
    return local.astimezone(dt.UTC)


def answers(**overrides: float) -> dict[str, float]:
    """Every item of the LDN diary answered 50, but for `overrides`."""
    values: dict[str, float] = {item.id: 50.0 for item in LDN.diary.items}
    values.update(overrides)
    return values


def submit(
    participant: Participant,
    *,
    received_at: dt.datetime,
    completed_at_device: dt.datetime | None = None,
    without_device_time: bool = False,
    client_id: uuid.UUID | None = None,
    values: dict[str, float] | None = None,
    side_effects: dict[str, str] | None = None,
    capsule_taken: bool | None = True,
) -> DiaryEntry:
    """An upload received at `received_at`, completed (the device says) 2 minutes before.

    `completed_at_device` replaces the device's time; `without_device_time` sends none.
    """
    device = completed_at_device or received_at - dt.timedelta(minutes=2)
    return diary_entry_submit(
        participant=participant,
        client_id=client_id or uuid.uuid4(),
        answers=values if values is not None else answers(),
        side_effects=side_effects or {},
        capsule_taken=capsule_taken,
        completed_at_device=None if without_device_time else device,
        received_at=received_at,
    )


def last_event_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def events_after(mark: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))


def fail_after(write: Callable[[], object]) -> None:
    """Run `write` in a transaction that then fails, like a request failing after the write."""
    with transaction.atomic():
        write()
        raise RuntimeError("the request failed after the write")


def visit_day(participant: Participant, visit: int) -> dt.date:
    """The date of an LDN `visit` (treatment days 0, 28, 42, 84, 98, 126 for visits 1..6)."""
    treatment_day = (0, 28, 42, 84, 98, 126)[visit - 1]
    assert participant.start_date is not None
    return participant.start_date + dt.timedelta(days=LDN.design.baseline_days - 1 + treatment_day)


def two_sequences(study: Study, *, start: dt.date = START) -> tuple[Participant, Participant]:
    """Two participants who started on `start` and were randomized to different sequences (the
    study needs an allocation list; others randomized on the way are left as they are)."""
    from tests.builders import make_participant

    def newcomer() -> Participant:
        return make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=start)

    def sequence(participant: Participant) -> str:
        return AllocationSlot.objects.get(used_by=participant).sequence_code

    first = newcomer()
    for _ in range(6):
        second = newcomer()
        if sequence(second) != sequence(first):
            return first, second
    raise AssertionError("the allocation list gave one sequence seven times running")


def migrate_to(target: list[tuple[str, str]]) -> MigrationExecutor:
    """Migrate the test database to `target` (app, migration) and return an executor that
    knows the state it reached (``.loader.project_state(target).apps``)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return MigrationExecutor(connection)


def migrate_to_latest() -> None:
    """Every app forward to its latest migration (going back also takes back the migrations
    of other apps that depend on the one going back)."""
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
