"""Writes of the randomization app. Each public function is one transaction that writes its rows
and their audit events together.

No audit event written here contains an arm, a sequence, a seed or a kit's contents: the trail
may be read by blinded staff. An allocation list or kit inventory is recorded by a salted
fingerprint of its content instead, which detects any later change of the stored rows.

Locks are always taken in the same order (participant, then slot or kit, then the audit chain
head), so concurrent randomizations and dispensings never deadlock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.participants.errors import ParticipantStatusError, ReasonRequiredError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_protocol
from diarytrial.participants.services import (
    participant_activate,
    participant_lock,
    participant_mark_emergency_unblinded,
    participant_mark_randomized,
    participant_transition_check,
)
from diarytrial.protocol import Protocol, make_schedule
from diarytrial.randomization.errors import (
    AllocationListExhaustedError,
    AllocationListExistsError,
    AllocationListMissingError,
    AlreadyRandomizedError,
    KitImportInvalidError,
    KitMismatchError,
    KitNotAvailableError,
    NotRandomizedError,
    StratumInvalidError,
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
    PlannedKit,
    allocation_plan,
    fingerprint,
    kit_plan,
    kits_content,
    seed_check,
    slots_content,
    stratum_key,
    stratum_normalize,
)
from diarytrial.randomization.selectors import _period_arm
from diarytrial.studies.access import require_role
from diarytrial.studies.models import Role, Site, Study, StudyMembership
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.studies.services import require_unlocked
from diarytrial.web.errors import InvalidInputError

logger = logging.getLogger(__name__)

MAX_LIST_SIZE = 100_000
MAX_KITS_PER_ARM_AND_LEVEL = 10_000
KIT_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


def _seed(seed: int | None) -> int:
    if seed is None:
        return secrets.randbits(63)
    try:
        seed_check(seed)
    except ValueError as error:
        raise InvalidInputError(f"The seed cannot be used: {error}.") from None
    return seed


def _current_protocol(study: Study) -> tuple[Protocol, int]:
    version = study_current_protocol(study)
    return protocol_version_load(version).protocol, version.pk


@transaction.atomic
def allocation_list_generate(
    *, study: Study, stratum: str, size: int, seed: int | None = None, actor: User | None
) -> AllocationList:
    """Generate the allocation list of `stratum`: at least `size` slots in permuted blocks.

    Block sizes are drawn from the study's current protocol (``randomization.block_sizes``),
    every block is complete and balanced, and the list is a function of the seed: the seed is
    recorded on the list (unblinded), drawn with `secrets` when not given. A stratum has one
    list, generated once. The audit event records the list's fingerprint, not its content.
    """
    require_unlocked(study)
    protocol, version_pk = _current_protocol(study)
    site_codes = Site.objects.filter(study=study).values_list("code", flat=True)
    try:
        key = stratum_normalize(protocol.randomization.strata, stratum, site_codes=site_codes)
    except ValueError as error:
        raise StratumInvalidError(
            f"The stratum {stratum!r} cannot be used: {error}.", extra={"stratum": stratum}
        ) from None
    if not 1 <= size <= MAX_LIST_SIZE:
        raise InvalidInputError(
            f"An allocation list has from 1 to {MAX_LIST_SIZE} slots; {size} asked for."
        )
    chosen_seed = _seed(seed)
    # Serialize list generation per study, so that two pharmacists get one list, one error.
    Study.objects.select_for_update().filter(pk=study.pk).first()
    if AllocationList.objects.filter(study=study, stratum=key).exists():
        raise AllocationListExistsError(
            f"Stratum {key!r} of {study.slug!r} has its allocation list already; a list is "
            f"generated once. Its size and use are on the randomization page.",
            extra={"study": study.slug, "stratum": key},
        )
    block_sizes = list(protocol.block_sizes)
    plan = allocation_plan(
        sequence_codes=[protocol.sequence_code(s) for s in protocol.sequences],
        block_sizes=block_sizes,
        size=size,
        seed=chosen_seed,
    )
    salt = secrets.token_hex(16)
    allocation_list = AllocationList(
        study=study,
        protocol_version_id=version_pk,
        stratum=key,
        seed=chosen_seed,
        block_sizes=block_sizes,
        size=len(plan),
        salt=salt,
        fingerprint=fingerprint(
            salt=salt, content=slots_content(plan, seed=chosen_seed, stratum=key)
        ),
        created_by=actor,
    )
    allocation_list.full_clean()
    allocation_list.save()
    AllocationSlot.objects.bulk_create(
        AllocationSlot(
            allocation_list=allocation_list,
            position=slot.position,
            block=slot.block,
            sequence_code=slot.sequence_code,
        )
        for slot in plan
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=allocation_list,
        study_slug=study.slug,
        changes={
            "stratum": (None, key),
            "size": (None, len(plan)),
            "block_sizes": (None, block_sizes),
            "protocol_version_id": (None, version_pk),
            "fingerprint": (None, allocation_list.fingerprint),
        },
    )
    return allocation_list


def _free_slot(allocation_list: AllocationList) -> AllocationSlot | None:
    unused = AllocationSlot.objects.filter(
        allocation_list=allocation_list, used_by__isnull=True
    ).order_by("position")
    # Skip slots that concurrent randomizations hold, so they do not queue behind each other.
    slot = unused.select_for_update(skip_locked=True).first()
    if slot is None and connection.features.has_select_for_update_skip_locked:
        # Every free slot may be held by a randomization that will roll back: wait for them
        # before calling the list exhausted.
        slot = unused.select_for_update().first()
    return slot


@transaction.atomic
def participant_randomize(*, participant: Participant, actor: User | None) -> Randomization:
    """Randomize an enrolled participant: the next free slot of their stratum's list fixes
    their sequence, and their planned phases are stored (without arms). Once per participant.

    Raises AlreadyRandomizedError, AllocationListMissingError, AllocationListExhaustedError or
    ParticipantStatusError. The audit events name the slot's id, never the sequence.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    if Randomization.objects.filter(participant=locked).exists():
        raise AlreadyRandomizedError(
            f"Participant {locked.code} is randomized already; a participant is randomized "
            f"once and keeps their sequence.",
            extra={"participant": locked.code},
        )
    participant_transition_check(locked, ParticipantStatus.RANDOMIZED)
    protocol = participant_protocol(locked)
    key = stratum_key(
        protocol.randomization.strata, site=locked.site.code, opioid_use=locked.opioid_use
    )
    allocation_list = AllocationList.objects.filter(study=locked.study, stratum=key).first()
    if allocation_list is None:
        raise AllocationListMissingError(
            f"Stratum {key!r} of {locked.study.slug!r} has no allocation list yet; the "
            f"pharmacist generates it (diarytrial allocation_generate) before anyone in it "
            f"is randomized.",
            extra={"study": locked.study.slug, "stratum": key},
        )
    slot = _free_slot(allocation_list)
    if slot is None:
        raise AllocationListExhaustedError(
            f"Every slot of the allocation list of stratum {key!r} is used; nobody more can "
            f"be randomized in it. Ask the trial statistician how to extend allocation.",
            extra={"study": locked.study.slug, "stratum": key},
        )
    now = timezone.now()
    slot.used_by = locked
    slot.used_at = now
    slot.save(update_fields=["used_by", "used_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=slot,
        study_slug=locked.study.slug,
        changes={"used_by": (None, locked.code), "used_at": (None, now)},
    )
    randomization = Randomization.objects.create(
        participant=locked, slot=slot, randomized_at=now, randomized_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=randomization,
        study_slug=locked.study.slug,
        changes={
            "participant": (None, locked.code),
            "slot_id": (None, slot.pk),
            "randomized_at": (None, now),
        },
    )
    if locked.start_date is None:  # pragma: no cover - enrolment sets it, a constraint too
        raise ParticipantStatusError(f"Participant {locked.code} has no start date.")
    schedule = make_schedule(
        protocol, protocol.sequence_from_code(slot.sequence_code), locked.start_date
    )
    participant_mark_randomized(participant=locked, schedule=schedule, at=now, actor=actor)
    if participant is not locked:
        participant.refresh_from_db()
    return randomization


# --- kits -------------------------------------------------------------------------------------


def _kits_create(
    *, study: Study, batch: KitBatch, kits: Sequence[PlannedKit], actor: User | None
) -> None:
    # Stored in code order, so neither ids nor insertion order follow the contents.
    created = Kit.objects.bulk_create(
        Kit(study=study, batch=batch, code=k.code, arm=k.arm, dose_level=k.dose_level)
        for k in sorted(kits, key=lambda kit: kit.code)
    )
    for kit in created:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=kit,
            study_slug=study.slug,
            changes={
                "code": (None, kit.code),
                "status": (None, kit.status),
                "batch_id": (None, batch.pk),
            },
        )


