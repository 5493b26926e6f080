"""The simulated trial the interoperability tests convert."""

from __future__ import annotations

import pytest

from diarytrial.dataset import TrialDataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial


@pytest.fixture(scope="package")
def dataset() -> TrialDataset:
    """Eight participants of the LDN trial, with side effects, PGIC and blinding answers."""
    return simulate_trial(load_example("ldn-fibromyalgia"), participants=8, seed=11)
