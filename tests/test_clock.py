"""The tests' own clock (tests/clock.py): fixed, movable for a run, shared with subprocesses."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from django.utils import timezone
from tests.clock import clocked_command, parse_instant, test_instant


def test_every_test_starts_at_the_test_instant_and_the_clock_stands_still() -> None:
    first = timezone.now()
    time.sleep(0.01)

    assert first == timezone.now() == test_instant()
    assert dt.datetime.now(dt.UTC) == test_instant()
    assert dt.date.today() == test_instant().date()


@pytest.mark.ticking
def test_a_ticking_test_starts_at_the_test_instant_and_time_passes() -> None:
    first = timezone.now()
    time.sleep(0.01)

    assert test_instant() <= first < timezone.now() < test_instant() + dt.timedelta(minutes=5)


def test_the_variable_moves_the_instant_for_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIARYTRIAL_TEST_CLOCK", "2027-03-14T09:30:00Z")

    assert test_instant() == dt.datetime(2027, 3, 14, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-07T02:30:00Z", dt.datetime(2026, 12, 7, 2, 30, tzinfo=dt.UTC)),
        ("2026-12-06T18:30:00-08:00", dt.datetime(2026, 12, 7, 2, 30, tzinfo=dt.UTC)),
    ],
)
def test_an_instant_is_read_with_its_offset(text: str, expected: dt.datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    ("text", "says"), [("yesterday", "not an ISO 8601"), ("2026-12-07T02:30", "no time zone")]
)
def test_an_unreadable_instant_is_refused_in_words(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_instant(text)


def test_a_subprocess_runs_on_the_tests_clock() -> None:
    command = clocked_command(
        timezone.now(), "-c", "import datetime as d; print(d.datetime.now(d.UTC).isoformat())"
    )
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)

    seen = dt.datetime.fromisoformat(finished.stdout.strip())
    assert test_instant() <= seen < test_instant() + dt.timedelta(minutes=1)
