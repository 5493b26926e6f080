"""Write and read the trial dataset folder: CSVs, ``protocol.toml`` and ``datapackage.json``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from diarytrial.dataset.csvio import CellProblem, TableReadError, read_table, write_table
from diarytrial.dataset.integrity import (
    DATASET_FILES,
    DESCRIPTOR_FILE,
    PROTOCOL_FILE,
    FileMismatch,
    FileReadError,
    dataset_files_check,
    present_files,
    resource_problem,
)
from diarytrial.dataset.model import TrialDataset, empty_table
from diarytrial.dataset.tables import TABLES, Table
from diarytrial.dataset.validate import DatasetError, DatasetIssue, validate_dataset
from diarytrial.protocol import ProtocolError, ProtocolFile, load_protocol
from diarytrial.textfile import TextFileError, read_small_text

FORMAT_VERSION = 1


def write_dataset(dataset: TrialDataset, directory: str | Path) -> Path:
    """Write `dataset` into `directory` (created if needed) and return the descriptor's path.

    The same dataset always gives the same bytes: nothing in the files depends on the clock.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    resources: list[dict[str, Any]] = []
    for table in TABLES:
        size, sha256 = write_table(dataset.table(table.name), table, directory / table.filename)
        resources.append(_table_resource(table, size, sha256))
    protocol_bytes = dataset.protocol.text.encode("utf-8")
    (directory / PROTOCOL_FILE).write_bytes(protocol_bytes)
    resources.append(
        {
            "name": "protocol",
            "path": PROTOCOL_FILE,
            "format": "toml",
            "mediatype": "application/toml",
            "encoding": "utf-8",
            "description": "The protocol the data were collected under (diarytrial protocol file).",
            "bytes": len(protocol_bytes),
            "hash": "sha256:" + hashlib.sha256(protocol_bytes).hexdigest(),
        }
    )
    study = dataset.protocol.protocol.study
    descriptor = {
        "profile": "tabular-data-package",
        "name": study.id.replace("_", "-"),
        "title": study.title,
        "resources": resources,
        "diarytrial": {
            "format_version": FORMAT_VERSION,
            "protocol_sha256": dataset.protocol.sha256,
            "provenance": dataset.provenance,
        },
    }
    path = directory / DESCRIPTOR_FILE
    path.write_text(json.dumps(descriptor, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _table_resource(table: Table, size: int, sha256: str) -> dict[str, Any]:
    fields = []
    for column in table.columns:
        field: dict[str, Any] = {
            "name": column.name,
            "type": column.type,
            "description": column.description,
        }
        if column.type == "datetime":
            field["format"] = "%Y-%m-%dT%H:%M:%SZ"
        if column.type == "boolean":  # the spelling R's read.csv reads as logical
            field["trueValues"], field["falseValues"] = ["TRUE"], ["FALSE"]
        constraints: dict[str, Any] = {"required": column.required}
        if column.enum:
            constraints["enum"] = list(column.enum)
        field["constraints"] = constraints
        fields.append(field)
    schema: dict[str, Any] = {
        "fields": fields,
        "primaryKey": list(table.primary_key),
        "missingValues": [""],
    }
    if table.name != "participants":
        schema["foreignKeys"] = [
            {
                "fields": "participant_id",
                "reference": {"resource": "participants", "fields": "participant_id"},
            }
        ]
    return {
        "name": table.name,
        "path": table.filename,
        "profile": "tabular-data-resource",
        "description": table.description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": size,
        "hash": "sha256:" + sha256,
        "schema": schema,
    }


def read_dataset(
    directory: str | Path, *, validate: bool = True, allow_modified: bool = False
) -> TrialDataset:
    """Read the dataset in `directory`, checking every file against ``datapackage.json``.

    Raises DatasetError listing every problem found: a folder that is not a dataset, a
    ``datapackage.json`` that cannot be read, files that changed after the dataset was written
    (unless `allow_modified`; the dataset's ``files`` then name them), files that cannot be read
    as UTF-8 CSV, cells that do not parse and, with `validate`, the row-level checks of
    :func:`validate_dataset`.
    """
    directory = Path(directory)
    source = str(directory)
    _check_folder(directory)
    descriptor, resources = _read_descriptor(directory)
    try:
        files = dataset_files_check(directory, resources)
    except FileReadError as error:
        raise DatasetError(source, [DatasetIssue(error.name, None, None, error.reason)]) from None
    if files.mismatches and not allow_modified:
        raise DatasetError(source, [_mismatch_issue(directory, m) for m in files.mismatches])
    protocol = _read_protocol(directory)
    issues: list[DatasetIssue] = []
    frames: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        frames[table.name] = _read_table_file(directory, table, issues)
    if issues:
        raise DatasetError(source, issues)
    dataset = TrialDataset.from_tables(
        protocol,
        frames,
        provenance=descriptor.get("diarytrial", {}).get("provenance", {}),
        files=files,
    )
    if validate:
        found = validate_dataset(dataset)
        if found:
            raise DatasetError(source, found)
    return dataset


MODIFIED_ADVICE = (
    "export or simulate the dataset again, or add --allow-modified to analyse the changed files "
    "anyway (the results then say that the data were modified)"
)


def _mismatch_issue(directory: Path, mismatch: FileMismatch) -> DatasetIssue:
    if (directory / mismatch.name).exists():
        advice = MODIFIED_ADVICE
    else:
        advice = "copy the whole dataset folder again, or export or simulate it again"
    return DatasetIssue(mismatch.name, None, None, f"{mismatch.reason}; {advice}")


def _check_folder(directory: Path) -> None:
    def refuse(message: str, file: str = "") -> None:
        raise DatasetError(str(directory), [DatasetIssue(file, None, None, message)])

    if directory.is_file():
        refuse(
            "this is a file, not a folder; name the trial dataset's folder (the one that holds "
            f"{DESCRIPTOR_FILE})"
        )
    if not directory.is_dir():
        refuse("no such folder; name the folder that holds the trial dataset")
    if not (directory / DESCRIPTOR_FILE).exists():
        if not present_files(directory):
            refuse(
                f"this folder is not a trial dataset: it holds no {DESCRIPTOR_FILE} and none of "
                "the dataset's files; name the folder that diarytrial export or simulate wrote"
            )
        refuse(
            "missing: a trial dataset needs its descriptor, which lists every file with its "
            "hash; export or simulate the dataset again",
            DESCRIPTOR_FILE,
        )


def _read_descriptor(directory: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The descriptor and its resources by file name; DatasetError listing what is wrong."""
    source = str(directory)

    def refuse(message: str, line: int | None = None, field: str | None = None) -> NoReturn:
        raise DatasetError(source, [DatasetIssue(DESCRIPTOR_FILE, line, field, message)])

    try:
        text = read_small_text(directory / DESCRIPTOR_FILE, what=DESCRIPTOR_FILE)
    except TextFileError as error:
        refuse(str(error))
    try:
        descriptor = json.loads(text)
    except json.JSONDecodeError as error:
        refuse(f"not valid JSON: {error.msg} (column {error.colno})", error.lineno)
    except RecursionError:
        refuse("not a data package: its JSON is nested thousands of levels deep")
    if not isinstance(descriptor, dict):
        refuse(f"must hold a JSON object ({{...}}), not {_json_kind(descriptor)}")
    issues: list[DatasetIssue] = []

    def problem(field: str, message: str) -> None:
        issues.append(DatasetIssue(DESCRIPTOR_FILE, None, field, message))

    own = descriptor.setdefault("diarytrial", {})
    if not isinstance(own, dict):
        problem("diarytrial", f"must be a JSON object, not {_json_kind(own)}")
        own = descriptor["diarytrial"] = {}
    version = own.get("format_version", FORMAT_VERSION)
    if type(version) is not int or version != FORMAT_VERSION:
        problem(
            "diarytrial.format_version",
            f"format version {version!r} is not supported; "
            f"this diarytrial reads version {FORMAT_VERSION}",
        )
    if not isinstance(own.setdefault("provenance", {}), dict):
        problem(
            "diarytrial.provenance", f"must be a JSON object, not {_json_kind(own['provenance'])}"
        )
    resources = descriptor.get("resources", [])
    by_name: dict[str, dict[str, Any]] = {}
    if not isinstance(resources, list):
        problem("resources", f"must be a JSON array of resources, not {_json_kind(resources)}")
        resources = []
    for index, resource in enumerate(resources):
        field = f"resources[{index}]"
        if not isinstance(resource, dict):
            problem(field, f"must be a JSON object, not {_json_kind(resource)}")
            continue
        name = resource.get("path")
        if name not in DATASET_FILES:
            continue  # not a file diarytrial reads
        if name in by_name:
            problem(f"{field}.path", f"lists {name} a second time")
        wrong = resource_problem(resource)
        if wrong is not None:
            problem(field, wrong)
        by_name[str(name)] = resource
    if issues:
        raise DatasetError(source, issues)
    return descriptor, by_name


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number")


def _read_protocol(directory: Path) -> ProtocolFile:
    path = directory / PROTOCOL_FILE
    if not path.exists():
        raise DatasetError(
            str(directory),
            [DatasetIssue(PROTOCOL_FILE, None, None, "missing: the dataset needs its protocol")],
        )
    try:
        return load_protocol(path)
    except ProtocolError as error:
        issues = [DatasetIssue(PROTOCOL_FILE, p.line, p.field, p.message) for p in error.problems]
        raise DatasetError(str(directory), issues) from None


def _read_table_file(directory: Path, table: Table, issues: list[DatasetIssue]) -> pd.DataFrame:
    """The table's frame; problems are added to `issues` (the frame is then empty or partial)."""
    path = directory / table.filename
    if not path.exists():
        if not table.optional:
            issues.append(DatasetIssue(table.filename, None, None, "missing file"))
        return empty_table(table)
    if not path.is_file():
        issues.append(DatasetIssue(table.filename, None, None, "this is a folder, not a CSV file"))
        return empty_table(table)
    try:
        frame, problems, absent = read_table(path, table)
    except TableReadError as error:
        issues.append(DatasetIssue(table.filename, error.line, None, str(error)))
        return empty_table(table)
    issues.extend(_cell_issue(table, problem) for problem in problems)
    for name in absent:
        issues.append(DatasetIssue(table.filename, 1, name, "missing column"))
    return frame


def _cell_issue(table: Table, problem: CellProblem) -> DatasetIssue:
    return DatasetIssue(table.filename, problem.line, problem.column, problem.message)
