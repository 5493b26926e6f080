"""Writes of the studies app. Each public function is one transaction that writes its rows
and their audit events together.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.protocol import ProtocolError, ProtocolFile, parse_protocol
from diarytrial.studies.errors import (
    ProtocolAlreadyRecordedError,
    ProtocolStudyMismatchError,
    StudyAlreadyExistsError,
)
from diarytrial.studies.models import ProtocolVersion, Role, Site, Study, StudyMembership
from diarytrial.web.errors import InvalidInputError, ProtocolInvalidError


def _protocol_validate(*, text: str, source: str) -> ProtocolFile:
    try:
        return parse_protocol(text, source=source)
    except ProtocolError as error:
        raise ProtocolInvalidError(error) from None


@transaction.atomic
def study_create_from_protocol(*, text: str, source: str, created_by: User | None) -> Study:
    """Create a study from protocol `text` (read from file `source`), with protocol version 1.

    Raises ProtocolInvalidError with every problem of the text, or StudyAlreadyExistsError.
    """
    loaded = _protocol_validate(text=text, source=source)
    info = loaded.protocol.study
    if Study.objects.filter(slug=info.id).exists():
        raise StudyAlreadyExistsError(
            f"A study with id {info.id!r} exists already. To change its protocol, amend it; "
            f"to start another study, give the protocol a new study.id.",
            extra={"study": info.id},
        )
    study = Study(slug=info.id, title=info.title)
    study.full_clean()
    study.save()
    version = ProtocolVersion(
        study=study,
        number=1,
        text=loaded.text,
        sha256=loaded.sha256,
        source=source,
        created_by=created_by,
    )
    version.full_clean()
    version.save()
    audit_record(
        actor=created_by,
        action=AuditAction.CREATE,
        obj=study,
        study_slug=study.slug,
        changes={"title": (None, study.title)},
    )
    _audit_version(version, created_by)
    return study


def _audit_version(version: ProtocolVersion, actor: User | None) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=version,
        study_slug=version.study.slug,
        changes={
            "number": (None, version.number),
            "sha256": (None, version.sha256),
            "source": (None, version.source),
        },
    )


@transaction.atomic
def study_amend_protocol(
    *, study: Study, text: str, source: str, created_by: User | None
) -> ProtocolVersion:
    """Record protocol `text` as the next version of `study`'s protocol and return it.

    The study's title follows the new protocol's (on `study` too). Raises ProtocolInvalidError,
    ProtocolStudyMismatchError (another study.id) or ProtocolAlreadyRecordedError (identical text).
    """
    loaded = _protocol_validate(text=text, source=source)
    if loaded.protocol.study.id != study.slug:
        raise ProtocolStudyMismatchError(
            f"{source} is the protocol of study {loaded.protocol.study.id!r}, not of "
            f"{study.slug!r}: an amendment keeps the study.id of the study it amends.",
            extra={"study": study.slug, "protocol_study": loaded.protocol.study.id},
        )
    # Locking the study row serializes concurrent amendments, so version numbers never clash.
    locked = Study.objects.select_for_update().get(pk=study.pk)
    same = ProtocolVersion.objects.filter(study=locked, sha256=loaded.sha256).first()
    if same is not None:
        raise ProtocolAlreadyRecordedError(
            f"{source} is identical to version {same.number} of the protocol of "
            f"{study.slug!r}; nothing to amend. Change the file, then amend again.",
            extra={"study": study.slug, "version": same.number},
        )
    highest = ProtocolVersion.objects.filter(study=locked).aggregate(highest=Max("number"))
    version = ProtocolVersion(
        study=locked,
        number=(highest["highest"] or 0) + 1,
        text=loaded.text,
        sha256=loaded.sha256,
        source=source,
        created_by=created_by,
    )
    version.full_clean()
    version.save()
    _audit_version(version, created_by)
    if locked.title != loaded.protocol.study.title:
        old_title = locked.title
        locked.title = loaded.protocol.study.title
        locked.full_clean()
        locked.save(update_fields=["title"])
        study.title = locked.title
        audit_record(
            actor=created_by,
            action=AuditAction.UPDATE,
            obj=locked,
            study_slug=locked.slug,
            changes={"title": (old_title, locked.title)},
            reason=f"protocol amendment, version {version.number}",
        )
    return version


@transaction.atomic
def site_create(*, study: Study, code: str, name: str, actor: User | None) -> Site:
    """Add a site to `study`."""
    site = Site(study=study, code=code, name=name)
    site.full_clean()
    site.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=site,
        study_slug=study.slug,
        changes={"code": (None, code), "name": (None, name)},
    )
    return site


@transaction.atomic
def membership_grant(
    *,
    study: Study,
    user: User,
    role: Role,
    sites: list[Site] | None = None,
    actor: User | None,
    reason: str = "",
) -> StudyMembership:
    """Give `user` `role` in `study`, limited to `sites` (all sites when empty)."""
    for site in sites or []:
        if site.study_id != study.pk:
            raise InvalidInputError(
                f"site {site.code!r} belongs to another study than {study.slug!r}",
                extra={"site": site.code},
            )
    membership = StudyMembership(study=study, user=user, role=role)
    membership.full_clean()
    membership.save()
    membership.sites.set(sites or [])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=membership,
        study_slug=study.slug,
        changes={
            "user": (None, user.get_username()),
            "role": (None, role.value),
            "sites": (None, sorted(site.code for site in sites or [])),
        },
        reason=reason,
    )
    return membership
