"""Simulation-based power."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from diarytrial.cli import main
from diarytrial.protocol import load_example
from diarytrial.simulate.power import power_analysis

LDN = load_example("ldn-fibromyalgia")


def test_power_table_and_its_reproducibility() -> None:
    first = power_analysis(LDN, participants=[4, 24], trials=30, seed=5)
    again = power_analysis(LDN, participants=[4, 24], trials=30, seed=5)
    pd.testing.assert_frame_equal(first, again)
    assert first["participants"].tolist() == [4, 24]
    assert (first["fitted"] <= 30).all()
    assert first["power_mixed"].between(0, 1).all()
    # more participants, more power (the drug works in the calibrated simulator)
    assert first["power_mixed"].iloc[1] > first["power_mixed"].iloc[0]
    assert first["mean_estimate"].iloc[1] < 0  # pain falls on the drug


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"participants": [1], "trials": 3}, "at least 2 participants"),
        ({"participants": [10], "trials": 0}, "trials must be at least 1"),
        ({"participants": [10], "trials": 3, "alpha": 5}, "alpha is a probability"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        power_analysis(LDN, seed=1, **kwargs)  # type: ignore[arg-type]


def test_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    protocol = Path(__file__).resolve().parents[2] / "examples" / "ldn-fibromyalgia.toml"
    csv = tmp_path / "power.csv"
    args = ["power", "--protocol", str(protocol), "--participants", "6,12", "--trials", "10"]
    assert main([*args, "--seed", "2", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "Pain: mixed model" in out
    assert pd.read_csv(csv)["participants"].tolist() == [6, 12]
    assert main(["power", "--protocol", str(protocol), "--participants", "ten", "--seed", "2"]) == 2
    assert "whole numbers separated by commas" in capsys.readouterr().err


def test_diary_only_simulation_gives_the_same_diary() -> None:
    from diarytrial.simulate import simulate_trial

    full = simulate_trial(LDN, participants=12, seed=9)
    diary_only = simulate_trial(LDN, participants=12, seed=9, events=False)
    pd.testing.assert_frame_equal(full.diary, diary_only.diary)
    assert len(diary_only.pgic) == len(diary_only.doses) == len(diary_only.side_effects) == 0


def test_keeping_some_items_keeps_their_answers() -> None:
    from diarytrial.simulate import simulate_trial

    full = simulate_trial(LDN, participants=6, seed=4)
    pain_only = simulate_trial(LDN, participants=6, seed=4, items=["pain"])
    expected = full.diary[full.diary["item"] == "pain"].reset_index(drop=True)
    pd.testing.assert_frame_equal(pain_only.diary, expected)
    with pytest.raises(ValueError, match="stiffness: not a diary item"):
        simulate_trial(LDN, participants=2, seed=4, items=["stiffness"])
