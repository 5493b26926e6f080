"""REDCap exports as a trial dataset: the data dictionary, the records and a mapping file.

REDCap describes a project in its *data dictionary* (one row per field: its name, form, type,
label and choices) and exports the records as one CSV in one of two forms: **raw** (field
names as headers, choice codes as values) or **labels** (field labels as headers, choice
labels as values). A checkbox field exports one column per choice (``field___code``, 1/0 or
Checked/Unchecked). Nightly diaries arrive as a repeating instrument (the columns
``redcap_repeat_instrument`` and ``redcap_repeat_instance``) or as the events of a
longitudinal project (``redcap_event_name``, e.g. ``night_1_arm_1``); both work the same here,
because every part of the dataset is read from the rows where its anchor field has a value:
the diary from the rows with a diary date, the end-of-visit answers from the rows with a
visit date, and so on.

The mapping file (TOML, validated by `RedcapMapping`) says which REDCap field holds what: the
record id, the site, the randomization group (and which group is which sequence of the
protocol), the dates and status, each diary item (with a linear rescaling when the REDCap
scale differs), each side effect, the visit answers, the dose levels and the adverse events.
The planned schedule (``periods``) is not in REDCap: it follows from the protocol, the first
baseline day and the sequence, as the simulator and the live system make it.

Everything wrong is collected as `RedcapProblem` (file, line, record, field, what is wrong) and
raised together as `RedcapError`. Pure: no Django.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, available_timezones

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from diarytrial.dataset import TABLES_BY_NAME, TrialDataset, validate_dataset
from diarytrial.dataset.tables import (
    AE_ACTIONS,
    AE_OUTCOMES,
    GUESSES,
    RELATEDNESS,
    SEVERITIES,
    STATUSES,
    UNPLEASANTNESS,
)
from diarytrial.protocol import PGIC_LABELS, ProtocolFile, make_schedule, window_bounds
from diarytrial.protocol.schema import Protocol
from diarytrial.protocol.visits import periods_closed, visit_calendar
from diarytrial.textfile import TextFileError, decode_utf8

GENERATOR = "diarytrial import redcap"
MAX_PROBLEMS = 50
"""Problems reported at most; the rest are counted."""

# ---------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class RedcapProblem:
    """One thing wrong: the file, its line (the header is line 1), the record, the field."""

    file: str
    line: int | None
    message: str
    record: str | None = None
    field: str | None = None

    def describe(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class RedcapError(ValueError):
    """REDCap files or a mapping that cannot be imported, with every problem found."""

    def __init__(self, problems: list[RedcapProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.describe() for p in problems))


class _Problems:
    """Collects problems; `check` raises them all at a point where going on makes no sense."""

    def __init__(self) -> None:
        self.found: list[RedcapProblem] = []

    def add(
        self,
        file: str,
        line: int | None,
        message: str,
        *,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.found.append(RedcapProblem(file, line, message, record, field))

    def check(self) -> None:
        if self.found:
            raise RedcapError(self.found)


def _read_text(path: Path, what: str) -> str:
    try:
        if path.is_dir():
            raise RedcapError([RedcapProblem(str(path), None, "a folder, not a file")])
        data = path.read_bytes()
    except FileNotFoundError:
        raise RedcapError([RedcapProblem(str(path), None, "no such file")]) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise RedcapError([RedcapProblem(str(path), None, f"cannot read it ({reason})")]) from None
    try:
        text = decode_utf8(data, what=what)  # a byte-order mark, as REDCap writes, is dropped
    except TextFileError as error:
        raise RedcapError([RedcapProblem(str(path), None, str(error))]) from None
    if not text.strip():
        raise RedcapError(
            [RedcapProblem(str(path), None, f"the file is empty; export the {what} again")]
        )
    return text


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Each CSV row with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        rows.append((line, row))


# ---------------------------------------------------------------------------------------------
# The data dictionary

_DICTIONARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Variable / Field Name", "field_name"),
    ("Form Name", "form_name"),
    ("Section Header", "section_header"),
    ("Field Type", "field_type"),
    ("Field Label", "field_label"),
    ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    ("Field Note", "field_note"),
    ("Text Validation Type OR Show Slider Number", "text_validation_type_or_show_slider_number"),
    ("Text Validation Min", "text_validation_min"),
    ("Text Validation Max", "text_validation_max"),
    ("Identifier?", "identifier"),
    ("Branching Logic (Show field only if...)", "branching_logic"),
    ("Required Field?", "required_field"),
    ("Custom Alignment", "custom_alignment"),
    ("Question Number (surveys only)", "question_number"),
    ("Matrix Group Name", "matrix_group_name"),
    ("Matrix Ranking?", "matrix_ranking"),
    ("Field Annotation", "field_annotation"),
)
"""The dictionary's columns as the Data Dictionary page names them, and as the API's metadata
export does (PyCap's ``export_metadata(format_type="csv")``)."""

_NEEDED_COLUMNS = ("field_name", "form_name", "field_type", "field_label")
FIELD_TYPES = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "slider",
    "file",
    "descriptive",
    "sql",
)
CHOICE_TYPES = ("dropdown", "radio", "checkbox", "sql")
_IMPLIED_CHOICES = {
    "yesno": (("1", "Yes"), ("0", "No")),
    "truefalse": (("1", "True"), ("0", "False")),
}
CHECKED = (("1", "Checked"), ("0", "Unchecked"))


