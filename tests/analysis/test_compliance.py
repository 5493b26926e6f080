"""Diary compliance: against R (fixtures/safety) and by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from tests.analysis.fixtures.safety.fixture_trial import REFERENCE, day, r_trial, tiny_trial

from diarytrial.analysis.compliance import compliance_summary, diary_compliance
from diarytrial.dataset import TrialDataset


def test_compliance_matches_r() -> None:
    trial = r_trial()
    table = diary_compliance(trial)
    reference = REFERENCE["compliance"]
    assert table["participant_id"].tolist() == reference["participant_id"]
    assert table["phase"].tolist() == reference["phase"]
    for column in ("expected_days", "completed_days", "late_days"):
        assert table[column].tolist() == reference[column], column
    summary = compliance_summary(trial).set_index("condition")
    for condition, expected in REFERENCE["compliance_summary"].items():
        row = summary.loc[condition]
        assert row["participants"] == expected["participants"]
        assert row["below_min"] == expected["below_min"]
        # R: mean(share); min(share); median(share) over participants
        for column in ("mean_share", "min_share", "median_share"):
            assert row[column] == pytest.approx(expected[column], rel=1e-12), (condition, column)


def _tiny() -> TrialDataset:
    """P1 misses nights 6 and 12, with late entries on 4 and 5; P2's night 5 is empty."""
    nights = [("P1", n) for n in range(1, 15) if n not in (6, 12)]
    nights += [("P2", n) for n in range(1, 15)] + [("P3", n) for n in range(1, 7)]
    trial = tiny_trial(diary=nights)
    diary = trial.diary.copy()
    p1 = diary["participant_id"] == "P1"
    diary.loc[p1 & diary["diary_date"].isin([day(4), day(5)]), "late"] = True
    diary.loc[(diary["participant_id"] == "P2") & (diary["diary_date"] == day(5)), "value"] = np.nan
    return dataclasses.replace(trial, diary=diary)


def _cells(table: Mapping[Any, list[Any]], pid: str) -> list[tuple[Any, ...]]:
    return [
        (c, e, d, late, s)
        for p, c, e, d, late, s in zip(
            table["participant_id"],
            table["condition"],
            table["expected_days"],
            table["completed_days"],
            table["late_days"],
            table["share"],
            strict=True,
        )
        if p == pid
    ]


def test_compliance_by_hand_with_a_withdrawal() -> None:
    table = diary_compliance(_tiny()).to_dict("list")
    assert _cells(table, "P1") == [
        ("baseline", 3, 3, 0, 1.0),
        ("active", 5, 4, 2, 0.8),
        ("washout", 2, 2, 0, 1.0),
        ("placebo", 4, 3, 0, 0.75),
    ]
    assert _cells(table, "P2")[1] == ("placebo", 4, 3, 0, 0.75)  # night 5 has no answer
    # P3 withdraws on January 6: expected up to January 5; its entry on the 6th is not counted.
    p3 = _cells(table, "P3")
    assert p3[:2] == [("baseline", 3, 3, 0, 1.0), ("active", 2, 2, 0, 1.0)]
    assert [cell[1:4] for cell in p3[2:]] == [(0, 0, 0), (0, 0, 0)]
    assert all(math.isnan(float(cell[4])) for cell in p3[2:])


def test_as_of_stops_the_expected_days() -> None:
    table = diary_compliance(_tiny(), as_of=dt.date(2026, 1, 12)).to_dict("list")
    assert _cells(table, "P1")[3] == ("placebo", 2, 1, 0, 0.5)  # 11 and 12; only 11 filled
    assert _cells(table, "P2")[3] == ("active", 3, 3, 0, 1.0)  # 10-12


def test_summary_by_hand() -> None:
    summary = compliance_summary(_tiny()).set_index("condition")
    assert summary.index.tolist() == ["baseline", "active", "placebo", "washout", "all"]
    active = summary.loc["active"]
    assert active["participants"] == 3
    assert (active["expected_days"], active["completed_days"], active["late_days"]) == (12, 11, 2)
    assert active["share"] == pytest.approx(11 / 12)
    assert active["mean_share"] == pytest.approx((0.8 + 1 + 1) / 3)
    assert (active["min_share"], active["median_share"]) == (0.8, 1.0)
    assert summary.loc["washout", "participants"] == 2  # P3 withdrew before it
    assert summary.loc["all", "min_share"] == pytest.approx(12 / 14)
    assert summary["below_min"].sum() == 0
    assert summary["min_completion"].unique().tolist() == [0.7]  # from the protocol
    stricter = compliance_summary(_tiny(), min_completion=0.8).set_index("condition")
    assert stricter.loc["placebo", "below_min"] == 2  # 0.75 and 0.75
    assert stricter.loc["active", "below_min"] == 0  # 0.8 is not below 0.8


def test_bad_input_says_what_to_fix() -> None:
    with pytest.raises(ValueError, match="pass as_of"):
        diary_compliance(tiny_trial())
    empty = diary_compliance(tiny_trial(), as_of=dt.date(2026, 1, 2))
    assert empty["expected_days"].tolist()[0] == 2
    trial = _tiny()
    with pytest.raises(ValueError, match="diary table has no column 'late'"):
        diary_compliance(dataclasses.replace(trial, diary=trial.diary.drop(columns="late")))
    with pytest.raises(ValueError, match="min_completion"):
        compliance_summary(trial, min_completion=0)
