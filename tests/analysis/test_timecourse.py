"""Weekly time course and onset."""

from __future__ import annotations

import numpy as np
import pytest
from tests.dataset_builders import make_daily_dataset

from diarytrial.analysis.timecourse import onset_week, weekly_course
from diarytrial.protocol import Phase


def _falling_pain(item: str, phase: Phase, day: int) -> float | None:
    # baseline 50; on drug pain falls by 5 points a week; on placebo it stays at 45
    if phase.condition == "baseline":
        return 50.0
    if phase.condition == "active":
        return 50.0 - 5.0 * ((day - 1) // 7 + 1)
    return 45.0


def test_weekly_improvement_by_condition() -> None:
    dataset = make_daily_dataset(
        protocol_name="ldn-fibromyalgia",
        sequences=[("ldn", "placebo"), ("placebo", "ldn")],
        value=_falling_pain,
    )
    course = weekly_course(dataset, item="pain")
    active = course.weekly[course.weekly["condition"] == "active"]
    assert active["week"].tolist() == list(range(1, 13))
    assert active["n"].tolist() == [2] * 12
    # week w: pain 50 - 5w, improvement 10w %
    assert active["mean_improvement"].tolist() == pytest.approx([10.0 * w for w in range(1, 13)])
    placebo = course.weekly[course.weekly["condition"] == "placebo"]
    assert placebo["mean_improvement"].tolist() == pytest.approx([10.0] * 4)
    assert course.onset_week == {"active": 3, "placebo": None}


def test_higher_is_better_items_are_signed_positive() -> None:
    def sleep(item: str, phase: Phase, day: int) -> float | None:
        return 40.0 if phase.condition == "baseline" else 60.0

    dataset = make_daily_dataset(protocol_name="ldn-fibromyalgia", value=sleep)
    course = weekly_course(dataset, item="sleep")
    assert course.weekly["mean_improvement"].tolist() == pytest.approx([50.0] * 16)


def test_onset_rule() -> None:
    assert onset_week(np.array([31.0, 40.0]), 30.0) == 1
    assert onset_week(np.array([31.0, 29.0, 35.0]), 30.0) == 3
    assert onset_week(np.array([31.0, 35.0, 29.0]), 30.0) is None
    assert onset_week(np.array([np.nan, 35.0]), 30.0) == 2
    assert onset_week(np.array([]), 30.0) is None


def test_unknown_item() -> None:
    dataset = make_daily_dataset()
    with pytest.raises(ValueError, match="'stiffness' is not a diary item"):
        weekly_course(dataset, item="stiffness")