@dataclass(frozen=True)
class RedcapField:
    """One field of the data dictionary."""

    name: str
    form: str
    type: str
    label: str
    choices: tuple[tuple[str, str], ...]
    """(code, label) of a dropdown, radio, checkbox, yes/no or true/false field."""
    validation: str
    line: int

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _label in self.choices)

    @property
    def has_choices(self) -> bool:
        return bool(self.choices) and self.type != "checkbox"


@dataclass(frozen=True)
class DataDictionary:
    """A REDCap data dictionary: its fields in order; the first one is the record id."""

    source: str
    fields: tuple[RedcapField, ...]

    @cached_property
    def by_name(self) -> dict[str, RedcapField]:
        return {f.name: f for f in self.fields}

    @property
    def record_id(self) -> str:
        return self.fields[0].name

    @cached_property
    def forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.form for f in self.fields))


def read_data_dictionary(path: str | Path) -> DataDictionary:
    """Read a REDCap data dictionary CSV (from the Data Dictionary page or the API)."""
    path = Path(path)
    source = str(path)
    rows = _csv_rows(_read_text(path, "data dictionary"))
    problems = _Problems()
    header_line, header = rows[0]
    names = {long: short for long, short in _DICTIONARY_COLUMNS}
    canonical = [names.get(h.strip(), h.strip()) for h in header]
    missing = [c for c in _NEEDED_COLUMNS if c not in canonical]
    if missing:
        wanted = ", ".join(f'"{long}"' for long, short in _DICTIONARY_COLUMNS if short in missing)
        problems.add(
            source,
            header_line,
            f"not a REDCap data dictionary: it lacks the column(s) {wanted}; download it from "
            "the project's Data Dictionary page",
        )
        problems.check()
    position = {name: k for k, name in enumerate(canonical)}
    fields: list[RedcapField] = []
    seen: dict[str, int] = {}
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.add(source, line, f"{len(row)} cells where the header has {len(header)}")
            continue

        def cell(name: str, row: list[str] = row) -> str:
            return row[position[name]].strip() if name in position else ""

        name, kind = cell("field_name"), cell("field_type")
        if not name:
            problems.add(source, line, "a field without a name", field="Variable / Field Name")
            continue
        if name in seen:
            problems.add(
                source, line, f"the field is also defined on line {seen[name]}", field=name
            )
            continue
        seen[name] = line
        if kind not in FIELD_TYPES:
            problems.add(
                source,
                line,
                f"unknown field type {kind!r} (REDCap's: {', '.join(FIELD_TYPES)})",
                field=name,
            )
            continue
        choices: tuple[tuple[str, str], ...] = _IMPLIED_CHOICES.get(kind, ())
        if kind in CHOICE_TYPES and kind != "sql":
            parsed = _parse_choices(cell("select_choices_or_calculations"))
            if parsed is None:
                problems.add(
                    source,
                    line,
                    "its choices are not 'code, label | code, label'",
                    field=name,
                )
                continue
            choices = parsed
        fields.append(
            RedcapField(
                name=name,
                form=cell("form_name"),
                type=kind,
                label=_plain(cell("field_label")),
                choices=choices,
                validation=cell("text_validation_type_or_show_slider_number"),
                line=line,
            )
        )
    if not fields and not problems.found:
        problems.add(source, None, "the data dictionary lists no fields")
    problems.check()
    return DataDictionary(source=source, fields=tuple(fields))


def _parse_choices(text: str) -> tuple[tuple[str, str], ...] | None:
    choices: list[tuple[str, str]] = []
    for part in text.split("|"):
        code, comma, label = part.partition(",")
        if not comma or not code.strip():
            return None
        choices.append((code.strip(), _plain(label)))
    return tuple(choices) or None


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _plain(text: str) -> str:
    """A label as REDCap's labels export shows it: without HTML tags, spaces collapsed."""
    return _SPACE.sub(" ", _TAG.sub("", text)).strip()


# ---------------------------------------------------------------------------------------------
# The records


@dataclass(frozen=True)
class _Column:
    """A column REDCap may export: its raw header, its labels header, and what it holds."""

    name: str
    label: str
    kind: Literal["record", "special", "timestamp", "complete", "field", "checkbox"]
    field: RedcapField | None = None
    choice: str | None = None


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
                        _checkbox_column(item.name, code),
                        f"{item.label} (choice={label})",
                        "checkbox",
                        item,
                        code,
                    )
                    for code, label in item.choices
                ]
            else:
                columns.append(_Column(item.name, item.label, "field", item))
        columns.append(_Column(f"{form}_complete", "Complete?", "complete"))
    return columns


def _checkbox_column(name: str, code: str) -> str:
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
    rows = _csv_rows(_read_text(path, "records export"))
    problems = _Problems()
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
        problems.add(source, header_line, matched)
        raise RedcapError(problems.found)
    by_name = {c.name: k for k, c in enumerate(matched)}
    read: list[RecordRow] = []
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.add(source, line, f"{len(row)} cells where the header has {len(header)}")
            continue
        record = row[0].strip()
        if not record:
            problems.add(source, line, "a row without a record id", field=dictionary.record_id)
            continue
        values: dict[str, str] = {}
        for column, cell in zip(matched, row, strict=True):
            value = _raw_value(column, cell.strip(), export)
            if value is None:
                allowed = _allowed(column, export)
                problems.add(
                    source,
                    line,
                    f"{cell.strip()!r} is not one of the field's choices ({allowed})",
                    record=record,
                    field=column.name,
                )
                continue
            values[column.name] = value
        event = values.pop("redcap_event_name", "") if "redcap_event_name" in by_name else ""
        arm_match = (_ARM_RAW if export == "raw" else _ARM_LABEL).search(event)
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
        label = _plain(cell)
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
    if not cell:
        return ""
    choices: tuple[tuple[str, str], ...] = ()
    if column.kind == "checkbox":
        choices = CHECKED
    elif column.kind == "complete":
        choices = _COMPLETE
    elif column.field is not None and column.field.has_choices:
        choices = column.field.choices
    if not choices:
        return cell
    if export == "raw":
        return cell if cell in {code for code, _label in choices} else None
    for code, label in choices:
        if _plain(cell) == label:
            return code
    return None


