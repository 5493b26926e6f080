"""REDCap exports as a trial dataset: the four example exports (repeating instruments and
longitudinal events, raw and labels) give one dataset, the very trial they were made from,
which `analyze` reads; every kind of bad input exits 2 naming the file, line, record, field."""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from diarytrial.analysis.results import analyze_trial
from diarytrial.cli import main
from diarytrial.commands.problems import read_files
from diarytrial.dataset import read_dataset, write_dataset
from diarytrial.dataset.tables import TABLES
from diarytrial.interop.redcap import RedcapError, RedcapMapping, load_mapping
from diarytrial.protocol import load_protocol
from diarytrial.simulate import simulate_trial

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "redcap"
PROTOCOL = ROOT / "examples" / "ldn-fibromyalgia.toml"
SCRIPT = EXAMPLES / "make_redcap_files.py"
MADE = (
    "dictionary.csv",
    *(f"{d}-{e}.csv" for d in ("repeating", "longitudinal") for e in ("raw", "labels")),
)
MAPPINGS = {"repeating": "mapping.toml", "longitudinal": "mapping-longitudinal.toml"}
EXPORTS = [(design, export) for design in MAPPINGS for export in ("raw", "labels")]

# The script's trial: `simulate_trial(PROTOCOL, participants=12, seed=3)`.
SEED, PARTICIPANTS = 3, 12


def _import(
    out: Path,
    *,
    records: Path,
    mapping: Path,
    dictionary: Path = EXAMPLES / "dictionary.csv",
) -> int:
    return main(
        [
            "import",
            "redcap",
            "--dictionary",
            str(dictionary),
            "--records",
            str(records),
            "--mapping",
            str(mapping),
            "--protocol",
            str(PROTOCOL),
            "--out",
            str(out),
        ]
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each example export imported with the command."""
    folders = {}
    for design, export in EXPORTS:
        out = tmp_path_factory.mktemp(f"{design}-{export}")
        code = _import(
            out, records=EXAMPLES / f"{design}-{export}.csv", mapping=EXAMPLES / MAPPINGS[design]
        )
        assert code == 0
        folders[(design, export)] = out
    return folders


def test_both_designs_and_both_exports_give_the_same_dataset(
    imported: dict[tuple[str, str], Path],
) -> None:
    hashes = {key: read_files(read_dataset(folder)).sha256 for key, folder in imported.items()}
    assert len(set(hashes.values())) == 1, hashes


def test_the_command_says_what_it_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = EXAMPLES / "longitudinal-labels.csv"
    code = _import(tmp_path, records=records, mapping=EXAMPLES / "mapping-longitudinal.toml")
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"REDCap labels export (longitudinal with repeating instruments) of {records}: "
        "12 participants, 1424 diary nights, 13 adverse events.\n"
        f"Trial dataset: {tmp_path} (sha256 "
    )


def test_the_import_is_the_trial_the_exports_were_made_from(
    imported: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    simulated = simulate_trial(load_protocol(PROTOCOL), participants=PARTICIPANTS, seed=SEED)
    write_dataset(simulated, tmp_path)
    folder = imported[("longitudinal", "labels")]
    for table in TABLES:
        assert (folder / table.filename).read_bytes() == (tmp_path / table.filename).read_bytes()
    assert (folder / "protocol.toml").read_bytes() == PROTOCOL.read_bytes()
    assert read_dataset(folder).provenance == {"generator": "diarytrial import redcap"}


def test_the_import_analyses_to_the_examples_headline_figures(
    imported: dict[tuple[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = imported[("repeating", "raw")]
    results = analyze_trial(read_dataset(folder))
    pain = results.improvement_summary.set_index(["item", "condition"]).loc["pain"]
    assert pain.loc["active", "mean"] == pytest.approx(29.2419, abs=1e-4)
    assert pain.loc["placebo", "mean"] == pytest.approx(20.4966, abs=1e-4)
    responders = results.responder_summary.set_index("condition")
    counts = {c: (int(r["responders"]), int(r["n"])) for c, r in responders.iterrows()}
    assert counts == {"active": (3, 11), "placebo": (1, 12)}
    assert results.responder_test is not None
    assert results.responder_test.p == pytest.approx(0.5)
    contrast = results.primary["pain"]
    assert contrast.estimate == pytest.approx(-7.0240, abs=1e-3)
    assert contrast.p < 1e-6
    improved = {
        r["condition"]: (r["improved"], r["n"]) for r in results.pgic_improved.to_dict("records")
    }
    assert improved == {"active": (3, 11), "placebo": (2, 12)}
    capsys.readouterr()
    assert main(["analyze", str(folder)]) == 0
    assert "12 randomized, 11 analysed" in capsys.readouterr().out


def test_the_report_reads_the_import(imported: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    assert main(["report", str(imported[("longitudinal", "raw")]), "--out", str(html)]) == 0
    assert "naltrexone" in html.read_text(encoding="utf-8")


def test_the_example_files_are_what_the_script_makes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True)
    for name in MADE:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    records.write_bytes(codecs.BOM_UTF8 + (EXAMPLES / "repeating-raw.csv").read_bytes())
    assert (EXAMPLES / "repeating-labels.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml") == 0


def test_records_without_a_diary_night_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project whose diary is still empty gives a dataset without diary rows."""

    def drop_the_diaries(rows: list[list[str]]) -> None:
        date = rows[0].index("diary_date")
        rows[1:] = [row for row in rows[1:] if not row[date]]

    records = _edited(tmp_path, "repeating-raw.csv", drop_the_diaries)
    code = _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "12 participants, 0 diary nights, 13 adverse events." in captured.out
    dataset = read_dataset(tmp_path / "out")
    assert dataset.diary.empty
    assert dataset.side_effects.empty
    assert len(dataset.participants) == PARTICIPANTS


# --- bad input: exit 2, the names in the message, never a traceback ---------------------------


def _edited(
    tmp_path: Path, source: str, edit: Callable[[list[list[str]]], None], *, bom: bool = False
) -> Path:
    """A copy of an example export with `edit` applied to its rows (the header is row 0)."""
    text = (EXAMPLES / source).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    edit(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = tmp_path / source
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + out.getvalue().encode("utf-8"))
    return path


def _refused(capsys: pytest.CaptureFixture[str], code: int, *names: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for name in names:
        assert name in err, (name, err)
    return err


def _set(rows: list[list[str]], row: int, column: str, value: str) -> None:
    rows[row][rows[0].index(column)] = value


def test_a_mapped_field_missing_from_the_dictionary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.toml"
    text = (EXAMPLES / "mapping.toml").read_text(encoding="utf-8")
    mapping.write_text(text.replace('pain = "pain"', 'pain = "pain_score"'), encoding="utf-8")
    code = _import(tmp_path / "out", records=EXAMPLES / "repeating-raw.csv", mapping=mapping)
    _refused(capsys, code, str(mapping), "diary.items.pain.field", "'pain_score'", "dictionary")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("source", "column", "value"),
    [
        ("repeating-raw.csv", "rand_group", "7"),
        ("repeating-labels.csv", "Randomization group", "Group C"),
    ],
)
def test_a_value_outside_its_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, column: str, value: str
) -> None:
    records = _edited(tmp_path, source, lambda rows: _set(rows, 1, column, value))
    code = _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml")
    _refused(capsys, code, f"{records}:2: record P-5TVT: rand_group: '{value}'", "choices")


