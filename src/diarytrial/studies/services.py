"""Writes of the studies app. Each public function is one transaction that writes its rows
and their audit events together.

The database lock lives here too: `study_lock` and `study_unlock` (administrators only), and
`require_unlocked`, the guard every write service of the trial's apps calls first.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError, ProtocolInvalidError
from diarytrial.protocol import ProtocolError, ProtocolFile, parse_protocol
from diarytrial.studies.access import is_administrator, membership_today
from diarytrial.studies.errors import (
    LastAdministratorError,
    LockReasonRequiredError,
    MembershipExistsError,
    OwnAdministratorRoleError,
    ProtocolAlreadyRecordedError,
    ProtocolStudyMismatchError,
    StudyAlreadyExistsError,
    StudyLockedError,
    StudyLockStateError,
    StudyNotReadyToLockError,
)
from diarytrial.studies.models import ProtocolVersion, Role, Site, Study, StudyMembership
from diarytrial.studies.readiness import ReadinessItem, lock_readiness, open_items


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
    require_unlocked(study)
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
def site_create(
    *, study: Study, code: str, name: str, actor: User | None, timezone: str = "UTC"
) -> Site:
    """Add a site to `study`; staff pages show its dates and times in `timezone` (IANA)."""
    require_unlocked(study)
    site = Site(study=study, code=code, name=name, timezone=timezone)
    site.full_clean()
    site.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=site,
        study_slug=study.slug,
        changes={"code": (None, code), "name": (None, name), "timezone": (None, timezone)},
    )
    return site


# --- roles ---------------------------------------------------------------------------------------
# Roles are access, not trial data: they are granted, changed and revoked on a locked study too
# (a departing member's access must be taken away whatever the lock).


def _membership_check_sites(study: Study, sites: list[Site]) -> None:
    for site in sites:
        if site.study_id != study.pk:
            raise InvalidInputError(
                f"site {site.code!r} belongs to another study than {study.slug!r}",
                extra={"site": site.code},
            )


def _membership_check_actor(study: Study, actor: User | None) -> None:
    # None is the command line or the system (the demo, the test builders).
    if actor is not None and not is_administrator(actor, study):
        raise PermissionDeniedError(
            f"Only an administrator of study {study.slug!r} may grant, change or revoke roles.",
            extra={"study": study.slug},
        )


def _membership_check_end(membership: StudyMembership, ends_on: dt.date | None) -> None:
    if ends_on is None:
        return
    today = membership_today(membership)
    if ends_on < today:
        raise InvalidInputError(
            f"The end date {ends_on:%Y-%m-%d} has passed already (today is {today:%Y-%m-%d} "
            f"where the role is held). Give today or a later day; to take the role away now, "
            f"revoke it.",
            extra={"ends_on": ends_on.isoformat()},
        )


def _holds_administration(membership: StudyMembership) -> bool:
    """A current administrator role without an end date: what keeps a study administered."""
    return (
        membership.active
        and membership.role == Role.ADMINISTRATOR
        and membership.ends_on is None
        and membership.user.is_active
    )


def membership_check_administration_kept(
    *, membership: StudyMembership, actor: User | None, what: str
) -> None:
    """Refuse a change that takes `membership`'s administrator role away (or gives it an end).

    Nobody ends their own administrator role (OwnAdministratorRoleError), and a study keeps at
    least one administrator whose role has no end date (LastAdministratorError). Called, with
    the membership locked, before the change; `what` names the change in the message.
    """
    if not _holds_administration(membership):
        return
    study = membership.study
    if actor is not None and actor.pk == membership.user_id:
        raise OwnAdministratorRoleError(
            f"You cannot {what} your own administrator role in {study.slug!r}: another "
            f"administrator of the study has to do it.",
            extra={"study": study.slug},
        )
    others = (
        StudyMembership.objects.select_for_update()
        .select_related("user")
        .filter(study=study, role=Role.ADMINISTRATOR, active=True, ends_on__isnull=True)
        .exclude(pk=membership.pk)
    )
    if not any(_holds_administration(other) for other in others):
        raise LastAdministratorError(
            f"{membership.user.get_username()} is the last administrator of {study.slug!r}: "
            f"you cannot {what} that role. Make someone else an administrator (without an "
            f"end date) first.",
            extra={"study": study.slug, "user": membership.user.get_username()},
        )


def _sites_codes(sites: list[Site]) -> list[str]:
    return sorted(site.code for site in sites)


@transaction.atomic
def membership_grant(
    *,
    study: Study,
    user: User,
    role: Role,
    sites: list[Site] | None = None,
    ends_on: dt.date | None = None,
    actor: User | None,
    reason: str = "",
) -> StudyMembership:
    """Give `user` `role` in `study`, limited to `sites` (all sites when empty), until `ends_on`
    (inclusive; no end when None). One GRANT event.

    A user whose role in the study was revoked gets it back this way. Refused: by someone who
    is no administrator of the study (PermissionDeniedError), to a user who holds a role in
    the study already (MembershipExistsError: change it instead), for a site of another study
    or an end date already past (InvalidInputError), for a deactivated account.
    """
    _membership_check_actor(study, actor)
    chosen = list(sites or [])
    _membership_check_sites(study, chosen)
    if not user.is_active:
        raise InvalidInputError(
            f"The account {user.get_username()!r} is deactivated: it can hold no role.",
            extra={"user": user.get_username()},
        )
    membership = StudyMembership.objects.select_for_update().filter(study=study, user=user).first()
    old: dict[str, object] = {"role": None, "sites": None, "ends_on": None, "active": None}
    if membership is None:
        membership = StudyMembership(study=study, user=user, role=role, ends_on=ends_on)
    elif membership.active:
        raise MembershipExistsError(
            f"{user.get_username()} is {Role(membership.role).label.lower()} in "
            f"{study.slug!r} already: change that role instead of granting another.",
            extra={"study": study.slug, "user": user.get_username()},
        )
    else:
        old = {
            "role": membership.role,
            "sites": _sites_codes(list(membership.sites.all())),
            "ends_on": membership.ends_on,
            "active": False,
        }
        membership.role, membership.ends_on, membership.active = role, ends_on, True
    membership.full_clean(validate_unique=False)
    try:
        with transaction.atomic():  # a savepoint: a grant made meanwhile is a refusal, not a 500
            membership.save()
    except IntegrityError:
        raise MembershipExistsError(
            f"{user.get_username()} was given a role in {study.slug!r} a moment ago: change "
            f"that role instead of granting another.",
            extra={"study": study.slug, "user": user.get_username()},
        ) from None
    membership.sites.set(chosen)
    _membership_check_end(membership, ends_on)
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=membership,
        study_slug=study.slug,
        changes={
            "user": (None if old["role"] is None else user.get_username(), user.get_username()),
            "role": (old["role"], role.value),
            "sites": (old["sites"], _sites_codes(chosen)),
            "ends_on": (old["ends_on"], ends_on),
            "active": (old["active"], True),
        },
        reason=reason.strip(),
    )
    return membership


@transaction.atomic
def membership_change(
    *,
    membership: StudyMembership,
    role: Role,
    sites: list[Site] | None = None,
    ends_on: dt.date | None = None,
    actor: User | None,
    reason: str = "",
) -> StudyMembership:
    """Change a held role: its role, sites and end date. One GRANT event with the old and new
    values; nothing is recorded when nothing changes.

    Refused as `membership_grant` refuses, for a revoked role (grant it again instead), and by
    `membership_check_administration_kept` when it takes an administrator role away.
    """
    locked = (
        StudyMembership.objects.select_for_update()
        .select_related("study", "user")
        .get(pk=membership.pk)
    )
    study = locked.study
    _membership_check_actor(study, actor)
    chosen = list(sites or [])
    _membership_check_sites(study, chosen)
    if not locked.active:
        raise InvalidInputError(
            f"The role of {locked.user.get_username()} in {study.slug!r} was revoked: grant "
            f"one again instead.",
            extra={"study": study.slug, "user": locked.user.get_username()},
        )
    before_sites = _sites_codes(list(locked.sites.all()))
    changes: dict[str, tuple[object, object]] = {}
    if locked.role != role:
        changes["role"] = (locked.role, role.value)
    if before_sites != _sites_codes(chosen):
        changes["sites"] = (before_sites, _sites_codes(chosen))
    if locked.ends_on != ends_on:
        changes["ends_on"] = (locked.ends_on, ends_on)
        _membership_check_end(locked, ends_on)
    if not changes:
        return locked
    if "role" in changes or "ends_on" in changes:
        membership_check_administration_kept(membership=locked, actor=actor, what="change")
    locked.role, locked.ends_on = role, ends_on
    locked.full_clean(validate_unique=False)
    locked.save(update_fields=["role", "ends_on"])
    locked.sites.set(chosen)
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=locked,
        study_slug=study.slug,
        changes={"user": (locked.user.get_username(), locked.user.get_username()), **changes},
        reason=reason.strip(),
    )
    return locked


@transaction.atomic
def membership_revoke(
    *, membership: StudyMembership, actor: User | None, reason: str
) -> StudyMembership:
    """Take a role away, saying why: from now on it grants nothing. One REVOKE event.

    The row stays (the trail names it); the role can be granted again. Refused without a
    reason (InvalidInputError), for a role revoked already, and by
    `membership_check_administration_kept`.
    """
    locked = (
        StudyMembership.objects.select_for_update()
        .select_related("study", "user")
        .get(pk=membership.pk)
    )
    study = locked.study
    _membership_check_actor(study, actor)
    text = reason.strip()
    if not text:
        raise InvalidInputError(
            "Say why the role is revoked: the reason is kept in the audit trail."
        )
    if not locked.active:
        raise InvalidInputError(
            f"The role of {locked.user.get_username()} in {study.slug!r} is revoked already.",
            extra={"study": study.slug, "user": locked.user.get_username()},
        )
    membership_check_administration_kept(membership=locked, actor=actor, what="revoke")
    locked.active = False
    locked.save(update_fields=["active"])
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=locked,
        study_slug=study.slug,
        changes={
            "user": (locked.user.get_username(), locked.user.get_username()),
            "role": (locked.role, locked.role),
            "active": (True, False),
        },
        reason=text,
    )
    membership.active = False
    return locked


# --- database lock ------------------------------------------------------------------------------


def require_unlocked(study: Study, *, shared: bool = False) -> None:
    """Raise StudyLockedError (423) when `study`'s database is locked; call it first in a write.

    Reads the lock from the database, not from `study` (which may be stale). Inside a
    transaction it also holds the study's row until the transaction ends, so `study_lock`
    (``FOR UPDATE``) waits for the writes under way, and writes that start after it see the
    lock: no change can commit after the LOCK event. By default the hold is ``FOR NO KEY
    UPDATE`` on PostgreSQL, which also serializes the study's writes. `shared` takes ``FOR KEY
    SHARE`` instead, for a write that takes no further lock on the study's row (the diary
    upload): many such writes of one study then run at once, and still all finish before a
    lock, or start after it.
    """
    connection = transaction.get_connection()
    locked_at: dt.datetime | None
    if shared and connection.in_atomic_block and connection.vendor == "postgresql":
        table = connection.ops.quote_name(Study._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT locked_at FROM {table} WHERE id = %s FOR KEY SHARE", [study.pk])
            row = cursor.fetchone()
        locked_at = row[0] if row else None
    else:
        rows = Study.objects.filter(pk=study.pk).order_by()
        if connection.in_atomic_block:
            rows = rows.select_for_update(no_key=True)
        locked_at = rows.values_list("locked_at", flat=True).first()
    if locked_at is not None:
        raise StudyLockedError(
            f"The database of study {study.slug!r} was locked for analysis on "
            f"{locked_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC: its data can no longer "
            f"be changed. If a change is needed, ask the study's administrator to unlock it, "
            f"saying why.",
            extra={"study": study.slug, "locked_at": locked_at.isoformat()},
        )


def _lock_check(
    *, study: Study, reason: str, actor: AbstractBaseUser | AnonymousUser | None, what: str
) -> str:
    if actor is None or not is_administrator(actor, study):
        raise PermissionDeniedError(
            f"Only an administrator of study {study.slug!r} may {what} its database.",
            extra={"study": study.slug},
        )
    text = reason.strip()
    if not text:
        raise LockReasonRequiredError(
            f"Say why the database of {study.slug!r} is to be {what}ed: the reason is kept in "
            f"the audit trail."
        )
    return text


def _open_items_words(items: tuple[ReadinessItem, ...]) -> str:
    return "; ".join(f"{item.label}: {item.count}" for item in items)


@transaction.atomic
def study_lock(*, study: Study, reason: str, actor: User, override_reason: str = "") -> Study:
    """Lock `study`'s database for analysis: from now on every write to its data is refused.

    Administrators only (PermissionDeniedError); a reason is required (LockReasonRequiredError);
    a locked study cannot be locked again (StudyLockStateError). While items of the lock
    checklist that hold the lock back are open (``studies.readiness``), the lock is refused
    (StudyNotReadyToLockError, listing them) unless `override_reason` says why the study is
    locked all the same; the override is then kept on the study (``lock_override_reason``)
    and in the LOCK event, with the count of every item open at that moment. An override
    reason given when nothing is open is not needed and not recorded.
    """
    text = _lock_check(study=study, reason=reason, actor=actor, what="lock")
    # FOR UPDATE waits for every write that holds the row through `require_unlocked`.
    locked = Study.objects.select_for_update().get(pk=study.pk)
    if locked.locked_at is not None:
        raise StudyLockStateError(
            f"The database of {study.slug!r} is locked already (since "
            f"{locked.locked_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC).",
            extra={"study": study.slug},
        )
    # Counted while the row is held: no write of the study's data can change them any more.
    items = lock_readiness(locked)
    blocking = open_items(items)
    override = override_reason.strip() if blocking else ""
    if blocking and not override:
        raise StudyNotReadyToLockError(
            f"The database of {study.slug!r} is not ready to lock; still open: "
            f"{_open_items_words(blocking)}. Close these first (the lock page says how), or, "
            f"if the study must be locked as it is, give an override reason saying why.",
            extra={"study": study.slug, "open": {item.key: item.count for item in blocking}},
        )
    locked.locked_at = timezone.now()
    locked.lock_override_reason = override
    locked.save(update_fields=["locked_at", "lock_override_reason"])
    changes: dict[str, tuple[object, object]] = {"locked_at": (None, locked.locked_at)}
    if override:
        changes["lock_override_reason"] = ("", override)
        changes["open_at_lock"] = (None, {item.key: item.count for item in items if item.open})
    audit_record(
        actor=actor,
        action=AuditAction.LOCK,
        obj=locked,
        study_slug=locked.slug,
        changes=changes,
        reason=text,
    )
    study.locked_at = locked.locked_at
    study.lock_override_reason = locked.lock_override_reason
    return locked


@transaction.atomic
def study_unlock(*, study: Study, reason: str, actor: User) -> Study:
    """Unlock `study`'s database, so that its data can be changed again (and locked again).

    Administrators only, with a reason; refused (StudyLockStateError) when it is not locked.
    Recorded as an UNLOCK event with the lock's time as the old value.
    """
    text = _lock_check(study=study, reason=reason, actor=actor, what="unlock")
    locked = Study.objects.select_for_update().get(pk=study.pk)
    if locked.locked_at is None:
        raise StudyLockStateError(
            f"The database of {study.slug!r} is not locked; nothing to unlock.",
            extra={"study": study.slug},
        )
    was, was_override = locked.locked_at, locked.lock_override_reason
    locked.locked_at = None
    locked.lock_override_reason = ""
    locked.save(update_fields=["locked_at", "lock_override_reason"])
    changes: dict[str, tuple[object, object]] = {"locked_at": (was, None)}
    if was_override:
        changes["lock_override_reason"] = (was_override, "")
    audit_record(
        actor=actor,
        action=AuditAction.UNLOCK,
        obj=locked,
        study_slug=locked.slug,
        changes=changes,
        reason=text,
    )
    study.locked_at = None
    study.lock_override_reason = ""
    return locked