def _allowed(column: _Column, export: str) -> str:
    choices: tuple[tuple[str, str], ...]
    if column.kind == "checkbox":
        choices = CHECKED
    elif column.kind == "complete":
        choices = _COMPLETE
    else:
        choices = column.field.choices if column.field is not None else ()
    shown = [code if export == "raw" else label for code, label in choices]
    return ", ".join(shown)


# ---------------------------------------------------------------------------------------------
# The mapping file

FieldName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _field_shorthand(value: Any) -> Any:
    """``pain = "pain_field"`` is short for ``pain = { field = "pain_field" }``."""
    return {"field": value} if isinstance(value, str) else value


class Coded(_Model):
    """A REDCap field and, optionally, what each of its codes means here."""

    field: FieldName
    values: dict[str, str] | None = None
    """REDCap code -> value in the dataset; without it the code itself is the value."""


CodedField = Annotated[Coded, BeforeValidator(_field_shorthand)]


class ItemField(_Model):
    """The REDCap field of a diary item, and the REDCap values of the item's ends."""

    field: FieldName
    scale: tuple[float, float] | None = None
    """The REDCap values at the item's lowest and highest points, e.g. [0, 10] for a 0-10
    field feeding a 0-100 item, [100, 0] for a reversed one; the values are rescaled linearly.
    Without it the REDCap values are the item's values."""

    @field_validator("scale")
    @classmethod
    def _distinct_ends(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] == value[1]:
            raise ValueError("the two ends of the scale must differ")
        return value


ItemSpec = Annotated[ItemField, BeforeValidator(_field_shorthand)]


def _zone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError(f"{value!r} is not an IANA time zone (such as Europe/London)")
    return value


Zone = Annotated[str, BeforeValidator(lambda v: _zone(v) if isinstance(v, str) else v)]


class RedcapSettings(_Model):
    """How the export writes dates and times."""

    date_format: Literal["YMD", "MDY", "DMY"] = "YMD"
    """The order of dates in the export (REDCap's default is YMD, 2026-01-31)."""
    server_timezone: Zone = "UTC"
    """The time zone of the REDCap server, in which survey timestamps are written."""


class ParticipantsMap(_Model):
    """The fields of the participants table (one value per record)."""

    record_id: FieldName | None = None
    """Default: the data dictionary's first field."""
    site: CodedField | None = None
    site_name: Slug | None = None
    """The site of every participant, when REDCap has no site field."""
    timezone: Zone
    start_date: FieldName
    randomized_on: FieldName | None = None
    status: CodedField | None = None
    withdrawn_on: FieldName | None = None
    withdrawal_reason: FieldName | None = None
    age: FieldName | None = None
    opioid_use: FieldName | None = None

    @model_validator(mode="after")
    def _one_site(self) -> ParticipantsMap:
        if (self.site is None) == (self.site_name is None):
            raise ValueError("give either site (a REDCap field) or site_name (one site for all)")
        return self


class RandomizationMap(_Model):
    """Where the allocated sequence is: a group field, or the arm of a longitudinal project."""

    group: CodedField | None = None
    by_arm: bool = False
    sequences: dict[str, str] = Field(min_length=1)
    """Group code (or arm number) -> the protocol's sequence, arm ids joined by '-'."""

    @model_validator(mode="after")
    def _one_source(self) -> RandomizationMap:
        if (self.group is None) == (not self.by_arm):
            raise ValueError("give either group (a REDCap field) or by_arm = true")
        if self.group is not None and self.group.values is not None:
            raise ValueError("the group's codes map to sequences in 'sequences', not 'values'")
        return self


class SideEffectField(_Model):
    """One side effect of the protocol: a checkbox choice or a yes/no field."""

    id: Slug
    field: FieldName
    choice: str | None = None
    """The checkbox code; none for a yes/no field."""
    unpleasantness: FieldName


class DiaryMap(_Model):
    """The nightly diary: one REDCap row per diary date."""

    date: FieldName
    submitted_at: FieldName | None = None
    """A date-time field or the form's survey timestamp (``<form>_timestamp``)."""
    items: dict[str, ItemSpec] = Field(min_length=1)
    side_effects: list[SideEffectField] = []
    unpleasantness_values: dict[str, str] | None = None
    """Code of the unpleasantness fields -> not_at_all, somewhat or very."""


class VisitsMap(_Model):
    """The end-of-visit answers: the PGIC and the blinding guess."""

    date: FieldName
    number: CodedField
    pgic: CodedField | None = None
    guess: CodedField | None = None


class DosesMap(_Model):
    """Dose level changes (the first one is the start level)."""

    date: FieldName
    level: CodedField
    reason: FieldName | None = None


class AdverseEventsMap(_Model):
    """The adverse-event form, one REDCap row per event."""

    onset: FieldName
    term: FieldName
    end: FieldName | None = None
    side_effect: CodedField | None = None
    severity: CodedField
    serious: FieldName | None = None
    related: CodedField
    action: CodedField
    outcome: CodedField


