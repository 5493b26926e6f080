"""Reads for the staff pages of participants: the list's rows with diary progress, and what a
participant's page shows to one reader.

It gathers the participant's own selectors and the blinded-safe ones of the randomization app
(kits dispensed as "kit K-7Q3M dispensed" at a visit of the blinded visit calendar, never for a
treatment period; that and when they were randomized). Whether the reader is unblinded decides
only how much of the planned schedule is shown; no arm, sequence or kit content is read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet

from diarytrial.audit.models import AuditEvent
from diarytrial.diary.models import DiaryEntry
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
from diarytrial.randomization.selectors import (
    DispensingSummary,
    RandomizationSummary,
    dispensing_list,
    randomization_get,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.selectors import (
    SideEffectCandidate,
    adverse_event_list,
    dose_history,
    side_effect_candidates,
    side_effect_review_list,
)
from diarytrial.studies.access import is_unblinded
from diarytrial.studies.models import Site, Study, StudyMembership

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
    """An audit event of one of the participant's records, with what kind of record it is."""

    record: str
    event: AuditEvent


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

    @property
    def participant(self) -> Participant:
        return self.detail.participant


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
            HistoryEntry(RECORD_LABELS.get(event.object_type, event.object_type), event)
            for event in participant_audit_history(
                detail=detail, also=[*events, *side_effect_review_list(participant=participant)]
            )
        ),
        actions=participant_actions(
            participant, membership.role, locked=participant.study.locked_at is not None
        ),
        unblinded=unblinded,
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
