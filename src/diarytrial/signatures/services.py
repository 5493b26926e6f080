"""Signing: checking the signer's two components, applying a signature, and the signing
throttle (21 CFR Part 11.200(a)).

A signature is applied inside the transaction of the act it signs (`signed_act` composes them),
so the act and its signature are committed, or rolled back, together. The signer's password,
and the current code of their authenticator app when they have one, are checked first and on
their own: a failed attempt is a security event (SIGN_FAILED) that must stay on the audit trail
although the act does not happen, so it is committed before the refusal is raised.

The throttle works as sign-in's does (``accounts.throttle``): after 5 failures within 15
minutes, signing is refused for 15 minutes (a SIGN_LOCKOUT event marks the start); a successful
signature clears the count. The failures are the SIGN_FAILED events of the signer themselves,
read on the audit trail's index of objects.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from diarytrial.accounts.services import totp_devices_confirmed, totp_verify
from diarytrial.accounts.throttle import FAILURE_LIMIT, FAILURE_WINDOW, LOCKOUT, lockout_end
from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.services import audit_record
from diarytrial.signatures.content import SignedContent, content_sha256
from diarytrial.signatures.errors import (
    MeaningRequiredError,
    SigningLockedError,
    SigningRefusedError,
)
from diarytrial.signatures.models import Meaning, Signature, SignedAct
from diarytrial.studies.access import require_role
from diarytrial.studies.models import Role, Study

T = TypeVar("T")

_WRONG = "The signature was not applied: the password or the code is not right."
_REFUSED = (
    f"{_WRONG} Enter them again; "
    f"after {FAILURE_LIMIT} failed tries, signing pauses for "
    f"{int(LOCKOUT.total_seconds() // 60)} minutes."
)


@dataclass(frozen=True)
class SigningCredentials:
    """What the signer gives in the form: both components and what they mean by signing."""

    signer: User
    password: str
    code: str
    meaning: str


@dataclass(frozen=True)
class SignedRecord:
    """What is signed: the record (as the trail names it) and its content that matters."""

    act: SignedAct
    object_type: str
    object_id: str
    object_repr: str
    content: SignedContent
    participant_code: str = ""


def printed_name(user: User) -> str:
    """The signer's name as the signature shows it: their full name, else their username."""
    return user.get_full_name().strip() or user.get_username()


def record_of(
    obj: models.Model,
    *,
    act: SignedAct,
    content: SignedContent,
    object_repr: str = "",
    participant_code: str = "",
) -> SignedRecord:
    """The `SignedRecord` of a model instance."""
    meta = obj._meta
    return SignedRecord(
        act=act,
        object_type=f"{meta.app_label}.{meta.model_name}",
        object_id=str(obj.pk),
        object_repr=(object_repr or str(obj))[:200],
        content=content,
        participant_code=participant_code,
    )


def signing_locked_until(*, signer: User, now: dt.datetime) -> dt.datetime | None:
    """Until when `signer` may not sign after repeated failures; None if they may."""
    since = now - FAILURE_WINDOW - LOCKOUT
    failures = AuditEvent.objects.filter(
        object_type="auth.user",
        object_id=str(signer.pk),
        action=AuditAction.SIGN_FAILED,
        occurred_at__gt=since,
        occurred_at__lte=now,
    )
    last_success = (
        Signature.objects.filter(signer=signer, signed_at__gt=since)
        .order_by("-signed_at")
        .values_list("signed_at", flat=True)
        .first()
    )
    if last_success is not None:
        failures = failures.filter(occurred_at__gt=last_success)
    end = lockout_end(list(failures.values_list("occurred_at", flat=True)))
    return end if end is not None and end > now else None


