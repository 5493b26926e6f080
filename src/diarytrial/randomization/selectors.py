"""Reads of the randomization app, in two kinds.

*Blinded-safe* selectors (`allocation_list_summaries`, `kit_list_blinded`, `dispensing_list`,
`randomization_get`) return codes, counts, statuses and times, never an arm, a sequence, a
seed or a kit's contents; they load only the columns they return.

*Unblinded* selectors (`allocation_list_read`, `participant_allocation_read`,
`kit_list_unblinded`) take the reading user, check their role through
``diarytrial.studies.access`` and record an audit READ event for each read.
`kit_to_dispense` returns the kit the pharmacist hands out: it is for the pharmacist's page
only, which checks the role with ``study_role_required(Role.PHARMACIST)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Count, Q

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_protocol
from diarytrial.protocol import Protocol, make_schedule
from diarytrial.randomization.errors import (
    KitNotFoundError,
    NoKitAvailableError,
    NotRandomizedError,
    PeriodInvalidError,
)
from diarytrial.randomization.models import (
    AllocationList,
    AllocationSlot,
    Dispensing,
    Kit,
    KitBatch,
    KitStatus,
    Randomization,
)
from diarytrial.randomization.plans import (
    PlannedSlot,
    allocation_plan,
    fingerprint,
    slots_content,
    stratum_keys_all,
)
from diarytrial.studies.access import AnyUser, is_unblinded, require_role
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.web.errors import PermissionDeniedError

# --- blinded-safe -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationListSummary:
    """How far a stratum's list is used; no contents."""

    stratum: str
    size: int
    used: int
    created_at: dt.datetime

    @property
    def remaining(self) -> int:
        return self.size - self.used


def allocation_list_summaries(*, study: Study) -> list[AllocationListSummary]:
    """Each stratum's list with its size and slots used, by stratum (blinded-safe)."""
    rows = (
        AllocationList.objects.filter(study=study)
        .annotate(used=Count("slots", filter=Q(slots__used_by__isnull=False)))
        .order_by("stratum")
        .values_list("stratum", "size", "used", "created_at")
    )
    return [AllocationListSummary(*row) for row in rows]


@dataclass(frozen=True)
class KitSummary:
    """A kit as blinded staff see it: its code and status only."""

    code: str
    status: str


def kit_list_blinded(*, study: Study, status: str | None = None) -> list[KitSummary]:
    """The study's kits by code, with their status and nothing about their contents."""
    rows = Kit.objects.filter(study=study)
    if status is not None:
        rows = rows.filter(status=status)
    return [KitSummary(code, kit_status) for code, kit_status in rows.values_list("code", "status")]


@dataclass(frozen=True)
class DispensingSummary:
    """ "Kit K-7Q3M dispensed": what blinded staff see of a dispensing."""

    kit_code: str
    period: int
    dispensed_at: dt.datetime
    dispensed_by: str | None

    def __str__(self) -> str:
        return f"kit {self.kit_code} dispensed"


def dispensing_list(*, participant: Participant) -> list[DispensingSummary]:
    """The kits dispensed to `participant`, oldest first, without contents (blinded-safe)."""
    rows = (
        Dispensing.objects.filter(participant=participant)
        .order_by("dispensed_at", "id")
        .values_list("kit__code", "period", "dispensed_at", "dispensed_by__username")
    )
    return [DispensingSummary(*row) for row in rows]


@dataclass(frozen=True)
class RandomizationSummary:
    """That and when a participant was randomized; not to what."""

    participant_code: str
    randomized_at: dt.datetime
    randomized_by: str | None


def randomization_get(*, participant: Participant) -> RandomizationSummary | None:
    """When `participant` was randomized and by whom, or None (blinded-safe)."""
    row = (
        Randomization.objects.filter(participant=participant)
        .values_list("randomized_at", "randomized_by__username")
        .first()
    )
    return None if row is None else RandomizationSummary(participant.code, row[0], row[1])


# --- unblinded: role checked, every read audited ----------------------------------------------


def _require_unblinded(user: AnyUser, study: Study, what: str) -> None:
    if not is_unblinded(user, study):
        raise PermissionDeniedError(
            f"Only an unblinded role (the pharmacist; the statistician once the study is "
            f"unblinded) may {what}.",
            extra={"study": study.slug},
        )


@dataclass(frozen=True)
class SlotView:
    """One slot of an allocation list as the pharmacist sees it."""

    position: int
    block: int
    sequence_code: str
    participant_code: str | None
    used_at: dt.datetime | None


