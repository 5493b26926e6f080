"""Unblinding a study after its database lock, and exporting its trial dataset.

Who may do what:

- `study_unblind`: the statistician only, once the database is locked, with a reason. From
  then on the statistician is an unblinded reader (``studies.access.is_unblinded``).
- a *blinded* export: coordinator, investigator, statistician or administrator, at any time
  (a coordinator limited to some sites exports those sites only);
- an *unblinded* export: the statistician only, after `study_unblind`, while the database is
  locked. Not the pharmacist: the pharmacist holds allocation to dispense, not to analyse.

Each is recorded in the audit trail (UNBLIND, EXPORT); an EXPORT event says who exported,
blinded or not, and how many rows each table has, never anything about allocation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.dataset import TABLES, TrialDataset
from diarytrial.exports.build import dataset_build
from diarytrial.exports.errors import (
    StudyAlreadyUnblindedError,
    StudyNotLockedError,
    StudyNotUnblindedError,
    UnblindReasonRequiredError,
)
from diarytrial.studies.access import require_role
from diarytrial.studies.models import Role, Study

BLINDED_EXPORT_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR)
"""Roles that may export the blinded dataset."""


@transaction.atomic
def study_unblind(*, study: Study, reason: str, actor: User) -> Study:
    """Unblind `study` for its statistician: sets ``unblinded_at``; recorded as an UNBLIND event.

    Raises PermissionDeniedError (403) for anyone but the study's statistician,
    UnblindReasonRequiredError (422) without a reason, StudyNotLockedError (409) before the
    database lock and StudyAlreadyUnblindedError (409) the second time.
    """
    require_role(actor, study, Role.STATISTICIAN)
    text = reason.strip()
    if not text:
        raise UnblindReasonRequiredError(
            f"Say why study {study.slug!r} is to be unblinded (e.g. 'database locked, final "
            f"analysis'): the reason is kept in the audit trail."
        )
    locked = Study.objects.select_for_update().get(pk=study.pk)
    if locked.locked_at is None:
        raise StudyNotLockedError(
            f"The database of study {study.slug!r} is not locked. Unblinding comes after the "
            f"database lock: ask the study's administrator to lock it first.",
            extra={"study": study.slug},
        )
    if locked.unblinded_at is not None:
        raise StudyAlreadyUnblindedError(
            f"Study {study.slug!r} was unblinded already, on "
            f"{locked.unblinded_at:%Y-%m-%d %H:%M} UTC; you can export the unblinded dataset.",
            extra={"study": study.slug},
        )
    locked.unblinded_at = timezone.now()
    locked.save(update_fields=["unblinded_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UNBLIND,
        obj=locked,
        study_slug=locked.slug,
        changes={"unblinded_at": (None, locked.unblinded_at)},
        reason=text,
    )
    study.unblinded_at = locked.unblinded_at
    return locked


def _unblinded_export_check(*, study: Study, actor: User) -> None:
    require_role(actor, study, Role.STATISTICIAN)
    current = Study.objects.filter(pk=study.pk).values_list("locked_at", "unblinded_at").get()
    locked_at, unblinded_at = current
    if unblinded_at is None:
        raise StudyNotUnblindedError(
            f"Study {study.slug!r} is not unblinded. After the database lock, unblind it "
            f"(diarytrial unblind) and export again; until then export the blinded dataset "
            f"(--blinded).",
            extra={"study": study.slug},
        )
    if locked_at is None:
        raise StudyNotLockedError(
            f"The database of study {study.slug!r} was unlocked after unblinding: its data may "
            f"change. Ask the study's administrator to lock it again before an unblinded export.",
            extra={"study": study.slug},
        )
    study.locked_at, study.unblinded_at = locked_at, unblinded_at


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """One transaction for the reads; on PostgreSQL a repeatable-read one, so that every table
    is read from the same moment even while diary entries arrive.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def dataset_export(*, study: Study, actor: User, blinded: bool) -> TrialDataset:
    """The trial dataset of `study`, blinded or not, as `actor` may see it; audited (EXPORT).

    Blinded: coordinator, investigator, statistician or administrator, at any time; sequences
    are S1, S2, ... (one per participant), treatment phases have no arm and the condition
    ``blinded``, phases whose dates would tell the sequence are merged, and PGIC answers whose
    date would tell it are left out (docs/dataset.md). Unblinded: the statistician, after
    `study_unblind`, while the database is locked. Raises PermissionDeniedError (403),
    StudyNotUnblindedError or StudyNotLockedError (409).
    """
    if blinded:
        require_role(actor, study, *BLINDED_EXPORT_ROLES)
    else:
        _unblinded_export_check(study=study, actor=actor)
    with _snapshot():
        dataset = dataset_build(study=study, user=actor, blinded=blinded)
    rows = {table.name: len(dataset.table(table.name)) for table in TABLES}
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            obj=study,
            study_slug=study.slug,
            changes={
                "blinded": (None, blinded),
                "protocol_version": (None, dataset.provenance["protocol_version"]),
                "sites": (None, dataset.provenance.get("sites", "all")),
                "rows": (None, rows),
            },
            reason="blinded dataset export" if blinded else "unblinded dataset export",
        )
    return dataset