def _batch_create(
    *,
    study: Study,
    kits: Sequence[PlannedKit],
    source: str,
    seed: int | None,
    filename: str,
    actor: User | None,
) -> KitBatch:
    salt = secrets.token_hex(16)
    batch = KitBatch(
        study=study,
        source=source,
        seed=seed,
        filename=filename,
        size=len(kits),
        salt=salt,
        fingerprint=fingerprint(salt=salt, content={"seed": seed, "kits": kits_content(kits)}),
        created_by=actor,
    )
    batch.full_clean()
    batch.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=batch,
        study_slug=study.slug,
        changes={
            "source": (None, source),
            "filename": (None, filename),
            "size": (None, len(kits)),
            "fingerprint": (None, batch.fingerprint),
        },
    )
    _kits_create(study=study, batch=batch, kits=kits, actor=actor)
    return batch


@transaction.atomic
def kit_inventory_generate(
    *, study: Study, per_arm_and_level: int, seed: int | None = None, actor: User | None
) -> KitBatch:
    """Make `per_arm_and_level` kits of every arm and dose level of the current protocol.

    Codes such as ``K-7Q3M`` are drawn at random, independently of the contents, and none
    repeats a code of the study. The seed (drawn when not given) is recorded on the batch,
    which only unblinded roles read; the audit records the batch's fingerprint.
    """
    require_unlocked(study)
    if not 1 <= per_arm_and_level <= MAX_KITS_PER_ARM_AND_LEVEL:
        raise InvalidInputError(
            f"Make from 1 to {MAX_KITS_PER_ARM_AND_LEVEL} kits of each arm and dose level; "
            f"{per_arm_and_level} asked for."
        )
    chosen_seed = _seed(seed)
    protocol, _ = _current_protocol(study)
    Study.objects.select_for_update().filter(pk=study.pk).first()
    kits = kit_plan(
        arms=[arm.id for arm in protocol.arms],
        levels=protocol.dosing.levels,
        per_arm_and_level=per_arm_and_level,
        seed=chosen_seed,
        taken=Kit.objects.filter(study=study).values_list("code", flat=True),
    )
    return _batch_create(
        study=study,
        kits=kits,
        source=KitBatch.Source.GENERATED,
        seed=chosen_seed,
        filename="",
        actor=actor,
    )


