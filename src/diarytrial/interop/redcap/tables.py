"""The dataset's tables as the import builds them: rows that remember the REDCap line and
record they came from, typed and ordered into a `TrialDataset`, so that the dataset's own
checks can be traced back to the REDCap line at fault."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from diarytrial.dataset import TABLES_BY_NAME, DatasetIssue, TrialDataset
from diarytrial.interop.redcap.mapping import RedcapMapping
from diarytrial.interop.redcap.problems import ProblemList
from diarytrial.interop.redcap.records import RecordRow
from diarytrial.protocol import ProtocolFile

GENERATOR = "diarytrial import redcap"


@dataclass
class TableRows:
    """A table's rows as they are built, each with the REDCap line and record it came from."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    records: list[str] = field(default_factory=list)

    def add(self, row: dict[str, Any], line: int | None, record: str) -> None:
        """Add `row`, made from REDCap `line` (None: from no line, as a schedule's) of `record`."""
        self.rows.append(row)
        self.lines.append(line)
        self.records.append(record)


class DatasetTables:
    """The rows of each table of the dataset; once it is made, the REDCap line and record of
    each of its rows, in the dataset's order."""

    def __init__(self) -> None:
        self.rows: dict[str, TableRows] = {name: TableRows() for name in _SORT_KEYS}
        self.sorted_lines: dict[str, list[int | None]] = {}
        self.sorted_records: dict[str, list[str]] = {}

    def add(self, table: str, source: RecordRow, row: dict[str, Any]) -> None:
        """Add `row` to `table`, made from the REDCap row `source`."""
        self.rows[table].add(row, source.line, source.record)

    def dataset(self, protocol: ProtocolFile, order: Mapping[str, int]) -> TrialDataset:
        """The dataset of these rows: the participants in `order` (record -> position), each
        table's rows in its own order within a participant, each column of its type."""
        frames: dict[str, pd.DataFrame] = {}
        for name, built in self.rows.items():
            table = TABLES_BY_NAME[name]
            frame = pd.DataFrame(built.rows)
            # A table without rows has no columns yet, not even the helper `_item`.
            for column in [*table.column_names, *_SORT_KEYS[name]]:
                if column not in frame.columns:
                    frame[column] = pd.Series([None] * len(frame), dtype=object)
            frame["_line"] = pd.array(built.lines, dtype="Int64")
            frame["_record"] = built.records
            frame["_order"] = [order.get(r, len(order)) for r in built.records]
            keys = ["_order", *_SORT_KEYS[name]]
            frame = frame.sort_values(keys, kind="stable", na_position="first")
            frame = frame.reset_index(drop=True)
            self.sorted_lines[name] = [None if pd.isna(v) else int(v) for v in frame["_line"]]
            self.sorted_records[name] = list(frame["_record"])
            frames[name] = _typed(frame.drop(columns=["_line", "_record", "_order"]), name)
        adverse = frames["adverse_events"]
        adverse["ae_id"] = [f"AE-{k:05d}" for k in range(1, len(adverse) + 1)]
        return TrialDataset(
            protocol=protocol,
            participants=frames["participants"],
            periods=frames["periods"],
            diary=frames["diary"],
            side_effects=frames["side_effects"],
            doses=frames["doses"],
            adverse_events=frames["adverse_events"],
            pgic=frames["pgic"],
            blinding=frames["blinding"],
            provenance={"generator": GENERATOR},
        )


_SORT_KEYS: dict[str, list[str]] = {
    # The dataset's tables, and how each orders a participant's rows.
    "participants": [],
    "periods": ["phase"],
    "diary": ["diary_date", "_item"],
    "side_effects": ["diary_date", "side_effect"],
    "doses": ["effective_on"],
    "adverse_events": ["onset_date", "_line"],
    "pgic": ["visit"],
    "blinding": ["visit"],
}


def _typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """`frame` with each column of table `name` of the type the dataset gives it."""
    table = TABLES_BY_NAME[name]
    out: dict[str, Any] = {}
    for column in table.columns:
        values = frame[column.name]
        match column.type:
            case "date":
                out[column.name] = pd.to_datetime(values).astype("datetime64[s]")
            case "datetime":
                out[column.name] = pd.to_datetime(values, utc=True).astype("datetime64[s, UTC]")
            case "integer":
                out[column.name] = values.astype("Int64")
            case "number":
                out[column.name] = values.astype("float64")
            case "boolean":
                out[column.name] = values.astype(bool)
            case _:
                out[column.name] = values.astype(object).where(values.notna(), None)
    return pd.DataFrame(out, index=frame.index)


def trace_issues(
    issues: Iterable[DatasetIssue],
    tables: DatasetTables,
    mapping: RedcapMapping,
    source: str,
    problems: ProblemList,
) -> None:
    """The dataset's own checks, each traced back to the REDCap line it came from."""
    fields = _dataset_fields(mapping)
    reported: set[tuple[int | None, str | None, str]] = set()
    for issue in issues:
        name = issue.file.removesuffix(".csv")
        position = issue.line - 2 if issue.line else None
        line = record = None
        if position is not None and name in tables.sorted_lines:
            line = tables.sorted_lines[name][position]
            record = tables.sorted_records[name][position]
        column = issue.column or ""
        field_name = fields.get((name, column), column)
        if (line, record, issue.message) in reported:
            continue  # one REDCap row gives several rows of the dataset (a diary item each)
        reported.add((line, record, issue.message))
        problems.add(
            source,
            line,
            f"{issue.message} (the dataset's {name}.{column})"
            if column
            else f"{issue.message} (the dataset's {name})",
            record=record,
            field=field_name or None,
        )


def _dataset_fields(mapping: RedcapMapping) -> dict[tuple[str, str], str]:
    """The REDCap field behind each dataset column, for messages."""
    p = mapping.participants
    found: dict[tuple[str, str], str | None] = {
        ("participants", "start_date"): p.start_date,
        ("participants", "withdrawn_on"): p.withdrawn_on,
        ("participants", "randomized_on"): p.randomized_on,
        ("participants", "status"): p.status.field if p.status else None,
        ("diary", "diary_date"): mapping.diary.date,
        ("diary", "submitted_at"): mapping.diary.submitted_at,
        ("side_effects", "diary_date"): mapping.diary.date,
    }
    if mapping.visits is not None:
        for table in ("pgic", "blinding"):
            found[(table, "answered_on")] = mapping.visits.date
            found[(table, "visit")] = mapping.visits.number.field
    if mapping.doses is not None:
        found[("doses", "effective_on")] = mapping.doses.date
    if mapping.adverse_events is not None:
        found[("adverse_events", "onset_date")] = mapping.adverse_events.onset
        found[("adverse_events", "end_date")] = mapping.adverse_events.end
    return {key: value for key, value in found.items() if value}
