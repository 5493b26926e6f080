"""Writing and reading the trial dataset folder."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from tests.dataset_builders import make_dataset

from diarytrial.dataset import (
    TABLES,
    DatasetError,
    dataset_sha256,
    read_dataset,
    write_dataset,
)


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    original = make_dataset(participants=3)
    write_dataset(original, tmp_path)
    back = read_dataset(tmp_path)
    for table in TABLES:
        left = original.table(table.name).reset_index(drop=True)
        right = back.table(table.name).reset_index(drop=True)
        assert list(right.columns) == list(table.column_names)
        assert len(left) == len(right), table.name
        for column in table.columns:
            a, b = left[column.name], right[column.name]
            if column.type in {"date", "datetime"}:
                a, b = pd.to_datetime(a), pd.to_datetime(b)
            pd.testing.assert_series_equal(
                a.astype(object).where(a.notna(), None),
                b.astype(object).where(b.notna(), None),
                check_names=False,
            )
    assert back.protocol.text == original.protocol.text
    assert back.provenance == {"generator": "tests"}


def test_writing_twice_gives_identical_bytes(tmp_path: Path) -> None:
    dataset = make_dataset()
    write_dataset(dataset, tmp_path / "a")
    write_dataset(dataset, tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    assert dataset_sha256(tmp_path / "a") == dataset_sha256(tmp_path / "b")


def test_text_forms_are_plain(tmp_path: Path) -> None:
    write_dataset(make_dataset(participants=1), tmp_path)
    lines = (tmp_path / "diary.csv").read_text().splitlines()
    assert lines[0] == "participant_id,diary_date,item,value,submitted_at,late"
    assert lines[1] == "P-000X,2026-01-05,pain,0,2026-01-06T05:00:00Z,FALSE"
    participants = (tmp_path / "participants.csv").read_text().splitlines()
    assert participants[1].endswith(",2026-01-05,America/Los_Angeles,active,,,40,FALSE")


def test_descriptor_describes_every_column(tmp_path: Path) -> None:
    write_dataset(make_dataset(), tmp_path)
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    assert descriptor["profile"] == "tabular-data-package"
    by_name = {r["name"]: r for r in descriptor["resources"]}
    assert set(by_name) == {t.name for t in TABLES} | {"protocol"}
    for table in TABLES:
        fields = by_name[table.name]["schema"]["fields"]
        assert [f["name"] for f in fields] == list(table.column_names)
        assert all(f["description"] for f in fields)
        content = (tmp_path / table.filename).read_bytes()
        assert by_name[table.name]["bytes"] == len(content)


def test_pandas_reads_the_csv_unchanged(tmp_path: Path) -> None:
    write_dataset(make_dataset(), tmp_path)
    diary = pd.read_csv(tmp_path / "diary.csv", parse_dates=["diary_date"])
    assert diary["late"].dtype == bool
    assert diary["value"].tolist()[:3] == [0, 10, 20]
    assert str(diary["diary_date"].iloc[0].date()) == "2026-01-05"


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_r_reads_the_csv_unchanged(tmp_path: Path) -> None:
    write_dataset(make_dataset(), tmp_path)
    script = (
        f'd <- read.csv("{tmp_path}/diary.csv"); '
        "cat(class(d$late), class(d$value), d$value[1:3], as.character(as.Date(d$diary_date[1])),"
        ' nrow(d), sep="|")'
    )
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    assert out.stdout == "logical|integer|0|10|20|2026-01-05|36"


def test_missing_folder_file_and_column_are_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such folder"):
        read_dataset(tmp_path / "nowhere")
    write_dataset(make_dataset(), tmp_path)
    (tmp_path / "periods.csv").unlink()
    diary = (tmp_path / "diary.csv").read_text().replace(",late\n", "\n", 1)
    (tmp_path / "diary.csv").write_text(diary)
    with pytest.raises(DatasetError) as raised:
        read_dataset(tmp_path, allow_modified=True)
    text = str(raised.value)
    assert "periods.csv: missing file" in text
    assert "diary.csv:1: late: missing column" in text


def test_cells_that_do_not_parse_name_their_line(tmp_path: Path) -> None:
    write_dataset(make_dataset(), tmp_path)
    path = tmp_path / "diary.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace("2026-01-05", "05/01/2026", 1)
    lines[4] = lines[4].replace(",FALSE", ",maybe")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as raised:
        read_dataset(tmp_path, allow_modified=True)
    messages = [i.describe() for i in raised.value.issues]
    assert (
        "diary.csv:4: diary_date: '05/01/2026' is not a valid date "
        "(write YYYY-MM-DD, a year from 1900 to 2199)" in messages
    )
    assert any(m.startswith("diary.csv:5: late: 'maybe' is not a valid boolean") for m in messages)


def test_a_foreign_format_version_is_refused(tmp_path: Path) -> None:
    write_dataset(make_dataset(), tmp_path)
    path = tmp_path / "datapackage.json"
    descriptor = json.loads(path.read_text())
    descriptor["diarytrial"]["format_version"] = 99
    path.write_text(json.dumps(descriptor))
    with pytest.raises(DatasetError, match="format version 99 is not supported"):
        read_dataset(tmp_path)
