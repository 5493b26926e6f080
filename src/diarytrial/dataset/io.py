"""Write and read the trial dataset folder: CSVs, ``protocol.toml`` and ``datapackage.json``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from diarytrial.dataset.csvio import CellProblem, read_table, write_table
from diarytrial.dataset.model import TrialDataset, empty_table
from diarytrial.dataset.tables import TABLES, Table
from diarytrial.dataset.validate import DatasetError, DatasetIssue, validate_dataset
from diarytrial.protocol import ProtocolError, parse_protocol

FORMAT_VERSION = 1
PROTOCOL_FILE = "protocol.toml"
DESCRIPTOR_FILE = "datapackage.json"


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


def dataset_sha256(directory: str | Path) -> str:
    """A hash identifying the dataset: the SHA-256 of its descriptor, which hashes every file."""
    return hashlib.sha256((Path(directory) / DESCRIPTOR_FILE).read_bytes()).hexdigest()


def read_dataset(directory: str | Path, *, validate: bool = True) -> TrialDataset:
    """Read the dataset in `directory`.

    Raises DatasetError listing every problem found (missing files, cells that do not parse,
    and, with `validate`, the row-level checks of :func:`validate_dataset`).
    """
    directory = Path(directory)
    issues: list[DatasetIssue] = []
    if not directory.is_dir():
        raise DatasetError(str(directory), [DatasetIssue("", None, None, "no such folder")])
    descriptor = _read_descriptor(directory, issues)
    protocol_path = directory / PROTOCOL_FILE
    if not protocol_path.is_file():
        issues.append(
            DatasetIssue(PROTOCOL_FILE, None, None, "missing: the dataset needs its protocol")
        )
        raise DatasetError(str(directory), issues)
    try:
        protocol = parse_protocol(
            protocol_path.read_text(encoding="utf-8"), source=str(protocol_path)
        )
    except ProtocolError as error:
        issues.extend(
            DatasetIssue(PROTOCOL_FILE, p.line, p.field, p.message) for p in error.problems
        )
        raise DatasetError(str(directory), issues) from None
    frames: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        path = directory / table.filename
        if not path.is_file():
            if not table.optional:
                issues.append(DatasetIssue(table.filename, None, None, "missing file"))
            frames[table.name] = empty_table(table)
            continue
        frame, problems, absent = read_table(path, table)
        issues.extend(_cell_issue(table, problem) for problem in problems)
        for name in absent:
            issues.append(DatasetIssue(table.filename, 1, name, "missing column"))
        frames[table.name] = frame
    if issues:
        raise DatasetError(str(directory), issues)
    dataset = TrialDataset(
        protocol=protocol,
        participants=frames["participants"],
        periods=frames["periods"],
        diary=frames["diary"],
        side_effects=frames["side_effects"],
        doses=frames["doses"],
        adverse_events=frames["adverse_events"],
        pgic=frames["pgic"],
        provenance=descriptor.get("diarytrial", {}).get("provenance", {}),
    )
    if validate:
        found = validate_dataset(dataset)
        if found:
            raise DatasetError(str(directory), found)
    return dataset


def _read_descriptor(directory: Path, issues: list[DatasetIssue]) -> dict[str, Any]:
    path = directory / DESCRIPTOR_FILE
    if not path.is_file():
        return {}
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        issues.append(
            DatasetIssue(DESCRIPTOR_FILE, error.lineno, None, f"not valid JSON: {error.msg}")
        )
        return {}
    version = descriptor.get("diarytrial", {}).get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        issues.append(
            DatasetIssue(
                DESCRIPTOR_FILE,
                None,
                "diarytrial.format_version",
                f"format version {version} is not supported; "
                f"this diarytrial reads version {FORMAT_VERSION}",
            )
        )
    return descriptor if isinstance(descriptor, dict) else {}


def _cell_issue(table: Table, problem: CellProblem) -> DatasetIssue:
    return DatasetIssue(table.filename, problem.line, problem.column, problem.message)
