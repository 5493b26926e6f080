"""`diarytrial analyze DIR --json FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from diarytrial.cli import main
from diarytrial.dataset import dataset_sha256, write_dataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial


def test_analyze_prints_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "trial"
    write_dataset(simulate_trial(load_example("ldn-fibromyalgia"), participants=10, seed=4), folder)
    out = tmp_path / "results.json"
    assert main(["analyze", str(folder), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Responders: at least 30% better pain" in printed
    assert "Exact McNemar p" in printed
    document = json.loads(out.read_text())
    assert document["provenance"]["dataset_sha256"] == dataset_sha256(folder)
    assert document["provenance"]["seed"] == 4


def test_a_bad_dataset_exits_2_with_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "trial"
    write_dataset(simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=4), folder)
    diary = folder / "diary.csv"
    lines = diary.read_text().splitlines()
    fields = lines[1].split(",")
    fields[3] = "140"
    lines[1] = ",".join(fields)
    diary.write_text("\n".join(lines) + "\n")
    assert main(["analyze", str(folder), "--allow-modified"]) == 2
    err = capsys.readouterr().err
    assert f"{folder}/diary.csv:2: value: value outside the item's scale" in err
    assert "Traceback" not in err


def test_a_blinded_dataset_is_refused_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=4)
    folder = tmp_path / "trial"
    # A blinded export says by visit, never by period, when an answer was given.
    blinded = dataclasses.replace(
        trial,
        provenance={"blinded": True},
        pgic=trial.pgic.assign(period=pd.NA),
        blinding=trial.blinding.assign(period=pd.NA),
    )
    write_dataset(blinded, folder)
    assert main(["analyze", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "blinded export" in err
    assert "Traceback" not in err
