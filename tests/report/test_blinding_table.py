"""The report's blinding section: guesses by true arm and the indices, NaN as not estimable."""

from __future__ import annotations

import dataclasses
import math

from diarytrial.analysis.blinding import IndexEstimate
from diarytrial.analysis.results import analyze_trial
from diarytrial.protocol import load_example
from diarytrial.report.tables.blinding import blinding_table
from diarytrial.simulate import simulate_trial

TRIAL = simulate_trial(load_example("ldn-fibromyalgia"), participants=24, seed=2013)
RESULTS = analyze_trial(TRIAL)


def test_the_table_gives_the_guesses_by_arm_and_the_indices() -> None:
    html = blinding_table(RESULTS, TRIAL.protocol.protocol)
    assert "Low-dose naltrexone" in html
    assert "Bang index (95% CI)" in html
    assert "James blinding index" in html
    assert "not estimable" not in html


def test_an_index_that_cannot_be_computed_is_not_estimable() -> None:
    nan = IndexEstimate(math.nan, math.nan, math.nan, math.nan, 0)
    summary = dataclasses.replace(RESULTS.blinding, bang_placebo=nan, james=nan)
    html = blinding_table(dataclasses.replace(RESULTS, blinding=summary), TRIAL.protocol.protocol)
    assert html.count("not estimable") == 2