class RedcapMapping(_Model):
    """Which REDCap field holds what; see ``examples/redcap/mapping.toml``."""

    redcap: RedcapSettings = RedcapSettings()
    participants: ParticipantsMap
    randomization: RandomizationMap
    diary: DiaryMap
    visits: VisitsMap | None = None
    doses: DosesMap | None = None
    adverse_events: AdverseEventsMap | None = None

    def references(self) -> list[tuple[str, str, Coded | None]]:
        """Every REDCap field named: (path in the mapping, field, its coding if any)."""
        found: list[tuple[str, str, Coded | None]] = []

        def walk(prefix: str, model: BaseModel) -> None:
            for name in type(model).model_fields:
                value = getattr(model, name)
                path = f"{prefix}.{name}"
                if isinstance(value, Coded):
                    found.append((f"{path}.field", value.field, value))
                elif isinstance(value, ItemField):
                    found.append((f"{path}.field", value.field, None))
                elif isinstance(value, BaseModel):
                    walk(path, value)
                elif isinstance(value, dict) and name == "items":
                    for key, item in value.items():
                        found.append((f"{path}.{key}.field", item.field, None))
                elif isinstance(value, list):
                    for k, entry in enumerate(value):
                        walk(f"{path}[{k}]", entry)
                elif isinstance(value, str) and name in _FIELD_KEYS:
                    found.append((path, value, None))

        for section in ("participants", "randomization", "diary", "visits", "doses"):
            model = getattr(self, section)
            if model is not None:
                walk(section, model)
        if self.adverse_events is not None:
            walk("adverse_events", self.adverse_events)
        return found


_FIELD_KEYS = {
    "record_id",
    "start_date",
    "randomized_on",
    "withdrawn_on",
    "withdrawal_reason",
    "age",
    "opioid_use",
    "date",
    "submitted_at",
    "field",
    "unpleasantness",
    "reason",
    "onset",
    "term",
    "end",
    "serious",
}


def load_mapping(path: str | Path) -> RedcapMapping:
    """Read and validate a mapping file; RedcapError names the line or field that is wrong."""
    path = Path(path)
    source = str(path)
    text = _read_text(path, "mapping file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise RedcapError(
            [
                RedcapProblem(
                    source,
                    int(found.group(1)) if found else None,
                    f"not valid TOML: {message}; see https://toml.io",
                )
            ]
        ) from None
    except RecursionError:
        raise RedcapError([RedcapProblem(source, None, "not a mapping: nested too deep")]) from None
    try:
        return RedcapMapping.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False):
            where = ".".join(
                str(p)
                for p in detail["loc"]
                if not (isinstance(p, str) and ("function-" in p or "[" in p))
            )
            kind = detail["type"]
            if kind == "extra_forbid" or kind == "extra_forbidden":
                message = "unknown key; check its spelling against examples/redcap/mapping.toml"
            elif kind == "missing":
                message = "this key is required; add it"
            else:
                message = detail["msg"].removeprefix("Value error, ")
            problems.append(RedcapProblem(source, None, message, field=where or None))
        raise RedcapError(problems) from None


# ---------------------------------------------------------------------------------------------
# The mapping against the dictionary and the protocol


def check_mapping(
    mapping: RedcapMapping, dictionary: DataDictionary, protocol: Protocol, source: str
) -> list[RedcapProblem]:
    """What in `mapping` the dictionary or the protocol contradicts."""
    problems = _Problems()
    forms = set(dictionary.forms)
    for path, name, coded in mapping.references():
        known = name in dictionary.by_name
        timestamp = name.endswith("_timestamp") and name.removesuffix("_timestamp") in forms
        special = name == "redcap_data_access_group"
        if not (known or timestamp or special):
            problems.add(
                source,
                None,
                f"{name!r} is not a field of the data dictionary {dictionary.source}",
                field=path,
            )
            continue
        item = dictionary.by_name.get(name)
        if coded is not None and coded.values is not None and item is not None and item.choices:
            for code in coded.values:
                if code not in item.codes:
                    problems.add(
                        source,
                        None,
                        f"{code!r} is not a code of {name} ({', '.join(item.codes)})",
                        field=path.removesuffix(".field") + ".values",
                    )
    allowed = _allowed_values(mapping, protocol)
    for path, coded in _codings(mapping):
        if coded.values is None:
            continue
        values = allowed[path]
        if not values:  # any text, such as a site's code
            continue
        for code, value in coded.values.items():
            if value not in values:
                problems.add(
                    source,
                    None,
                    f"{value!r} (for code {code!r}) must be one of {', '.join(values)}",
                    field=f"{path}.values",
                )
    items = [item.id for item in protocol.diary.items]
    for item_id in mapping.diary.items:
        if item_id not in items:
            problems.add(
                source,
                None,
                f"not a diary item of the protocol ({', '.join(items)})",
                field=f"diary.items.{item_id}",
            )
    effects = [effect.id for effect in protocol.diary.side_effects]
    for k, effect in enumerate(mapping.diary.side_effects):
        path = f"diary.side_effects[{k}]"
        if effect.id not in effects:
            problems.add(
                source,
                None,
                f"{effect.id!r} is not a side effect of the protocol ({', '.join(effects)})",
                field=f"{path}.id",
            )
        item = dictionary.by_name.get(effect.field)
        if item is None:
            continue
        if item.type == "checkbox":
            if effect.choice not in item.codes:
                problems.add(
                    source,
                    None,
                    f"{effect.field} is a checkbox: give the choice, one of "
                    + ", ".join(item.codes),
                    field=f"{path}.choice",
                )
        elif item.type in _IMPLIED_CHOICES:
            if effect.choice is not None:
                problems.add(
                    source, None, f"{effect.field} is a yes/no field: no choice", field=path
                )
        else:
            problems.add(
                source,
                None,
                f"{effect.field} is a {item.type} field; a side effect is a checkbox choice or "
                "a yes/no field",
                field=f"{path}.field",
            )
    if mapping.diary.unpleasantness_values is not None:
        for code, value in mapping.diary.unpleasantness_values.items():
            if value not in UNPLEASANTNESS:
                problems.add(
                    source,
                    None,
                    f"{value!r} (for code {code!r}) must be one of {', '.join(UNPLEASANTNESS)}",
                    field="diary.unpleasantness_values",
                )
    sequences = {"-".join(s) for s in protocol.sequences}
    for code, sequence in mapping.randomization.sequences.items():
        if sequence not in sequences:
            problems.add(
                source,
                None,
                f"{sequence!r} (for {code!r}) is not a sequence of the protocol "
                f"({', '.join(sorted(sequences))})",
                field="randomization.sequences",
            )
    return problems.found


