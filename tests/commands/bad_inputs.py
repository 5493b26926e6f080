"""Catalogues of bad input files, one entry per class of damage, for the command tests.

Each dataset case damages a copy of a valid trial dataset folder; each protocol case writes a
bad protocol file. `expect` is a fragment of the one line the command must print, and `file`
the file that line must name (a path, so ``trial/diary.csv`` for a table).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from diarytrial.protocol import load_example

DEEP = 5000
"""Nesting depth of the deeply nested files: far past the parsers' recursion limit."""


@dataclass(frozen=True)
class DatasetCase:
    id: str
    damage: Callable[[Path], object]
    expect: str
    file: str | None  # the file named in the message; None: the folder itself
    one_line: bool = True
    allow_modified: bool = True  # run with --allow-modified, to reach past the hash check


def _set_cell(folder: Path, name: str, line: int, column: str, value: str) -> None:
    """Put `value` in `column` on CSV line `line` (the header is line 1) of `name`."""
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _edit_descriptor(folder: Path, edit: Callable[[dict[str, object]], object]) -> None:
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    edit(descriptor)
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")


def _resource(descriptor: dict[str, object], path: str) -> dict[str, object]:
    resources = descriptor["resources"]
    assert isinstance(resources, list)
    return next(r for r in resources if r["path"] == path)


def _keep_lines(folder: Path, name: str, keep: Callable[[list[str]], list[str]]) -> None:
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(keep(lines)), encoding="utf-8")


