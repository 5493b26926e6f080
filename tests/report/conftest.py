"""Shared, expensive inputs of the report tests: simulated trials and their analyses."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from diarytrial.analysis.results import TrialResults, analyze_trial
from diarytrial.dataset import TrialDataset
from diarytrial.protocol import load_example
from diarytrial.report import render_report
from diarytrial.simulate import simulate_trial

HASH = "d" * 64
"""A stand-in dataset hash for reports rendered from memory."""


@dataclass(frozen=True)
class Rendered:
    """A simulated trial, its analysis and its report."""

    dataset: TrialDataset
    results: TrialResults
    html: str


def _render(example: str, participants: int, seed: int) -> Rendered:
    dataset = simulate_trial(load_example(example), participants=participants, seed=seed)
    results = analyze_trial(dataset)
    return Rendered(dataset, results, render_report(dataset, results, dataset_hash=HASH))


@pytest.fixture(scope="session")
def ldn() -> Rendered:
    """The reference LDN crossover: 31 participants, seed 2013 (about 5 s to analyse)."""
    return _render("ldn-fibromyalgia", 31, 2013)


@pytest.fixture(scope="session")
def nof1() -> Rendered:
    """One patient's n-of-1 trial of LDN."""
    return _render("nof1-ldn", 1, 2013)


@pytest.fixture(scope="session")
def nof1_series() -> Rendered:
    """A series of five patients' n-of-1 trials of LDN, pooled."""
    return _render("nof1-ldn", 5, 4)
