"""Reads of the participants app. Nothing here returns an arm: all of it is blinded-safe.

Lists take the sites the reader may see (`sites`): the access layer passes
``sites_visible_to(user, study)``, and an empty collection shows nothing (deny by default).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from diarytrial.audit.models import AuditEvent
from diarytrial.participants.errors import ParticipantNotFoundError
from diarytrial.participants.models import (
    Consent,
    DoseLevelChange,
    EligibilityAnswer,
    Participant,
    ParticipantPhase,
    ParticipantStatus,
    PhaseKind,
)
from diarytrial.protocol import Protocol
from diarytrial.protocol.visits import VisitCalendar, visit_calendar
from diarytrial.studies.models import Site, Study
from diarytrial.studies.selectors import protocol_version_load


def participant_list(
    *,
    study: Study,
    sites: Iterable[Site] | QuerySet[Site],
    statuses: Collection[str] | None = None,
) -> QuerySet[Participant]:
    """The participants of `study` at `sites`, by code; only those in `statuses` when given."""
    site_list = sites if isinstance(sites, QuerySet) else list(sites)
    rows = Participant.objects.filter(study=study, site__in=site_list).select_related("site")
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.order_by("code")


def participant_get(
    *, study: Study, code: str, sites: Iterable[Site] | QuerySet[Site]
) -> Participant:
    """The participant `code` of `study` at one of `sites`; raises ParticipantNotFoundError.

    A participant at a site the reader may not see is reported as not found, like a code that
    does not exist, so a reader cannot probe for codes of other sites.
    """
    found = (
        participant_list(study=study, sites=sites)
        .select_related("study", "protocol_version", "site")
        .filter(code=code.strip().upper())
        .first()
    )
    if found is None:
        raise ParticipantNotFoundError(
            f"There is no participant {code!r} at your sites of study {study.slug!r}; "
            f"check the code (letters and digits, e.g. P-7Q3M).",
            extra={"study": study.slug, "participant": code},
        )
    return found


def participant_protocol(participant: Participant) -> Protocol:
    """The protocol the participant started on (amendments after that do not apply to them)."""
    return protocol_version_load(participant.protocol_version).protocol


def participant_today(participant: Participant, *, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the participant's own time zone."""
    moment = now or timezone.now()
    return moment.astimezone(zoneinfo.ZoneInfo(participant.timezone)).date()


def schedule_end_of() -> models.Subquery:
    """The end of a participant's planned schedule (its last phase's last diary date; None
    before randomization), as an annotation of a query of participants: one probe of the
    index of phases by end each (``participant_phase_by_end``), however many participants."""
    return models.Subquery(
        ParticipantPhase.objects.filter(participant=models.OuterRef("pk"))
        .order_by("-end")
        .values("end")[:1]
    )


def participant_schedule(*, participant: Participant) -> list[ParticipantPhase]:
    """The planned phases (without arms), in order; empty before randomization."""
    return list(ParticipantPhase.objects.filter(participant=participant).order_by("index"))


@dataclass(frozen=True)
class ParticipantDetail:
    """Everything a blinded page shows about one participant."""

    participant: Participant
    eligibility_answers: tuple[EligibilityAnswer, ...]
    consents: tuple[Consent, ...]
    dose_level_changes: tuple[DoseLevelChange, ...]
    phases: tuple[ParticipantPhase, ...]

    def phase_on(self, day: dt.date) -> ParticipantPhase | None:
        """The planned phase `day` falls in, or None outside the schedule."""
        for phase in self.phases:
            if phase.start <= day <= phase.end:
                return phase
        return None


def participant_detail(*, participant: Participant) -> ParticipantDetail:
    """The participant with their screening, consents, dose levels and planned schedule."""
    return ParticipantDetail(
        participant=participant,
        eligibility_answers=tuple(
            EligibilityAnswer.objects.filter(participant=participant).order_by("id")
        ),
        consents=tuple(
            Consent.objects.filter(participant=participant)
            .select_related("obtained_by")
            .order_by("consented_on", "id")
        ),
        dose_level_changes=tuple(
            DoseLevelChange.objects.filter(participant=participant).order_by("effective_on", "id")
        ),
        phases=tuple(participant_schedule(participant=participant)),
    )


