"""Reads of the randomization app that write nothing.

*Blinded-safe* selectors (`allocation_list_summaries`, `kit_list_blinded`, `dispensing_list`,
`randomization_get`) return codes, counts, statuses and times, never an arm, a sequence, a
seed or a kit's contents; they load only the columns they return.

`kit_to_dispense` returns the kit the pharmacist hands out at a visit and `dispensing_due` the
pharmacist's list of kits due, one per participant and visit of the blinded visit calendar
(``protocol.visits``): they are for the pharmacist's pages only, which check the role with
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
from diarytrial.protocol import Protocol
from diarytrial.protocol.visits import Visit, VisitCalendar, kit_arm, visit_calendar
from diarytrial.randomization.errors import (
    KitNotFoundError,
    NoKitAvailableError,
    NotRandomizedError,
    VisitInvalidError,
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


def visit_text(visit: Visit, on: dt.date) -> str:
    """``Visit 3, treatment day 42 (2026-03-01): kit for days 43-84``: a visit as every role
    may see it, the same whatever the sequence.

    >>> from diarytrial.protocol.visits import Stretch
    >>> visit_text(Visit(3, 42, Stretch(3, 43, 84)), dt.date(2026, 3, 1))
    'Visit 3, treatment day 42 (2026-03-01): kit for days 43-84'
    """
    where, _, what = visit.describe().partition(": ")
    return f"{where} ({on.isoformat()}): {what}"


@dataclass(frozen=True)
class DispensingSummary:
    """ "Kit K-7Q3M dispensed" at a visit: what blinded staff see of a dispensing.

    `visit_text` says the visit, its date and the days the kit is for (`visit_text`); never a
    treatment period, whose number and dates differ by sequence.
    """

    kit_code: str
    visit: int
    visit_text: str
    dispensed_at: dt.datetime
    dispensed_by: str | None

    def __str__(self) -> str:
        return f"kit {self.kit_code} dispensed"


def dispensing_list(*, participant: Participant) -> list[DispensingSummary]:
    """The kits dispensed to `participant`, oldest first, without contents (blinded-safe)."""
    rows = (
        Dispensing.objects.filter(participant=participant)
        .order_by("dispensed_at", "id")
        .values_list("kit__code", "visit", "dispensed_at", "dispensed_by__username")
    )
    calendar = visit_calendar(participant_protocol(participant))
    visits = {v.number: v for v in calendar.visits}
    summaries = []
    for code, number, dispensed_at, dispensed_by in rows:
        visit = visits.get(number)
        if visit is None or participant.start_date is None:  # pragma: no cover - defensive
            text = f"Visit {number}"
        else:
            text = visit_text(visit, calendar.date_of(visit.treatment_day, participant.start_date))
        summaries.append(DispensingSummary(code, number, text, dispensed_at, dispensed_by))
    return summaries


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


def _visit_arm(participant: Participant, visit: int) -> str:
    """The arm of the kit `participant` gets at visit `visit`. Unblinded; not for pages.

    Used by the pharmacist's selectors and services only. Raises VisitInvalidError for a visit
    the calendar does not have, the last visit (it closes the treatment) and a visit whose
    stretch has no kit (a washout without capsules).
    """
    if participant.status not in (ParticipantStatus.RANDOMIZED, ParticipantStatus.ACTIVE):
        raise ParticipantStatusError(
            f"Participant {participant.code} is "
            f"{ParticipantStatus(participant.status).label.lower()}; kits are dispensed to "
            f"randomized and active participants only.",
            extra={"participant": participant.code, "status": participant.status},
        )
    randomization = _randomization_of(participant)
    protocol = participant_protocol(participant)
    calendar = visit_calendar(protocol)
    sequence = _sequence(protocol, randomization.slot.sequence_code)
    last = len(calendar.stretches)
    if not 1 <= visit <= last:
        raise VisitInvalidError(
            f"Participant {participant.code} gets kits at visits 1 to {last}; visit {visit} "
            f"dispenses no kit.",
            extra={"participant": participant.code, "visit": visit},
        )
    arm = _kit_arms(protocol, calendar, sequence)[visit - 1]
    if arm is None:
        raise VisitInvalidError(
            f"Visit {visit} dispenses no kit to participant {participant.code}: the protocol's "
            f"washout has no capsules.",
            extra={"participant": participant.code, "visit": visit},
        )
    return arm


def _kit_arms(
    protocol: Protocol, calendar: VisitCalendar, sequence: tuple[str, ...]
) -> tuple[str | None, ...]:
    """Per visit that dispenses a kit, the arm of the kit for `sequence` (None: no kit)."""
    return tuple(kit_arm(protocol, contents) for contents in calendar.contents[sequence])


def kit_to_dispense(*, participant: Participant, visit: int) -> Kit:
    """The kit to hand `participant` at visit `visit`, at their current dose level.

    The available kit of the arm the visit's stretch needs (``protocol.visits.kit_arm``) and
    the participant's dose level with the lowest code (codes are random, so this is no
    pattern). Pharmacist's page only: the kit carries its contents. Raises NoKitAvailableError
    when none is left.
    """
    arm = _visit_arm(participant, visit)
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
            f"No available kit holds what participant {participant.code} needs at visit "
            f"{visit} at dose level {participant.dose_level!r}; generate or import more kits.",
            extra={"participant": participant.code, "visit": visit},
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
    """The next visit of a participant at which a kit is still to be dispensed, and the kit
    proposed.

    `kit_code` is None when no available kit holds what the participant needs. The proposal
    carries the kit's code only: what the kit contains is on the inventory page, whose every
    read is recorded. The visit, its date and its stretch are the same for everyone who
    started on the same day, whatever their sequence.
    """

    participant_code: str
    site_code: str
    visit: Visit
    on: dt.date
    dose_level: str
    kit_code: str | None

    @property
    def visit_number(self) -> int:
        return self.visit.number

    def describe(self) -> str:
        """``Visit 3, treatment day 42 (2026-03-01): kit for days 43-84``."""
        return visit_text(self.visit, self.on)

    def due_by(self, day: dt.date) -> bool:
        """True when the visit's day has come by `day`."""
        return self.on <= day


