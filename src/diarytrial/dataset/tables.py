"""The tables of the trial dataset: their columns, types and meaning.

This one description drives the CSV writer, the reader, the validator and ``datapackage.json``
(a Frictionless Table Schema per table), so the documentation cannot drift from the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]

STATUSES = ("screened", "enrolled", "randomized", "active", "completed", "withdrawn")
CONDITIONS = ("baseline", "active", "placebo", "washout")
BLINDED_CONDITION = "blinded"
"""The condition of a treatment phase in a blinded export: active or placebo is not told."""
PHASE_KINDS = ("baseline", "treatment", "washout")
UNPLEASANTNESS = ("not_at_all", "somewhat", "very")
SEVERITIES = ("mild", "moderate", "severe")
RELATEDNESS = ("not_related", "unlikely", "possible", "probable", "definite")
AE_ACTIONS = ("none", "dose_reduced", "interrupted", "withdrawn")
AE_OUTCOMES = ("recovered", "recovering", "not_recovered", "unknown")
GUESSES = ("drug", "placebo", "dont_know")
"""A participant's guess of what they took since the visit before (``diary.models.GuessChoice``)."""


@dataclass(frozen=True)
class Column:
    """One column of a table."""

    name: str
    type: FieldType
    description: str
    required: bool = True
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """One CSV file of the dataset."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    optional: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


_PID = Column("participant_id", "string", "Participant code, as in participants.csv.")

PARTICIPANTS = Table(
    "participants",
    "One row per participant.",
    (
        Column("participant_id", "string", "Participant code: random, not sequential."),
        Column("site", "string", "Site code."),
        Column(
            "sequence",
            "string",
            "Allocated sequence: the arm ids of its periods joined by '-', e.g. 'ldn-placebo'; "
            "in a blinded export a code such as 'S1'. Empty before randomization.",
            required=False,
        ),
        Column("start_date", "date", "First baseline day (study day 1), a diary date."),
        Column("randomized_on", "date", "Date of randomization.", required=False),
        Column("timezone", "string", "IANA time zone of the participant, e.g. Europe/London."),
        Column("status", "string", "Participation status.", enum=STATUSES),
        Column("withdrawn_on", "date", "Date of withdrawal; empty if not withdrawn.", False),
        Column("withdrawal_reason", "string", "Reason for withdrawal, if any.", required=False),
        Column("age", "integer", "Age in years at enrolment (covariate).", required=False),
        Column(
            "opioid_use",
            "boolean",
            "Uses opioids at enrolment (covariate, sets start dose).",
            False,
        ),
    ),
    ("participant_id",),
)

PERIODS = Table(
    "periods",
    "The planned schedule: one row per phase of each randomized participant.",
    (
        _PID,
        Column("phase", "integer", "Phase number from 0, in calendar order."),
        Column("kind", "string", "Kind of phase.", enum=PHASE_KINDS),
        Column(
            "period",
            "integer",
            "0 for baseline, 1.. for treatment periods; empty for washout.",
            False,
        ),
        Column(
            "block",
            "integer",
            "Block of an n-of-1 or crossover design; empty outside treatment.",
            False,
        ),
        Column("arm", "string", "Arm id given in a treatment period (masked when blinded).", False),
        Column(
            "condition",
            "string",
            "Condition of the phase; 'blinded' for treatment in a blinded export.",
            enum=(*CONDITIONS, BLINDED_CONDITION),
        ),
        Column("start", "date", "First diary date of the phase."),
        Column("end", "date", "Last diary date of the phase (inclusive)."),
    ),
    ("participant_id", "phase"),
)

DIARY = Table(
    "diary",
    "Nightly diary answers, one row per participant, diary date and item.",
    (
        _PID,
        Column("diary_date", "date", "The diary date: the local date on which its window opened."),
        Column("item", "string", "Diary item id from the protocol."),
        Column("value", "number", "The answer on the item's scale."),
        Column("submitted_at", "datetime", "When the server received the entry (UTC)."),
        Column(
            "late",
            "boolean",
            "True when the entry was completed inside its window but reached the server later "
            "(offline sync).",
        ),
    ),
    ("participant_id", "diary_date", "item"),
)

SIDE_EFFECTS = Table(
    "side_effects",
    "Side effects ticked in the nightly diary checklist.",
    (
        _PID,
        Column("diary_date", "date", "The diary date of the entry."),
        Column("side_effect", "string", "Side-effect id from the protocol."),
        Column("unpleasantness", "string", "How unpleasant it was.", enum=UNPLEASANTNESS),
    ),
    ("participant_id", "diary_date", "side_effect"),
    optional=True,
)

DOSES = Table(
    "doses",
    "Blinded dose level from each date on: the level holds until the participant's next row.",
    (
        _PID,
        Column("effective_on", "date", "First diary date at this level."),
        Column("dose_level", "string", "Dose level id from the protocol (blinded)."),
        Column("reason", "string", "Why the level was set, e.g. 'start' or 'vivid dreams'."),
    ),
    ("participant_id", "effective_on"),
    optional=True,
)

ADVERSE_EVENTS = Table(
    "adverse_events",
    "Adverse events confirmed by staff.",
    (
        _PID,
        Column("ae_id", "string", "Identifier of the event, unique in the dataset."),
        Column("term", "string", "Reported term."),
        Column(
            "side_effect", "string", "Checklist id when the event is a listed side effect.", False
        ),
        Column("onset_date", "date", "Onset."),
        Column("end_date", "date", "End; empty while ongoing.", required=False),
        Column("severity", "string", "Severity.", enum=SEVERITIES),
        Column("serious", "boolean", "Serious adverse event."),
        Column("related", "string", "Relatedness to the study medication.", enum=RELATEDNESS),
        Column("action", "string", "Action taken with the study medication.", enum=AE_ACTIONS),
        Column("outcome", "string", "Outcome.", enum=AE_OUTCOMES),
    ),
    ("ae_id",),
    optional=True,
)

_VISIT = Column(
    "visit",
    "integer",
    "The visit of the blinded visit calendar the answer closes (2, 3, ...; see docs/protocol.md), "
    "the same days for every sequence.",
)
_VISIT_PERIOD = Column(
    "period",
    "integer",
    "The treatment period whose last day the visit is, for the participant's sequence; empty "
    "when the visit closes no period, and always empty in a blinded export.",
    required=False,
)

PGIC = Table(
    "pgic",
    "Patient Global Impression of Change, asked at the visits after the first.",
    (
        _PID,
        _VISIT,
        _VISIT_PERIOD,
        Column("answered_on", "date", "Diary date of the answer."),
        Column("score", "integer", "1 very much improved ... 4 no change ... 7 very much worse."),
    ),
    ("participant_id", "visit"),
    optional=True,
)

BLINDING = Table(
    "blinding",
    "What the participant thinks they took since the visit before, asked at the visits after "
    "the first.",
    (
        _PID,
        _VISIT,
        _VISIT_PERIOD,
        Column("answered_on", "date", "Diary date of the answer."),
        Column("guess", "string", "The participant's guess.", enum=GUESSES),
    ),
    ("participant_id", "visit"),
    optional=True,
)

TABLES: tuple[Table, ...] = (
    PARTICIPANTS,
    PERIODS,
    DIARY,
    SIDE_EFFECTS,
    DOSES,
    ADVERSE_EVENTS,
    PGIC,
    BLINDING,
)
"""Every table, in the order they are written and described."""

TABLES_BY_NAME = {table.name: table for table in TABLES}
