"""Writes of the accounts app: sign-in attempts and TOTP devices.

Adding or removing a two-step (TOTP) device is a security event: each goes on the audit trail
in the transaction that makes it, naming the device and never its key. Sign-in attempts are
the throttle's operational memory, not audited; they are logged instead (logger
``diarytrial.accounts``). Creating the session itself (``django.contrib.auth.login``) needs the
request and so happens in the view, right after `sign_in_verify` says yes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from diarytrial.accounts.errors import SignInRefusedError, SignInThrottledError
from diarytrial.accounts.models import SignInAttempt
from diarytrial.accounts.throttle import sign_in_locked_until
from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record

logger = logging.getLogger("diarytrial.accounts")

DEVICE_NAME = "authenticator app"

_REFUSED = (
    "The username, password or code is not right. Check them and try again; after 5 failed "
    "tries, signing in pauses for 15 minutes."
)


@dataclass(frozen=True)
class SignInGranted:
    """A user who may sign in, and the TOTP device that confirmed it (None without one)."""

    user: User
    device: TOTPDevice | None


@transaction.atomic
def sign_in_attempt_record(
    *, username: str, ip_address: str | None, succeeded: bool
) -> SignInAttempt:
    """Record one sign-in attempt (for the throttle) and log it."""
    attempt = SignInAttempt.objects.create(
        username=username[:150], ip_address=ip_address, succeeded=succeeded
    )
    if succeeded:
        logger.info("sign-in succeeded: username=%r ip=%s", username, ip_address)
    else:
        logger.warning("sign-in failed: username=%r ip=%s", username, ip_address)
    return attempt


def totp_devices_confirmed(user: User) -> list[TOTPDevice]:
    """The user's confirmed TOTP devices."""
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"))


@transaction.atomic
def totp_verify(*, user: User, code: str) -> TOTPDevice | None:
    """The confirmed device of `user` that accepts `code`, if any; a code is accepted once."""
    code = "".join(code.split())
    # Row locks make two concurrent uses of one code fail (django-otp records the last one).
    for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


def sign_in_verify(
    *, username: str, password: str, code: str, ip_address: str | None
) -> SignInGranted:
    """Check a sign-in and record the attempt; return who signs in, or refuse.

    A user with a confirmed TOTP device must give a current code from it, whatever
    ``DIARYTRIAL_REQUIRE_TOTP`` says. Raises SignInThrottledError while the username or the
    address is locked out (nothing is checked then), SignInRefusedError otherwise. Not one
    transaction: a refusal must keep the failure it recorded.
    """
    now = timezone.now()
    locked_until = sign_in_locked_until(username=username, ip_address=ip_address, now=now)
    if locked_until is not None:
        minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
        logger.warning("sign-in refused, throttled: username=%r ip=%s", username, ip_address)
        raise SignInThrottledError(
            f"Too many failed sign-ins for this username or from this address. Signing in is "
            f"paused: try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
    user = authenticate(username=username, password=password)
    device: TOTPDevice | None = None
    granted = isinstance(user, User)
    if isinstance(user, User) and totp_devices_confirmed(user):
        device = totp_verify(user=user, code=code)
        granted = device is not None
    sign_in_attempt_record(username=username, ip_address=ip_address, succeeded=granted)
    if not granted or not isinstance(user, User):
        raise SignInRefusedError(_REFUSED)
    return SignInGranted(user=user, device=device)


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """The user's TOTP device being set up (not yet confirmed); created with a new key if none."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        audit_record(
            actor=user,
            action=AuditAction.CREATE,
            obj=device,
            changes={"name": (None, device.name), "confirmed": (None, False)},
            reason="two-step set-up started",
        )
        logger.info("TOTP set-up started: username=%r", user.get_username())
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, code: str) -> bool:
    """Confirm `device` when `code` is a current code of it; True if it was confirmed.

    Confirming is the security event "two-step device added", by the device's user. It removes
    the user's other devices that were being set up, each with its own event.
    """
    locked = TOTPDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
    if locked.confirmed:
        return True
    if not locked.verify_token("".join(code.split())):
        logger.warning("TOTP set-up code refused: username=%r", locked.user.get_username())
        return False
    locked.confirmed = True
    locked.save(update_fields=["confirmed"])
    audit_record(
        actor=locked.user,
        action=AuditAction.TWO_STEP_ADD,
        obj=locked,
        changes={"confirmed": (False, True)},
        reason="confirmed with a code from the authenticator app",
    )
    abandoned = TOTPDevice.objects.select_for_update().filter(user=locked.user, confirmed=False)
    for other in abandoned.exclude(pk=locked.pk).order_by("pk"):
        audit_record(
            actor=locked.user,
            action=AuditAction.TWO_STEP_REMOVE,
            obj=other,
            changes={"confirmed": (False, None)},
            reason="an unfinished set-up, replaced by the confirmed device",
        )
        other.delete()
    device.refresh_from_db()
    logger.info("TOTP device confirmed: username=%r", locked.user.get_username())
    return True


@transaction.atomic
def totp_device_remove(*, device: TOTPDevice, actor: User, reason: str) -> None:
    """Remove a user's two-step device (a lost or replaced phone); `actor` is who removed it.

    The user then signs in with the password and sets up the new phone. Removing a device that
    is gone already does nothing."""
    locked = (
        TOTPDevice.objects.select_for_update().select_related("user").filter(pk=device.pk).first()
    )
    if locked is None:
        return
    audit_record(
        actor=actor,
        action=AuditAction.TWO_STEP_REMOVE,
        obj=locked,
        changes={"confirmed": (locked.confirmed, None)},
        reason=reason.strip(),
    )
    locked.delete()
    logger.info(
        "TOTP device removed: username=%r by=%r",
        locked.user.get_username(),
        actor.get_username(),
    )
