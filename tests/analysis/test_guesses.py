"""The blinding guesses of a dataset: the guess table at the end of each period, the indices."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest
from tests.dataset_builders import START, make_dataset

from diarytrial.analysis.guesses import blinding_summary, guesses_by_visit, period_guesses
from diarytrial.analysis.pgic import pgic_answers, pgic_by_visit
from diarytrial.analysis.results import analyze_trial, results_to_dict
from diarytrial.dataset import TrialDataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial


def _answers(rows: list[tuple[str, int, int | None]], **value: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant_id": [r[0] for r in rows],
            "visit": pd.array([r[1] for r in rows], dtype="Int64"),
            "period": pd.array([r[2] for r in rows], dtype="Int64"),
            "answered_on": [pd.Timestamp(START)] * len(rows),
            **value,
        }
    )


def _guessed() -> TrialDataset:
    # P-000X is LDN-first (period 1 active, ends at visit 4), P-001X placebo-first (visit 2).
    rows = [
        ("P-000X", 2, None),
        ("P-000X", 4, 1),
        ("P-000X", 6, 2),
        ("P-001X", 2, 1),
        ("P-001X", 3, None),
        ("P-001X", 6, 2),
    ]
    guesses = ["placebo", "drug", "dont_know", "placebo", "drug", "drug"]
    scores = pd.array([4, 2, 5, 4, 3, 1], dtype="Int64")
    return dataclasses.replace(
        make_dataset(),
        blinding=_answers(rows, guess=guesses),
        pgic=_answers(rows, score=scores),
    )


def test_the_guesses_at_the_end_of_a_period_meet_the_true_arm() -> None:
    used = period_guesses(_guessed())
    assert used[["participant_id", "visit", "arm", "guess"]].values.tolist() == [
        ["P-000X", 4, "active", "active"],
        ["P-000X", 6, "placebo", "dont_know"],
        ["P-001X", 2, "placebo", "placebo"],
        ["P-001X", 6, "active", "active"],
    ]
    summary = blinding_summary(_guessed())
    assert summary.table.counts == ((2, 0, 0), (0, 1, 1))
    assert summary.bang_active.estimate == 1.0
    assert summary.bang_placebo.estimate == 0.5
    assert summary.other_visits == 2
    assert guesses_by_visit(_guessed()).values.tolist() == [
        [2, 2, 0, 2, 0],
        [3, 1, 1, 0, 0],
        [4, 1, 1, 0, 0],
        [6, 2, 1, 0, 1],
    ]


def test_the_pgic_by_condition_uses_the_period_ends_and_the_rest_is_counted_by_visit() -> None:
    answers = pgic_answers(_guessed())
    assert answers[["participant_id", "period", "condition", "score"]].values.tolist() == [
        ["P-000X", 1, "active", 2],
        ["P-000X", 2, "placebo", 5],
        ["P-001X", 1, "placebo", 4],
        ["P-001X", 2, "active", 1],
    ]
    by_visit = pgic_by_visit(_guessed())
    assert by_visit.values.tolist() == [[2, 2, 4.0], [3, 1, 3.0], [4, 1, 2.0], [6, 2, 3.0]]


def test_a_guess_for_a_period_the_participant_does_not_have_is_refused() -> None:
    dataset = _guessed()
    bad = dataset.blinding.copy()
    bad.loc[1, "period"] = 7
    with pytest.raises(ValueError, match="period 7, which is not one of their treatment periods"):
        period_guesses(dataclasses.replace(dataset, blinding=bad))


def test_the_simulated_ldn_trial_gives_the_blinding_indices() -> None:
    trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=60, seed=2013)
    document = results_to_dict(analyze_trial(trial))
    blinding = document["blinding"]
    indices = [blinding["bang"]["active"], blinding["bang"]["placebo"], blinding["james"]]
    for index in indices:
        assert index["ci_low"] <= index["estimate"] <= index["ci_high"]
        assert math.isfinite(index["se"])
    assert 0 < blinding["james"]["estimate"] < 1
    table = {row["arm"]: row for row in blinding["table"]}
    assert table["active"]["n"] + table["placebo"]["n"] + blinding["other_visits"] == len(
        trial.blinding
    )
    assert [row["visit"] for row in document["pgic"]["by_visit"]] == [2, 3, 4, 5, 6]
    assert [row["visit"] for row in blinding["by_visit"]] == [2, 3, 4, 5, 6]