@dataclass(frozen=True)
class AllocationListView:
    """A whole allocation list with its seed, for the pharmacist."""

    id: int
    stratum: str
    seed: int
    block_sizes: tuple[int, ...]
    protocol_version: int
    fingerprint: str
    created_at: dt.datetime
    created_by: str | None
    slots: tuple[SlotView, ...]


def allocation_list_read(
    *, user: AnyUser, study: Study, stratum: str | None = None
) -> list[AllocationListView]:
    """The study's allocation lists (or the one of `stratum`) with every slot and the seed.

    Pharmacist only (PermissionDeniedError otherwise); each list read is recorded as an audit
    READ event of that list.
    """
    require_role(user, study, Role.PHARMACIST)
    lists = AllocationList.objects.filter(study=study).select_related(
        "protocol_version", "created_by"
    )
    if stratum is not None:
        lists = lists.filter(stratum=stratum)
    views = []
    with transaction.atomic():
        for allocation_list in lists.order_by("stratum"):
            slots = (
                AllocationSlot.objects.filter(allocation_list=allocation_list)
                .order_by("position")
                .values_list("position", "block", "sequence_code", "used_by__code", "used_at")
            )
            views.append(
                AllocationListView(
                    id=allocation_list.pk,
                    stratum=allocation_list.stratum,
                    seed=allocation_list.seed,
                    block_sizes=tuple(allocation_list.block_sizes),
                    protocol_version=allocation_list.protocol_version.number,
                    fingerprint=allocation_list.fingerprint,
                    created_at=allocation_list.created_at,
                    created_by=(
                        allocation_list.created_by.get_username()
                        if allocation_list.created_by
                        else None
                    ),
                    slots=tuple(SlotView(*row) for row in slots),
                )
            )
            audit_record(
                actor=user if user.is_authenticated else None,
                action=AuditAction.READ,
                obj=allocation_list,
                study_slug=study.slug,
                reason="allocation list read",
            )
    return views


@dataclass(frozen=True)
class PhaseWithArm:
    """A planned phase with its arm (None outside treatment): unblinded."""

    index: int
    kind: str
    period: int | None
    arm: str | None
    condition: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class ParticipantAllocation:
    """A participant's sequence and schedule with arms: unblinded."""

    participant_code: str
    sequence_code: str
    arms: tuple[str, ...]
    phases: tuple[PhaseWithArm, ...]
    randomized_at: dt.datetime


def _randomization_of(participant: Participant) -> Randomization:
    found = Randomization.objects.select_related("slot").filter(participant=participant).first()
    if found is None:
        raise NotRandomizedError(
            f"Participant {participant.code} is not randomized yet.",
            extra={"participant": participant.code},
        )
    return found


def _sequence(protocol: Protocol, code: str) -> tuple[str, ...]:
    return protocol.sequence_from_code(code)


def participant_allocation_read(
    *, user: AnyUser, participant: Participant
) -> ParticipantAllocation:
    """`participant`'s sequence and their schedule with arms, for an unblinded reader; audited."""
    _require_unblinded(user, participant.study, "see a participant's allocation")
    randomization = _randomization_of(participant)
    protocol = participant_protocol(participant)
    sequence = _sequence(protocol, randomization.slot.sequence_code)
    if participant.start_date is None:  # pragma: no cover - enrolment sets it, a constraint too
        raise NotRandomizedError(f"Participant {participant.code} has no start date.")
    schedule = make_schedule(protocol, sequence, participant.start_date)
    with transaction.atomic():
        audit_record(
            actor=user if user.is_authenticated else None,
            action=AuditAction.READ,
            obj=randomization,
            study_slug=participant.study.slug,
            reason="participant allocation read",
        )
    return ParticipantAllocation(
        participant_code=participant.code,
        sequence_code=randomization.slot.sequence_code,
        arms=sequence,
        phases=tuple(
            PhaseWithArm(p.index, p.kind, p.period, p.arm, p.condition, p.start, p.end)
            for p in schedule.phases
        ),
        randomized_at=randomization.randomized_at,
    )


@dataclass(frozen=True)
class KitContents:
    """A kit with its contents and where it went: unblinded."""

    code: str
    status: str
    arm: str
    dose_level: str
    participant_code: str | None
    period: int | None


def kit_list_unblinded(*, user: AnyUser, study: Study) -> list[KitContents]:
    """The study's kits with their contents, for an unblinded reader; each batch read audited."""
    _require_unblinded(user, study, "see what the kits contain")
    rows = (
        Kit.objects.filter(study=study)
        .order_by("code")
        .values_list(
            "code",
            "status",
            "arm",
            "dose_level",
            "dispensing__participant__code",
            "dispensing__period",
        )
    )
    kits = [KitContents(*row) for row in rows]
    with transaction.atomic():
        for batch in KitBatch.objects.filter(study=study).order_by("id"):
            audit_record(
                actor=user if user.is_authenticated else None,
                action=AuditAction.READ,
                obj=batch,
                study_slug=study.slug,
                reason="kit contents read",
            )
    return kits


