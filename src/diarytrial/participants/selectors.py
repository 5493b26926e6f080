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
        .select_related("study", "protocol_version")
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


def schedule_reveals_allocation(protocol: Protocol) -> bool:
    """True when phase lengths differ between sequences, so that dates alone tell the arm.

    The LDN example gives 84 days of LDN and 28 of placebo: a blinded reader who sees that
    period 1 lasts 84 days knows the participant's sequence. Pages for blinded roles should then
    show a participant's planned phases only up to the current one (the pharmacist, unblinded,
    plans dispensing from the whole schedule).

    >>> from diarytrial.protocol import load_example
    >>> schedule_reveals_allocation(load_example("ldn-fibromyalgia").protocol)
    True
    >>> schedule_reveals_allocation(load_example("nof1-ldn").protocol)
    False
    """
    return protocol.schedule_reveals_allocation


def participant_today(participant: Participant, *, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the participant's own time zone."""
    moment = now or timezone.now()
    return moment.astimezone(zoneinfo.ZoneInfo(participant.timezone)).date()


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
    """A participant as the list shows them; the period is a number, never a condition."""

    participant_id: int
    code: str
    site_code: str
    status: ParticipantStatus
    phase_kind: str | None
    period: int | None
    dose_level: str
    start_date: dt.date | None
    today: dt.date
    last_diary_day: dt.date | None
    """The last diary date the participant can have (the end of their schedule, the day
    before withdrawal, the completion date, whichever comes first); None while open."""

    @property
    def period_label(self) -> str:
        """``baseline``, ``1``, ``2``, ... or ``washout``; empty outside the schedule."""
        if self.phase_kind is None:
            return ""
        if self.phase_kind == PhaseKind.TREATMENT:
            return str(self.period)
        return PhaseKind(self.phase_kind).label.lower()


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
    result = []
    for participant in rows:
        today = participant_today(participant, now=moment)
        phases = list(participant.phases.all())
        current = next((p for p in phases if p.start <= today <= p.end), None)
        ends = [phases[-1].end] if phases else []
        if participant.withdrawn_on is not None:
            ends.append(participant.withdrawn_on - dt.timedelta(days=1))
        if participant.completed_on is not None:
            ends.append(participant.completed_on)
        result.append(
            ParticipantRow(
                participant_id=participant.pk,
                code=participant.code,
                site_code=participant.site.code,
                status=ParticipantStatus(participant.status),
                phase_kind=current.kind if current else None,
                period=current.period if current else None,
                dose_level=participant.dose_level,
                start_date=participant.start_date,
                today=today,
                last_diary_day=min(ends) if ends else None,
            )
        )
    return result


@dataclass(frozen=True)
class VisiblePhase:
    """A planned phase as one reader may see it; `end` is None when it would tell the arm."""

    index: int
    kind: str
    period: int | None
    start: dt.date
    end: dt.date | None
    current: bool

    @property
    def label(self) -> str:
        if self.kind == PhaseKind.TREATMENT:
            return f"Treatment period {self.period}"
        return PhaseKind(self.kind).label


@dataclass(frozen=True)
class VisibleSchedule:
    """The part of a participant's schedule a reader may see, and why the rest is hidden."""

    phases: tuple[VisiblePhase, ...]
    hidden: bool

    HIDDEN_REASON = (
        "In this protocol the phases last different times in different sequences, so their "
        "dates would tell which sequence the participant is on. Each later phase is shown once "
        "it has begun, and a phase's end once it is over."
    )


def _common_prefix_length(protocol: Protocol) -> int:
    """How many leading phases have the same kind and length in every sequence."""
    shapes = [
        [(t.kind, t.days) for t in protocol.phase_templates(sequence)]
        for sequence in protocol.sequences
    ]
    length = 0
    for column in zip(*shapes, strict=False):
        if len(set(column)) > 1:
            break
        length += 1
    return length


def participant_schedule_visible(
    *,
    participant: Participant,
    phases: Iterable[ParticipantPhase],
    unblinded: bool,
    now: dt.datetime | None = None,
    protocol: Protocol | None = None,
) -> VisibleSchedule:
    """The planned `phases` of `participant` that a reader may see.

    Unblinded readers see every phase. For blinded readers, when the protocol's phase lengths
    differ between sequences (`schedule_reveals_allocation`), only what every sequence shares
    and what has already happened is shown: phases of the common beginning in full, later
    phases once begun, and their ends once over. `protocol`: the participant's, when the
    caller has read it already.
    """
    today = participant_today(participant, now=now)
    ordered = sorted(phases, key=lambda p: p.index)
    protocol = protocol or participant_protocol(participant)
    if unblinded or not schedule_reveals_allocation(protocol):
        safe = len(ordered)
        hidden = False
    else:
        safe = _common_prefix_length(protocol)
        hidden = True
    visible = []
    for phase in ordered:
        if phase.index >= safe and phase.start > today:
            break
        visible.append(
            VisiblePhase(
                index=phase.index,
                kind=phase.kind,
                period=phase.period,
                start=phase.start,
                end=phase.end if phase.index < safe or phase.end < today else None,
                current=phase.start <= today <= phase.end,
            )
        )
    return VisibleSchedule(phases=tuple(visible), hidden=hidden and len(visible) < len(ordered))


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
