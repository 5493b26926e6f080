"""Row-level validation of a trial dataset against its tables and its protocol (the
end-of-visit answers in `answers.py`)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import available_timezones

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.answers import check_answers
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import DIARY, PERIODS, TABLES, Table
from diarytrial.protocol import PGIC_LABELS, make_schedule
from diarytrial.protocol.schema import Protocol

MAX_ROWS_PER_CHECK = 20
"""Rows listed for one kind of problem; the rest are counted."""


@dataclass(frozen=True)
class DatasetIssue:
    """One problem: the file, its CSV line (header = line 1), the column and what is wrong."""

    file: str
    line: int | None
    column: str | None
    message: str

    def describe(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return (
            f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


class DatasetError(ValueError):
    """A dataset that cannot be used, with every problem found."""

    def __init__(self, source: str, issues: list[DatasetIssue]) -> None:
        self.source = source
        self.issues = issues
        count = "1 problem" if len(issues) == 1 else f"{len(issues)} problems"
        lines = [f"{source}: the trial dataset has {count}:", *(i.describe() for i in issues)]
        super().__init__("\n".join(lines))


class _Collector:
    def __init__(self) -> None:
        self.issues: list[DatasetIssue] = []

    def rows(
        self,
        table: Table,
        mask: npt.NDArray[np.bool_] | pd.Series,
        column: str | None,
        message: str,
    ) -> None:
        """Report the rows where `mask` holds."""
        self.positions(table, np.flatnonzero(np.asarray(mask, dtype=bool)), column, message)

    def positions(
        self, table: Table, positions: Iterable[int], column: str | None, message: str
    ) -> None:
        """Report the rows at these 0-based positions of the table."""
        rows = sorted(int(p) for p in positions)
        for position in rows[:MAX_ROWS_PER_CHECK]:
            self.issues.append(DatasetIssue(table.filename, position + 2, column, message))
        if len(rows) > MAX_ROWS_PER_CHECK:
            rest = len(rows) - MAX_ROWS_PER_CHECK
            self.issues.append(
                DatasetIssue(table.filename, None, column, f"{message} (and {rest} more rows)")
            )

    def add(self, table: Table, column: str | None, message: str) -> None:
        self.issues.append(DatasetIssue(table.filename, None, column, message))


def validate_dataset(dataset: TrialDataset) -> list[DatasetIssue]:
    """Every row-level problem of `dataset`, or an empty list.

    Checks: columns and required values, allowed values, unknown participants, items and
    side effects, values outside the item's scale, duplicate rows (e.g. two answers for one
    diary day and item), dates outside the participant's schedule or after withdrawal,
    entries received before their window opened, and a schedule that differs from the one
    the protocol gives.
    """
    found = _Collector()
    protocol = dataset.protocol.protocol
    complete = [_check_columns(found, table, dataset.table(table.name)) for table in TABLES]
    if not all(complete):
        return found.issues  # the checks below need every column
    participants = dataset.participants
    _check_participants(found, protocol, dataset)
    known = set(participants["participant_id"].astype(str))
    for table in TABLES[1:]:
        frame = dataset.table(table.name)
        unknown = ~frame["participant_id"].astype(str).isin(known)
        found.rows(
            table, unknown, "participant_id", "unknown participant (not in participants.csv)"
        )
    if len(participants) == 0:
        return found.issues  # every row of the other tables is unknown; nothing else to check
    if not dataset.provenance.get("blinded"):
        _check_periods(found, protocol, dataset)
    spans = _schedule_spans(protocol, dataset)
    _check_diary(found, protocol, dataset, spans)
    _check_other_tables(found, protocol, dataset, spans)
    return found.issues


def _check_columns(found: _Collector, table: Table, frame: pd.DataFrame) -> bool:
    """Check columns, required values, allowed values and keys; False if a column is missing."""
    complete = True
    for column in table.columns:
        if column.name not in frame.columns:
            found.add(table, column.name, "missing column")
            complete = False
            continue
        values = frame[column.name]
        if column.required:
            found.rows(table, values.isna(), column.name, "a value is required")
        if column.enum:
            bad = values.notna() & ~values.astype(str).isin(column.enum)
            found.rows(table, bad, column.name, f"must be one of {', '.join(column.enum)}")
    if all(c in frame.columns for c in table.primary_key):
        duplicate = frame.duplicated(list(table.primary_key), keep="first")
        key = ", ".join(table.primary_key)
        found.rows(table, duplicate, None, f"duplicate row: another row has the same {key}")
    return complete


def _check_participants(found: _Collector, protocol: Protocol, dataset: TrialDataset) -> None:
    frame = dataset.participants
    table = TABLES[0]
    zones = frame["timezone"].astype(object)
    for zone in sorted({str(zone) for zone in zones.dropna()}):
        if not _is_time_zone(zone):
            found.rows(table, zones == zone, "timezone", f"{zone!r} is not an IANA time zone")
    if not dataset.provenance.get("blinded"):
        known = {"-".join(s) for s in protocol.sequences}
        sequence = frame["sequence"]
        bad = sequence.notna() & ~sequence.astype(str).isin(known)
        found.rows(
            table, bad, "sequence", f"not a sequence of the protocol ({', '.join(sorted(known))})"
        )
    withdrawn = frame["status"].astype(str) == "withdrawn"
    found.rows(
        table,
        withdrawn & frame["withdrawn_on"].isna(),
        "withdrawn_on",
        "a withdrawn participant needs the date of withdrawal",
    )
    found.rows(
        table,
        frame["withdrawn_on"] < frame["start_date"],
        "withdrawn_on",
        "withdrawal before the first baseline day",
    )


def _is_time_zone(name: object) -> bool:
    # Membership, not ZoneInfo(name): a name such as "America" or "../x" makes ZoneInfo open
    # a folder or a path outside the zone database.
    return isinstance(name, str) and name in _time_zones()


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_periods(found: _Collector, protocol: Protocol, dataset: TrialDataset) -> None:
    periods = dataset.periods
    expected_rows = []
    for participant, sequence, start in _allocations(protocol, dataset.participants):
        if sequence is None:
            continue
        for phase in make_schedule(protocol, sequence, start).phases:
            expected_rows.append(
                (
                    participant,
                    phase.index,
                    phase.kind,
                    phase.period,
                    phase.arm,
                    phase.condition,
                    pd.Timestamp(phase.start),
                    pd.Timestamp(phase.end),
                )
            )
    columns = ["participant_id", "phase", "kind", "period", "arm", "condition", "start", "end"]
    expected = pd.DataFrame(expected_rows, columns=columns)
    actual = periods[columns].copy()
    actual["participant_id"] = actual["participant_id"].astype(str)
    for frame in (expected, actual):
        frame["period"] = frame["period"].astype("Int64")
        frame["phase"] = frame["phase"].astype("Int64")
        for name in ("kind", "arm", "condition"):
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        for name in ("start", "end"):
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[s]")
    merged = actual.reset_index().merge(
        expected,
        on=["participant_id", "phase"],
        how="left",
        suffixes=("", "_expected"),
        indicator=True,
    )
    differs_message = "differs from the schedule the protocol gives for this sequence and start"
    for name in ("kind", "period", "arm", "condition", "start", "end"):
        left, right = merged[name], merged[f"{name}_expected"]
        same = (left == right).fillna(False) | (left.isna() & right.isna())
        differs = (merged["_merge"] == "both") & ~same
        found.positions(PERIODS, merged.loc[differs, "index"], name, differs_message)
    extra = merged["_merge"] == "left_only"
    found.positions(PERIODS, merged.loc[extra, "index"], "phase", "no such phase in the schedule")
    have = set(zip(actual["participant_id"], actual["phase"], strict=True))
    missing = [
        (p, k)
        for p, k in zip(expected["participant_id"], expected["phase"], strict=True)
        if (p, k) not in have
    ]
    for participant, phase in missing[:MAX_ROWS_PER_CHECK]:
        found.add(
            PERIODS, "phase", f"participant {participant} lacks phase {phase} of the schedule"
        )


def _allocations(
    protocol: Protocol, participants: pd.DataFrame
) -> list[tuple[str, tuple[str, ...] | None, dt.date]]:
    """(participant, sequence or None when unknown to the protocol, first baseline day)."""
    out = []
    columns = (participants["participant_id"], participants["sequence"], participants["start_date"])
    for participant, code, start in zip(*columns, strict=True):
        sequence = None if pd.isna(code) else tuple(str(code).split("-"))
        known = sequence if sequence in protocol.sequences else None
        out.append((str(participant), known, pd.Timestamp(start).date()))
    return out


def _schedule_spans(protocol: Protocol, dataset: TrialDataset) -> pd.DataFrame:
    """First and last diary date of each participant, and the withdrawal date."""
    participants = dataset.participants
    spans = pd.DataFrame(
        {
            "participant_id": participants["participant_id"].astype(str),
            "first": pd.to_datetime(participants["start_date"]).astype("datetime64[s]"),
            "withdrawn_on": pd.to_datetime(participants["withdrawn_on"]).astype("datetime64[s]"),
            "timezone": participants["timezone"].where(
                participants["timezone"].astype(str).map(_is_time_zone).astype(bool)
            ),
        }
    )
    lasts: list[pd.Timestamp | None] = []
    for _, sequence, start in _allocations(protocol, participants):
        if sequence is None or dataset.provenance.get("blinded"):
            lasts.append(None)
        else:
            days = sum(t.days for t in protocol.phase_templates(sequence))
            lasts.append(pd.Timestamp(start + dt.timedelta(days=days - 1)))
    spans["last"] = pd.Series(lasts, dtype="datetime64[s]")
    if len(dataset.periods):  # a blinded or imported dataset: its own schedule rows decide
        ends = (
            dataset.periods.assign(participant_id=dataset.periods["participant_id"].astype(str))
            .groupby("participant_id")["end"]
            .max()
        )
        from_periods = spans["participant_id"].map(ends).astype("datetime64[s]")
        spans["last"] = spans["last"].fillna(from_periods)
    baseline_end = spans["first"] + pd.Timedelta(days=max(protocol.design.baseline_days, 1) - 1)
    spans["last"] = spans["last"].fillna(baseline_end)
    return spans.drop_duplicates("participant_id").set_index("participant_id")


def _dates_outside(
    found: _Collector, table: Table, frame: pd.DataFrame, column: str, spans: pd.DataFrame
) -> None:
    ids = frame["participant_id"].astype(str)
    dates = pd.to_datetime(frame[column]).astype("datetime64[s]")
    first = ids.map(spans["first"])
    last = ids.map(spans["last"])
    withdrawn = ids.map(spans["withdrawn_on"])
    outside = ids.isin(spans.index) & ((dates < first) | (dates > last))
    found.rows(table, outside, column, "date outside the participant's schedule")
    after = ids.isin(spans.index) & ~outside & (dates > withdrawn).fillna(False)
    found.rows(table, after, column, "date after the participant's withdrawal")


def _check_diary(
    found: _Collector, protocol: Protocol, dataset: TrialDataset, spans: pd.DataFrame
) -> None:
    diary = dataset.diary
    items = {item.id: item for item in protocol.diary.items}
    item_ids = diary["item"].astype(str)
    unknown = ~item_ids.isin(list(items))
    found.rows(DIARY, unknown, "item", f"unknown item (the protocol's items: {', '.join(items)})")
    low = item_ids.map({k: v.lowest for k, v in items.items()}).astype(float)
    high = item_ids.map({k: v.highest for k, v in items.items()}).astype(float)
    values = diary["value"].astype(float)
    out_of_scale = ~unknown & ((values < low) | (values > high))
    found.rows(DIARY, out_of_scale, "value", "value outside the item's scale")
    _dates_outside(found, DIARY, diary, "diary_date", spans)
    _check_not_before_window(found, protocol, diary, spans)


def _check_not_before_window(
    found: _Collector, protocol: Protocol, diary: pd.DataFrame, spans: pd.DataFrame
) -> None:
    """An entry received before its diary date's window opened would be a future day."""
    ids = diary["participant_id"].astype(str)
    zones = ids.map(spans["timezone"])
    dates = pd.to_datetime(diary["diary_date"]).astype("datetime64[s]")
    opens = protocol.diary.opens
    offset = pd.Timedelta(hours=opens.hour, minutes=opens.minute, seconds=opens.second)
    submitted = pd.to_datetime(diary["submitted_at"], utc=True)
    early = np.zeros(len(diary), dtype=bool)
    for zone in zones.dropna().unique():
        rows = np.flatnonzero((zones == zone).to_numpy())
        local_open = (dates.iloc[rows] + offset).dt.tz_localize(
            str(zone), ambiguous="NaT", nonexistent="shift_forward"
        )
        early[rows] = (submitted.iloc[rows] < local_open).fillna(False).to_numpy()
    found.rows(DIARY, early, "submitted_at", "received before the window of its diary date opened")


