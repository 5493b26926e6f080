"""PGIC distribution and paired tests: against R (fixtures/safety) and by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pytest
from tests.analysis.fixtures.safety.fixture_trial import REFERENCE, day, r_trial, tiny_trial

from diarytrial.analysis.pgic import pgic_answers, pgic_comparison, pgic_improved, pgic_table
from diarytrial.protocol import PGIC_LABELS


def test_pgic_matches_r() -> None:
    trial = r_trial()
    reference = REFERENCE["pgic"]
    table = pgic_table(trial)
    for condition in ("active", "placebo"):
        rows = table[table["condition"] == condition]
        assert rows["count"].tolist() == reference["counts"][condition]
    result = pgic_comparison(trial)
    assert result.pairs == reference["pairs"]
    # R: wilcox.test(a, p, paired = TRUE, conf.int = TRUE) on the scores (ties: normal approx.)
    assert result.wilcoxon_v == reference["v"]
    assert result.wilcoxon_p == pytest.approx(reference["wilcoxon_p"], rel=1e-10)
    assert result.wilcoxon_exact is False
    # R finds the asymptotic estimate and interval with uniroot(tol = 1e-4)
    assert result.pseudomedian == pytest.approx(reference["pseudomedian"], abs=2e-4)
    assert (result.ci_low, result.ci_high) == pytest.approx(reference["ci"], abs=2e-4)
    # R: binom.test(n10, n10 + n01, 0.5) on score <= 2
    assert result.mcnemar_p == pytest.approx(reference["mcnemar_p"], rel=1e-10)
    assert (result.improved_active, result.improved_placebo) == (
        reference["improved"]["active"],
        reference["improved"]["placebo"],
    )


def _answers(rows: Sequence[tuple[str, int, float | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "participant_id": [pid for pid, _, _ in rows],
            "period": pd.array([period for _, period, _ in rows], dtype="Int64"),
            "answered_on": day(14),
            "score": pd.array([score for _, _, score in rows], dtype="Int64"),
        }
    )
    return frame


# P1 and P3: period 1 active, period 2 placebo; P2 the other way round.
ANSWERS = [
    ("P1", 1, 1),  # active
    ("P1", 2, 4),  # placebo
    ("P2", 1, 7),  # placebo
    ("P2", 2, 2),  # active
    ("P3", 1, 2),  # active; P3 withdrew before placebo
]


def test_table_has_all_seven_scores_with_labels() -> None:
    table = pgic_table(tiny_trial(pgic=_answers(ANSWERS)))
    assert len(table) == 14
    assert table["score"].tolist() == list(range(1, 8)) * 2
    assert table["label"].tolist()[:7] == list(PGIC_LABELS)
    active = table[table["condition"] == "active"]
    assert active["count"].tolist() == [1, 2, 0, 0, 0, 0, 0]
    assert active["n"].tolist() == [3] * 7
    assert active["share"].tolist() == pytest.approx([1 / 3, 2 / 3, 0, 0, 0, 0, 0])
    placebo = table[table["condition"] == "placebo"]
    assert placebo["count"].tolist() == [0, 0, 0, 1, 0, 0, 1]
    improved = pgic_improved(tiny_trial(pgic=_answers(ANSWERS)))
    assert improved.to_dict("records") == [
        {"condition": "active", "n": 3, "improved": 3, "share_improved": 1.0},
        {"condition": "placebo", "n": 2, "improved": 0, "share_improved": 0.0},
    ]


def test_answers_take_the_condition_of_their_period() -> None:
    answers = pgic_answers(tiny_trial(pgic=_answers(ANSWERS)))
    got = list(zip(answers["participant_id"], answers["period"], answers["condition"], strict=True))
    assert got == [
        ("P1", 1, "active"),
        ("P1", 2, "placebo"),
        ("P2", 1, "placebo"),
        ("P2", 2, "active"),
        ("P3", 1, "active"),
    ]


def test_comparison_by_hand() -> None:
    result = pgic_comparison(tiny_trial(pgic=_answers(ANSWERS)))
    # Pairs P1 (1 vs 4) and P2 (2 vs 7): both improved only on active.
    assert result.pairs == 2
    assert (result.improved_active, result.improved_placebo) == (2, 0)
    assert (result.only_active, result.only_placebo) == (2, 0)
    assert result.mcnemar_p == 0.5  # binom.test(2, 2, 0.5)
    # Differences -3 and -5: V = 0; exact two-sided p = 2 * 1/4.
    assert result.wilcoxon_v == 0.0
    assert result.wilcoxon_p == 0.5
    assert (result.median_active, result.median_placebo) == (1.5, 5.5)


def test_several_answers_for_a_condition_are_averaged() -> None:
    schedules = {
        "P1": [(1, 3, "baseline"), (4, 5, "active"), (6, 7, "placebo"), (8, 9, "active")],
    }
    trial = tiny_trial(
        schedules=schedules, pgic=_answers([("P1", 1, 1), ("P1", 2, 3), ("P1", 3, 3)])
    )
    result = pgic_comparison(trial)
    assert result.pairs == 1
    assert result.median_active == 2.0  # mean of 1 and 3
    assert result.improved_active == 1  # a mean of 2 counts as improved


def test_missing_scores_and_missing_pairs() -> None:
    rows = [("P1", 1, 2), ("P1", 2, None), ("P2", 1, 3)]
    trial = tiny_trial(pgic=_answers(rows))
    assert pgic_improved(trial)["n"].tolist() == [1, 1]  # the empty answer is left out
    result = pgic_comparison(trial)
    assert result.pairs == 0
    for value in (result.wilcoxon_p, result.mcnemar_p, result.median_active):
        assert math.isnan(value)


def test_identical_scores_give_no_signed_rank_test() -> None:
    rows = [("P1", 1, 3), ("P1", 2, 3), ("P2", 1, 2), ("P2", 2, 2)]
    result = pgic_comparison(tiny_trial(pgic=_answers(rows)))
    assert result.pairs == 2
    assert math.isnan(result.wilcoxon_p)  # every difference is zero
    assert result.mcnemar_p == 1.0  # no discordant pair


def test_no_answers_at_all() -> None:
    trial = tiny_trial()
    table = pgic_table(trial)
    assert table["count"].sum() == 0
    assert table["share"].isna().all()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("P1", 0, 3)], "period 0, which is baseline"),
        ([("P1", 7, 3)], "period 7, which has no such period"),
        ([("P1", 1, 8)], "score 8.*not one of 1-7"),
    ],
)
def test_bad_answers_say_what_to_fix(rows: list[tuple[str, int, float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pgic_table(tiny_trial(pgic=_answers(rows)))


def test_a_missing_column_is_named() -> None:
    broken: Any = _answers(ANSWERS).drop(columns="score")
    with pytest.raises(ValueError, match="pgic table has no column 'score'"):
        pgic_comparison(tiny_trial(pgic=broken))