def _kit_rows(
    study: Study, protocol: Protocol, csv_text: str
) -> tuple[list[PlannedKit], list[str]]:
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    try:
        columns = [name.strip() for name in reader.fieldnames or []]
        rows = list(reader)
    except csv.Error as error:
        return [], [f"line {reader.line_num + 1}: not a valid CSV file ({error})"]
    needed = ["code", "arm", "dose_level"]
    if sorted(columns) != sorted(needed):
        return [], [
            f"line 1: the header must name the columns {', '.join(needed)} (and no others); "
            f"it names {', '.join(columns) or 'none'}"
        ]
    arms = [arm.id for arm in protocol.arms]
    levels = protocol.dosing.levels
    existing = set(Kit.objects.filter(study=study).values_list("code", flat=True))
    seen: dict[str, int] = {}
    kits: list[PlannedKit] = []
    problems: list[str] = []
    for line, raw in enumerate(rows, start=2):
        if None in raw:  # DictReader files fields beyond the header under None
            problems.append(
                f"line {line}: {len(needed) + len(raw[None])} fields; a row has {len(needed)}"
                f" ({', '.join(needed)})"
            )
            continue
        row = {str(key).strip(): (value or "").strip() for key, value in raw.items()}
        code, arm, level = (
            row.get("code", "").upper(),
            row.get("arm", ""),
            row.get("dose_level", ""),
        )
        if not KIT_CODE_PATTERN.match(code):
            problems.append(
                f"line {line}: kit code {code!r} must be 3 to 40 letters, digits or '-', "
                f"e.g. K-7Q3M"
            )
        elif code in seen:
            problems.append(f"line {line}: kit code {code} is on line {seen[code]} too")
        elif code in existing:
            problems.append(f"line {line}: kit code {code} exists in the study already")
        if arm not in arms:
            problems.append(f"line {line}: arm {arm!r} is not an arm id ({', '.join(arms)})")
        elif any(len(a) >= 3 and a.upper() in code for a in arms):
            problems.append(
                f"line {line}: kit code {code} contains an arm id; kit codes must not reveal "
                f"what a kit contains"
            )
        if level not in levels:
            problems.append(
                f"line {line}: dose level {level!r} is not a level id ({', '.join(levels)})"
            )
        seen.setdefault(code, line)
        kits.append(PlannedKit(code=code, arm=arm, dose_level=level))
    if not kits and not problems:
        problems.append("the file lists no kits")
    return kits, problems


