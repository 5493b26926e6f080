"""The jobs ``diarytrial worker`` runs every minute, registered by the apps that own them.

The worker lives with the reminders, but other apps above them have work that falls due at a
clock time too (the monitoring app's daily digest). Each such app registers one *periodic job*
in its AppConfig.ready(); the worker runs them all, in order, every minute. A job looks at the
clock itself, does what is due and returns how many things it did (for the worker's log).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

PeriodicJob = Callable[[dt.datetime], int]
"""``job(now)``: do what is due at `now`; return how many things were done."""

_JOBS: dict[str, tuple[int, PeriodicJob]] = {}


def register_periodic_job(name: str, job: PeriodicJob, *, order: int) -> None:
    """Register `job` under `name`; registering a name again replaces it."""
    _JOBS[name] = (order, job)


def periodic_jobs() -> tuple[tuple[str, PeriodicJob], ...]:
    """The registered jobs by their order (then name)."""
    ordered = sorted(_JOBS.items(), key=lambda pair: (pair[1][0], pair[0]))
    return tuple((name, job) for name, (_order, job) in ordered)
