"""The REDCap records export, raw or labels, read against its data dictionary.

A raw export heads its columns with field names and holds choice codes; a labels export heads
them with field labels and holds choice labels. Either is read into rows of raw codes. The
diary may be a repeating instrument (``redcap_repeat_instrument``, ``redcap_repeat_instance``)
or the events of a longitudinal project (``redcap_event_name``, whose arm is kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from diarytrial.interop.redcap.dictionary import CHECKED, DataDictionary, RedcapField, plain_label
from diarytrial.interop.redcap.files import body_rows, csv_rows, read_text
from diarytrial.interop.redcap.problems import ProblemList, RedcapError


@dataclass(frozen=True)
class _Column:
    """A column REDCap may export: its raw header, its labels header, and what it holds."""

    name: str
    label: str
    kind: Literal["record", "special", "timestamp", "complete", "field", "checkbox"]
    field: RedcapField | None = None

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """The (code, label) pairs its values are one of; none for free text."""
        if self.kind == "checkbox":
            return CHECKED
        if self.kind == "complete":
            return _COMPLETE
        if self.field is not None and self.field.has_choices:
            return self.field.choices
        return ()


_SPECIAL = (
    ("redcap_event_name", "Event Name"),
    ("redcap_repeat_instrument", "Repeat Instrument"),
    ("redcap_repeat_instance", "Repeat Instance"),
    ("redcap_data_access_group", "Data Access Group"),
    ("redcap_survey_identifier", "Survey Identifier"),
)
_COMPLETE = (("0", "Incomplete"), ("1", "Unverified"), ("2", "Complete"))


def _export_columns(dictionary: DataDictionary) -> list[_Column]:
    """Every column an export of this project can hold, in REDCap's order."""
    first = dictionary.fields[0]
    columns = [_Column(first.name, first.label, "record", first)]
    columns += [_Column(name, label, "special") for name, label in _SPECIAL]
    for form in dictionary.forms:
        columns.append(_Column(f"{form}_timestamp", "Survey Timestamp", "timestamp"))
        for item in dictionary.fields[1:]:
            if item.form != form or item.type == "descriptive":
                continue
            if item.type == "checkbox":
                columns += [
                    _Column(
                        checkbox_column(item.name, code),
                        f"{item.label} (choice={label})",
                        "checkbox",
                        item,
                    )
                    for code, label in item.choices
                ]
            else:
                columns.append(_Column(item.name, item.label, "field", item))
        columns.append(_Column(f"{form}_complete", "Complete?", "complete"))
    return columns


def checkbox_column(name: str, code: str) -> str:
    """The export's column of one choice of a checkbox field."""
    # REDCap writes a negative code's minus sign as an underscore, and lower-cases the code.
    return f"{name}___{code.lower().replace('-', '_').replace('.', '_')}"


@dataclass(frozen=True)
class RecordRow:
    """One row of the records export, its values as raw codes by raw column name."""

    line: int
    record: str
    event: str
    arm: str | None
    instrument: str
    instance: str
    values: dict[str, str]


@dataclass(frozen=True)
class RedcapRecords:
    """The records export, read against its data dictionary."""

    source: str
    export: Literal["raw", "labels"]
    rows: tuple[RecordRow, ...]

    @property
    def design(self) -> str:
        """How the diary rows are told apart: repeating instruments, events, or both."""
        repeating = any(row.instance for row in self.rows)
        events = any(row.event for row in self.rows)
        if repeating and events:
            return "longitudinal with repeating instruments"
        return "longitudinal" if events else ("repeating instruments" if repeating else "classic")


_ARM_RAW = re.compile(r"_arm_(\d+)$")
_ARM_LABEL = re.compile(r"\(Arm (\d+)(?::[^()]*)?\)\s*$")


def read_records(path: str | Path, dictionary: DataDictionary) -> RedcapRecords:
    """Read a REDCap records export (raw or labels, detected from its headers)."""
    path = Path(path)
    source = str(path)
    rows = csv_rows(read_text(path, "records export"))
    header_line, header = rows[0]
    columns = _export_columns(dictionary)
    export: Literal["raw", "labels"]
    matched = _match_raw(header, columns)
    if matched is not None:
        export = "raw"
    else:
        matched = _match_labels(header, columns)
        export = "labels"
    if isinstance(matched, str):
        raise RedcapError.in_file(source, matched, line=header_line)
    arm_pattern = _ARM_RAW if export == "raw" else _ARM_LABEL
    problems = ProblemList()
    read: list[RecordRow] = []
    for line, row in body_rows(rows, source, problems):
        record = row[0].strip()
        if not record:
            problems.add(source, line, "a row without a record id", field=dictionary.record_id)
            continue
        values: dict[str, str] = {}
        for column, cell in zip(matched, row, strict=True):
            value = _raw_value(column, cell.strip(), export)
            if value is None:
                shown = [code if export == "raw" else label for code, label in column.choices]
                problems.add(
                    source,
                    line,
                    f"{cell.strip()!r} is not one of the field's choices ({', '.join(shown)})",
                    record=record,
                    field=column.name,
                )
                continue
            values[column.name] = value
        event = values.pop("redcap_event_name", "")
        arm_match = arm_pattern.search(event)
        read.append(
            RecordRow(
                line=line,
                record=record,
                event=event,
                arm=arm_match.group(1) if arm_match else ("1" if event else None),
                instrument=values.pop("redcap_repeat_instrument", ""),
                instance=values.pop("redcap_repeat_instance", ""),
                values=values,
            )
        )
    if not read and not problems.found:
        problems.add(source, None, "the export holds no records, only its header")
    problems.check()
    return RedcapRecords(source=source, export=export, rows=tuple(read))


def _match_raw(header: list[str], columns: list[_Column]) -> list[_Column] | str | None:
    """The columns of a raw export's header; None when it is not one (a labels export)."""
    names = {c.name: c for c in columns}
    cells = [h.strip() for h in header]
    if not cells or cells[0] != columns[0].name:
        return None
    unknown = [h for h in cells if h not in names]
    if unknown:
        return (
            f"column {unknown[0]!r} is not a field of the data dictionary; export the records "
            "and the dictionary of the same project, at the same time"
        )
    seen: set[str] = set()
    for name in cells:
        if name in seen:
            return f"column {name!r} appears twice"
        seen.add(name)
    return [names[h] for h in cells]


def _match_labels(header: list[str], columns: list[_Column]) -> list[_Column] | str:
    """The columns of a labels export: its headers are labels, which repeat (``Complete?``),
    so each is matched to the next column with that label in REDCap's order."""
    matched: list[_Column] = []
    position = 0
    for number, cell in enumerate(header, start=1):
        label = plain_label(cell)
        for k in range(position, len(columns)):
            if columns[k].label == label:
                matched.append(columns[k])
                position = k + 1
                break
        else:
            return (
                f"column {number} {cell.strip()!r} is neither a field name nor, in its place, "
                "a field label of the data dictionary: the records do not belong to this "
                "dictionary (export both from the same project, with the same fields)"
            )
    if not matched or matched[0].kind != "record":
        return (
            f"the first column must be the record id {columns[0].name!r} "
            f"(labelled {columns[0].label!r})"
        )
    return matched


def _raw_value(column: _Column, cell: str, export: str) -> str | None:
    """`cell` as a raw code; None when it is not one of the column's choices."""
    choices = column.choices
    if not cell or not choices:
        return cell
    if export == "raw":
        return cell if cell in {code for code, _label in choices} else None
    for code, label in choices:
        if plain_label(cell) == label:
            return code
    return None
