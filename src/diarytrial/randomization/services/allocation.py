"""Allocation lists and randomization: generating a stratum's list, allocating its next free
slot to a participant."""

from __future__ import annotations

import logging
import secrets

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_protocol
from diarytrial.participants.services import (
    participant_lock,
    participant_mark_randomized,
    participant_transition_check,
)
from diarytrial.protocol import Protocol, make_schedule
from diarytrial.randomization.errors import (
    AllocationListExhaustedError,
    AllocationListExistsError,
    AllocationListMissingError,
    AlreadyRandomizedError,
    StratumInvalidError,
)
from diarytrial.randomization.models import (
    AllocationList,
    AllocationSlot,
    Randomization,
)
from diarytrial.randomization.plans import (
    allocation_plan,
    fingerprint,
    seed_check,
    slots_content,
    stratum_key,
    stratum_normalize,
)
from diarytrial.studies.models import Site, Study
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.studies.services import require_unlocked

logger = logging.getLogger(__name__)

MAX_LIST_SIZE = 100_000


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
        participant_code=locked.code,
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
