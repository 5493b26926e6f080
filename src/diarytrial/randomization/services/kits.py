"""Kits: generating and importing a study's inventory, destroying a kit, dispensing one."""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import ReasonRequiredError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import (
    participant_activate,
    participant_lock,
)
from diarytrial.protocol import Protocol
from diarytrial.randomization.errors import (
    KitImportInvalidError,
    KitMismatchError,
    KitNotAvailableError,
    VisitDispensedError,
)
from diarytrial.randomization.models import (
    Dispensing,
    Kit,
    KitBatch,
    KitStatus,
)
from diarytrial.randomization.plans import (
    PlannedKit,
    fingerprint,
    kit_plan,
    kits_content,
)
from diarytrial.randomization.selectors import _visit_arm
from diarytrial.randomization.services.allocation import _current_protocol, _seed
from diarytrial.studies.models import Study
from diarytrial.studies.services import require_unlocked

logger = logging.getLogger(__name__)

MAX_KITS_PER_ARM_AND_LEVEL = 10_000
KIT_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


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
    *, participant: Participant, visit: int, kit: Kit, actor: User | None
) -> Dispensing:
    """Hand `kit` to `participant` at visit `visit`, for the stretch until the next visit.

    A kit is dispensed once, and a participant gets one kit per visit (VisitDispensedError for
    a second). The kit must be available and hold what the visit's stretch needs for the
    participant's sequence, at their current dose level (the kit ``kit_to_dispense`` names);
    a visit without a kit (the last, or a washout without capsules) is refused with
    VisitInvalidError. The first dispensing makes a randomized participant active. Blinded
    staff see the result as "kit K-7Q3M dispensed" at the visit.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    arm = _visit_arm(locked, visit)
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
    earlier = (
        Dispensing.objects.filter(participant=locked, visit=visit)
        .values_list("kit__code", flat=True)
        .first()
    )
    if earlier is not None:
        raise VisitDispensedError(
            f"Participant {locked.code} got kit {earlier} at visit {visit} already; a "
            f"participant gets one kit per visit.",
            extra={"participant": locked.code, "visit": visit, "kit": earlier},
        )
    if kit_locked.arm != arm or kit_locked.dose_level != locked.dose_level:
        raise KitMismatchError(
            f"Kit {kit_locked.code} is not a kit for participant {locked.code} at visit "
            f"{visit} at dose level {locked.dose_level!r}; dispense the kit the pharmacist's "
            f"page names.",
            extra={"kit": kit_locked.code, "participant": locked.code, "visit": visit},
        )
    kit_locked.status = KitStatus.DISPENSED
    kit_locked.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=kit_locked,
        study_slug=locked.study.slug,
        changes={"status": (KitStatus.AVAILABLE, KitStatus.DISPENSED)},
        participant_code=locked.code,
    )
    dispensing = Dispensing.objects.create(
        kit=kit_locked, participant=locked, visit=visit, dispensed_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=dispensing,
        study_slug=locked.study.slug,
        changes={
            "kit": (None, kit_locked.code),
            "participant": (None, locked.code),
            "visit": (None, visit),
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
