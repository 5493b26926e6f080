"""`diarytrial report DIR --out FILE [--pdf]`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from diarytrial import cli
from diarytrial.dataset import dataset_sha256, write_dataset
from diarytrial.protocol import load_example
from diarytrial.report import pdf
from diarytrial.simulate import simulate_trial


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial")
    trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=8, seed=11)
    write_dataset(trial, folder)
    return folder


def test_writes_the_report_and_the_same_bytes_twice(
    dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a" / "report.html", tmp_path / "b" / "report.html"
    assert cli.main(["report", str(dataset_dir), "--out", str(first)]) == 0
    assert cli.main(["report", str(dataset_dir), "--out", str(second)]) == 0
    assert "wrote the report to" in capsys.readouterr().out
    assert first.read_bytes() == second.read_bytes()
    page = first.read_text(encoding="utf-8")
    assert dataset_sha256(dataset_dir) in page
    assert "<dt>Seed</dt><dd>11</dd>" in page
    assert not (tmp_path / "a" / "report.pdf").exists()


def test_a_bad_dataset_exits_2_with_its_problems(
    dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for source in dataset_dir.iterdir():
        (broken / source.name).write_bytes(source.read_bytes())
    (broken / "participants.csv").unlink()
    code = cli.main(["report", str(broken), "--out", str(tmp_path / "r.html"), "--allow-modified"])
    assert code == 2
    err = capsys.readouterr().err
    assert err == f"{broken}/participants.csv: missing file\n"
    assert "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.html")])
    assert code == 2
    assert "no such folder" in capsys.readouterr().err


def test_pdf_without_chromium_says_so_and_exits_2(
    dataset_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf, "CHROMIUM", str(tmp_path / "no-chromium"))
    code = cli.main(["report", str(dataset_dir), "--out", str(tmp_path / "r.html"), "--pdf"])
    assert code == 2
    err = capsys.readouterr().err
    assert "Chromium is not installed" in err
    assert (tmp_path / "r.html").exists()  # the HTML is still written


@pytest.mark.skipif(not Path(pdf.CHROMIUM).is_file(), reason=f"no Chromium at {pdf.CHROMIUM}")
def test_pdf_is_printed_beside_the_html(dataset_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert cli.main(["report", str(dataset_dir), "--out", str(out), "--pdf"]) == 0
    printed = tmp_path / "report.pdf"
    assert printed.read_bytes().startswith(b"%PDF")
    assert printed.stat().st_size > 20_000


def test_same_bytes_in_a_fresh_interpreter_with_another_hash_seed(
    dataset_dir: Path, tmp_path: Path
) -> None:
    # Set and dict iteration of strings depends on PYTHONHASHSEED: a report that leaned on it
    # would differ between two runs of the command, so run it in another interpreter.
    here = tmp_path / "here.html"
    assert cli.main(["report", str(dataset_dir), "--out", str(here)]) == 0
    there = tmp_path / "there.html"
    finished = subprocess.run(
        [sys.executable, "-m", "diarytrial.cli", "report", str(dataset_dir), "--out", str(there)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "4242"},
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert here.read_bytes() == there.read_bytes()
