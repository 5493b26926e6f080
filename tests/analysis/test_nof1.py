"""n-of-1 benefit over blocks, and its posterior probability."""

from __future__ import annotations

import math

import pytest
from tests.dataset_builders import make_daily_dataset

from diarytrial.analysis.nof1 import nof1_blocks, nof1_effects
from diarytrial.protocol import Phase

SEQUENCE = ("ldn", "placebo", "placebo", "ldn", "ldn", "placebo")
# pain on drug in blocks 1-3; placebo is 4 throughout, baseline 5 (0-10 scale)
DRUG_PAIN = {1: 2.0, 2: 3.0, 3: 2.5}


def _pain(item: str, phase: Phase, day: int) -> float | None:
    if item != "pain":
        return 5.0
    if phase.condition == "baseline":
        return 5.0
    if phase.condition == "placebo":
        return 4.0
    assert phase.block is not None
    return DRUG_PAIN[phase.block]


def test_benefit_per_block() -> None:
    dataset = make_daily_dataset(sequences=[SEQUENCE], value=_pain)
    blocks = nof1_blocks(dataset)
    # improvement = (5 - x) / 5 * 100: drug 60, 40, 50; placebo 20
    assert blocks["block"].tolist() == [1, 2, 3]
    assert blocks["active"].tolist() == pytest.approx([60.0, 40.0, 50.0])
    assert blocks["placebo"].tolist() == pytest.approx([20.0, 20.0, 20.0])
    assert blocks["benefit"].tolist() == pytest.approx([40.0, 20.0, 30.0])


def test_effect_interval_and_probabilities_match_r() -> None:
    dataset = make_daily_dataset(sequences=[SEQUENCE], value=_pain)
    [row] = nof1_effects(dataset).to_dict("records")
    assert row["blocks"] == 3
    assert row["mean_benefit"] == pytest.approx(30.0)
    assert row["sd"] == pytest.approx(10.0)
    # R: d <- c(40, 20, 30); t.test(d)$conf.int  -> 5.158622882 54.841377118
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((5.158622882, 54.841377118), abs=1e-8)
    # R: 1 - pt((30 - 30) / (10 / sqrt(3)), 2)  -> 0.5
    assert row["p_exceeds_cid"] == pytest.approx(0.5)
    # R: 1 - pt((0 - 30) / (10 / sqrt(3)), 2)  -> 0.9824506407
    assert row["p_benefit"] == pytest.approx(0.9824506407, abs=1e-9)


def test_custom_cid() -> None:
    dataset = make_daily_dataset(sequences=[SEQUENCE], value=_pain)
    [row] = nof1_effects(dataset, cid=10.0).to_dict("records")
    # R: 1 - pt((10 - 30) / (10 / sqrt(3)), 2)  -> 0.9629100499
    assert row["p_exceeds_cid"] == pytest.approx(0.9629100499, abs=1e-9)


def test_a_block_without_enough_days_is_left_out() -> None:
    def sparse(item: str, phase: Phase, day: int) -> float | None:
        if phase.block == 2 and phase.condition == "active" and day > 3:
            return None  # 3 of the 7 analysed days: below the protocol's 60%
        return _pain(item, phase, day)

    dataset = make_daily_dataset(sequences=[SEQUENCE], value=sparse)
    assert math.isnan(nof1_blocks(dataset)["benefit"].iloc[1])
    [row] = nof1_effects(dataset).to_dict("records")
    assert row["blocks"] == 2
    assert row["mean_benefit"] == pytest.approx(35.0)


def test_bad_confidence() -> None:
    dataset = make_daily_dataset(sequences=[SEQUENCE], value=_pain)
    with pytest.raises(ValueError, match="confidence"):
        nof1_effects(dataset, confidence=95)