def _reencode(folder: Path, name: str, encoding: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8").replace("stanford", "stänford", 1)
    path.write_bytes(text.encode(encoding))


def _first_participant_only(folder: Path) -> None:
    participants = (folder / "participants.csv").read_text(encoding="utf-8").splitlines()
    first = participants[1].split(",")[0]
    for name in ("participants", "periods", "diary", "side_effects", "doses", "pgic", "blinding"):
        _keep_lines(
            folder,
            f"{name}.csv",
            lambda lines: [lines[0], *(x for x in lines[1:] if x.startswith(first + ","))],
        )
    _keep_lines(
        folder,
        "adverse_events.csv",
        lambda lines: [lines[0], *(x for x in lines[1:] if f",{first}," in x)],
    )


def _blank_column(folder: Path, name: str, column: str) -> None:
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines()
    index = lines[0].split(",").index(column)
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[index] = ""
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _replace_folder(folder: Path, *, by_a_file: bool) -> None:
    """Put a file where the dataset was, or a folder of other things."""
    shutil.rmtree(folder)
    if by_a_file:
        folder.write_text("x")
    else:
        folder.mkdir()
        (folder / "notes.txt").write_text("x")


def _turn_into_folder(folder: Path, name: str) -> None:
    (folder / name).unlink()
    (folder / name).mkdir()


DATASET_CASES: tuple[DatasetCase, ...] = (
    # The folder itself
    DatasetCase("folder missing", lambda f: shutil.rmtree(f), "no such folder", None),
    DatasetCase(
        "a file instead of the folder",
        lambda f: _replace_folder(f, by_a_file=True),
        "this is a file, not a folder",
        None,
    ),
    DatasetCase(
        "a folder that is not a dataset",
        lambda f: _replace_folder(f, by_a_file=False),
        "this folder is not a trial dataset",
        None,
    ),
    # datapackage.json
    DatasetCase(
        "descriptor missing",
        lambda f: (f / "datapackage.json").unlink(),
        "missing: a trial dataset needs its descriptor",
        "datapackage.json",
    ),
    DatasetCase(
        "descriptor empty",
        lambda f: (f / "datapackage.json").write_bytes(b""),
        "not valid JSON",
        "datapackage.json:1",
    ),
    DatasetCase(
        "descriptor truncated",
        lambda f: (f / "datapackage.json").write_bytes((f / "datapackage.json").read_bytes()[:500]),
        "not valid JSON",
        "datapackage.json:",
    ),
    DatasetCase(
        "descriptor not an object",
        lambda f: (f / "datapackage.json").write_text("[1, 2]"),
        "must hold a JSON object",
        "datapackage.json",
    ),
    DatasetCase(
        "descriptor in latin-1",
        lambda f: (f / "datapackage.json").write_bytes(
            (f / "datapackage.json").read_bytes().replace(b"Low-dose", b"L\xf6w-dose")
        ),
        "is not UTF-8 text (line 4): it looks like Latin-1",
        "datapackage.json",
    ),
    DatasetCase(
        "descriptor in UTF-16",
        lambda f: _reencode(f, "datapackage.json", "utf-16"),
        "looks like UTF-16",
        "datapackage.json",
    ),
    DatasetCase(
        "descriptor nested thousands deep",
        lambda f: (f / "datapackage.json").write_text("[" * DEEP + "]" * DEEP),
        "nested thousands of levels deep",
        "datapackage.json",
    ),
    DatasetCase(
        "descriptor is a folder",
        lambda f: _turn_into_folder(f, "datapackage.json"),
        "this is a folder, not a datapackage.json",
        "datapackage.json",
    ),
    DatasetCase(
        "descriptor larger than any descriptor",
        lambda f: (f / "datapackage.json").write_bytes(b" " * (5 * 1024 * 1024) + b"{}"),
        "larger than 4 MiB",
        "datapackage.json",
    ),
    DatasetCase(
        "resources not an array",
        lambda f: _edit_descriptor(f, lambda d: d.update(resources={"a": 1})),
        "resources: must be a JSON array of resources, not an object",
        "datapackage.json",
    ),
    DatasetCase(
        "a resource's hash malformed",
        lambda f: _edit_descriptor(
            f, lambda d: _resource(d, "diary.csv").update(hash="sha256:not-hex")
        ),
        "hash 'sha256:not-hex' is not of the form sha256:<hex digits>",
        "datapackage.json",
    ),
    DatasetCase(
        "a resource's size not a number",
        lambda f: _edit_descriptor(f, lambda d: _resource(d, "diary.csv").update(bytes="many")),
        "bytes 'many' is not a whole number of bytes",
        "datapackage.json",
    ),
    DatasetCase(
        "a resource listed twice",
        lambda f: _edit_descriptor(
            f,
            lambda d: d["resources"].append(_resource(d, "pgic.csv")),  # type: ignore[attr-defined]
        ),
        "lists pgic.csv a second time",
        "datapackage.json",
    ),
    DatasetCase(
        "format version unknown",
        lambda f: _edit_descriptor(f, lambda d: d["diarytrial"].update(format_version="1")),  # type: ignore[attr-defined]
        "format version '1' is not supported",
        "datapackage.json",
    ),
    DatasetCase(
        "provenance not an object",
        lambda f: _edit_descriptor(f, lambda d: d["diarytrial"].update(provenance=[1])),  # type: ignore[attr-defined]
        "diarytrial.provenance: must be a JSON object, not an array",
        "datapackage.json",
    ),
    DatasetCase(
        "a file the descriptor does not list",
        lambda f: _edit_descriptor(
            f,
            lambda d: d["resources"].remove(_resource(d, "doses.csv")),  # type: ignore[attr-defined]
        ),
        "datapackage.json does not list it, so it cannot be checked",
        "doses.csv",
        allow_modified=False,
    ),
    DatasetCase(
        "a resource without its hash",
        lambda f: _edit_descriptor(f, lambda d: _resource(d, "doses.csv").pop("hash")),
        "datapackage.json records no hash for it",
        "doses.csv",
        allow_modified=False,
    ),
    # protocol.toml
    DatasetCase(
        "protocol missing",
        lambda f: (f / "protocol.toml").unlink(),
        "missing: the dataset needs its protocol",
        "protocol.toml",
    ),
    DatasetCase(
        "protocol not TOML",
        lambda f: (f / "protocol.toml").write_text("this is = = not toml\n"),
        "not valid TOML",
        "protocol.toml:1",
    ),
    DatasetCase(
        "protocol nested thousands deep",
        lambda f: (f / "protocol.toml").write_text("x = " + "[" * DEEP + "]" * DEEP + "\n"),
        "nested thousands of levels deep",
        "protocol.toml",
    ),
    DatasetCase(
        "protocol in UTF-16",
        lambda f: _reencode(f, "protocol.toml", "utf-16"),
        "looks like UTF-16",
        "protocol.toml",
    ),
    # Missing, empty, truncated and duplicated files and rows
    DatasetCase(
        "a table missing",
        lambda f: (f / "participants.csv").unlink(),
        "missing file",
        "participants.csv",
    ),
    DatasetCase(
        "a table is a folder",
        lambda f: _turn_into_folder(f, "diary.csv"),
        "this is a folder, not a CSV file",
        "diary.csv",
    ),
    DatasetCase(
        "a table empty",
        lambda f: (f / "diary.csv").write_bytes(b""),
        "the file is empty; a table has at least its header line: participant_id,diary_date",
        "diary.csv:1",
    ),
    DatasetCase(
        "a table with its header only",
        lambda f: _keep_lines(f, "diary.csv", lambda lines: lines[:1]),
        "the diary has no answers, so there is nothing to analyse",
        None,
    ),
    DatasetCase(
        "a table cut in the middle of a row",
        lambda f: (f / "diary.csv").write_bytes(
            (f / "diary.csv").read_bytes()[: (f / "diary.csv").read_bytes().index(b"\n", 500) + 12]
        ),
        "diary_date: '2026' is not a valid date",
        "diary.csv:11",
    ),
    DatasetCase(
        "a row with a field too many",
        lambda f: _set_cell(f, "diary.csv", 3, "late", "FALSE,extra"),
        "not a valid CSV file (Expected 6 fields in line 3, saw 7)",
        "diary.csv:3",
    ),
    DatasetCase(
        "a quote never closed",
        lambda f: _set_cell(f, "participants.csv", 2, "withdrawal_reason", '"moved'),
        "not a valid CSV file",
        "participants.csv",
    ),
    DatasetCase(
        "a row twice",
        lambda f: _keep_lines(f, "diary.csv", lambda lines: [*lines[:3], lines[2], *lines[3:]]),
        "duplicate row: another row has the same participant_id, diary_date, item",
        "diary.csv:4",
    ),
    DatasetCase(
        "a file copied over another",
        lambda f: shutil.copyfile(f / "participants.csv", f / "pgic.csv"),
        "missing column",
        "pgic.csv:1",
        one_line=False,
    ),
    DatasetCase(
        "a column named twice",
        lambda f: _keep_lines(
            f, "diary.csv", lambda lines: [lines[0].replace("late", "value"), *lines[1:]]
        ),
        "the header names the column(s) value more than once",
        "diary.csv:1",
    ),
    DatasetCase(
        "a file cut just after a new row began",
        lambda f: (f / "participants.csv").write_bytes(
            (f / "participants.csv").read_bytes() + b"P"
        ),
        "timezone: a value is required",
        "participants.csv:6",
        one_line=False,
    ),
    DatasetCase(
        "a stray carriage return in the header",
        lambda f: (f / "diary.csv").write_bytes(
            (f / "diary.csv").read_bytes().replace(b"item,", b"it\rem,", 1)
        ),
        "not a valid CSV file (Expected 4 fields in line 3, saw 6)",
        "diary.csv:3",
    ),
    # Encodings
    DatasetCase(
        "a table in UTF-16",
        lambda f: _reencode(f, "participants.csv", "utf-16"),
        "is not UTF-8 text: it looks like UTF-16",
        "participants.csv",
    ),
    DatasetCase(
        "a table in latin-1",
        lambda f: _reencode(f, "participants.csv", "latin-1"),
        "is not UTF-8 text (line 2): it looks like Latin-1 / Windows-1252",
        "participants.csv",
    ),
    DatasetCase(
        "a table of binary bytes",
        lambda f: (f / "doses.csv").write_bytes(bytes(range(256)) * 4),
        "is not UTF-8 text",
        "doses.csv",
    ),
    # Wrong types, NaN, infinity, out-of-scale values
    DatasetCase(
        "a word for a number",
        lambda f: _set_cell(f, "diary.csv", 2, "value", "forty"),
        "value: 'forty' is not a valid number",
        "diary.csv:2",
    ),
    DatasetCase(
        "NaN for a number",
        lambda f: _set_cell(f, "diary.csv", 2, "value", "NaN"),
        "value: 'NaN' is not a valid number",
        "diary.csv:2",
    ),
    DatasetCase(
        "infinity for a number",
        lambda f: _set_cell(f, "diary.csv", 2, "value", "inf"),
        "value: 'inf' is not a valid number",
        "diary.csv:2",
    ),
    DatasetCase(
        "a whole number too large",
        lambda f: _set_cell(f, "participants.csv", 2, "age", "99999999999999999999"),
        "age: '99999999999999999999' is not a valid whole number",
        "participants.csv:2",
    ),
    DatasetCase(
        "a value outside the scale",
        lambda f: _set_cell(f, "diary.csv", 2, "value", "140"),
        "value: value outside the item's scale",
        "diary.csv:2",
    ),
    DatasetCase(
        "a date that does not parse",
        lambda f: _set_cell(f, "diary.csv", 2, "diary_date", "05/01/2026"),
        "diary_date: '05/01/2026' is not a valid date (write YYYY-MM-DD, a year from 1900 to 2199)",
        "diary.csv:2",
    ),
    DatasetCase(
        "a date in the year 9999",
        lambda f: _set_cell(f, "diary.csv", 2, "diary_date", "9999-12-31"),
        "diary_date: '9999-12-31' is not a valid date (write YYYY-MM-DD, a year from 1900",
        "diary.csv:2",
    ),
    DatasetCase(
        "a time zone that names a region, not a zone",
        lambda f: _set_cell(f, "participants.csv", 2, "timezone", "America"),
        "timezone: 'America' is not an IANA time zone",
        "participants.csv:2",
    ),
    DatasetCase(
        "an unknown item",
        lambda f: _set_cell(f, "diary.csv", 2, "item", "headache"),
        "item: unknown item",
        "diary.csv:2",
    ),
    # Every value missing
    DatasetCase(
        "every value missing",
        lambda f: _blank_column(f, "diary.csv", "value"),
        "value: a value is required",
        "diary.csv:2",
        one_line=False,
    ),
    DatasetCase(
        "no participants",
        lambda f: _keep_lines(f, "participants.csv", lambda lines: lines[:1]),
        "unknown participant",
        "periods.csv:2",
        one_line=False,
    ),
    # Unknown participants, dates outside the schedule
    DatasetCase(
        "an unknown participant",
        lambda f: _set_cell(f, "side_effects.csv", 2, "participant_id", "P-NOBODY"),
        "participant_id: unknown participant (not in participants.csv)",
        "side_effects.csv:2",
    ),
    DatasetCase(
        "a date outside the schedule",
        lambda f: _set_cell(f, "pgic.csv", 2, "answered_on", "2031-01-01"),
        "answered_on: date outside the participant's schedule",
        "pgic.csv:2",
    ),
)

ONE_PARTICIPANT = _first_participant_only
"""Not bad input: a dataset of one participant must analyse (exit 0)."""


@dataclass(frozen=True)
class ProtocolCase:
    id: str
    write: Callable[[Path], object]  # writes the bad protocol at the path given
    expect: str
    with_line: bool = False  # the message names the line (``file:N:``)


LDN = load_example("ldn-fibromyalgia").text


def _text(text: str, encoding: str = "utf-8") -> Callable[[Path], object]:
    return lambda path: path.write_bytes(text.encode(encoding))


PROTOCOL_CASES: tuple[ProtocolCase, ...] = (
    ProtocolCase("missing", lambda p: None, "no such file"),
    ProtocolCase("a folder", lambda p: p.mkdir(), "this is a folder, not a protocol file"),
    ProtocolCase("empty", _text(""), "this field is required", with_line=False),
    ProtocolCase("not TOML", _text("schema_version = = 1\n"), "not valid TOML", with_line=True),
    ProtocolCase(
        "truncated",
        _text(LDN[: LDN.index("[diary]") + 4]),
        "at the end of the file (was it cut short?)",
        with_line=True,
    ),
    ProtocolCase("UTF-16", _text(LDN, "utf-16"), "looks like UTF-16"),
    ProtocolCase(
        "latin-1",
        _text(LDN.replace("Low-dose", "Löw-dose"), "latin-1"),
        "looks like Latin-1 / Windows-1252",
    ),
    ProtocolCase(
        "nested thousands deep",
        _text("x = " + "[" * DEEP + "]" * DEEP + "\n"),
        "nested thousands of levels deep",
    ),
    ProtocolCase(
        "larger than any protocol",
        lambda p: p.write_bytes(LDN.encode() + b"#" * (5 * 1024 * 1024)),
        "larger than 4 MiB",
    ),
    ProtocolCase(
        "NaN",
        _text(LDN.replace("min_completion = 0.7", "min_completion = nan")),
        "analysis.min_completion: Input should be a finite number (found nan)",
        with_line=True,
    ),
    ProtocolCase(
        "infinity",
        _text(LDN.replace("reduced = 3.0, standard = 4.5", "reduced = 3.0, standard = inf")),
        "arms[0].dose_mg.standard: Input should be a finite number (found inf)",
        with_line=True,
    ),
    ProtocolCase(
        "out of range",
        _text(LDN.replace("baseline_days = 14", "baseline_days = 99999")),
        "design.baseline_days: Input should be less than or equal to 365",
        with_line=True,
    ),
    ProtocolCase(
        "wrong type",
        _text(LDN.replace("baseline_days = 14", 'baseline_days = "two weeks"')),
        "design.baseline_days",
        with_line=True,
    ),
    ProtocolCase(
        "a number for a clock time",
        _text(LDN.replace("opens = 18:00:00", "opens = 0")),
        "diary.opens: 0 is not a local clock time; write it as HH:MM",
        with_line=True,
    ),
    ProtocolCase(
        "a key twice",
        _text(LDN.replace("baseline_days = 14", "baseline_days = 14\nbaseline_days = 7")),
        "not valid TOML: Cannot overwrite a value",
        with_line=True,
    ),
    ProtocolCase(
        "binary bytes",
        lambda p: p.write_bytes(bytes(range(256)) * 8),
        "is not UTF-8 text",
    ),
)