def _codings(mapping: RedcapMapping) -> list[tuple[str, Coded]]:
    found: list[tuple[str, Coded]] = []
    p = mapping.participants
    for name, coded in (("site", p.site), ("status", p.status)):
        if coded is not None:
            found.append((f"participants.{name}", coded))
    if mapping.visits is not None:
        v = mapping.visits
        for name, coded in (("number", v.number), ("pgic", v.pgic), ("guess", v.guess)):
            if coded is not None:
                found.append((f"visits.{name}", coded))
    if mapping.doses is not None:
        found.append(("doses.level", mapping.doses.level))
    if mapping.adverse_events is not None:
        ae = mapping.adverse_events
        for name in ("side_effect", "severity", "related", "action", "outcome"):
            coded = getattr(ae, name)
            if coded is not None:
                found.append((f"adverse_events.{name}", coded))
    return found


def _allowed_values(mapping: RedcapMapping, protocol: Protocol) -> dict[str, tuple[str, ...]]:
    calendar = visit_calendar(protocol)
    return {
        "participants.site": (),
        "participants.status": STATUSES,
        "visits.number": tuple(str(v.number) for v in calendar.answer_visits),
        "visits.pgic": tuple(str(k) for k in range(1, len(PGIC_LABELS) + 1)),
        "visits.guess": GUESSES,
        "doses.level": tuple(protocol.dosing.levels),
        "adverse_events.side_effect": tuple(e.id for e in protocol.diary.side_effects),
        "adverse_events.severity": SEVERITIES,
        "adverse_events.related": RELATEDNESS,
        "adverse_events.action": AE_ACTIONS,
        "adverse_events.outcome": AE_OUTCOMES,
    }


# ---------------------------------------------------------------------------------------------
# The dataset


@dataclass(frozen=True)
class RedcapExport:
    """The two REDCap files of one project: its data dictionary and its records."""

    dictionary: DataDictionary
    records: RedcapRecords


def read_redcap_export(dictionary: str | Path, records: str | Path) -> RedcapExport:
    """Read the data dictionary and the records export (raw or labels) that goes with it."""
    read = read_data_dictionary(dictionary)
    return RedcapExport(read, read_records(records, read))