@transaction.atomic
def kit_inventory_import(
    *, study: Study, csv_text: str, source: str, actor: User | None
) -> KitBatch:
    """Import kits from a CSV with the columns code, arm and dose_level (a supplier's list).

    Every row is checked against the current protocol (arm and level ids) and the study's kits
    (no code twice); any problem refuses the whole file with KitImportInvalidError, one line
    per problem. Kits are stored in code order whatever the file's order.
    """
    require_unlocked(study)
    protocol, _ = _current_protocol(study)
    Study.objects.select_for_update().filter(pk=study.pk).first()
    kits, problems = _kit_rows(study, protocol, csv_text)
    if problems:
        raise KitImportInvalidError(source, problems)
    return _batch_create(
        study=study,
        kits=kits,
        source=KitBatch.Source.IMPORTED,
        seed=None,
        filename=source,
        actor=actor,
    )


def _kit_lock(kit: Kit) -> Kit:
    return Kit.objects.select_for_update().get(pk=kit.pk)


@transaction.atomic
def kit_destroy(*, kit: Kit, reason: str, actor: User | None) -> Kit:
    """Take an available kit out of use (damaged, expired), saying why."""
    require_unlocked(kit.study)
    text = reason.strip()
    if not text:
        raise ReasonRequiredError(f"Say why kit {kit.code} is destroyed.")
    locked = _kit_lock(kit)
    if locked.status != KitStatus.AVAILABLE:
        raise KitNotAvailableError(
            f"Kit {locked.code} is {locked.status}; only an available kit can be destroyed.",
            extra={"kit": locked.code},
        )
    locked.status = KitStatus.DESTROYED
    locked.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        study_slug=kit.study.slug,
        changes={"status": (KitStatus.AVAILABLE, KitStatus.DESTROYED)},
        reason=text,
    )
    kit.status = locked.status
    return locked


