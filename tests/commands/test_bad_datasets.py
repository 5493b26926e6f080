"""`diarytrial analyze`, `report` and `convert` given bad dataset files: exit 2, one plain line.

Every case of tests/commands/bad_inputs.py runs through each command, most with
--allow-modified so that the damage itself is what gets reported (without it, any edited file
is refused first as changed after export; tests/commands/test_provenance.py covers that).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.commands.bad_inputs import DATASET_CASES, ONE_PARTICIPANT, DatasetCase

from diarytrial.cli import main
from diarytrial.dataset import write_dataset
from diarytrial.dataset.validate import MAX_ROWS_PER_CHECK
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial

COMMANDS = ("analyze", "report", "convert")
EMPTY_DIARY = "a table with its header only"


@pytest.fixture(scope="module")
def valid_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("valid") / "trial"
    write_dataset(simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=5), folder)
    return folder


def _run(command: str, folder: Path, out: Path, *, allow_modified: bool = True) -> list[str]:
    args = [command, str(folder)] + (["--allow-modified"] if allow_modified else [])
    args += ["--out", str(out / "report.html")] if command == "report" else []
    args += ["--to", "sav", "--out", str(out / "converted")] if command == "convert" else []
    return args


@pytest.mark.parametrize(
    ("case", "command"),
    [
        pytest.param(case, command, id=f"{case.id}-{command}")
        for case in DATASET_CASES
        for command in COMMANDS
        # A dataset without diary entries converts (tests/interop): no error for convert.
        if not (command == "convert" and case.id == EMPTY_DIARY)
    ],
)
def test_a_bad_dataset_exits_2_with_a_plain_line(
    case: DatasetCase,
    command: str,
    valid_dataset: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "trial"
    shutil.copytree(valid_dataset, folder)
    case.damage(folder)
    assert main(_run(command, folder, tmp_path, allow_modified=case.allow_modified)) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err
    assert "Traceback" not in captured.out
    assert case.expect in err, err
    named = f"{folder}/{case.file}" if case.file else f"{folder}:"
    if case.one_line:
        assert err.count("\n") == 1, err
        assert err.startswith(named), err
    else:
        assert err.startswith(f"{folder}: the trial dataset has problems"), err
        assert f"  {case.file}" in err, err
    assert not (tmp_path / "report.html").exists()
    assert not (tmp_path / "converted").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_one_participant_only_is_analysed(
    command: str, valid_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "trial"
    shutil.copytree(valid_dataset, folder)
    ONE_PARTICIPANT(folder)
    assert main(_run(command, folder, tmp_path)) == 0, capsys.readouterr().err
    assert "Modified data" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["diary.csv", "datapackage.json", "protocol.toml"])
def test_a_file_it_may_not_read_exits_2_saying_so(
    name: str,
    valid_dataset: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The tests run as root, whom file modes do not stop: refuse the opening itself.
    folder = tmp_path / "trial"
    shutil.copytree(valid_dataset, folder)
    real_open = Path.open

    def refusing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)

    assert main(["analyze", str(folder)]) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"{folder}/{name}: cannot read it (Permission denied); give the user")
    assert err.count("\n") == 1


def test_a_very_large_file_is_refused_with_a_bounded_list(
    valid_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "trial"
    shutil.copytree(valid_dataset, folder)
    diary = folder / "diary.csv"
    lines = diary.read_bytes().splitlines(keepends=True)
    diary.write_bytes(b"".join(lines) + lines[1] * 1_000_000)  # about 50 MB
    assert diary.stat().st_size > 50_000_000

    assert main(["analyze", str(folder), "--allow-modified"]) == 2

    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{folder}: the trial dataset has problems; fix each of these:"
    assert len(err) == 1 + MAX_ROWS_PER_CHECK + 1
    assert err[-1] == (
        "  diary.csv: duplicate row: another row has the same participant_id, diary_date, item "
        f"(and {1_000_000 - MAX_ROWS_PER_CHECK} more rows)"
    )