def _period_arm(participant: Participant, period: int) -> str:
    """The arm `participant` takes in treatment period `period`. Unblinded; not for pages.

    Used by the pharmacist's selectors and services only.
    """
    if participant.status not in (ParticipantStatus.RANDOMIZED, ParticipantStatus.ACTIVE):
        raise ParticipantStatusError(
            f"Participant {participant.code} is "
            f"{ParticipantStatus(participant.status).label.lower()}; kits are dispensed to "
            f"randomized and active participants only.",
            extra={"participant": participant.code, "status": participant.status},
        )
    randomization = _randomization_of(participant)
    sequence = _sequence(participant_protocol(participant), randomization.slot.sequence_code)
    if not 1 <= period <= len(sequence):
        raise PeriodInvalidError(
            f"Participant {participant.code} has treatment periods 1 to {len(sequence)}; "
            f"there is no period {period}.",
            extra={"participant": participant.code, "period": period},
        )
    return sequence[period - 1]


def kit_to_dispense(*, participant: Participant, period: int) -> Kit:
    """The kit to hand `participant` for treatment `period` at their current dose level.

    The available kit of the period's arm and the participant's dose level with the lowest
    code (codes are random, so this is no pattern). Pharmacist's page only: the kit carries
    its contents. Raises NoKitAvailableError when none is left.
    """
    arm = _period_arm(participant, period)
    kit = (
        Kit.objects.filter(
            study_id=participant.study_id,
            status=KitStatus.AVAILABLE,
            arm=arm,
            dose_level=participant.dose_level,
        )
        .order_by("code")
        .first()
    )
    if kit is None:
        raise NoKitAvailableError(
            f"No available kit holds what participant {participant.code} needs for period "
            f"{period} at dose level {participant.dose_level!r}; generate or import more kits.",
            extra={"participant": participant.code, "period": period},
        )
    return kit


def allocation_list_verify(*, allocation_list: AllocationList) -> bool:
    """True when the stored slots are the list regenerated from the recorded seed, and match
    the fingerprint recorded in the audit trail. Returns no contents.
    """
    protocol = protocol_version_load(allocation_list.protocol_version).protocol
    regenerated = allocation_plan(
        sequence_codes=[protocol.sequence_code(s) for s in protocol.sequences],
        block_sizes=list(allocation_list.block_sizes),
        size=allocation_list.size,
        seed=allocation_list.seed,
    )
    stored = [
        PlannedSlot(*row)
        for row in AllocationSlot.objects.filter(allocation_list=allocation_list)
        .order_by("position")
        .values_list("position", "block", "sequence_code")
    ]
    content = slots_content(stored, seed=allocation_list.seed, stratum=allocation_list.stratum)
    return stored == regenerated and allocation_list.fingerprint == fingerprint(
        salt=allocation_list.salt, content=content
    )


# --- for the pharmacist's pages ---------------------------------------------------------------


@dataclass(frozen=True)
class DispensingDue:
    """The next treatment period of a participant that has no kit yet, and the kit proposed.

    `kit_code` is None when no available kit holds what the participant needs. The proposal
    carries the kit's code only: what the kit contains is on the inventory page, whose every
    read is recorded.
    """

    participant_code: str
    site_code: str
    period: int
    starts_on: dt.date
    dose_level: str
    kit_code: str | None

    def due_by(self, day: dt.date) -> bool:
        """True when the period has begun by `day`."""
        return self.starts_on <= day


