"""The sign-in throttle: after 5 failures within 15 minutes for one username or from one
address, sign-ins for that username (or from that address) are refused for 15 minutes.

The failures are rows of ``SignInAttempt`` in the database rather than entries in a cache, so
the throttle holds across any number of web processes on SQLite and PostgreSQL alike, with no
cache server to run. Refused attempts are not counted (a lock does not extend itself), and a
successful sign-in clears the username's count (not the address's: one valid account must not
reset the count of an address guessing at others).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from diarytrial.accounts.models import SignInAttempt

FAILURE_LIMIT = 5
"""Failures allowed within `FAILURE_WINDOW` before sign-ins are refused."""

FAILURE_WINDOW = dt.timedelta(minutes=15)

LOCKOUT = dt.timedelta(minutes=15)
"""How long sign-ins stay refused after the failure that reached the limit."""


def lockout_end(
    failures: Sequence[dt.datetime],
    *,
    limit: int = FAILURE_LIMIT,
    window: dt.timedelta = FAILURE_WINDOW,
    lockout: dt.timedelta = LOCKOUT,
) -> dt.datetime | None:
    """When the latest lockout caused by `failures` (times, any order) ends; None if none did.

    A lockout starts at a failure that is the `limit`-th within `window` and lasts `lockout`.

    >>> t = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    >>> minutes = [0, 1, 2, 3]
    >>> lockout_end([t + dt.timedelta(minutes=m) for m in minutes]) is None
    True
    >>> lockout_end([t + dt.timedelta(minutes=m) for m in [*minutes, 14]])
    datetime.datetime(2026, 1, 1, 12, 29, tzinfo=datetime.timezone.utc)
    >>> lockout_end([t + dt.timedelta(minutes=m) for m in [*minutes, 16]]) is None
    True
    """
    times = sorted(failures)
    end: dt.datetime | None = None
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= window:
            end = times[i] + lockout
    return end


def sign_in_locked_until(
    *, username: str, ip_address: str | None, now: dt.datetime
) -> dt.datetime | None:
    """Until when sign-ins for `username` or from `ip_address` are refused; None if they are not."""
    # Only failures this recent can still hold a lockout in force at `now`.
    since = now - FAILURE_WINDOW - LOCKOUT
    recent = SignInAttempt.objects.filter(attempted_at__gt=since, attempted_at__lte=now)
    last_success = (
        recent.filter(username=username, succeeded=True)
        .order_by("-attempted_at")
        .values_list("attempted_at", flat=True)
        .first()
    )
    by_user = recent.filter(username=username, succeeded=False)
    if last_success is not None:
        by_user = by_user.filter(attempted_at__gt=last_success)
    ends = [lockout_end(list(by_user.values_list("attempted_at", flat=True)))]
    if ip_address:
        by_address = recent.filter(ip_address=ip_address, succeeded=False)
        ends.append(lockout_end(list(by_address.values_list("attempted_at", flat=True))))
    in_force = [end for end in ends if end is not None and end > now]
    return max(in_force, default=None)
