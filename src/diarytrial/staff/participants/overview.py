"""Reads for the staff pages of participants: the list's rows with diary progress, their
filters, order and CSV cells, and what a participant's page shows to one reader.

It gathers the participant's own selectors and the blinded-safe ones of the randomization app
(kits dispensed as "kit K-7Q3M dispensed" at a visit of the blinded visit calendar, never for a
treatment period; that and when they were randomized). Whether the reader is unblinded decides
only how much of the planned schedule is shown; no arm, sequence or kit content is read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.wording import AuditReading, WordedEvent
from diarytrial.diary.models import DiaryEntry
from diarytrial.participants.forms import BASELINE, OUTSIDE
from diarytrial.participants.models import DoseLevelChange, Participant, ParticipantStatus
from diarytrial.participants.pages import CARE_ROLES, UNBLINDING_ROLES
from diarytrial.participants.selectors import (
    ParticipantCalendar,
    ParticipantDetail,
    ParticipantRow,
    participant_audit_history,
    participant_calendar,
    participant_detail,
    participant_protocol,
    participant_rows,
)
from diarytrial.participants.services import TRANSITIONS
from diarytrial.protocol.compliance import diary_compliance_nights, last_night_due
from diarytrial.protocol.visits import visit_calendar
from diarytrial.randomization.selectors import (
    DispensingSummary,
    RandomizationSummary,
    dispensing_list,
    randomization_get,
)
from diarytrial.randomization.signing import emergency_unblinding_signatures
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.selectors import (
    SideEffectCandidate,
    adverse_event_list,
    dose_history,
    side_effect_candidates,
    side_effect_review_list,
)
from diarytrial.safety.signing import adverse_event_signatures
from diarytrial.signatures.selectors import CheckedSignature
from diarytrial.studies.access import is_unblinded
from diarytrial.studies.models import ProtocolVersion, Site, Study, StudyMembership
from diarytrial.studies.selectors import protocol_version_load
from diarytrial.studies.zones import staff_zone

Status = ParticipantStatus


@dataclass(frozen=True)
class EligibilityLine:
    """One screening answer with the protocol's question."""

    question: str
    answer: bool
    eligible: bool


