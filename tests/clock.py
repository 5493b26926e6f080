"""The tests' clock: every test runs at one fixed instant, never at the machine's time.

An autouse fixture (tests/conftest.py) holds the clock at `test_instant()` for each test,
frozen unless the test is marked ``ticking`` (live servers and browsers need time to pass).
``DIARYTRIAL_TEST_CLOCK`` moves that instant for a whole run, e.g.
``DIARYTRIAL_TEST_CLOCK=2026-12-07T02:30:00Z`` (the evening before in the Americas);
``make test`` re-runs the date-sensitive folders at such awkward instants. Tests that need a
particular moment travel there themselves with ``time_machine.travel``. A program a test starts
in a subprocess runs on the same clock through `clocked_command`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

CLOCK_VARIABLE = "DIARYTRIAL_TEST_CLOCK"
# An ordinary weekday afternoon in Europe, morning in the Americas.
DEFAULT_INSTANT = "2026-12-07T14:00:00Z"
# The awkward instants `make test` re-runs the date-sensitive folders at: the evening before in
# the Americas, and the night the United States change to daylight-saving time (01:30 in Los
# Angeles, half an hour before the change; already summer time in New York).
AWKWARD_INSTANTS = ("2026-12-07T02:30:00Z", "2027-03-14T09:30:00Z")


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant with its offset (``Z`` or ``+hh:mm``), as an aware UTC datetime."""
    try:
        instant = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{CLOCK_VARIABLE}={text!r} is not an ISO 8601 instant; write it like {DEFAULT_INSTANT}"
        ) from None
    if instant.tzinfo is None:
        raise ValueError(
            f"{CLOCK_VARIABLE}={text!r} has no time zone; end it with Z or an offset, like "
            f"{DEFAULT_INSTANT}"
        )
    return instant.astimezone(dt.UTC)


def test_instant() -> dt.datetime:
    """The instant every test starts at: ``DIARYTRIAL_TEST_CLOCK``, else `DEFAULT_INSTANT`."""
    return parse_instant(os.environ.get(CLOCK_VARIABLE) or DEFAULT_INSTANT)


test_instant.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def clocked_command(now: dt.datetime, *args: str) -> list[str]:
    """The command line that runs ``python *args`` with its clock ticking from `now`.

    For example ``clocked_command(timezone.now(), "-m", "diarytrial.cli", "demo")``: the child
    process sees the test's clock rather than the machine's.
    """
    runner = Path(__file__).with_name("clocked.py")
    return [sys.executable, str(runner), now.astimezone(dt.UTC).isoformat(), *args]
