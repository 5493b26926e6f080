"""Writes of the devices app: enrolment links, binding a phone, revoking it, its PIN.

Each public function is one transaction with its audit event. No token or PIN ever reaches
the audit trail or the database in clear. Lock order: the study (`require_unlocked`), the
participant's row, the link or device row, the audit chain head.

`device_revoke` and `device_pin_check` work on a locked study too: taking a lost phone's access
away, or counting wrong PINs, must never wait for an unlock, and neither touches trial data.
Each wrong PIN is a security event on the audit trail (``pin_wrong``), and so is the lockout
that the last one causes (``pin_lockout``); the PIN itself never is.

`device_seen` is the one unaudited write here: the hourly "last seen" mark is operational.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.devices.errors import EnrolmentLinkInvalidError, PinInvalidError
from diarytrial.devices.models import Device, EnrolmentLink
from diarytrial.devices.selectors import ENROLLABLE
from diarytrial.devices.tokens import token_hash
from diarytrial.participants.errors import ParticipantStatusError, ReasonRequiredError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_lock
from diarytrial.studies.services import require_unlocked

LINK_LIFETIME_HOURS = 72
LINK_LIFETIME = dt.timedelta(hours=LINK_LIFETIME_HOURS)
LAST_SEEN_EVERY = dt.timedelta(hours=1)
PIN_ATTEMPTS = 5
_PIN = re.compile(r"\d{4}")


@dataclass(frozen=True)
class IssuedLink:
    """A new enrolment link; `token` is its secret, shown to the coordinator once."""

    link: EnrolmentLink
    token: str


@dataclass(frozen=True)
class IssuedDevice:
    """A newly bound phone; `token` goes into its cookie and nowhere else."""

    device: Device
    token: str


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def enrolment_link_issue(*, participant: Participant, actor: User) -> IssuedLink:
    """A single-use link, valid for `LINK_LIFETIME`, that binds a phone to `participant`.

    Earlier links of the participant that were not used stop working. Refused for a participant
    who is not enrolled (or has withdrawn or completed): ParticipantStatusError.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    if locked.status not in ENROLLABLE:
        raise ParticipantStatusError(
            f"Participant {locked.code} is {ParticipantStatus(locked.status).label.lower()}; a "
            f"phone is set up for the diary once they are enrolled and until they finish.",
            extra={"participant": locked.code, "status": locked.status},
        )
    now = timezone.now()
    EnrolmentLink.objects.filter(
        participant=locked, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = _new_token()
    link = EnrolmentLink.objects.create(
        participant=locked,
        token_hash=token_hash(token),
        created_by=actor,
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=link,
        study_slug=locked.study.slug,
        changes={"participant": (None, locked.code), "expires_at": (None, link.expires_at)},
    )
    return IssuedLink(link=link, token=token)


_LINK_GONE = (
    "This link no longer works: each link works once and for {hours} hours. Ask your study "
    "coordinator for a new one."
)


@transaction.atomic
def enrolment_link_redeem(*, token: str, user_agent: str = "") -> IssuedDevice:
    """Bind the phone that opened the link `token` to its participant: a new device.

    Refused with EnrolmentLinkInvalidError (410) when the link is unknown, used, expired or
    replaced by a newer one, or its participant has left the trial.
    """
    gone = EnrolmentLinkInvalidError(_LINK_GONE.format(hours=LINK_LIFETIME_HOURS))
    link = EnrolmentLink.objects.filter(token_hash=token_hash(token)).first() if token else None
    if link is None:
        raise gone
    require_unlocked(link.participant.study)
    participant = participant_lock(link.participant)
    link = EnrolmentLink.objects.select_for_update().get(pk=link.pk)
    now = timezone.now()
    if link.used_at is not None or link.revoked_at is not None or link.expires_at <= now:
        raise gone
    if participant.status not in ENROLLABLE:
        raise gone
    device_token = _new_token()
    device = Device.objects.create(
        participant=participant,
        token_hash=token_hash(device_token),
        label=user_agent[:200],
        created_at=now,
        last_seen_at=now,
    )
    link.used_at = now
    link.device = device
    link.save(update_fields=["used_at", "device"])
    audit_record(
        actor=None,
        actor_label=participant.code,
        action=AuditAction.CREATE,
        obj=device,
        study_slug=participant.study.slug,
        changes={
            "participant": (None, participant.code),
            "enrolment_link": (None, link.pk),
            "label": (None, device.label),
        },
    )
    return IssuedDevice(device=device, token=device_token)


def _revoke(
    device: Device,
    *,
    actor: User | None,
    reason: str,
    label: str | None,
    action: AuditAction = AuditAction.UPDATE,
) -> None:
    device.revoked_at = timezone.now()
    device.revoked_reason = reason[:500]
    device.save(update_fields=["revoked_at", "revoked_reason"])
    audit_record(
        actor=actor,
        actor_label=label,
        action=action,
        obj=device,
        study_slug=device.participant.study.slug,
        changes={"revoked_at": (None, device.revoked_at)},
        reason=device.revoked_reason,
    )


@transaction.atomic
def device_revoke(*, device: Device, actor: User, reason: str) -> Device:
    """Take the diary away from a lost or replaced phone, saying why. Revoking twice is a no-op."""
    text = reason.strip()
    if not text:
        raise ReasonRequiredError("Say why this phone is revoked: the reason is kept in the audit.")
    locked = (
        Device.objects.select_for_update().select_related("participant__study").get(pk=device.pk)
    )
    if locked.revoked_at is None:
        _revoke(locked, actor=actor, reason=text, label=None)
    device.revoked_at, device.revoked_reason = locked.revoked_at, locked.revoked_reason
    return locked


def _pin_check_format(pin: str) -> str:
    if not _PIN.fullmatch(pin or ""):
        raise PinInvalidError("A PIN is four digits, for example 2580.")
    return pin


def _device_pin_write(device: Device, pin_hash: str, *, what: str) -> Device:
    participant = device.participant
    require_unlocked(participant.study)
    locked = Device.objects.select_for_update().get(pk=device.pk)
    before = "set" if locked.pin_hash else "none"
    locked.pin_hash = pin_hash
    locked.pin_failures = 0
    locked.save(update_fields=["pin_hash", "pin_failures"])
    audit_record(
        actor=None,
        actor_label=participant.code,
        action=AuditAction.UPDATE,
        obj=locked,
        study_slug=participant.study.slug,
        changes={"pin": (before, "set" if pin_hash else "none")},
        reason=what,
    )
    device.pin_hash, device.pin_failures = locked.pin_hash, locked.pin_failures
    return locked


@transaction.atomic
def device_pin_set(*, device: Device, pin: str) -> Device:
    """Protect the phone's diary with a 4-digit PIN (PinInvalidError otherwise)."""
    return _device_pin_write(
        device, make_password(_pin_check_format(pin)), what="the participant set a PIN"
    )


@transaction.atomic
def device_pin_clear(*, device: Device) -> Device:
    """Remove the phone's PIN."""
    return _device_pin_write(device, "", what="the participant removed the PIN")


def _pin_failures_write(device: Device, failures: int, *, action: AuditAction, what: str) -> None:
    before = device.pin_failures
    device.pin_failures = failures
    device.save(update_fields=["pin_failures"])
    audit_record(
        actor=None,
        actor_label=device.participant.code,
        action=action,
        obj=device,
        study_slug=device.participant.study.slug,
        changes={"pin_failures": (before, failures)},
        reason=f"{what} was entered on the phone",
    )


@transaction.atomic
def device_pin_check(*, device: Device, pin: str) -> bool:
    """Whether `pin` is the device's PIN. Wrong PINs are counted; the `PIN_ATTEMPTS`th in a row
    revokes the device (the coordinator then issues a new link). A right one resets the count.
    `device.pin_failures` and `device.revoked_at` are updated for the caller to show. A PIN
    that is not four digits is PinInvalidError and counts as no try."""
    _pin_check_format(pin)
    locked = (
        Device.objects.select_for_update().select_related("participant__study").get(pk=device.pk)
    )
    if locked.revoked_at is not None or not locked.pin_hash:
        ok = locked.revoked_at is None
    elif check_password(pin or "", locked.pin_hash):
        ok = True
        if locked.pin_failures:
            _pin_failures_write(locked, 0, action=AuditAction.UPDATE, what="the right PIN")
    else:
        ok = False
        failures = locked.pin_failures + 1
        _pin_failures_write(locked, failures, action=AuditAction.PIN_WRONG, what="a wrong PIN")
        if failures >= PIN_ATTEMPTS:
            _revoke(
                locked,
                actor=None,
                reason=f"a wrong PIN was entered {PIN_ATTEMPTS} times in a row",
                label=locked.participant.code,
                action=AuditAction.PIN_LOCKOUT,
            )
    device.pin_failures, device.revoked_at = locked.pin_failures, locked.revoked_at
    device.revoked_reason = locked.revoked_reason
    return ok


def device_seen(*, device: Device) -> Device:
    """Mark `device` as seen now, at most once per `LAST_SEEN_EVERY` (the staff's phone list
    shows it). Operational, so not audited: an event an hour a phone would drown the trail."""
    now = timezone.now()
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_EVERY:
        # One UPDATE, no row lock: two requests racing both write about the same time.
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return device