@dataclass(frozen=True)
class ParticipantActions:
    """What the reader may do next with the participant, by their role and the status."""

    enrol: bool = False
    randomize: bool = False
    complete: bool = False
    withdraw: bool = False
    unblind: bool = False
    adverse_event: bool = False
    dose_change: bool = False
    phone: bool = False
    timezone: bool = False

    @property
    def any(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


def participant_actions(
    participant: Participant, role: str, *, locked: bool = False
) -> ParticipantActions:
    """The forms `role` may open for `participant` now (the services check again on submit).

    On a `locked` study only the phone page stays: a lost phone can still be revoked there
    (``devices.services.device_revoke`` does not change trial data); every other form writes
    data and would be refused.
    """
    status = Status(participant.status)
    if locked:
        return ParticipantActions(phone=role in CARE_ROLES and participant.enrolled_at is not None)
    allowed = TRANSITIONS[status]
    cares = role in CARE_ROLES
    return ParticipantActions(
        enrol=cares and Status.ENROLLED in allowed and participant.eligible,
        randomize=cares and Status.RANDOMIZED in allowed,
        complete=cares and Status.COMPLETED in allowed,
        withdraw=cares and Status.WITHDRAWN in allowed,
        # Also after withdrawal or completion: an emergency can come later.
        unblind=role in UNBLINDING_ROLES and participant.randomized_at is not None,
        # Adverse events are recorded from consent on, also after the participant left.
        adverse_event=cares and participant.enrolled_at is not None,
        dose_change=cares and status in (Status.ENROLLED, Status.RANDOMIZED, Status.ACTIVE),
        # Phones are set up while the diary runs; revoking one stays possible afterwards.
        phone=cares and participant.enrolled_at is not None,
        timezone=cares and status not in (Status.COMPLETED, Status.WITHDRAWN),
    )


RECORD_LABELS = {
    "safety.adverseevent": "Adverse event",
    "safety.sideeffectreview": "Diary side effect",
    "participants.participant": "Participant",
    "participants.eligibilityanswer": "Screening answer",
    "participants.consent": "Consent",
    "participants.doselevelchange": "Dose level",
}


@dataclass(frozen=True)
class HistoryEntry:
    """An audit event of one of the participant's records, with what kind of record it is and
    the event in words (``audit.wording``, as the audit trail's pages read it)."""

    record: str
    event: AuditEvent
    worded: WordedEvent


@dataclass(frozen=True)
class ParticipantPage:
    """Everything a participant's page shows to one reader."""

    detail: ParticipantDetail
    eligibility: tuple[EligibilityLine, ...]
    calendar: ParticipantCalendar | None
    randomization: RandomizationSummary | None
    dispensings: tuple[DispensingSummary, ...]
    dose_history: tuple[DoseLevelChange, ...]
    adverse_events: tuple[AdverseEvent, ...]
    diary_reports: tuple[SideEffectCandidate, ...]
    history: tuple[HistoryEntry, ...]
    actions: ParticipantActions
    unblinded: bool
    adverse_event_signatures: dict[int, list[CheckedSignature]] = field(default_factory=dict)
    unblinding_signatures: tuple[CheckedSignature, ...] = ()

    @property
    def participant(self) -> Participant:
        return self.detail.participant

    @property
    def signed_adverse_events(self) -> list[tuple[AdverseEvent, CheckedSignature | None]]:
        """Each adverse event with its latest signature (None when it has none)."""
        latest: dict[int, CheckedSignature] = {
            pk: rows[-1] for pk, rows in self.adverse_event_signatures.items() if rows
        }
        return [(event, latest.get(event.pk)) for event in self.adverse_events]


def participant_page(
    *, participant: Participant, user: User, membership: StudyMembership
) -> ParticipantPage:
    """The participant's page for `user`: blinded-safe for every reader."""
    detail = participant_detail(participant=participant)
    protocol = participant_protocol(participant)
    questions = {q.id: q.question for q in protocol.eligibility}
    unblinded = is_unblinded(user, participant.study)
    events = adverse_event_list(participant=participant, include_removed=True)
    return ParticipantPage(
        detail=detail,
        eligibility=tuple(
            EligibilityLine(questions.get(a.question_id, a.question_id), a.answer, a.eligible)
            for a in detail.eligibility_answers
        ),
        calendar=participant_calendar(
            participant=participant, phases=detail.phases, unblinded=unblinded, protocol=protocol
        ),
        randomization=randomization_get(participant=participant),
        dispensings=tuple(dispensing_list(participant=participant)),
        dose_history=tuple(dose_history(participant=participant)),
        adverse_events=tuple(events),
        diary_reports=tuple(
            side_effect_candidates(
                study=participant.study, sites=[participant.site], participant=participant
            )
        ),
        history=tuple(
            HistoryEntry(
                RECORD_LABELS.get(row.event.object_type, row.event.object_type), row.event, row
            )
            for row in AuditReading(
                zone=staff_zone(site=participant.site), unblinded=unblinded
            ).word_all(
                participant_audit_history(
                    detail=detail,
                    also=[*events, *side_effect_review_list(participant=participant)],
                )
            )
        ),
        actions=participant_actions(
            participant, membership.role, locked=participant.study.locked_at is not None
        ),
        unblinded=unblinded,
        adverse_event_signatures=adverse_event_signatures(participant=participant, events=events),
        unblinding_signatures=tuple(emergency_unblinding_signatures(participant=participant))
        if participant.emergency_unblinded_at is not None
        else (),
    )


# --- the participant list -----------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryProgress:
    """How a participant keeps their diary: the last diary date and the nights due and kept.

    `entries` and `expected` are the filled and the due nights of
    `diarytrial.protocol.compliance.diary_compliance_nights`, the definition the phone's
    progress and the analysis use. No schedule length: the nights not yet due would tell a
    blinded reader the arm where phase lengths differ.
    """

    last_entry: dt.date | None
    entries: int
    expected: int
    late: int = 0

    @property
    def missed(self) -> int:
        """Due nights without an entry."""
        return self.expected - self.entries

    @property
    def compliance(self) -> int | None:
        """Percent of the due nights with an entry; None before the first night is due."""
        if self.expected <= 0:
            return None
        return round(100 * self.entries / self.expected)


def diary_progress(
    row: ParticipantRow, filled: Collection[dt.date], late: Collection[dt.date] = ()
) -> DiaryProgress:
    """The nights due and kept so far: from the start date to the participant's yesterday (or
    today, once today's entry is in), not past their last diary day.

    The list reads no diary window, so a night counts as passed at the participant's midnight
    rather than when its window closes (the phone waits for the window to close).
    """
    last_entry = max(filled, default=None)
    if row.start_date is None:
        return DiaryProgress(last_entry, 0, 0)
    as_of = last_night_due(latest_closed=row.today - dt.timedelta(days=1), filled=filled)
    nights = diary_compliance_nights(
        start=row.start_date, last_day=row.last_diary_day, as_of=as_of, filled=filled, late=late
    ).overall
    return DiaryProgress(last_entry, nights.filled, nights.expected, nights.late)


@dataclass(frozen=True)
class ParticipantListRow:
    row: ParticipantRow
    diary: DiaryProgress


def participant_list_rows(
    *, study: Study, sites: QuerySet[Site], statuses: Collection[str] | None = None
) -> list[ParticipantListRow]:
    """The rows of the participant list: `participant_rows` with each one's diary progress.

    Three queries however many participants (participants, phases, diary dates).
    """
    rows = participant_rows(study=study, sites=sites, statuses=statuses)
    filled: dict[int, set[dt.date]] = {row.participant_id: set() for row in rows}
    late: dict[int, set[dt.date]] = {row.participant_id: set() for row in rows}
    for participant_id, day, is_late in DiaryEntry.objects.filter(
        participant_id__in=list(filled)
    ).values_list("participant_id", "diary_date", "late"):
        filled[participant_id].add(day)
        if is_late:
            late[participant_id].add(day)
    return [
        ParticipantListRow(
            row, diary_progress(row, filled[row.participant_id], late[row.participant_id])
        )
        for row in rows
    ]


# --- the list's filters and order ---------------------------------------------------------------


def visit_numbers(*, study: Study) -> list[int]:
    """The visits a participant of `study` can be "since" today: every visit that dispenses a
    kit, on the visit calendar of any of the study's protocol versions. Blinded: the calendar is
    the same for every sequence."""
    numbers: set[int] = set()
    for version in ProtocolVersion.objects.filter(study=study).select_related("study"):
        calendar = visit_calendar(protocol_version_load(version).protocol)
        numbers.update(visit.number for visit in calendar.visits if visit.stretch is not None)
    return sorted(numbers)


def calendar_place(row: ParticipantRow) -> str:
    """Where `row` is today as the visit filter names it: ``baseline``, the number of the last
    visit (``3``), or ``outside`` the diary schedule."""
    if row.baseline_day is not None:
        return BASELINE
    if row.treatment_day is not None and row.visit is not None:
        return str(row.visit)
    return OUTSIDE


_STATUS_ORDER = {status: index for index, status in enumerate(Status)}

_SORT_KEYS: dict[str, Callable[[ParticipantListRow], Any]] = {
    "code": lambda line: line.row.code,
    "site": lambda line: line.row.site_code,
    "status": lambda line: _STATUS_ORDER[line.row.status],
    "last_diary": lambda line: line.diary.last_entry,
    "compliance": lambda line: line.diary.compliance,
}


def participant_list_filter(
    lines: Iterable[ParticipantListRow],
    *,
    code: str = "",
    visit: str = "",
    compliance_below: int | None = None,
    sort: str = "code",
) -> list[ParticipantListRow]:
    """The rows whose code contains `code` (any case), who are at `visit` today
    (`calendar_place`), whose diary kept is below `compliance_below` percent (those with no
    night due yet are left out then), in the order `sort` names (a key of `_SORT_KEYS`, ``-``
    first for descending; rows without a value last, then by code)."""
    wanted = code.strip().upper()
    kept = [
        line
        for line in lines
        if wanted in line.row.code.upper()
        and (not visit or calendar_place(line.row) == visit)
        and (
            compliance_below is None
            or (line.diary.compliance is not None and line.diary.compliance < compliance_below)
        )
    ]
    descending = sort.startswith("-")
    key = _SORT_KEYS[sort.lstrip("-")]
    kept.sort(key=lambda line: line.row.code)
    valued = [line for line in kept if key(line) is not None]
    valued.sort(key=key, reverse=descending)
    return valued + [line for line in kept if key(line) is None]


PARTICIPANT_COLUMNS = (
    "participant_id",
    "site",
    "status",
    "baseline_day",
    "treatment_day",
    "since_visit",
    "dose_level",
    "start_date",
    "last_diary",
    "nights_kept",
    "nights_due",
    "late_nights",
    "diary_kept_percent",
)
"""The CSV's columns: what the list shows, the place on the visit calendar in three columns."""


def participant_csv_cells(lines: Iterable[ParticipantListRow]) -> Iterator[tuple[object, ...]]:
    """One CSV row per participant, in `PARTICIPANT_COLUMNS` order."""
    for line in lines:
        row, diary = line.row, line.diary
        yield (
            row.code,
            row.site_code,
            row.status.value,
            row.baseline_day,
            row.treatment_day,
            row.visit if row.treatment_day is not None else None,
            row.dose_level,
            row.start_date,
            diary.last_entry,
            diary.entries,
            diary.expected,
            diary.late,
            diary.compliance,
        )