def test_a_date_that_does_not_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _edited(
        tmp_path, "repeating-raw.csv", lambda rows: _set(rows, 3, "diary_date", "2026-02-30")
    )
    code = _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml")
    _refused(capsys, code, f"{records}:4: record P-5TVT: diary_date: '2026-02-30' is not a date")


def test_one_record_on_two_arms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _edited(
        tmp_path,
        "longitudinal-raw.csv",
        lambda rows: _set(rows, 5, "redcap_event_name", "night_4_arm_1"),
    )
    code = _import(
        tmp_path / "out", records=records, mapping=EXAMPLES / "mapping-longitudinal.toml"
    )
    _refused(capsys, code, f"{records}:6: record P-5TVT: redcap_event_name:", "arm 1", "arm 2")


def test_a_diary_date_outside_the_schedule_is_traced_to_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _edited(
        tmp_path, "repeating-raw.csv", lambda rows: _set(rows, 3, "diary_date", "2025-01-01")
    )
    code = _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml")
    _refused(capsys, code, f"{records}:4: record P-5TVT: diary_date:", "outside")


@pytest.mark.parametrize("which", ["dictionary", "records"])
def test_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(codecs.BOM_UTF8 + b"\n")
    files = {"records": EXAMPLES / "repeating-raw.csv", "dictionary": EXAMPLES / "dictionary.csv"}
    files[which] = empty
    code = _import(
        tmp_path / "out",
        records=files["records"],
        dictionary=files["dictionary"],
        mapping=EXAMPLES / "mapping.toml",
    )
    _refused(capsys, code, f"{empty}: the file is empty")


def test_records_with_only_a_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _edited(tmp_path, "repeating-raw.csv", lambda rows: rows.__delitem__(slice(1, None)))
    code = _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml")
    _refused(capsys, code, f"{records}: the export holds no records")