def dispensing_due(*, user: AnyUser, study: Study) -> list[DispensingDue]:
    """For every randomized or active participant, their next visit without a dispensed kit.

    Pharmacist only (PermissionDeniedError otherwise). Visits whose stretch has no kit (a
    washout without capsules) are passed over. Rows are ordered by the visit's date, then code;
    each proposes an available kit of the arm the stretch needs at the participant's current
    dose level, a different one for each row, in code order: the first row needing a kind of
    kit gets the kit `kit_to_dispense` names. A fixed number of queries however many
    participants.
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
    for participant_id, number in Dispensing.objects.filter(
        participant__in=[p.pk for p in participants]
    ).values_list("participant_id", "visit"):
        dispensed.setdefault(participant_id, set()).add(number)
    calendars: dict[int, tuple[Protocol, VisitCalendar]] = {}
    wanted: list[tuple[DispensingDue, str]] = []
    for participant in participants:
        if participant.start_date is None:  # pragma: no cover - enrolment sets it
            continue
        version = participant.protocol_version
        if version.pk not in calendars:
            protocol = protocol_version_load(version).protocol
            calendars[version.pk] = (protocol, visit_calendar(protocol))
        protocol, calendar = calendars[version.pk]
        sequence = _sequence(protocol, participant.randomization.slot.sequence_code)
        done = dispensed.get(participant.pk, set())
        due = next(
            (
                (visit, arm)
                for visit, arm in zip(
                    calendar.visits, _kit_arms(protocol, calendar, sequence), strict=False
                )
                if arm is not None and visit.number not in done
            ),
            None,
        )
        if due is None:
            continue
        visit, arm = due
        row = DispensingDue(
            participant_code=participant.code,
            site_code=participant.site.code,
            visit=visit,
            on=calendar.date_of(visit.treatment_day, participant.start_date),
            dose_level=participant.dose_level,
            kit_code=None,
        )
        wanted.append((row, arm))
    wanted.sort(key=lambda item: (item[0].on, item[0].participant_code))
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
