"""`diarytrial demo`: the main job end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from diarytrial.cli import main
from diarytrial.dataset import read_dataset


def test_demo_writes_dataset_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--participants", "12", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Trial dataset:" in out
    assert "pain reduced by" in out
    assert "responders" in out
    assert f"file://{(tmp_path / 'report.html').resolve()}" in out
    assert len(read_dataset(tmp_path / "dataset").participants) == 12
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
