"""The analysis-ready tables as SAS transport, SPSS and Stata files: read back by pyreadstat
and by R's haven, every value, label and value label as written."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
import pytest

from diarytrial.cli import main
from diarytrial.dataset import TrialDataset, write_dataset
from diarytrial.interop.statfiles import (
    LIMITS,
    STAT_FORMATS,
    XPT_TABLE_NAMES,
    LabelledTable,
    StatFormat,
    analysis_tables,
    short_names,
    write_stat_files,
    written_labels,
    written_names,
)

READ_BACK = Path(__file__).with_name("read_back.R")
READERS = {"xpt": pyreadstat.read_xport, "sav": pyreadstat.read_sav, "dta": pyreadstat.read_dta}


@pytest.fixture(scope="module")
def written(dataset: TrialDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stat")
    for fmt in STAT_FORMATS:
        write_stat_files(dataset, folder / fmt, fmt)
    return folder


def _plain(value: Any) -> Any:
    """A value as text, number or None, the way both readers can be compared."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None if value == "" else str(value)


def _expected(table: LabelledTable, fmt: StatFormat) -> dict[str, list[Any]]:
    """What a reader should find in each column (named as written) of `table` as `fmt`."""
    labelled = LIMITS[fmt].value_labels
    names = written_names(table, fmt)
    found = {}
    for name in table.frame.columns:
        values = list(table.frame[name])
        if labelled and name in table.codes:
            code = {value: k for k, value in enumerate(table.codes[name], start=1)}
            values = [None if v is None else code[v] for v in values]
        found[names[name]] = [_plain(v) for v in values]
    return found


def test_every_table_and_the_wide_diary_are_written(written: Path) -> None:
    for fmt in STAT_FORMATS:
        assert sorted(path.name for path in (written / fmt).iterdir()) == sorted(
            f"{name}.{fmt}" for name in XPT_TABLE_NAMES
        )


@pytest.mark.parametrize("fmt", STAT_FORMATS)
def test_pyreadstat_reads_back_every_value_and_label(
    fmt: StatFormat, dataset: TrialDataset, written: Path
) -> None:
    for table in analysis_tables(dataset):
        frame, meta = READERS[fmt](str(written / fmt / f"{table.name}.{fmt}"))
        expected = _expected(table, fmt)
        assert list(frame.columns) == list(expected)
        for name, values in expected.items():
            assert [_plain(v) for v in frame[name]] == values, f"{table.name}.{name}"
        assert meta.column_labels == list(written_labels(table, fmt).values())
        if fmt == "xpt":  # no value labels: the values themselves
            assert meta.table_name == XPT_TABLE_NAMES[table.name]
            assert meta.variable_value_labels == {}
            continue
        for name, values in table.codes.items():
            assert meta.variable_value_labels[name] == {
                float(k): value for k, value in enumerate(values, start=1)
            }
        for name in table.booleans:
            assert meta.variable_value_labels[name] == {0.0: "false", 1.0: "true"}


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed (make r)")
def test_r_reads_them_back_with_haven(dataset: TrialDataset, written: Path) -> None:
    tables = analysis_tables(dataset)
    files = [str(written / fmt / f"{t.name}.{fmt}") for fmt in STAT_FORMATS for t in tables]
    result = subprocess.run(
        ["Rscript", str(READ_BACK), *files], capture_output=True, text=True, check=False
    )
    if "there is no package called" in result.stderr:
        pytest.fail(f"R lacks a package this test needs (make r installs it): {result.stderr}")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    for fmt in STAT_FORMATS:
        for table in tables:
            columns = seen[f"{table.name}.{fmt}"]
            expected = _expected(table, fmt)
            assert list(columns) == list(expected)
            for name, values in expected.items():
                assert [_plain(v) for v in columns[name]["values"]] == values, (fmt, name)
            labels = written_labels(table, fmt)
            for original, name in written_names(table, fmt).items():
                assert columns[name]["label"] == labels[original], (fmt, table.name, name)
            if fmt != "xpt":
                for name, values in table.codes.items():
                    assert columns[name]["labels"] == {
                        str(k): value for k, value in enumerate(values, start=1)
                    }, (fmt, table.name, name)


def test_the_wide_diary_has_a_column_per_item_with_its_scale(dataset: TrialDataset) -> None:
    nights = next(t for t in analysis_tables(dataset) if t.name == "nights")
    items = dataset.protocol.protocol.diary.items
    assert list(nights.frame.columns) == ["participant_id", "diary_date", *(i.id for i in items)]
    pain = dataset.diary[dataset.diary["item"] == "pain"].iloc[0]
    row = nights.frame[
        (nights.frame["participant_id"] == pain["participant_id"])
        & (nights.frame["diary_date"] == pain["diary_date"].date())
    ]
    assert row["pain"].tolist() == [pain["value"]]
    assert nights.column_labels["pain"].startswith("Pain (0 ")
    assert (
        len(nights.frame)
        == dataset.diary[["participant_id", "diary_date"]].drop_duplicates().shape[0]
    )


def test_a_dataset_without_diary_entries_converts(dataset: TrialDataset, tmp_path: Path) -> None:
    empty = TrialDataset(
        protocol=dataset.protocol,
        participants=dataset.participants,
        periods=dataset.periods,
        diary=dataset.diary.iloc[0:0],
    )
    for fmt in STAT_FORMATS:
        write_stat_files(empty, tmp_path / fmt, fmt)
        frame, _meta = READERS[fmt](str(tmp_path / fmt / f"nights.{fmt}"))
        assert len(frame) == 0


def test_names_are_cut_to_the_format_and_stay_distinct() -> None:
    names = short_names(["side_effect", "side_effects", "sideeffect_x", "2nd"], 8, upper=True)
    assert names == {
        "side_effect": "SIDE_EFF",
        "side_effects": "SIDE_EF2",
        "sideeffect_x": "SIDEEFFE",
        "2nd": "V2ND",
    }
    assert len(set(names.values())) == 4


def test_the_command_writes_the_files(
    dataset: TrialDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "trial"
    write_dataset(dataset, folder)
    assert main(["convert", str(folder), "--to", "dta", "--out", str(tmp_path / "stata")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Stata (version 15) files of the dataset {folder}:")
    assert (tmp_path / "stata" / "nights.dta").is_file()


def test_the_command_refuses_a_file_as_the_folder(
    dataset: TrialDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "trial"
    write_dataset(dataset, folder)
    taken = tmp_path / "taken.sav"
    taken.write_text("x", encoding="utf-8")
    assert main(["convert", str(folder), "--to", "sav", "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert err == f"{taken}: exists and is not a folder; name a folder to write to\n"
    assert taken.read_text(encoding="utf-8") == "x"
