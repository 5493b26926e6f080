"""Provenance that cannot lie: the dataset's hash covers its files, and edited files are refused.

The case that started it: every diary value lowered by 20 after export was analysed under the
original hash. Now `analyze` and `report` refuse it (exit 2, naming diary.csv) unless given
--allow-modified, and then report a new hash and say in words that the data were modified.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from diarytrial.cli import main
from diarytrial.dataset import DATASET_FILES, dataset_sha256, read_dataset, write_dataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exported") / "trial"
    write_dataset(simulate_trial(load_example("ldn-fibromyalgia"), participants=6, seed=9), folder)
    return folder


def _lower_every_diary_value(folder: Path, by: int) -> None:
    """Lower each value of diary.csv by `by` points (not below the scale's 0)."""
    path = folder / "diary.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    column = header.index("value")
    edited = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[column] = str(max(int(cells[column]) - by, 0))
        edited.append(",".join(cells))
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")


@pytest.fixture
def lowered(exported: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "trial"
    shutil.copytree(exported, folder)
    _lower_every_diary_value(folder, 20)
    return folder


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_edited_data_are_refused_naming_the_file(
    command: str, lowered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [command, str(lowered)]
    args += ["--out", str(tmp_path / "report.html")] if command == "report" else []

    assert main(args) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"{lowered}/diary.csv: the file changed after the dataset was written")
    assert "add --allow-modified" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "report.html").exists()


def test_allow_modified_analyses_them_under_a_new_hash(
    exported: Path, lowered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = dataset_sha256(exported)
    results = tmp_path / "results.json"

    assert main(["analyze", str(lowered), "--allow-modified", "--json", str(results)]) == 0

    provenance = json.loads(results.read_text())["provenance"]
    assert provenance["dataset_sha256"] == dataset_sha256(lowered) != original
    assert provenance["dataset_modified_files"] == ["diary.csv"]
    out = capsys.readouterr().out
    assert "Modified data: diary.csv changed after the dataset was written" in out


def test_the_report_shows_the_new_hash_and_says_the_data_were_modified(
    exported: Path, lowered: Path, tmp_path: Path
) -> None:
    page_path = tmp_path / "report.html"

    assert main(["report", str(lowered), "--allow-modified", "--out", str(page_path)]) == 0

    page = page_path.read_text(encoding="utf-8")
    assert f"<dt>Dataset sha256</dt><dd>{dataset_sha256(lowered)}</dd>" in page
    assert dataset_sha256(exported) not in page
    assert "<strong>The data were modified after export.</strong> diary.csv no longer" in page
    assert "<dt>Data</dt><dd>modified after export: diary.csv</dd>" in page


def test_an_unmodified_dataset_reports_its_hash_and_no_warning(
    exported: Path, tmp_path: Path
) -> None:
    page_path = tmp_path / "report.html"

    assert main(["report", str(exported), "--out", str(page_path)]) == 0

    page = page_path.read_text(encoding="utf-8")
    assert f"<dt>Dataset sha256</dt><dd>{dataset_sha256(exported)}</dd>" in page
    assert "modified after export" not in page


def test_the_dataset_hash_is_sha256sum_of_its_files_in_name_order(exported: Path) -> None:
    listing = "".join(
        f"{hashlib.sha256((exported / name).read_bytes()).hexdigest()}  {name}\n"
        for name in sorted(p.name for p in exported.iterdir())
    )
    assert sorted(p.name for p in exported.iterdir()) == list(DATASET_FILES)
    expected = hashlib.sha256(listing.encode()).hexdigest()
    assert dataset_sha256(exported) == expected
    files = read_dataset(exported).files
    assert files is not None
    assert (files.sha256, files.modified) == (expected, ())
    if shutil.which("sha256sum"):
        names = " ".join(DATASET_FILES)
        shell = subprocess.run(
            f"sha256sum {names} | sha256sum",
            shell=True,
            cwd=exported,
            capture_output=True,
            text=True,
            check=True,
        )
        assert shell.stdout.split()[0] == expected


@pytest.mark.parametrize("name", DATASET_FILES)
def test_one_byte_changed_in_any_file_changes_the_hash(
    name: str, exported: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "trial"
    shutil.copytree(exported, folder)
    path = folder / name
    path.write_bytes(path.read_bytes() + b" ")

    assert dataset_sha256(folder) != dataset_sha256(exported)


def test_files_not_of_the_dataset_do_not_count(exported: Path, tmp_path: Path) -> None:
    folder = tmp_path / "trial"
    shutil.copytree(exported, folder)
    (folder / "results.json").write_text("{}")
    (folder / "report.html").write_text("<p>")

    assert dataset_sha256(folder) == dataset_sha256(exported)
    read_dataset(folder)  # not refused either