def dispensing_due(*, user: AnyUser, study: Study) -> list[DispensingDue]:
    """For every randomized or active participant, their next period without a dispensed kit.

    Pharmacist only (PermissionDeniedError otherwise). Rows are ordered by the period's first
    day, then code; each proposes an available kit of the period's arm at the participant's
    current dose level, a different one for each row, in code order: the first row needing a
    kind of kit gets the kit `kit_to_dispense` names. A fixed number of queries however
    many participants.
    """
    require_role(user, study, Role.PHARMACIST)
    participants = list(
        Participant.objects.filter(
            study=study,
            status__in=(ParticipantStatus.RANDOMIZED, ParticipantStatus.ACTIVE),
            randomization__isnull=False,
        )
        .select_related("site", "protocol_version", "randomization__slot")
        .order_by("code")
    )
    dispensed: dict[int, set[int]] = {}
    for participant_id, period in Dispensing.objects.filter(
        participant__in=[p.pk for p in participants]
    ).values_list("participant_id", "period"):
        dispensed.setdefault(participant_id, set()).add(period)
    protocols: dict[int, Protocol] = {}
    wanted: list[tuple[DispensingDue, str]] = []
    for participant in participants:
        if participant.start_date is None:  # pragma: no cover - enrolment sets it
            continue
        version = participant.protocol_version
        if version.pk not in protocols:
            protocols[version.pk] = protocol_version_load(version).protocol
        protocol = protocols[version.pk]
        sequence = _sequence(protocol, participant.randomization.slot.sequence_code)
        schedule = make_schedule(protocol, sequence, participant.start_date)
        done = dispensed.get(participant.pk, set())
        phase = next((p for p in schedule.treatment_phases() if p.period not in done), None)
        if phase is None or phase.period is None or phase.arm is None:
            continue
        row = DispensingDue(
            participant_code=participant.code,
            site_code=participant.site.code,
            period=phase.period,
            starts_on=phase.start,
            dose_level=participant.dose_level,
            kit_code=None,
        )
        wanted.append((row, phase.arm))
    wanted.sort(key=lambda item: (item[0].starts_on, item[0].participant_code))
    available: dict[tuple[str, str], list[str]] = {}
    for code, arm, level in (
        Kit.objects.filter(study=study, status=KitStatus.AVAILABLE)
        .order_by("-code")
        .values_list("code", "arm", "dose_level")
    ):
        available.setdefault((arm, level), []).append(code)  # highest first: pop() the lowest
    rows = []
    for row, arm in wanted:
        codes = available.get((arm, row.dose_level))
        rows.append(replace(row, kit_code=codes.pop() if codes else None))
    return rows


@dataclass(frozen=True)
class SequenceEnrolment:
    """How many participants were randomized to one sequence, by their status now: unblinded."""

    sequence_code: str
    arm_names: tuple[str, ...]
    by_status: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.by_status)


def enrolment_by_sequence(*, user: AnyUser, study: Study) -> list[SequenceEnrolment]:
    """The randomized participants of `study` counted by sequence and current status.

    For an unblinded reader only (PermissionDeniedError otherwise); the read is recorded as an
    audit READ event of each allocation list. Every sequence of the current protocol is listed,
    also those nobody is on yet.
    """
    _require_unblinded(user, study, "see enrolment by sequence")
    protocol = protocol_version_load(study_current_protocol(study)).protocol
    counts: dict[str, dict[str, int]] = {}
    for sequence_code, status, n in (
        AllocationSlot.objects.filter(allocation_list__study=study, used_by__isnull=False)
        .order_by()
        .values("sequence_code", "used_by__status")
        .annotate(n=Count("id"))
        .values_list("sequence_code", "used_by__status", "n")
    ):
        counts.setdefault(sequence_code, {})[status] = n
    statuses = [s for s in ParticipantStatus if s not in _NEVER_RANDOMIZED]
    codes = [protocol.sequence_code(sequence) for sequence in protocol.sequences]
    codes += sorted(set(counts) - set(codes))
    rows = []
    for code in codes:
        try:
            names = tuple(protocol.arm(arm).name for arm in protocol.sequence_from_code(code))
        except (KeyError, ValueError):  # a sequence of an earlier protocol version
            names = ()
        by_status = tuple((s.value, counts.get(code, {}).get(s.value, 0)) for s in statuses)
        rows.append(SequenceEnrolment(code, names, by_status))
    with transaction.atomic():
        for allocation_list in AllocationList.objects.filter(study=study).order_by("stratum"):
            audit_record(
                actor=user if user.is_authenticated else None,
                action=AuditAction.READ,
                obj=allocation_list,
                study_slug=study.slug,
                reason="enrolment by sequence read",
            )
    return rows


_NEVER_RANDOMIZED = frozenset({ParticipantStatus.SCREENED, ParticipantStatus.ENROLLED})


def allocation_strata_without_list(*, study: Study) -> list[str]:
    """The strata of the study's current protocol and sites that have no allocation list yet."""
    protocol = protocol_version_load(study_current_protocol(study)).protocol
    sites = Site.objects.filter(study=study).values_list("code", flat=True)
    existing = set(AllocationList.objects.filter(study=study).values_list("stratum", flat=True))
    return [
        key
        for key in stratum_keys_all(protocol.randomization.strata, site_codes=sites)
        if key not in existing
    ]


def kit_get(*, study: Study, code: str) -> Kit:
    """The kit `code` of `study`, to hand to a service; KitNotFoundError when there is none."""
    kit = Kit.objects.filter(study=study, code=code.strip().upper()).first()
    if kit is None:
        raise KitNotFoundError(
            f"Study {study.slug!r} has no kit {code!r}; check the code on the box.",
            extra={"kit": code},
        )
    return kit