# --- for the staff pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    """How many participants have one status."""

    status: ParticipantStatus
    count: int


def participant_status_counts(
    *, study: Study, sites: Iterable[Site] | QuerySet[Site]
) -> list[StatusCount]:
    """The number of participants of `study` at `sites` in each status, every status listed."""
    counted = dict(
        participant_list(study=study, sites=sites)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [StatusCount(status, counted.get(status.value, 0)) for status in ParticipantStatus]


@dataclass(frozen=True)
class ParticipantRow:
    """A participant as the list shows them: where they are on the visit calendar, which is
    the same for every sequence (never a period number or a condition)."""

    participant_id: int
    code: str
    site_code: str
    status: ParticipantStatus
    baseline_day: int | None
    """Today's day of the baseline (1-based), while in it."""
    treatment_day: int | None
    """Today's treatment day, from the day after the baseline to the last of the calendar."""
    visit: int | None
    """The last visit on or before today, during treatment."""
    dose_level: str
    start_date: dt.date | None
    today: dt.date
    last_diary_day: dt.date | None
    """The last diary date the participant can have (the end of their schedule, the day
    before withdrawal, the completion date, whichever comes first); None while open."""

    @property
    def today_label(self) -> str:
        """``baseline day 5``, ``treatment day 50 (since visit 3)``; empty outside the trial."""
        if self.baseline_day is not None:
            return f"baseline day {self.baseline_day}"
        if self.treatment_day is not None:
            return f"treatment day {self.treatment_day} (since visit {self.visit})"
        return ""


def participant_rows(
    *,
    study: Study,
    sites: Iterable[Site] | QuerySet[Site],
    statuses: Collection[str] | None = None,
    now: dt.datetime | None = None,
) -> list[ParticipantRow]:
    """The participants of `participant_list` with the phase each is in today (their own today).

    Two queries however many participants: the participants with their sites, and their
    planned phases.
    """
    rows = participant_list(study=study, sites=sites, statuses=statuses).prefetch_related(
        Prefetch("phases", queryset=ParticipantPhase.objects.order_by("index"))
    )
    moment = now or timezone.now()
    calendars: dict[int, VisitCalendar] = {}
    result = []
    for participant in rows:
        today = participant_today(participant, now=moment)
        phases = list(participant.phases.all())
        ends = [phases[-1].end] if phases else []
        if participant.withdrawn_on is not None:
            ends.append(participant.withdrawn_on - dt.timedelta(days=1))
        if participant.completed_on is not None:
            ends.append(participant.completed_on)
        last_diary_day = min(ends) if ends else None
        where: tuple[int | None, int | None, int | None] = (None, None, None)
        if (
            phases
            and participant.start_date
            and (last_diary_day is None or today <= last_diary_day)
        ):
            version = participant.protocol_version_id
            if version not in calendars:
                calendars[version] = visit_calendar(participant_protocol(participant))
            where = _calendar_position(calendars[version], participant.start_date, today)
        result.append(
            ParticipantRow(
                participant_id=participant.pk,
                code=participant.code,
                site_code=participant.site.code,
                status=ParticipantStatus(participant.status),
                baseline_day=where[0],
                treatment_day=where[1],
                visit=where[2],
                dose_level=participant.dose_level,
                start_date=participant.start_date,
                today=today,
                last_diary_day=last_diary_day,
            )
        )
    return result


def _calendar_position(
    calendar: VisitCalendar, start: dt.date, today: dt.date
) -> tuple[int | None, int | None, int | None]:
    """(baseline day, treatment day, last visit) of `today`, each None where it does not apply."""
    day = calendar.treatment_day_of(today, start)
    if day <= 0:
        baseline_day = calendar.baseline_days + day
        return (baseline_day if baseline_day >= 1 else None), None, None
    if day > calendar.treatment_days:
        return None, None, None
    visit = calendar.last_visit_on_or_before(day - 1)
    return None, day, visit.number if visit else None


@dataclass(frozen=True)
class CalendarVisit:
    """One visit on a participant's calendar: the same for everyone who started that day."""

    number: int
    treatment_day: int
    on: dt.date
    kit_first_day: int | None
    kit_last_day: int | None
    kit_from: dt.date | None
    kit_to: dt.date | None
    current: bool
    """True when today falls in the stretch this visit's kit covers."""

    @property
    def label(self) -> str:
        return f"Visit {self.number}"


@dataclass(frozen=True)
class CalendarPhase:
    """A planned phase with its dates: for unblinded readers only."""

    kind: str
    period: int | None
    start: dt.date
    end: dt.date
    current: bool

    @property
    def label(self) -> str:
        if self.kind == PhaseKind.TREATMENT:
            return f"Treatment period {self.period}"
        return PhaseKind(self.kind).label


@dataclass(frozen=True)
class ParticipantCalendar:
    """A participant's calendar as one reader may see it.

    Every reader sees the visits of the protocol's visit calendar (`protocol.visits`), which
    are the same for every sequence; only unblinded readers also see the planned phases, whose
    dates differ by sequence. `not_blind` names why this protocol's calendar still differs by
    sequence, when it does (``protocol check`` warns of it too).
    """

    baseline_from: dt.date
    baseline_to: dt.date
    visits: tuple[CalendarVisit, ...]
    phases: tuple[CalendarPhase, ...]
    today: dt.date
    not_blind: tuple[str, ...]

    @property
    def in_baseline(self) -> bool:
        return self.baseline_from <= self.today <= self.baseline_to


def participant_calendar(
    *,
    participant: Participant,
    phases: Iterable[ParticipantPhase],
    unblinded: bool,
    now: dt.datetime | None = None,
    protocol: Protocol | None = None,
) -> ParticipantCalendar | None:
    """The visits of `participant` (and, for an `unblinded` reader, their phases); None before
    they have a start date. `protocol`: the participant's, when the caller has read it."""
    if participant.start_date is None:
        return None
    protocol = protocol or participant_protocol(participant)
    calendar = visit_calendar(protocol)
    start = participant.start_date
    today = participant_today(participant, now=now)
    visits = []
    for visit in calendar.visits:
        stretch = visit.stretch
        kit_from = calendar.date_of(stretch.first_day, start) if stretch else None
        kit_to = calendar.date_of(stretch.last_day, start) if stretch else None
        visits.append(
            CalendarVisit(
                number=visit.number,
                treatment_day=visit.treatment_day,
                on=calendar.date_of(visit.treatment_day, start),
                kit_first_day=stretch.first_day if stretch else None,
                kit_last_day=stretch.last_day if stretch else None,
                kit_from=kit_from,
                kit_to=kit_to,
                current=kit_from is not None and kit_to is not None and kit_from <= today <= kit_to,
            )
        )
    shown = (
        tuple(
            CalendarPhase(p.kind, p.period, p.start, p.end, p.start <= today <= p.end)
            for p in sorted(phases, key=lambda p: p.index)
        )
        if unblinded
        else ()
    )
    return ParticipantCalendar(
        baseline_from=start,
        baseline_to=calendar.date_of(0, start),
        visits=tuple(visits),
        phases=shown,
        today=today,
        not_blind=calendar.problems,
    )


def participant_audit_history(
    *, detail: ParticipantDetail, also: Iterable[models.Model] = ()
) -> list[AuditEvent]:
    """The audit events of the participant's own records, oldest first, in one query.

    The participant, their eligibility answers, consents and dose level changes, and the
    records of other apps passed in `also` (their adverse events): records that hold no
    allocation. Events of planned phases (whose dates can tell the sequence), of slots,
    randomizations, kits and dispensings are not included, so the history is safe to show to
    blinded staff.
    """
    ids: dict[str, list[str]] = {
        "participants.participant": [str(detail.participant.pk)],
        "participants.eligibilityanswer": [str(a.pk) for a in detail.eligibility_answers],
        "participants.consent": [str(c.pk) for c in detail.consents],
        "participants.doselevelchange": [str(d.pk) for d in detail.dose_level_changes],
    }
    for record in also:
        meta = record._meta
        ids.setdefault(f"{meta.app_label}.{meta.model_name}", []).append(str(record.pk))
    condition = Q()
    for object_type, object_ids in ids.items():
        if object_ids:
            condition |= Q(object_type=object_type, object_id__in=object_ids)
    return list(
        AuditEvent.objects.filter(condition).select_related("actor").order_by("occurred_at", "id")
    )
