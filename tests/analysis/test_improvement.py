"""Phase means, percent improvement and responders against hand computation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from diarytrial.analysis.improvement import (
    percent_change,
    percent_improvement,
    phase_means,
    responders,
    responders_from_improvement,
)
from diarytrial.dataset import TrialDataset
from diarytrial.protocol import make_schedule, parse_protocol

TINY = """
schema_version = 1
[study]
id = "tiny"
title = "Tiny crossover"
[dosing]
levels = ["standard"]
start_level = "standard"
[[arms]]
id = "drug"
name = "Drug"
role = "active"
dose_mg = { standard = 1.0 }
[[arms]]
id = "placebo"
name = "Placebo"
role = "placebo"
dose_mg = { standard = 0.0 }
[design]
kind = "crossover"
sequences = [["drug", "placebo"], ["placebo", "drug"]]
baseline_days = 4
washout_days = 2
treatment_days = 4
[diary]
opens = 18:00:00
closes = 23:00:00
[[diary.items]]
id = "pain"
label = "Pain"
question = "Pain?"
scale = "slider_0_100"
anchors = ["none", "worst"]
direction = "higher_is_worse"
[[diary.items]]
id = "fatigue"
label = "Fatigue"
question = "Fatigue?"
scale = "slider_0_100"
anchors = ["none", "worst"]
direction = "higher_is_worse"
[[diary.items]]
id = "sleep"
label = "Sleep"
question = "Sleep?"
scale = "slider_0_100"
anchors = ["worst", "best"]
direction = "higher_is_better"
[responder]
rule = "pain >= 30 and (fatigue >= 30 or sleep >= 30)"
[analysis]
improvement_endpoint = "final_days"
final_days = 2
min_completion = 0.5
"""

START = dt.date(2026, 1, 5)
NAN = float("nan")

# Per participant and item, the values of study days 1..14 (baseline 1-4, period 1 5-8,
# washout 9-10, period 2 11-14); NaN = no answer that day.
VALUES = {
    # A: drug then placebo.
    ("A", "pain"): [60, 60, 50, 70, 50, 40, 45, 39, 5, 5, 60, 58, 54, NAN],
    ("A", "fatigue"): [80, 80, 80, 80, 70, 60, 56, 56, NAN, NAN, 80, 80, 72, 72],
    ("A", "sleep"): [40, 40, 40, 40, 40, 40, 44, 44, NAN, NAN, 40, 40, 52, 52],
    # B: placebo then drug; pain baseline 0; fatigue baseline mostly missing.
    ("B", "pain"): [0, 0, 0, 0, 0, 0, 0, 0, NAN, NAN, 10, 10, 10, 10],
    ("B", "fatigue"): [50, NAN, NAN, NAN, 50, 50, 50, 50, NAN, NAN, 30, 30, 30, 30],
    ("B", "sleep"): [50, 50, 50, 50, 50, 50, 50, 50, NAN, NAN, 65, 65, 65, 65],
}


def tiny_dataset(*, categorical: bool = False) -> TrialDataset:
    loaded = parse_protocol(TINY, source="tiny.toml")
    protocol = loaded.protocol
    sequences = {"A": ("drug", "placebo"), "B": ("placebo", "drug")}
    participants = pd.DataFrame(
        {
            "participant_id": ["A", "B"],
            "site": "s",
            "sequence": ["drug-placebo", "placebo-drug"],
            "start_date": pd.Timestamp(START),
            "randomized_on": pd.Timestamp(START + dt.timedelta(days=3)),
            "timezone": "UTC",
            "status": "completed",
            "withdrawn_on": pd.NaT,
            "withdrawal_reason": None,
            "age": pd.array([40, 50], dtype="Int64"),
            "opioid_use": False,
        }
    )
    periods = pd.DataFrame(
        [
            {
                "participant_id": pid,
                "phase": phase.index,
                "kind": phase.kind,
                "period": phase.period,
                "block": phase.block,
                "arm": phase.arm,
                "condition": phase.condition,
                "start": pd.Timestamp(phase.start),
                "end": pd.Timestamp(phase.end),
            }
            for pid, sequence in sequences.items()
            for phase in make_schedule(protocol, sequence, START).phases
        ]
    )
    periods["period"] = periods["period"].astype("Int64")
    periods["block"] = periods["block"].astype("Int64")
    rows = [
        {
            "participant_id": pid,
            "diary_date": pd.Timestamp(START + dt.timedelta(days=day)),
            "item": item,
            "value": float(value),
            "submitted_at": pd.Timestamp(START + dt.timedelta(days=day), tz="UTC")
            + pd.Timedelta(hours=20),
            "late": False,
        }
        for (pid, item), values in VALUES.items()
        for day, value in enumerate(values)
        if value == value
    ]
    diary = pd.DataFrame(rows)
    if categorical:
        diary["participant_id"] = diary["participant_id"].astype("category")
        diary["item"] = diary["item"].astype("category")
    return TrialDataset(protocol=loaded, participants=participants, periods=periods, diary=diary)


def _cell(frame: pd.DataFrame, pid: str, item: str, condition: str, column: str) -> float:
    row = frame[
        (frame["participant_id"] == pid)
        & (frame["item"] == item)
        & (frame["condition"] == condition)
    ]
    assert len(row) == 1
    return float(row[column].iloc[0])


def test_whole_phase_means_use_every_completed_day_and_skip_washout() -> None:
    means = phase_means(tiny_dataset(), window="whole_phase")
    assert _cell(means, "A", "pain", "baseline", "mean") == 60.0
    assert _cell(means, "A", "pain", "active", "mean") == pytest.approx((50 + 40 + 45 + 39) / 4)
    assert _cell(means, "A", "pain", "placebo", "mean") == pytest.approx((60 + 58 + 54) / 3)
    assert _cell(means, "A", "pain", "placebo", "completion") == 0.75
    assert _cell(means, "A", "pain", "placebo", "days_planned") == 4
    assert set(means["condition"]) == {"baseline", "active", "placebo"}
    assert len(means) == 2 * 3 * 3  # participants x items x (baseline + 2 periods)


def test_final_days_window_and_the_completion_rule() -> None:
    data = tiny_dataset()
    means = phase_means(data, window="final_days")  # final_days = 2 from the protocol
    assert _cell(means, "A", "pain", "active", "mean") == 42.0  # (45 + 39) / 2
    assert _cell(means, "A", "pain", "placebo", "mean") == 54.0  # 1 of 2 days: 0.5 is enough
    assert _cell(means, "A", "pain", "baseline", "days_planned") == 4  # baseline stays whole
    stricter = phase_means(data, window="final_days", min_completion=0.6)
    assert np.isnan(_cell(stricter, "A", "pain", "placebo", "mean"))
    assert _cell(stricter, "A", "pain", "placebo", "days_completed") == 1
    # B's fatigue baseline has 1 of 4 days: below 0.5, so NaN.
    assert np.isnan(_cell(means, "B", "fatigue", "baseline", "mean"))
    last3 = phase_means(data, window="last_days", days=3)
    assert _cell(last3, "A", "pain", "active", "mean") == pytest.approx((40 + 45 + 39) / 3)


def test_percent_improvement_by_hand() -> None:
    table = percent_improvement(tiny_dataset())  # the protocol's endpoint: final 2 days
    assert list(table.columns) == [
        "participant_id",
        "item",
        "condition",
        "baseline",
        "value",
        "improvement",
    ]
    expected = {
        ("A", "pain", "active"): (60 - 42) / 60 * 100,
        ("A", "pain", "placebo"): (60 - 54) / 60 * 100,
        ("A", "fatigue", "active"): (80 - 56) / 80 * 100,
        ("A", "fatigue", "placebo"): (80 - 72) / 80 * 100,
        ("A", "sleep", "active"): (44 - 40) / 40 * 100,
        ("A", "sleep", "placebo"): (52 - 40) / 40 * 100,
        ("B", "pain", "placebo"): 0.0,  # 0 -> 0: no change
        ("B", "pain", "active"): NAN,  # 0 -> 10: undefined
        ("B", "fatigue", "active"): NAN,  # baseline below min_completion
        ("B", "sleep", "active"): (65 - 50) / 50 * 100,
        ("B", "sleep", "placebo"): 0.0,
    }
    for (pid, item, condition), value in expected.items():
        got = _cell(table, pid, item, condition, "improvement")
        if np.isnan(value):
            assert np.isnan(got), (pid, item, condition)
        else:
            assert got == pytest.approx(value), (pid, item, condition)


def test_categorical_and_plain_columns_give_the_same_numbers() -> None:
    plain = percent_improvement(tiny_dataset())
    categorical = percent_improvement(tiny_dataset(categorical=True))
    pd.testing.assert_frame_equal(plain, categorical)


def test_responders_follow_the_rule_with_missing_values() -> None:
    table = responders(tiny_dataset())
    keys = zip(table["participant_id"], table["condition"], strict=True)
    got = dict(zip(keys, table["responder"].tolist(), strict=True))
    assert got[("A", "active")] is True  # pain 30, fatigue 30
    assert got[("A", "placebo")] is False  # pain 10
    assert got[("B", "placebo")] is False  # pain 0: decided whatever fatigue is
    assert got[("B", "active")] is pd.NA  # pain undefined from a zero baseline
    assert list(table.columns) == [
        "participant_id",
        "condition",
        "responder",
        "pain",
        "fatigue",
        "sleep",
    ]


def test_responders_from_long_frames_with_other_column_names() -> None:
    long = pd.DataFrame(
        {
            "id": ["x", "x", "x", "y", "y", "y"],
            "arm": "drug",
            "what": ["pain", "fatigue", "sleep"] * 2,
            "pct": [30.0, 29.9, 30.0, 29.9, 90.0, 90.0],
        }
    )
    out = responders_from_improvement(
        long,
        "pain >= 30 and (fatigue >= 30 or sleep >= 30)",
        subject="id",
        within="arm",
        item="what",
        improvement="pct",
    )
    assert out["responder"].tolist() == [True, False]
    with pytest.raises(ValueError, match="no column"):
        responders_from_improvement(long, "pain >= 30")


def test_percent_change_signs_and_zero_baseline() -> None:
    got = percent_change([50, 50, 0, 0, NAN], [40, 40, 0, 1, 10], [True, False, False, False, True])
    assert got[:3].tolist() == [20.0, -20.0, 0.0]
    assert np.isnan(got[3])
    assert np.isnan(got[4])


def test_bad_arguments_are_reported() -> None:
    data = tiny_dataset()
    with pytest.raises(ValueError, match="not a diary item"):
        phase_means(data, items=["mood"])
    with pytest.raises(ValueError, match="min_completion"):
        phase_means(data, min_completion=0)
    with pytest.raises(ValueError, match="needs a number of days"):
        phase_means(data, window="last_days")


def test_by_phase_keeps_periods_apart() -> None:
    table = percent_improvement(tiny_dataset(), by="phase", items=["pain"])
    a = table[table["participant_id"] == "A"]
    assert a["period"].tolist() == [1, 2]
    assert a["condition"].tolist() == ["active", "placebo"]
