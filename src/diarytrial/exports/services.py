"""Unblinding a study after its database lock, and exporting its trial dataset.

Who may do what:

- `study_unblind`: the statistician only, once the database is locked, with a reason. From
  then on the statistician is an unblinded reader (``studies.access.is_unblinded``).
- a *blinded* export: coordinator, investigator, statistician or administrator, at any time
  (a coordinator limited to some sites exports those sites only);
- an *unblinded* export: the statistician only, after `study_unblind`, while the database is
  locked. Not the pharmacist: the pharmacist holds allocation to dispense, not to analyse.
- a *certified copy* (`certified_copy_make`): an investigator, at any time, of their sites'
  data, as they may see it (blinded), signed by them over its manifest.

Each is recorded in the audit trail (UNBLIND, EXPORT); an EXPORT event says who exported,
blinded or not, and how many rows each table has, never anything about allocation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.dataset import TABLES, TrialDataset, write_dataset
from diarytrial.exports.build import dataset_build
from diarytrial.exports.certified import (
    CASEBOOKS,
    CERTIFIED_COPY_LIMIT,
    DATASET,
    MANIFEST,
    SIGNATURE,
    SUMS,
    casebook_html,
    casebook_page,
    files_listed,
    manifest_bytes,
    sums_text,
)
from diarytrial.exports.errors import (
    CertifiedCopyPrintError,
    CertifiedCopyTooLargeError,
    StudyAlreadyUnblindedError,
    StudyNotLockedError,
    StudyNotUnblindedError,
    UnblindReasonRequiredError,
)
from diarytrial.participants.models import Participant
from diarytrial.report.pdf import PdfError, print_pdf
from diarytrial.signatures.models import Signature
from diarytrial.signatures.selectors import CheckedSignature
from diarytrial.signatures.services import (
    SigningCredentials,
    manifest_record,
    meaning_check,
    printed_name,
    signature_apply,
    signer_verify,
)
from diarytrial.studies.access import is_unblinded, require_role, sites_visible_to
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.selectors import protocol_version_load

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


def dataset_export(
    *, study: Study, actor: User, blinded: bool, fmt: str = "dataset"
) -> TrialDataset:
    """The trial dataset of `study`, blinded or not, as `actor` may see it; audited (EXPORT),
    with the format `fmt` it is downloaded in (``dataset``: its own folder, or a key of
    `diarytrial.interop.formats.FORMATS`).

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
                "format": (None, fmt),
            },
            reason="blinded dataset export" if blinded else "unblinded dataset export",
        )
    return dataset


@dataclass(frozen=True)
class CertifiedCopy:
    """A signed certified copy: the ZIP (an open temporary file, deleted when closed), its name,
    and the signature of its manifest."""

    file: IO[bytes]
    name: str
    signature: Signature
    manifest: bytes


def _copy_sites(study: Study, signer: User, site: Site | None) -> QuerySet[Site]:
    visible = sites_visible_to(signer, study)
    if site is None:
        return visible.order_by("code")
    chosen = visible.filter(pk=site.pk)
    if not chosen.exists():
        raise PermissionDeniedError(
            f"You do not see site {site.code!r} in study {study.slug!r}: a certified copy holds "
            f"only the sites of your role.",
            extra={"site": site.code},
        )
    return chosen


def _copy_participants(study: Study, sites: QuerySet[Site]) -> QuerySet[Participant]:
    """The participants a copy of `sites` holds: those enrolled (as in the dataset)."""
    return (
        Participant.objects.filter(study=study, site__in=sites, start_date__isnull=False)
        .select_related("site", "study", "protocol_version")
        .order_by("code")
    )


def _copy_files_write(
    folder: Path, *, study: Study, signer: User, sites: QuerySet[Site], made_at: dt.datetime
) -> list[Participant]:
    """Write the casebooks' PDFs and the dataset into `folder`; the participants written.

    Everything is read in one snapshot (the casebooks' HTML written aside), then printed."""
    unblinded = is_unblinded(signer, study)
    made_by = f"{printed_name(signer)} ({signer.get_username()})"
    html_folder = folder.parent / "html"
    html_folder.mkdir()
    (folder / CASEBOOKS).mkdir(parents=True)
    with _snapshot():
        dataset = dataset_build(study=study, user=signer, blinded=not unblinded, sites=sites)
        participants = list(_copy_participants(study, sites))
        protocols = {
            p.protocol_version_id: protocol_version_load(p.protocol_version).protocol
            for p in participants
        }
        for participant in participants:
            html = casebook_html(
                casebook_page(participant, unblinded=unblinded),
                protocol=protocols[participant.protocol_version_id],
                unblinded=unblinded,
                made_at=made_at,
                made_by=made_by,
            )
            (html_folder / f"{participant.code}.html").write_text(html, encoding="utf-8")
    for participant in participants:
        try:
            print_pdf(
                html_folder / f"{participant.code}.html",
                folder / CASEBOOKS / f"{participant.code}.pdf",
            )
        except PdfError as error:
            raise CertifiedCopyPrintError(
                f"The casebook of {participant.code} could not be printed ({error}). "
                "Nothing was signed; try again later.",
                extra={"participant": participant.code},
            ) from None
    write_dataset(dataset, folder / DATASET)
    return participants


