"""Reads of the randomization app that write nothing.

*Blinded-safe* selectors (`allocation_list_summaries`, `kit_list_blinded`, `dispensing_list`,
`randomization_get`) return codes, counts, statuses and times, never an arm, a sequence, a
seed or a kit's contents; they load only the columns they return.

`kit_to_dispense` returns the kit the pharmacist hands out and `dispensing_due` the pharmacist's
list of kits due: they are for the pharmacist's pages only, which check the role with
``study_role_required(Role.PHARMACIST)``. The reads that show an allocation to an unblinded
reader record an audit READ event, so they are services: ``randomization.services.reads``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import Count, Q

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
from diarytrial.studies.access import AnyUser, require_role
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol

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