@dataclass
class _Rows:
    """A table's rows as they are built, each with the REDCap line and record it came from."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    records: list[str] = field(default_factory=list)

    def add(self, row: dict[str, Any], line: int | None, record: str) -> None:
        self.rows.append(row)
        self.lines.append(line)
        self.records.append(record)


class _Reader:
    """Values of the mapped fields of one row, as dates, numbers and dataset codes."""

    def __init__(self, mapping: RedcapMapping, source: str, problems: _Problems) -> None:
        self.settings = mapping.redcap
        self.source = source
        self.problems = problems

    def text(self, row: RecordRow, name: str | None) -> str:
        return row.values.get(name, "") if name else ""

    def bad(self, row: RecordRow, name: str, message: str) -> None:
        self.problems.add(self.source, row.line, message, record=row.record, field=name)

    def date(self, row: RecordRow, name: str | None) -> dt.date | None:
        text = self.text(row, name)
        if not text or name is None:
            return None
        parsed = _parse_date(text, self.settings.date_format)
        if parsed is None:
            self.bad(row, name, f"{text!r} is not a date ({_DATE_HINT[self.settings.date_format]})")
        return parsed

    def instant(self, row: RecordRow, name: str | None) -> dt.datetime | None:
        text = self.text(row, name)
        if not text or name is None or text == "[not completed]":
            return None
        day, _space, clock = text.partition(" ")
        date = _parse_date(day, self.settings.date_format)
        try:
            time = dt.time.fromisoformat(clock) if date is not None else None
        except ValueError:
            time = None
        if date is None or time is None or time.tzinfo is not None:
            hint = _DATE_HINT[self.settings.date_format] + " HH:MM[:SS]"
            self.bad(row, name, f"{text!r} is not a date and time ({hint})")
            return None
        local = dt.datetime.combine(date, time).replace(
            tzinfo=ZoneInfo(self.settings.server_timezone)
        )
        return local.astimezone(dt.UTC)

    def number(self, row: RecordRow, name: str | None) -> float | None:
        text = self.text(row, name)
        if not text or name is None:
            return None
        try:
            value = float(text.replace(",", ".")) if text.count(",") == 1 else float(text)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            self.bad(row, name, f"{text!r} is not a number")
            return None
        return value

    def flag(self, row: RecordRow, name: str | None) -> bool | None:
        text = self.text(row, name)
        if not text or name is None:
            return None
        if text not in {"0", "1"}:
            self.bad(row, name, f"{text!r} is not yes (1) or no (0)")
            return None
        return text == "1"

    def coded(self, row: RecordRow, coded: Coded | None, allowed: Iterable[str] = ()) -> str | None:
        if coded is None:
            return None
        text = self.text(row, coded.field)
        if not text:
            return None
        value = coded.values.get(text) if coded.values is not None else text
        allowed = tuple(allowed)
        if value is None or (allowed and value not in allowed):
            what = ", ".join(coded.values) if coded.values is not None else ", ".join(allowed)
            self.bad(
                row,
                coded.field,
                f"{text!r} is not one of the values the mapping knows ({what})",
            )
            return None
        return value


_DATE_HINT = {"YMD": "YYYY-MM-DD", "MDY": "MM-DD-YYYY", "DMY": "DD-MM-YYYY"}
_DATE = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})$")


def _parse_date(text: str, order: str) -> dt.date | None:
    match = _DATE.match(text.strip())
    if match is None:
        return None
    a, b, c = (int(g) for g in match.groups())
    year, month, day = {"YMD": (a, b, c), "MDY": (c, a, b), "DMY": (c, b, a)}[order]
    if year < 1000:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def redcap_dataset(
    export: RedcapExport, mapping: RedcapMapping, protocol: ProtocolFile, *, mapping_source: str
) -> TrialDataset:
    """The trial dataset the REDCap `export` holds, read through `mapping` under `protocol`.

    Raises RedcapError listing every problem: mapped fields the dictionary lacks, values the
    mapping does not know, dates that do not parse, a record on two arms or with two values of
    a participant's field, and the dataset's own checks (a diary date outside the schedule...)
    traced back to the REDCap line they came from.
    """
    spec = protocol.protocol
    problems = _Problems()
    problems.found.extend(check_mapping(mapping, export.dictionary, spec, mapping_source))
    problems.check()
    records = export.records
    reader = _Reader(mapping, records.source, problems)
    by_record: dict[str, list[RecordRow]] = {}
    for row in records.rows:
        by_record.setdefault(row.record, []).append(row)
    _check_arms(by_record, records.source, problems)
    if mapping.randomization.by_arm and not any(row.arm for row in records.rows):
        problems.add(
            mapping_source,
            None,
            "by_arm = true reads the sequence from the arm in the event names, but the records "
            "have no events (no redcap_event_name column): name the group field instead",
            field="randomization.by_arm",
        )
        problems.check()
    tables = _Tables()
    people = _participants(by_record, mapping, spec, reader, tables)
    _periods(people, spec, tables)
    _diary(records.rows, mapping, spec, people, reader, tables)
    _visits(records.rows, mapping, spec, people, reader, tables)
    _doses(records.rows, mapping, spec, reader, tables)
    _adverse_events(records.rows, mapping, spec, people, reader, tables)
    problems.check()
    order = {record: k for k, record in enumerate(people)}
    dataset = tables.dataset(protocol, order)
    _trace(validate_dataset(dataset), tables, mapping, records.source, problems)
    problems.check()
    return dataset


def import_redcap(
    dictionary: str | Path,
    records: str | Path,
    mapping: str | Path,
    protocol: ProtocolFile,
) -> tuple[TrialDataset, RedcapRecords]:
    """Read the REDCap files and the mapping file; the dataset and the records as read."""
    loaded = load_mapping(mapping)
    export = read_redcap_export(dictionary, records)
    return redcap_dataset(export, loaded, protocol, mapping_source=str(mapping)), export.records


def _check_arms(by_record: dict[str, list[RecordRow]], source: str, problems: _Problems) -> None:
    """A record lives on one arm: its first row's arm; a row on another arm is a problem."""
    for record, rows in by_record.items():
        on_arm = [row for row in rows if row.arm is not None]
        if not on_arm:
            continue
        first = on_arm[0]
        other = next((row for row in on_arm if row.arm != first.arm), None)
        if other is not None:
            problems.add(
                source,
                other.line,
                f"the record is on arm {first.arm} (line {first.line}, {first.event}) and here "
                f"on arm {other.arm} ({other.event}): one record id belongs to one arm; merge "
                "or renumber the records in REDCap",
                record=record,
                field="redcap_event_name",
            )


@dataclass(frozen=True)
class _Person:
    sequence: tuple[str, ...] | None
    start: dt.date
    timezone: ZoneInfo
    withdrawn_on: dt.date | None


class _Tables:
    def __init__(self) -> None:
        self.rows: dict[str, _Rows] = {
            name: _Rows()
            for name in (
                "participants",
                "periods",
                "diary",
                "side_effects",
                "doses",
                "adverse_events",
                "pgic",
                "blinding",
            )
        }
        self.sorted_lines: dict[str, list[int | None]] = {}
        self.sorted_records: dict[str, list[str]] = {}

    def dataset(self, protocol: ProtocolFile, order: Mapping[str, int]) -> TrialDataset:
        frames: dict[str, pd.DataFrame] = {}
        for name, built in self.rows.items():
            table = TABLES_BY_NAME[name]
            frame = pd.DataFrame(built.rows)
            for column in table.column_names:
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


def _participant_value(
    rows: list[RecordRow], name: str | None, reader: _Reader
) -> RecordRow | None:
    """The row that holds the record's value of `name`; a second, different value is a
    problem."""
    if name is None:
        return None
    found: RecordRow | None = None
    for row in rows:
        value = row.values.get(name, "")
        if not value:
            continue
        if found is None:
            found = row
        elif found.values[name] != value:
            reader.bad(
                row,
                name,
                f"{value!r} here but {found.values[name]!r} on line {found.line}: a "
                "participant's field has one value",
            )
    return found


