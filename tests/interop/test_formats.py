"""`diarytrial convert DIR --to FORMAT`: every format of `diarytrial.interop.formats`, from the
command line, each checked by its standard's validator (tests/interop/validators.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.interop.validators import check_written

from diarytrial.cli import main
from diarytrial.dataset import TrialDataset, read_dataset, write_dataset
from diarytrial.interop.formats import FORMATS


@pytest.fixture(scope="module")
def folder(dataset: TrialDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    written = tmp_path_factory.mktemp("formats") / "trial"
    write_dataset(dataset, written)
    return written


def test_the_command_offers_the_formats_the_issue_lists() -> None:
    assert set(FORMATS) == {"odm", "dataset-json", "xpt", "sav", "dta", "fhir"}


@pytest.mark.parametrize("key", list(FORMATS))
def test_the_command_writes_each_format_valid(
    key: str, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / key

    code = main(["convert", str(folder), "--to", key, "--out", str(out)])

    printed = capsys.readouterr()
    assert code == 0, printed.err
    listed = [Path(line.strip()) for line in printed.out.splitlines()[1:]]
    assert sorted(listed) == sorted(path for path in out.rglob("*") if path.is_file())
    assert printed.out.startswith(f"{FORMATS[key].name} files of the dataset {folder}:")
    check_written(key, listed, read_dataset(folder), tmp_path / "checks")


def test_an_unknown_format_is_a_usage_error(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["convert", str(folder), "--to", "xls", "--out", str(tmp_path)])

    assert exited.value.code == 2
    assert "invalid choice: 'xls'" in capsys.readouterr().err