@transaction.atomic
def kit_dispense(
    *, participant: Participant, period: int, kit: Kit, actor: User | None
) -> Dispensing:
    """Hand `kit` to `participant` for treatment `period`; a kit is dispensed once.

    The kit must be available and hold the period's arm at the participant's current dose
    level (the one ``kit_to_dispense`` names). The first dispensing makes a randomized
    participant active. Blinded staff see the result as "kit K-7Q3M dispensed".
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    arm = _period_arm(locked, period)
    kit_locked = _kit_lock(kit)
    if kit_locked.study_id != locked.study_id:
        raise KitMismatchError(
            f"Kit {kit_locked.code} belongs to another study than participant {locked.code}.",
            extra={"kit": kit_locked.code, "participant": locked.code},
        )
    if kit_locked.status != KitStatus.AVAILABLE:
        raise KitNotAvailableError(
            f"Kit {kit_locked.code} is {kit_locked.status} already; dispense the kit the "
            f"pharmacist's page names now.",
            extra={"kit": kit_locked.code},
        )
    if kit_locked.arm != arm or kit_locked.dose_level != locked.dose_level:
        raise KitMismatchError(
            f"Kit {kit_locked.code} is not a kit for participant {locked.code} in period "
            f"{period} at dose level {locked.dose_level!r}; dispense the kit the pharmacist's "
            f"page names.",
            extra={"kit": kit_locked.code, "participant": locked.code, "period": period},
        )
    kit_locked.status = KitStatus.DISPENSED
    kit_locked.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=kit_locked,
        study_slug=locked.study.slug,
        changes={"status": (KitStatus.AVAILABLE, KitStatus.DISPENSED)},
    )
    dispensing = Dispensing.objects.create(
        kit=kit_locked, participant=locked, period=period, dispensed_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=dispensing,
        study_slug=locked.study.slug,
        changes={
            "kit": (None, kit_locked.code),
            "participant": (None, locked.code),
            "period": (None, period),
        },
    )
    if locked.status == ParticipantStatus.RANDOMIZED:
        participant_activate(
            participant=locked, actor=actor, reason=f"kit {kit_locked.code} dispensed"
        )
    kit.status = kit_locked.status
    if participant is not locked:
        participant.refresh_from_db()
    return dispensing


# --- emergency unblinding ---------------------------------------------------------------------


@dataclass(frozen=True)
class EmergencyUnblinding:
    """What an emergency unblinding reveals, to the person who asked for it only."""

    participant_code: str
    sequence_code: str
    arms: tuple[str, ...]
    arm_names: tuple[str, ...]
    unblinded_at: dt.datetime


def _investigator_emails(study: Study) -> list[str]:
    emails = (
        StudyMembership.objects.filter(
            study=study, role=Role.INVESTIGATOR, active=True, user__is_active=True
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(emails))


def _notify_investigators(
    *,
    study_slug: str,
    participant_code: str,
    actor: str,
    at: dt.datetime,
    reason: str,
    recipients: list[str],
) -> None:
    if not recipients:
        return
    try:
        send_mail(
            subject=f"[diarytrial] Emergency unblinding in {study_slug}: {participant_code}",
            message=(
                f"Participant {participant_code} of study {study_slug} was unblinded in an "
                f"emergency by {actor} at {at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC.\n\n"
                f"Reason: {reason}\n\n"
                f"The allocation is not in this message: it was shown to {actor} only. The "
                f"participant is flagged as unblinded for the analysis, and the unblinding is "
                f"in the audit trail."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        # The unblinding is committed and its result shown; a mail failure must not hide it.
        logger.exception(
            "could not e-mail the investigators about the emergency unblinding of %s in %s",
            participant_code,
            study_slug,
        )


@transaction.atomic
def participant_unblind_emergency(
    *, participant: Participant, reason: str, actor: User
) -> EmergencyUnblinding:
    """Reveal `participant`'s sequence at once, in an emergency, to an investigator or the
    pharmacist of the study (PermissionDeniedError for anyone else); a reason is required.

    Recorded as an UNBLIND audit event (without the sequence), the participant flagged
    (``emergency_unblinded_at``) for the analysis, and the study's investigators e-mailed once
    the transaction commits.
    """
    require_unlocked(participant.study)
    text = reason.strip()
    if not text:
        raise ReasonRequiredError(
            f"Say why participant {participant.code} must be unblinded: the reason is kept in "
            f"the audit trail and sent to the investigators."
        )
    require_role(actor, participant.study, Role.INVESTIGATOR, Role.PHARMACIST)
    locked = participant_lock(participant)
    slot = (
        AllocationSlot.objects.filter(randomization__participant=locked)
        .values_list("sequence_code", flat=True)
        .first()
    )
    if slot is None:
        raise NotRandomizedError(
            f"Participant {locked.code} is not randomized: there is no allocation to reveal; "
            f"they take no study medication yet.",
            extra={"participant": locked.code},
        )
    protocol = participant_protocol(locked)
    arms = protocol.sequence_from_code(slot)
    participant_mark_emergency_unblinded(participant=locked, reason=text, actor=actor)
    at = timezone.now()
    recipients = _investigator_emails(locked.study)
    study_slug, code, actor_name = locked.study.slug, locked.code, actor.get_username()
    transaction.on_commit(
        lambda: _notify_investigators(
            study_slug=study_slug,
            participant_code=code,
            actor=actor_name,
            at=at,
            reason=text,
            recipients=recipients,
        )
    )
    if participant is not locked:
        participant.emergency_unblinded_at = locked.emergency_unblinded_at
    return EmergencyUnblinding(
        participant_code=code,
        sequence_code=slot,
        arms=arms,
        arm_names=tuple(protocol.arm(arm).name for arm in arms),
        unblinded_at=at,
    )
