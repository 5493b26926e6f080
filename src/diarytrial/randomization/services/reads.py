"""Audited reads: what an unblinded reader sees of the allocation (lists, a participant's
sequence, kit contents, enrolment by sequence). Each checks the reader's role and records an
audit READ event in the same call, so they are services, not selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_protocol
from diarytrial.protocol import make_schedule
from diarytrial.randomization.errors import (
    NotRandomizedError,
)
from diarytrial.randomization.models import (
    AllocationList,
    AllocationSlot,
    Kit,
    KitBatch,
)
from diarytrial.randomization.selectors import _randomization_of
from diarytrial.studies.access import AnyUser, is_unblinded, require_role
from diarytrial.studies.models import Role, Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol


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


def participant_allocation_read(
    *, user: AnyUser, participant: Participant
) -> ParticipantAllocation:
    """`participant`'s sequence and their schedule with arms, for an unblinded reader; audited."""
    _require_unblinded(user, participant.study, "see a participant's allocation")
    randomization = _randomization_of(participant)
    protocol = participant_protocol(participant)
    sequence = protocol.sequence_from_code(randomization.slot.sequence_code)
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
    visit: int | None


def kit_contents_read(*, user: AnyUser, study: Study) -> list[KitContents]:
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
            "dispensing__visit",
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


@dataclass(frozen=True)
class SequenceEnrolment:
    """How many participants were randomized to one sequence, by their status now: unblinded."""

    sequence_code: str
    arm_names: tuple[str, ...]
    by_status: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.by_status)


def enrolment_by_sequence_read(*, user: AnyUser, study: Study) -> list[SequenceEnrolment]:
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
