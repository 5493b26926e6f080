"""The REDCap data dictionary: its fields, their forms, types, labels and choices."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from diarytrial.interop.redcap.files import body_rows, csv_rows, read_text
from diarytrial.interop.redcap.problems import ProblemList, RedcapError

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
IMPLIED_CHOICES = {
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
    rows = csv_rows(read_text(path, "data dictionary"))
    header_line, header = rows[0]
    names = dict(_DICTIONARY_COLUMNS)
    canonical = [names.get(h.strip(), h.strip()) for h in header]
    missing = [c for c in _NEEDED_COLUMNS if c not in canonical]
    if missing:
        wanted = ", ".join(f'"{long}"' for long, short in _DICTIONARY_COLUMNS if short in missing)
        raise RedcapError.in_file(
            source,
            f"not a REDCap data dictionary: it lacks the column(s) {wanted}; download it from "
            "the project's Data Dictionary page",
            line=header_line,
        )
    position = {name: k for k, name in enumerate(canonical)}
    problems = ProblemList()
    fields: list[RedcapField] = []
    seen: dict[str, int] = {}
    for line, row in body_rows(rows, source, problems):
        cells = {name: row[k].strip() for name, k in position.items()}
        name, kind = cells["field_name"], cells["field_type"]
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
        choices: tuple[tuple[str, str], ...] | None = IMPLIED_CHOICES.get(kind, ())
        if kind in CHOICE_TYPES and kind != "sql":
            choices = _parse_choices(cells.get("select_choices_or_calculations", ""))
        if choices is None:
            problems.add(
                source, line, "its choices are not 'code, label | code, label'", field=name
            )
            continue
        fields.append(
            RedcapField(
                name=name,
                form=cells["form_name"],
                type=kind,
                label=plain_label(cells["field_label"]),
                choices=choices,
                validation=cells.get("text_validation_type_or_show_slider_number", ""),
                line=line,
            )
        )
    if not fields and not problems.found:
        problems.add(source, None, "the data dictionary lists no fields")
    problems.check()
    return DataDictionary(source=source, fields=tuple(fields))


def _parse_choices(text: str) -> tuple[tuple[str, str], ...] | None:
    """The (code, label) pairs of ``code, label | code, label``; None when it is not that."""
    choices: list[tuple[str, str]] = []
    for part in text.split("|"):
        code, comma, label = part.partition(",")
        if not comma or not code.strip():
            return None
        choices.append((code.strip(), plain_label(label)))
    return tuple(choices) or None


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def plain_label(text: str) -> str:
    """A label as REDCap's labels export shows it: without HTML tags, spaces collapsed."""
    return _SPACE.sub(" ", _TAG.sub("", text)).strip()