def test_a_file_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edited = _edited(
        tmp_path, "repeating-raw.csv", lambda rows: _set(rows, 1, "withdrawal_reason", "Départ")
    )
    records = tmp_path / "records.csv"
    records.write_bytes(edited.read_text(encoding="utf-8").encode("cp1252"))
    code = _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml")
    _refused(capsys, code, f"{records}: the records export is not UTF-8 text (line 2)", "1252")


@pytest.mark.parametrize(
    ("source", "old", "new"),
    [
        ("repeating-raw.csv", "pain", "pain_nrs"),
        ("repeating-labels.csv", "Diary date (tonight)", "Night of"),
    ],
)
def test_records_whose_headers_are_not_the_dictionarys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, old: str, new: str
) -> None:
    def rename(rows: list[list[str]]) -> None:
        rows[0][rows[0].index(old)] = new

    records = _edited(tmp_path, source, rename)
    code = _import(tmp_path / "out", records=records, mapping=EXAMPLES / "mapping.toml")
    _refused(capsys, code, f"{records}:1:", f"'{new}'", "dictionary")


def test_a_malformed_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "mapping.toml"
    text = (EXAMPLES / "mapping.toml").read_text(encoding="utf-8")
    mapping.write_text(text.replace('date = "diary_date"', 'date = "diary_date'), encoding="utf-8")
    line = text.splitlines().index('date = "diary_date"') + 1
    code = _import(tmp_path / "out", records=EXAMPLES / "repeating-raw.csv", mapping=mapping)
    _refused(capsys, code, f"{mapping}:{line}: not valid TOML")


def test_a_mapping_that_does_not_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.toml"
    text = (EXAMPLES / "mapping.toml").read_text(encoding="utf-8")
    mapping.write_text(
        text.replace('group = "rand_group"', 'group = "rand_group"\nby_arm = true').replace(
            'start_date = "baseline_start"', 'first_day = "baseline_start"'
        ),
        encoding="utf-8",
    )
    code = _import(tmp_path / "out", records=EXAMPLES / "repeating-raw.csv", mapping=mapping)
    _refused(
        capsys,
        code,
        "participants.start_date: this key is required",
        "participants.first_day: unknown key",
        "randomization: give either group",
    )


def test_a_mapping_that_contradicts_the_protocol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.toml"
    text = (EXAMPLES / "mapping.toml").read_text(encoding="utf-8")
    mapping.write_text(
        text.replace('"2" = "placebo-ldn"', '"2" = "placebo-placebo"').replace(
            'id = "nausea"', 'id = "dizziness"'
        ),
        encoding="utf-8",
    )
    code = _import(tmp_path / "out", records=EXAMPLES / "repeating-raw.csv", mapping=mapping)
    _refused(capsys, code, "randomization.sequences: 'placebo-placebo'", "'dizziness'")


def test_the_example_mappings_validate() -> None:
    for name in MAPPINGS.values():
        assert isinstance(load_mapping(EXAMPLES / name), RedcapMapping)
    with pytest.raises(RedcapError, match="no such file"):
        load_mapping(EXAMPLES / "absent.toml")


def test_the_output_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "file"
    out.write_text("x", encoding="utf-8")
    shutil.copy(EXAMPLES / "mapping.toml", tmp_path / "mapping.toml")
    code = _import(out, records=EXAMPLES / "repeating-raw.csv", mapping=tmp_path / "mapping.toml")
    _refused(capsys, code, f"{out}: exists and is not a folder")


def test_the_api_dictionary_reads_as_the_downloaded_one(
    imported: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    """PyCap's ``export_metadata(format_type="csv")`` heads the columns with the API's names."""
    api_names = (
        "field_name,form_name,section_header,field_type,field_label,"
        "select_choices_or_calculations,field_note,text_validation_type_or_show_slider_number,"
        "text_validation_min,text_validation_max,identifier,branching_logic,required_field,"
        "custom_alignment,question_number,matrix_group_name,matrix_ranking,field_annotation"
    )
    lines = (EXAMPLES / "dictionary.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    dictionary = tmp_path / "metadata.csv"
    dictionary.write_text(api_names + "\n" + "".join(lines[1:]), encoding="utf-8")
    out = tmp_path / "out"
    records = EXAMPLES / "repeating-raw.csv"
    assert (
        _import(out, records=records, mapping=EXAMPLES / "mapping.toml", dictionary=dictionary) == 0
    )
    expected = read_files(read_dataset(imported[("repeating", "raw")])).sha256
    assert read_files(read_dataset(out)).sha256 == expected
