"""The mapping file: which REDCap field holds what (`RedcapMapping`), read by `load_mapping`,
and `check_mapping`, what in it the data dictionary or the protocol contradicts."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

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
from pydantic_core import ErrorDetails

from diarytrial.dataset.tables import (
    AE_ACTIONS,
    AE_OUTCOMES,
    GUESSES,
    RELATEDNESS,
    SEVERITIES,
    STATUSES,
    UNPLEASANTNESS,
)
from diarytrial.interop.redcap.dictionary import IMPLIED_CHOICES, DataDictionary
from diarytrial.interop.redcap.files import read_text
from diarytrial.interop.redcap.problems import RedcapError, RedcapProblem
from diarytrial.protocol import PGIC_LABELS
from diarytrial.protocol.schema import Protocol
from diarytrial.protocol.visits import visit_calendar

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
                elif isinstance(value, BaseModel):
                    walk(path, value)
                elif isinstance(value, dict) and name == "items":
                    for key, item in value.items():
                        walk(f"{path}.{key}", item)
                elif isinstance(value, list):
                    for k, entry in enumerate(value):
                        walk(f"{path}[{k}]", entry)
                elif isinstance(value, str) and name in _FIELD_KEYS:
                    found.append((path, value, None))

        for section in _SECTIONS:
            model = getattr(self, section)
            if model is not None:
                walk(section, model)
        return found


_SECTIONS = ("participants", "randomization", "diary", "visits", "doses", "adverse_events")
"""The sections that name REDCap fields (``[redcap]`` names none)."""
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
    text = read_text(path, "mapping file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        at = _TOML_POSITION.search(message)
        raise RedcapError.in_file(
            source,
            f"not valid TOML: {_TOML_POSITION.sub('', message)}; see https://toml.io",
            line=int(at.group(1)) if at else None,
        ) from None
    except RecursionError:
        raise RedcapError.in_file(source, "not a mapping: nested too deep") from None
    try:
        return RedcapMapping.model_validate(data)
    except ValidationError as error:
        raise RedcapError(
            [
                RedcapProblem(source, None, _invalid_message(detail), field=_key(detail) or None)
                for detail in error.errors(include_url=False)
            ]
        ) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)")


def _key(detail: ErrorDetails) -> str:
    """The dotted key of a validation error, without pydantic's names of validators."""
    return ".".join(
        str(p) for p in detail["loc"] if not (isinstance(p, str) and ("function-" in p or "[" in p))
    )


def _invalid_message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind in ("extra_forbid", "extra_forbidden"):
        return "unknown key; check its spelling against examples/redcap/mapping.toml"
    if kind == "missing":
        return "this key is required; add it"
    return detail["msg"].removeprefix("Value error, ")


_Found = Iterator[tuple[str, str]]
"""What is wrong, as (the mapping's key, message)."""


def check_mapping(
    mapping: RedcapMapping, dictionary: DataDictionary, protocol: Protocol, source: str
) -> list[RedcapProblem]:
    """What in `mapping` the dictionary or the protocol contradicts."""
    found = [
        *_fields_and_codes(mapping, dictionary),
        *_values(mapping, protocol),
        *_diary(mapping, dictionary, protocol),
        *_sequences(mapping, protocol),
    ]
    return [RedcapProblem(source, None, message, field=key) for key, message in found]


def _fields_and_codes(mapping: RedcapMapping, dictionary: DataDictionary) -> _Found:
    """Each named field must be in the dictionary; each code given must be one of its codes."""
    forms = set(dictionary.forms)
    for path, name, coded in mapping.references():
        known = name in dictionary.by_name
        timestamp = name.endswith("_timestamp") and name.removesuffix("_timestamp") in forms
        special = name == "redcap_data_access_group"
        if not (known or timestamp or special):
            yield path, f"{name!r} is not a field of the data dictionary {dictionary.source}"
            continue
        item = dictionary.by_name.get(name)
        if coded is not None and coded.values is not None and item is not None and item.choices:
            for code in coded.values:
                if code not in item.codes:
                    yield (
                        path.removesuffix(".field") + ".values",
                        f"{code!r} is not a code of {name} ({', '.join(item.codes)})",
                    )


def _values(mapping: RedcapMapping, protocol: Protocol) -> _Found:
    """Each value a code maps to must be one the dataset allows."""
    allowed = _allowed_values(protocol)
    for path, _name, coded in mapping.references():
        key = path.removesuffix(".field")
        if coded is not None and coded.values is not None and key in allowed:
            yield from _outside(coded.values, allowed[key], f"{key}.values")


def _outside(values: dict[str, str], allowed: tuple[str, ...], key: str) -> _Found:
    for code, value in values.items():
        if value not in allowed:
            yield key, f"{value!r} (for code {code!r}) must be one of {', '.join(allowed)}"


def _diary(mapping: RedcapMapping, dictionary: DataDictionary, protocol: Protocol) -> _Found:
    """The diary's items and side effects must be the protocol's, each side effect a
    checkbox choice or a yes/no field."""
    diary = mapping.diary
    items = [item.id for item in protocol.diary.items]
    for item_id in diary.items:
        if item_id not in items:
            yield f"diary.items.{item_id}", f"not a diary item of the protocol ({', '.join(items)})"
    effects = [effect.id for effect in protocol.diary.side_effects]
    for k, effect in enumerate(diary.side_effects):
        path = f"diary.side_effects[{k}]"
        if effect.id not in effects:
            yield (
                f"{path}.id",
                f"{effect.id!r} is not a side effect of the protocol ({', '.join(effects)})",
            )
        item = dictionary.by_name.get(effect.field)
        if item is None:
            continue
        if item.type == "checkbox":
            if effect.choice not in item.codes:
                yield (
                    f"{path}.choice",
                    f"{effect.field} is a checkbox: give the choice, one of "
                    + ", ".join(item.codes),
                )
        elif item.type in IMPLIED_CHOICES:
            if effect.choice is not None:
                yield path, f"{effect.field} is a yes/no field: no choice"
        else:
            yield (
                f"{path}.field",
                f"{effect.field} is a {item.type} field; a side effect is a checkbox choice or "
                "a yes/no field",
            )
    if diary.unpleasantness_values is not None:
        yield from _outside(
            diary.unpleasantness_values, UNPLEASANTNESS, "diary.unpleasantness_values"
        )


def _sequences(mapping: RedcapMapping, protocol: Protocol) -> _Found:
    sequences = {"-".join(s) for s in protocol.sequences}
    for code, sequence in mapping.randomization.sequences.items():
        if sequence not in sequences:
            yield (
                "randomization.sequences",
                f"{sequence!r} (for {code!r}) is not a sequence of the protocol "
                f"({', '.join(sorted(sequences))})",
            )


def _allowed_values(protocol: Protocol) -> dict[str, tuple[str, ...]]:
    """The values a coded field's codes may map to, by its key (any text for a site's)."""
    calendar = visit_calendar(protocol)
    return {
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