def _check_other_tables(
    found: _Collector, protocol: Protocol, dataset: TrialDataset, spans: pd.DataFrame
) -> None:
    side_effects_table, doses_table, ae_table, pgic_table = (
        TABLES[3],
        TABLES[4],
        TABLES[5],
        TABLES[6],
    )
    side_effect_ids = [s.id for s in protocol.diary.side_effects]
    side_effects = dataset.side_effects
    found.rows(
        side_effects_table,
        ~side_effects["side_effect"].astype(str).isin(side_effect_ids),
        "side_effect",
        f"unknown side effect (the protocol's: {', '.join(side_effect_ids) or 'none'})",
    )
    _dates_outside(found, side_effects_table, side_effects, "diary_date", spans)
    doses = dataset.doses
    levels = protocol.dosing.levels
    found.rows(
        doses_table,
        ~doses["dose_level"].astype(str).isin(levels),
        "dose_level",
        f"unknown dose level (the protocol's: {', '.join(levels)})",
    )
    events = dataset.adverse_events
    found.rows(
        ae_table,
        (events["end_date"] < events["onset_date"]).fillna(False),
        "end_date",
        "the event ends before its onset",
    )
    pgic = dataset.pgic
    scores = pgic["score"].astype(float)
    found.rows(
        pgic_table,
        (scores < 1) | (scores > len(PGIC_LABELS)),
        "score",
        f"PGIC scores run from 1 to {len(PGIC_LABELS)}",
    )
    sequences = {
        participant: sequence
        for participant, sequence, _start in _allocations(protocol, dataset.participants)
    }
    check_answers(found, protocol, dataset, spans, sequences)
