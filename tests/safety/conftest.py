"""Fixtures of the safety tests: the clock at NOW, and a participant enrolled since START."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from tests.builders import make_participant, make_study
from tests.diary.helpers import NOW, START

from diarytrial.participants.models import Participant


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def participant(clock: time_machine.Traveller) -> Participant:
    return make_participant(study=make_study(), start_date=START)