def _participants(
    by_record: dict[str, list[RecordRow]],
    mapping: RedcapMapping,
    protocol: Protocol,
    reader: _Reader,
    tables: _Tables,
) -> dict[str, _Person]:
    p = mapping.participants
    people: dict[str, _Person] = {}
    zone = ZoneInfo(p.timezone)
    randomization = mapping.randomization
    for record, rows in by_record.items():
        first = rows[0]

        def held(name: str | None, rows: list[RecordRow] = rows) -> RecordRow:
            return _participant_value(rows, name, reader) or rows[0]

        start_row = _participant_value(rows, p.start_date, reader)
        start = reader.date(start_row, p.start_date) if start_row is not None else None
        if start_row is None:
            reader.bad(first, p.start_date, "the record has no first baseline day")
        if start is None:
            continue
        if randomization.group is not None:
            group_row = held(randomization.group.field)
            code = reader.text(group_row, randomization.group.field)
            line = group_row.line
        else:
            code, line = first.arm or "", first.line
        sequence_text = randomization.sequences.get(code) if code else None
        if code and sequence_text is None:
            reader.bad(
                held(randomization.group.field if randomization.group else None),
                randomization.group.field if randomization.group else "redcap_event_name",
                f"group {code!r} is not in the mapping's randomization.sequences "
                f"({', '.join(randomization.sequences)})",
            )
        sequence = tuple(sequence_text.split("-")) if sequence_text else None
        site = reader.coded(held(p.site.field), p.site) if p.site is not None else p.site_name
        withdrawn_on = reader.date(held(p.withdrawn_on), p.withdrawn_on)
        status = reader.coded(held(p.status.field), p.status, STATUSES) if p.status else None
        if status is None:
            status = "withdrawn" if withdrawn_on else ("randomized" if sequence else "enrolled")
        age = reader.number(held(p.age), p.age)
        if age is not None and not age.is_integer():
            reader.bad(held(p.age), p.age or "", f"{age:g} is not a whole number of years")
            age = None
        opioid = reader.flag(held(p.opioid_use), p.opioid_use)
        reason = reader.text(held(p.withdrawal_reason), p.withdrawal_reason) or None
        tables.rows["participants"].add(
            {
                "participant_id": record,
                "site": site,
                "sequence": sequence_text,
                "start_date": start,
                "randomized_on": reader.date(held(p.randomized_on), p.randomized_on),
                "timezone": p.timezone,
                "status": status,
                "withdrawn_on": withdrawn_on,
                "withdrawal_reason": reason,
                "age": None if age is None else int(age),
                "opioid_use": bool(opioid),
            },
            line,
            record,
        )
        people[record] = _Person(sequence, start, zone, withdrawn_on)
    return people


def _periods(people: dict[str, _Person], protocol: Protocol, tables: _Tables) -> None:
    for record, person in people.items():
        if person.sequence is None or person.sequence not in protocol.sequences:
            continue
        for phase in make_schedule(protocol, person.sequence, person.start).phases:
            tables.rows["periods"].add(
                {
                    "participant_id": record,
                    "phase": phase.index,
                    "kind": phase.kind,
                    "period": phase.period,
                    "block": phase.block,
                    "arm": phase.arm,
                    "condition": phase.condition,
                    "start": phase.start,
                    "end": phase.end,
                },
                None,
                record,
            )


def _diary(
    rows: Iterable[RecordRow],
    mapping: RedcapMapping,
    protocol: Protocol,
    people: dict[str, _Person],
    reader: _Reader,
    tables: _Tables,
) -> None:
    diary = mapping.diary
    items = {item.id: item for item in protocol.diary.items}
    item_order = {item.id: k for k, item in enumerate(protocol.diary.items)}
    seen: dict[tuple[str, dt.date], int] = {}
    for row in rows:
        day = reader.date(row, diary.date)
        person = people.get(row.record)
        if day is None or person is None:
            continue
        if (row.record, day) in seen:
            reader.bad(
                row,
                diary.date,
                f"a second diary for {day.isoformat()} (the first is on line "
                f"{seen[(row.record, day)]}); keep one per night",
            )
            continue
        seen[(row.record, day)] = row.line
        baseline_end = person.start + dt.timedelta(days=protocol.design.baseline_days - 1)
        if person.sequence is None and day > baseline_end:
            group = mapping.randomization.group
            reader.bad(
                row,
                diary.date,
                f"a diary after the baseline ({day.isoformat()}), but the record has no "
                "randomization group"
                + (f" ({group.field})" if group is not None else " (no arm in its events)"),
            )
            continue
        opens, closes = window_bounds(day, person.timezone, protocol.diary)
        submitted = reader.instant(row, diary.submitted_at)
        # Without a timestamp, the entry is taken as made when its window opened: the
        # earliest moment the diary of that night could be filled.
        at = submitted if submitted is not None else opens
        late = submitted is not None and submitted >= closes
        for item_id, spec in diary.items.items():
            value = reader.number(row, spec.field)
            if value is None:
                continue
            item = items[item_id]
            if spec.scale is not None:
                low, high = spec.scale
                if not min(low, high) <= value <= max(low, high):
                    reader.bad(
                        row, spec.field, f"{value:g} is outside the field's scale {low:g}-{high:g}"
                    )
                    continue
                span = item.highest - item.lowest
                value = round(item.lowest + (value - low) * span / (high - low), 6)
            elif not item.lowest <= value <= item.highest:
                reader.bad(
                    row,
                    spec.field,
                    f"{value:g} is outside the item's scale {item.lowest}-{item.highest}; "
                    "give the field's scale in the mapping (diary.items.<item>.scale)",
                )
                continue
            tables.rows["diary"].add(
                {
                    "participant_id": row.record,
                    "diary_date": day,
                    "item": item_id,
                    "value": value,
                    "submitted_at": at,
                    "late": late,
                    "_item": item_order[item_id],
                },
                row.line,
                row.record,
            )
        for effect in diary.side_effects:
            column = (
                _checkbox_column(effect.field, effect.choice) if effect.choice else effect.field
            )
            if reader.text(row, column) != "1":
                continue
            unpleasant = Coded(field=effect.unpleasantness, values=diary.unpleasantness_values)
            level = reader.coded(row, unpleasant, UNPLEASANTNESS)
            if level is None:
                if not reader.text(row, effect.unpleasantness):
                    reader.bad(
                        row,
                        effect.unpleasantness,
                        f"the side effect {effect.id} is ticked but how unpleasant it was is "
                        "not given",
                    )
                continue
            tables.rows["side_effects"].add(
                {
                    "participant_id": row.record,
                    "diary_date": day,
                    "side_effect": effect.id,
                    "unpleasantness": level,
                },
                row.line,
                row.record,
            )


