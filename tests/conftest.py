"""Fixtures of every test: the clock held at one instant (tests/clock.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from tests.clock import test_instant


@pytest.fixture(autouse=True)
def controlled_clock(request: pytest.FixtureRequest) -> Iterator[time_machine.Traveller]:
    """Every test runs at `test_instant()`: frozen, or ticking from it if marked ``ticking``."""
    ticking = request.node.get_closest_marker("ticking") is not None
    with time_machine.travel(test_instant(), tick=ticking) as traveller:
        yield traveller
