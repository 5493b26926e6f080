"""The trial dataset a REDCap export holds, read through the mapping under the protocol.

Every part of the dataset is read from the rows where its anchor field has a value: the
participants from each record's rows, the diary from the rows with a diary date, the visit
answers from the rows with a visit date, the dose changes from the rows with a dose date and
the adverse events from the rows with an onset date. The schedule (``periods``) is not in
REDCap: it follows from the protocol, the first baseline day and the sequence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from diarytrial.dataset import TrialDataset, validate_dataset
from diarytrial.dataset.tables import (
    AE_ACTIONS,
    AE_OUTCOMES,
    GUESSES,
    RELATEDNESS,
    SEVERITIES,
    STATUSES,
    UNPLEASANTNESS,
)
from diarytrial.interop.redcap.dictionary import DataDictionary, read_data_dictionary
from diarytrial.interop.redcap.mapping import (
    Coded,
    ItemField,
    RedcapMapping,
    check_mapping,
    load_mapping,
)
from diarytrial.interop.redcap.problems import ProblemList
from diarytrial.interop.redcap.records import (
    RecordRow,
    RedcapRecords,
    checkbox_column,
    read_records,
)
from diarytrial.interop.redcap.tables import DatasetTables, trace_issues
from diarytrial.interop.redcap.values import RowReader
from diarytrial.protocol import PGIC_LABELS, ProtocolFile, make_schedule, window_bounds
from diarytrial.protocol.schema import Item, Protocol
from diarytrial.protocol.visits import periods_closed, visit_calendar


@dataclass(frozen=True)
class RedcapExport:
    """The two REDCap files of one project: its data dictionary and its records."""

    dictionary: DataDictionary
    records: RedcapRecords


def read_redcap_export(dictionary: str | Path, records: str | Path) -> RedcapExport:
    """Read the data dictionary and the records export (raw or labels) that goes with it."""
    read = read_data_dictionary(dictionary)
    return RedcapExport(read, read_records(records, read))


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
    problems = ProblemList()
    problems.found.extend(check_mapping(mapping, export.dictionary, spec, mapping_source))
    problems.check()
    records = export.records
    reader = RowReader(mapping, records.source, problems)
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
    build = _Build(mapping, spec, reader, DatasetTables())
    for record, rows in by_record.items():
        _participant(record, rows, build)
    _periods(build)
    for part in (_diary, _visits, _doses, _adverse_events):
        part(records.rows, build)
    problems.check()
    order = {record: k for k, record in enumerate(build.people)}
    dataset = build.tables.dataset(protocol, order)
    trace_issues(validate_dataset(dataset), build.tables, mapping, records.source, problems)
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


def _check_arms(by_record: dict[str, list[RecordRow]], source: str, problems: ProblemList) -> None:
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
    """What the other tables need to know of a participant."""

    sequence: tuple[str, ...] | None
    start: dt.date
    timezone: ZoneInfo
    withdrawn_on: dt.date | None


@dataclass
class _Build:
    """What every part of the build reads and writes: the mapping, the protocol, the reader
    of mapped values, the tables built so far, and the participants by record id."""

    mapping: RedcapMapping
    protocol: Protocol
    reader: RowReader
    tables: DatasetTables
    people: dict[str, _Person] = field(default_factory=dict)


def _participant_value(
    rows: list[RecordRow], name: str | None, reader: RowReader
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


def _participant(record: str, rows: list[RecordRow], build: _Build) -> None:
    """The participant of `record`, if it has a first baseline day. Each value is read from
    the row of the record that holds it (a record's rows hold it once, or repeat it unchanged)."""
    p, randomization, reader = build.mapping.participants, build.mapping.randomization, build.reader

    def held(name: str | None) -> RecordRow:
        return _participant_value(rows, name, reader) or rows[0]

    start_row = _participant_value(rows, p.start_date, reader)
    if start_row is None:
        reader.bad(rows[0], p.start_date, "the record has no first baseline day")
        return
    start = reader.date(start_row, p.start_date)
    if start is None:
        return
    # The sequence: from the group field, or from the arm of the record's events.
    group_field = randomization.group.field if randomization.group is not None else None
    group_row = held(group_field)
    code = reader.text(group_row, group_field) if group_field else (rows[0].arm or "")
    sequence_text = randomization.sequences.get(code) if code else None
    if code and sequence_text is None:
        reader.bad(
            held(group_field),
            group_field or "redcap_event_name",
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
    build.tables.add(
        "participants",
        group_row,
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
    )
    build.people[record] = _Person(sequence, start, ZoneInfo(p.timezone), withdrawn_on)


def _periods(build: _Build) -> None:
    """Each randomized participant's schedule, as the protocol makes it from the start."""
    protocol = build.protocol
    for record, person in build.people.items():
        if person.sequence is None or person.sequence not in protocol.sequences:
            continue
        for phase in make_schedule(protocol, person.sequence, person.start).phases:
            build.tables.rows["periods"].add(
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


def _anchored(
    rows: Iterable[RecordRow], anchor: str, reader: RowReader
) -> Iterator[tuple[RecordRow, dt.date]]:
    """The rows whose `anchor` field holds a date, with the date; a date that does not read
    is a problem."""
    for row in rows:
        day = reader.date(row, anchor)
        if day is not None:
            yield row, day


def _diary(rows: Iterable[RecordRow], build: _Build) -> None:
    """A row per mapped item and per ticked side effect of each row with a diary date."""
    diary, protocol, reader = build.mapping.diary, build.protocol, build.reader
    items = {item.id: item for item in protocol.diary.items}
    item_order = {item.id: k for k, item in enumerate(protocol.diary.items)}
    seen: dict[tuple[str, dt.date], int] = {}
    for row, day in _anchored(rows, diary.date, reader):
        person = build.people.get(row.record)
        if person is None:
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
            group = build.mapping.randomization.group
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
            value = _item_value(row, spec, items[item_id], reader)
            if value is None:
                continue
            build.tables.add(
                "diary",
                row,
                {
                    "participant_id": row.record,
                    "diary_date": day,
                    "item": item_id,
                    "value": value,
                    "submitted_at": at,
                    "late": late,
                    "_item": item_order[item_id],
                },
            )
        _side_effects(row, day, build)


def _item_value(row: RecordRow, spec: ItemField, item: Item, reader: RowReader) -> float | None:
    """The item's value in `row` on the item's scale; None when absent or out of scale."""
    value = reader.number(row, spec.field)
    if value is None:
        return None
    if spec.scale is not None:
        low, high = spec.scale
        if not min(low, high) <= value <= max(low, high):
            reader.bad(row, spec.field, f"{value:g} is outside the field's scale {low:g}-{high:g}")
            return None
        span = item.highest - item.lowest
        return round(item.lowest + (value - low) * span / (high - low), 6)
    if not item.lowest <= value <= item.highest:
        reader.bad(
            row,
            spec.field,
            f"{value:g} is outside the item's scale {item.lowest}-{item.highest}; "
            "give the field's scale in the mapping (diary.items.<item>.scale)",
        )
        return None
    return value


def _side_effects(row: RecordRow, day: dt.date, build: _Build) -> None:
    """A row per side effect ticked in the diary `row`, with how unpleasant it was."""
    diary, reader = build.mapping.diary, build.reader
    for effect in diary.side_effects:
        column = checkbox_column(effect.field, effect.choice) if effect.choice else effect.field
        if reader.text(row, column) != "1":
            continue
        level = reader.required(
            row,
            Coded(field=effect.unpleasantness, values=diary.unpleasantness_values),
            UNPLEASANTNESS,
            f"the side effect {effect.id} is ticked but how unpleasant it was is not given",
        )
        if level is None:
            continue
        build.tables.add(
            "side_effects",
            row,
            {
                "participant_id": row.record,
                "diary_date": day,
                "side_effect": effect.id,
                "unpleasantness": level,
            },
        )


def _visits(rows: Iterable[RecordRow], build: _Build) -> None:
    """The PGIC and the blinding guess of each row with a visit date."""
    visits, protocol, reader = build.mapping.visits, build.protocol, build.reader
    if visits is None:
        return
    calendar = visit_calendar(protocol)
    numbers = tuple(str(v.number) for v in calendar.answer_visits)
    scores = tuple(str(k) for k in range(1, len(PGIC_LABELS) + 1))
    closes = {s: periods_closed(protocol, calendar, s) for s in protocol.sequences}
    for row, day in _anchored(rows, visits.date, reader):
        person = build.people.get(row.record)
        if person is None:
            continue
        number = reader.required(row, visits.number, numbers, "the visit's number is not given")
        if number is None:
            continue
        answers = {
            "participant_id": row.record,
            "visit": int(number),
            "period": (
                closes[person.sequence].get(int(number)) if person.sequence in closes else None
            ),
            "answered_on": day,
        }
        score = reader.coded(row, visits.pgic, scores)
        if score is not None:
            build.tables.add("pgic", row, {**answers, "score": int(score)})
        guess = reader.coded(row, visits.guess, GUESSES)
        if guess is not None:
            build.tables.add("blinding", row, {**answers, "guess": guess})


def _doses(rows: Iterable[RecordRow], build: _Build) -> None:
    """The dose level set from each row with a dose date on."""
    doses, reader = build.mapping.doses, build.reader
    if doses is None:
        return
    for row, day in _anchored(rows, doses.date, reader):
        level = reader.required(
            row, doses.level, build.protocol.dosing.levels, "the dose level is not given"
        )
        if level is None:
            continue
        build.tables.add(
            "doses",
            row,
            {
                "participant_id": row.record,
                "effective_on": day,
                "dose_level": level,
                "reason": reader.text(row, doses.reason) or "not given",
            },
        )


def _adverse_events(rows: Iterable[RecordRow], build: _Build) -> None:
    """An adverse event per row with an onset date."""
    events, reader = build.mapping.adverse_events, build.reader
    if events is None:
        return
    effects = tuple(e.id for e in build.protocol.diary.side_effects)
    required = {
        "severity": events.severity.field,
        "related": events.related.field,
        "action": events.action.field,
        "outcome": events.outcome.field,
        "term": events.term,
    }
    for row, onset in _anchored(rows, events.onset, reader):
        values = {
            "severity": reader.coded(row, events.severity, SEVERITIES),
            "related": reader.coded(row, events.related, RELATEDNESS),
            "action": reader.coded(row, events.action, AE_ACTIONS),
            "outcome": reader.coded(row, events.outcome, AE_OUTCOMES),
        }
        for name, field_name in required.items():
            if not reader.text(row, field_name):
                reader.bad(row, field_name, f"the adverse event's {name} is not given")
        build.tables.add(
            "adverse_events",
            row,
            {
                "participant_id": row.record,
                "ae_id": None,
                "term": reader.text(row, events.term),
                "side_effect": reader.coded(row, events.side_effect, effects),
                "onset_date": onset,
                "end_date": reader.date(row, events.end),
                **values,
                "serious": bool(reader.flag(row, events.serious)),
            },
        )