def _visits(
    rows: Iterable[RecordRow],
    mapping: RedcapMapping,
    protocol: Protocol,
    people: dict[str, _Person],
    reader: _Reader,
    tables: _Tables,
) -> None:
    visits = mapping.visits
    if visits is None:
        return
    calendar = visit_calendar(protocol)
    numbers = tuple(str(v.number) for v in calendar.answer_visits)
    closes = {s: periods_closed(protocol, calendar, s) for s in protocol.sequences}
    for row in rows:
        day = reader.date(row, visits.date)
        person = people.get(row.record)
        if day is None or person is None:
            continue
        number_text = reader.coded(row, visits.number, numbers)
        if number_text is None:
            if not reader.text(row, visits.number.field):
                reader.bad(row, visits.number.field, "the visit's number is not given")
            continue
        number = int(number_text)
        sequence = person.sequence if person.sequence in closes else None
        period = closes[sequence].get(number) if sequence is not None else None
        answers = {
            "participant_id": row.record,
            "visit": number,
            "period": period,
            "answered_on": day,
        }
        scores = tuple(str(k) for k in range(1, len(PGIC_LABELS) + 1))
        score = reader.coded(row, visits.pgic, scores)
        if score is not None:
            tables.rows["pgic"].add({**answers, "score": int(score)}, row.line, row.record)
        guess = reader.coded(row, visits.guess, GUESSES)
        if guess is not None:
            tables.rows["blinding"].add({**answers, "guess": guess}, row.line, row.record)


def _doses(
    rows: Iterable[RecordRow],
    mapping: RedcapMapping,
    protocol: Protocol,
    reader: _Reader,
    tables: _Tables,
) -> None:
    doses = mapping.doses
    if doses is None:
        return
    for row in rows:
        day = reader.date(row, doses.date)
        if day is None:
            continue
        level = reader.coded(row, doses.level, protocol.dosing.levels)
        if level is None:
            if not reader.text(row, doses.level.field):
                reader.bad(row, doses.level.field, "the dose level is not given")
            continue
        tables.rows["doses"].add(
            {
                "participant_id": row.record,
                "effective_on": day,
                "dose_level": level,
                "reason": reader.text(row, doses.reason) or "not given",
            },
            row.line,
            row.record,
        )


def _adverse_events(
    rows: Iterable[RecordRow],
    mapping: RedcapMapping,
    protocol: Protocol,
    people: dict[str, _Person],
    reader: _Reader,
    tables: _Tables,
) -> None:
    events = mapping.adverse_events
    if events is None:
        return
    effects = tuple(e.id for e in protocol.diary.side_effects)
    for row in rows:
        onset = reader.date(row, events.onset)
        if onset is None:
            continue
        values = {
            "severity": reader.coded(row, events.severity, SEVERITIES),
            "related": reader.coded(row, events.related, RELATEDNESS),
            "action": reader.coded(row, events.action, AE_ACTIONS),
            "outcome": reader.coded(row, events.outcome, AE_OUTCOMES),
        }
        term = reader.text(row, events.term)
        for name, value in (*values.items(), ("term", term)):
            coded = getattr(events, name)
            field_name = coded.field if isinstance(coded, Coded) else coded
            if (value is None or value == "") and not reader.text(row, field_name):
                reader.bad(row, field_name, f"the adverse event's {name} is not given")
        tables.rows["adverse_events"].add(
            {
                "participant_id": row.record,
                "ae_id": None,
                "term": term,
                "side_effect": reader.coded(row, events.side_effect, effects),
                "onset_date": onset,
                "end_date": reader.date(row, events.end),
                **values,
                "serious": bool(reader.flag(row, events.serious)),
            },
            row.line,
            row.record,
        )


def _trace(
    issues: Iterable[Any],
    tables: _Tables,
    mapping: RedcapMapping,
    source: str,
    problems: _Problems,
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


__all__ = [
    "DataDictionary",
    "RecordRow",
    "RedcapError",
    "RedcapExport",
    "RedcapField",
    "RedcapMapping",
    "RedcapProblem",
    "RedcapRecords",
    "check_mapping",
    "import_redcap",
    "load_mapping",
    "read_data_dictionary",
    "read_records",
    "read_redcap_export",
    "redcap_dataset",
]