def certified_copy_make(
    *, study: Study, credentials: SigningCredentials, site: Site | None = None
) -> CertifiedCopy:
    """The certified copy of the data of the signer's sites (or of `site`, one of them), signed
    by the signer and recorded as an EXPORT event (``exports.certified`` says what it holds).

    Investigators of the study only (PermissionDeniedError), at any time, the database locked or
    not. The signer's password and code are checked first (``signatures.services
    .signer_verify``: a refusal, SigningRefusedError or SigningLockedError, is recorded and
    nothing is made); then the casebooks and the dataset are read, in one snapshot, and
    printed; then the signature is applied to the manifest (``manifest_record``) in the
    transaction of the EXPORT event. Raises CertifiedCopyTooLargeError (413) over
    `CERTIFIED_COPY_LIMIT` participants, before the signer is checked, and
    CertifiedCopyPrintError (503) when Chromium cannot print a casebook (nothing is signed).
    """
    signer = credentials.signer
    require_role(signer, study, Role.INVESTIGATOR)
    meaning_check(credentials.meaning)
    sites = list(_copy_sites(study, signer, site))
    site_query = Site.objects.filter(pk__in=[s.pk for s in sites])
    count = _copy_participants(study, site_query).count()
    if count > CERTIFIED_COPY_LIMIT:
        raise CertifiedCopyTooLargeError(
            f"The copy would hold {count} participants; one copy holds at most "
            f"{CERTIFIED_COPY_LIMIT}. Choose one site at a time.",
            extra={"participants": count},
        )
    made_at = timezone.now()
    codes = "-".join(s.code for s in sites) if site is not None else "all-sites"
    name = f"{study.slug}-certified-copy-{codes}-{made_at:%Y%m%d-%H%M%S}.zip"
    signer_verify(
        credentials=credentials, study=study, record=manifest_record(manifest=b"", name=name)
    )
    with tempfile.TemporaryDirectory(prefix="diarytrial-certified-") as work:
        folder = Path(work) / "copy"
        participants = _copy_files_write(
            folder, study=study, signer=signer, sites=site_query, made_at=made_at
        )
        (folder / SUMS).write_text(sums_text(files_listed(folder)), encoding="utf-8")
        listed = files_listed(folder)
        manifest = manifest_bytes(
            study={"slug": study.slug, "title": study.title},
            sites=[{"code": s.code, "name": s.name, "timezone": s.timezone} for s in sites],
            made_at=made_at.astimezone(dt.UTC).isoformat(),
            made_by={"username": signer.get_username(), "printed_name": printed_name(signer)},
            blinded=not is_unblinded(signer, study),
            participants=[p.code for p in participants],
            files=listed,
        )
        (folder / MANIFEST).write_bytes(manifest)
        with transaction.atomic():
            signature = signature_apply(
                signer=signer,
                meaning=credentials.meaning,
                study=study,
                record=manifest_record(manifest=manifest, name=name),
            )
            audit_record(
                actor=signer,
                action=AuditAction.EXPORT,
                obj=study,
                study_slug=study.slug,
                changes={
                    "certified_copy": (None, name),
                    "sites": (None, [s.code for s in sites]),
                    "participants": (None, len(participants)),
                    "files": (None, len(listed)),
                    "manifest_sha256": (None, signature.content_sha256),
                    "signature": (None, signature.pk),
                },
                reason="certified copy of the site's data, signed",
            )
        record = {
            **CheckedSignature(signature=signature, valid=True).as_metadata(),
            "signed": MANIFEST,
            "signed_sha256": hashlib.sha256(manifest).hexdigest(),
        }
        (folder / SIGNATURE).write_text(
            json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        archive_file = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
        with zipfile.ZipFile(archive_file, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
        archive_file.seek(0)
    return CertifiedCopy(file=archive_file, name=name, signature=signature, manifest=manifest)