def _locked_message(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return (
        f"Signing is paused after {FAILURE_LIMIT} failed tries: try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}. If you did not make these tries, tell the "
        f"study's administrator."
    )


@transaction.atomic
def _failure_record(*, signer: User, study: Study, record: SignedRecord) -> dt.datetime | None:
    """Record a failed attempt (and the lockout it starts); until when signing is now locked."""
    what = f"{record.act.label} of {record.object_repr}"
    audit_record(
        actor=signer,
        action=AuditAction.SIGN_FAILED,
        obj=signer,
        study_slug=study.slug,
        changes={"act": (None, record.act.value), "record": (None, record.object_repr)},
        reason=f"wrong password or code while signing the {what}",
    )
    now = timezone.now()
    until = signing_locked_until(signer=signer, now=now)
    if until is not None:
        audit_record(
            actor=signer,
            action=AuditAction.SIGN_LOCKOUT,
            obj=signer,
            study_slug=study.slug,
            changes={"locked_until": (None, until)},
            reason=f"{FAILURE_LIMIT} failed signing attempts within "
            f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes",
        )
    return until


def meaning_check(meaning: str) -> Meaning:
    """The meaning chosen, or MeaningRequiredError."""
    if meaning not in Meaning.values:
        raise MeaningRequiredError(
            "Choose what your signature means: approved, reviewed or responsible for."
        )
    return Meaning(meaning)


def signer_verify(*, credentials: SigningCredentials, study: Study, record: SignedRecord) -> None:
    """Check the signer's password (and current code when they have an authenticator app).

    Raises MeaningRequiredError without a meaning (nothing is checked), SigningLockedError
    while signing is paused (nothing is checked), and SigningRefusedError on a wrong password
    or code, after committing the SIGN_FAILED event (and SIGN_LOCKOUT when it reaches the
    limit). Not one transaction: a refusal must keep the failure it recorded.
    """
    meaning_check(credentials.meaning)
    signer = credentials.signer
    now = timezone.now()
    until = signing_locked_until(signer=signer, now=now)
    if until is not None:
        raise SigningLockedError(_locked_message(until, now))
    valid = signer.is_active and signer.check_password(credentials.password)
    if valid and totp_devices_confirmed(signer):
        valid = totp_verify(user=signer, code=credentials.code[:32]) is not None
    if not valid:
        until = _failure_record(signer=signer, study=study, record=record)
        if until is not None:
            raise SigningLockedError(f"{_WRONG} {_locked_message(until, now)}")
        raise SigningRefusedError(_REFUSED)


def signature_apply(*, signer: User, meaning: str, study: Study, record: SignedRecord) -> Signature:
    """Apply `signer`'s signature to `record`: the row and its SIGN event, in the transaction of
    the act signed. The signer's components must have been checked (`signer_verify`)."""
    chosen = meaning_check(meaning)
    with transaction.atomic():
        signature = Signature(
            study=study,
            act=record.act,
            object_type=record.object_type,
            object_id=record.object_id,
            object_repr=record.object_repr,
            participant_code=record.participant_code,
            signer=signer,
            printed_name=printed_name(signer)[:150],
            meaning=chosen,
            signed_at=timezone.now(),
            content_sha256=content_sha256(record.content),
        )
        signature.save()
        audit_record(
            actor=signer,
            action=AuditAction.SIGN,
            obj=signature,
            study_slug=study.slug,
            changes={
                "act": (None, record.act.value),
                "record": (None, record.object_repr),
                "printed_name": (None, signature.printed_name),
                "meaning": (None, chosen.value),
                "content_sha256": (None, signature.content_sha256),
            },
            reason=f"{chosen.label}: {record.act.label} of {record.object_repr}",
        )
    return signature


def signed_act(
    *,
    credentials: SigningCredentials,
    study: Study,
    intended: SignedRecord,
    perform: Callable[[], tuple[T, SignedRecord]],
) -> tuple[T, Signature]:
    """Check the signer, then do the act and sign what it produced, in one transaction.

    `intended` names the record before the act (for the failure's event); `perform` does the
    act and returns its result and the record signed (its content as the act left it).
    """
    signer_verify(credentials=credentials, study=study, record=intended)
    with transaction.atomic():
        result, record = perform()
        signature = signature_apply(
            signer=credentials.signer, meaning=credentials.meaning, study=study, record=record
        )
    return result, signature


def manifest_record(*, manifest: bytes, name: str) -> SignedRecord:
    """The `SignedRecord` of a certified copy's manifest: its bytes as they are; `name` names
    the copy (e.g. its file name)."""
    return SignedRecord(
        act=SignedAct.MANIFEST,
        object_type="signatures.manifest",
        object_id=content_sha256(manifest)[:64],
        object_repr=f"manifest of {name}"[:200],
        content=manifest,
    )


def manifest_sign(
    *, credentials: SigningCredentials, study: Study, manifest: bytes, name: str
) -> Signature:
    """The investigator signs a certified copy's manifest: its bytes as they are are hashed.

    Investigators of `study` only (PermissionDeniedError). `name` names the copy (e.g. its
    file name); verify later with `signature_matches(signature, manifest)`. (A copy that takes
    long to make checks the signer first, `signer_verify`, and applies the signature to
    `manifest_record` once made, `signature_apply`: ``exports.services.certified_copy_make``.)
    """
    require_role(credentials.signer, study, Role.INVESTIGATOR)
    record = manifest_record(manifest=manifest, name=name)
    _, signature = signed_act(
        credentials=credentials, study=study, intended=record, perform=lambda: (None, record)
    )
    return signature
