"""Writes of the accounts app: sign-in attempts, TOTP devices, and the administration of staff
accounts (invitations, deactivation, a two-step reset).

Adding or removing a two-step (TOTP) device is a security event: each goes on the audit trail
in the transaction that makes it, naming the device and never its key. Sign-in attempts are
the throttle's operational memory, not audited; they are logged instead (logger
``diarytrial.accounts``). Creating the session itself (``django.contrib.auth.login``) needs the
request and so happens in the view, right after `sign_in_verify` says yes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from diarytrial.accounts.errors import (
    InvitationInvalidError,
    SignInRefusedError,
    SignInThrottledError,
    StaffAccountError,
)
from diarytrial.accounts.models import Invitation, SignInAttempt
from diarytrial.accounts.throttle import sign_in_locked_until
from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.studies.access import is_administrator, memberships_current
from diarytrial.studies.models import Role, Site, Study, StudyMembership
from diarytrial.studies.services import membership_check_administration_kept, membership_grant

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
def totp_device_remove(
    *, device: TOTPDevice, actor: User, reason: str, study_slug: str = ""
) -> None:
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
        study_slug=study_slug,
    )
    locked.delete()
    logger.info(
        "TOTP device removed: username=%r by=%r",
        locked.user.get_username(),
        actor.get_username(),
    )


# --- staff accounts: invitations, deactivation, two-step reset ---------------------------------

INVITATION_LIFETIME_HOURS = 72
INVITATION_LIFETIME = dt.timedelta(hours=INVITATION_LIFETIME_HOURS)
_TOKEN_LENGTH_MAX = 100  # a token is 43 characters; longer is no token of ours


def invitation_url(token: str) -> str:
    """The address of the invitation's page, as the e-mail gives it (under ``SITE_URL``)."""
    return f"{settings.SITE_URL}{reverse('accounts:invitation', kwargs={'token': token})}"


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation; `token` is in the e-mail and nowhere else (the row keeps its hash)."""

    invitation: Invitation
    token: str


def invitation_token_hash(token: str) -> str:
    """The SHA-256 (hex) under which an invitation's token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_refusal(invitation: Invitation | None, now: dt.datetime) -> str | None:
    """Why `invitation` cannot be used now, in words for its person; None when it can be."""
    if invitation is None:
        return (
            "This invitation link is not valid. Check that you opened the whole link from the "
            "e-mail (a link cut short or changed does not work); if it still fails, ask your "
            "study's administrator to send you a new invitation."
        )
    if not invitation.user.is_active:
        return (
            "This account was deactivated, so its invitation no longer works. Ask your study's "
            "administrator if you need access."
        )
    if invitation.used_at is not None:
        return (
            "This invitation was used already: each link works once. Sign in with your "
            "username, your password and a code from your authenticator app. If you cannot, "
            "ask your study's administrator."
        )
    if invitation.revoked_at is not None:
        return (
            "This invitation was replaced by a newer one: use the link in the latest e-mail, "
            "or ask your study's administrator to send a new invitation."
        )
    if invitation.expires_at <= now:
        return (
            f"This invitation has expired: a link works for {INVITATION_LIFETIME_HOURS} hours. "
            f"Ask your study's administrator to send you a new invitation."
        )
    return None


def invitation_for_token(token: str) -> Invitation:
    """The usable invitation whose link carries `token`; InvitationInvalidError (410) saying why
    not when it is unknown, used, replaced, expired or its account was deactivated."""
    invitation = None
    if token and len(token) <= _TOKEN_LENGTH_MAX:
        invitation = (
            Invitation.objects.select_related("user")
            .filter(token_hash=invitation_token_hash(token))
            .first()
        )
    refusal = _invitation_refusal(invitation, timezone.now())
    if refusal is not None or invitation is None:
        raise InvitationInvalidError(refusal or "")
    return invitation


def invitation_device(invitation: Invitation) -> TOTPDevice:
    """The two-step device the invited person sets up on the invitation's page (unconfirmed)."""
    device = TOTPDevice.objects.filter(user=invitation.user, confirmed=False).order_by("pk").first()
    if device is None:
        # Made with every invitation; gone only if removed since (a two-step reset).
        raise InvitationInvalidError(
            "This invitation can no longer set up two-step sign-in. Ask your study's "
            "administrator to send you a new invitation."
        )
    return device


def _invitation_mail(*, address: str, url: str, study: Study, role: Role, invited_by: str) -> None:
    """Send the invitation e-mail; a failure is logged (the administrator can send a new one)."""
    try:
        send_mail(
            subject=f"[diarytrial] You are invited to study {study.slug}",
            message=(
                f"{invited_by} invited you to work on the study {study.title!r} "
                f"({study.slug}) with diarytrial, as {role.label.lower()}.\n\n"
                f"Open this link to choose your password and set up two-step sign-in with an "
                f"authenticator app on your phone:\n\n{url}\n\n"
                f"The link works once, for {INVITATION_LIFETIME_HOURS} hours. If it has "
                f"expired, ask {invited_by} for a new invitation. If you did not expect this "
                f"e-mail, ignore it."
            ),
            from_email=None,
            recipient_list=[address],
        )
    except Exception:
        logger.exception("invitation e-mail not sent: to=%r study=%s", address, study.slug)


def _invitation_issue(
    *, user: User, study: Study, role: Role, actor: User | None
) -> IssuedInvitation:
    """A new invitation of `user` (earlier unused ones stop working), its device to set up, its
    INVITE event, and its e-mail once the transaction commits."""
    now = timezone.now()
    Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user,
        email=user.email,
        study_slug=study.slug,
        token_hash=invitation_token_hash(token),
        created_by=actor,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    audit_record(
        actor=actor,
        action=AuditAction.INVITE,
        obj=user,
        study_slug=study.slug,
        changes={
            "username": (None, user.get_username()),
            "email": (None, user.email),
            "invitation_expires_at": (None, invitation.expires_at),
        },
    )
    if not TOTPDevice.objects.filter(user=user, confirmed=False).exists():
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=device,
            study_slug=study.slug,
            changes={"name": (None, device.name), "confirmed": (None, False)},
            reason="two-step set-up prepared for the invitation",
        )
    url = invitation_url(token)
    invited_by = actor.get_username() if actor is not None else "The study's administrator"
    address = user.email
    transaction.on_commit(
        lambda: _invitation_mail(
            address=address, url=url, study=study, role=role, invited_by=invited_by
        )
    )
    logger.info("invitation issued: username=%r study=%s", user.get_username(), study.slug)
    return IssuedInvitation(invitation=invitation, token=token)


def _require_study_administrator(study: Study, actor: User | None, what: str) -> None:
    if actor is not None and not is_administrator(actor, study):
        raise PermissionDeniedError(
            f"Only an administrator of study {study.slug!r} may {what}.",
            extra={"study": study.slug},
        )


def _clean_username(username: str) -> str:
    text = username.strip()
    try:
        if not text or len(text) > 150:
            raise ValidationError("")
        User.username_validator(text)
    except ValidationError:
        raise InvalidInputError(
            "A username has 1 to 150 letters, digits and the characters @ . + - _ (no spaces), "
            "e.g. jsmith.",
            extra={"field": "username"},
        ) from None
    if User.objects.filter(username__iexact=text).exists():
        raise InvalidInputError(
            f"The username {text!r} is taken already: choose another. If this person has an "
            f"account already, grant them a role instead of inviting them.",
            extra={"field": "username"},
        )
    return text


def _clean_email(email: str) -> str:
    text = email.strip()
    try:
        if len(text) > 254:
            raise ValidationError("")
        validate_email(text)
    except ValidationError:
        raise InvalidInputError(
            f"{text[:80]!r} is not an e-mail address: write it as name@example.org.",
            extra={"field": "email"},
        ) from None
    if User.objects.filter(email__iexact=text).exists():
        raise InvalidInputError(
            f"An account with the e-mail address {text!r} exists already. If it is this "
            f"person's, grant them a role instead of inviting them.",
            extra={"field": "email"},
        )
    return text


@transaction.atomic
def user_invite(
    *,
    study: Study,
    username: str,
    email: str,
    role: Role,
    actor: User | None,
    first_name: str = "",
    last_name: str = "",
    sites: list[Site] | None = None,
    ends_on: dt.date | None = None,
) -> IssuedInvitation:
    """Invite a new staff member to `study`: their account (no password yet), their `role`
    (`membership_grant`: sites, end date), and a single-use link sent to `email` with which
    they set their password and two-step device (`invitation_accept`).

    Events: INVITE (the account), CREATE (the device to set up), GRANT (the role). Refused by
    someone who is no administrator of the study (PermissionDeniedError), for a username or
    e-mail address that is malformed or taken (InvalidInputError), and as `membership_grant`
    refuses.
    """
    _require_study_administrator(study, actor, "invite people to it")
    clean_username = _clean_username(username)
    clean_email = _clean_email(email)
    try:
        with transaction.atomic():  # a savepoint: the same username taken meanwhile is refused
            user = User.objects.create_user(
                username=clean_username,
                email=clean_email,
                password=None,
                first_name=first_name.strip()[:150],
                last_name=last_name.strip()[:150],
            )
    except IntegrityError:
        raise InvalidInputError(
            f"The username {clean_username!r} was taken a moment ago: choose another.",
            extra={"field": "username"},
        ) from None
    issued = _invitation_issue(user=user, study=study, role=role, actor=actor)
    membership_grant(
        study=study,
        user=user,
        role=role,
        sites=sites,
        ends_on=ends_on,
        actor=actor,
        reason="invited",
    )
    return issued


@transaction.atomic
def invitation_renew(*, membership: StudyMembership, actor: User | None) -> IssuedInvitation:
    """Send a new invitation to a member who has not accepted theirs (expired, lost): the older
    link stops working. Refused once the account has a password, or is deactivated."""
    study, user = membership.study, membership.user
    _require_study_administrator(study, actor, "invite people to it")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.has_usable_password() or not user.is_active:
        raise StaffAccountError(
            f"{user.get_username()} has accepted their invitation already (or the account is "
            f"deactivated): there is nothing to send. If they lost their phone, reset their "
            f"two-step sign-in instead.",
            extra={"user": user.get_username()},
        )
    if not memberships_current([membership]):
        raise StaffAccountError(
            f"{user.get_username()} holds no current role in {study.slug!r}: grant one first.",
            extra={"user": user.get_username()},
        )
    return _invitation_issue(user=user, study=study, role=Role(membership.role), actor=actor)


def _password_problems(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return list(error.messages)
    return []


@transaction.atomic
def invitation_accept(*, token: str, password: str, code: str) -> User:
    """Use the invitation `token`: set the invited person's password and confirm their
    two-step device with `code`, together; the link then works no more.

    Refused with InvitationInvalidError (410) as `invitation_for_token` says, and with
    InvalidInputError for a password Django's validators refuse or a code that is not right
    (nothing is changed then: the link still works).
    """
    found = invitation_for_token(token)
    invitation = Invitation.objects.select_for_update().select_related("user").get(pk=found.pk)
    refusal = _invitation_refusal(invitation, timezone.now())
    if refusal is not None:  # used or replaced while this request waited for the row
        raise InvitationInvalidError(refusal)
    user = invitation.user
    problems = _password_problems(password, user)
    if problems:
        raise InvalidInputError(
            "Choose another password: " + " ".join(problems), extra={"field": "password"}
        )
    device = invitation_device(invitation)
    if not totp_device_confirm(device=device, code=code):
        raise InvalidInputError(
            "This code is not right: check that the app shows diarytrial with your username, "
            "wait for a new code and type it (your password has to be typed again too).",
            extra={"field": "code"},
        )
    user.set_password(password)
    user.save(update_fields=["password"])
    now = timezone.now()
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        obj=user,
        study_slug=invitation.study_slug,
        changes={"password": ("none", "set"), "invitation": ("sent", "accepted")},
        reason="invitation accepted",
    )
    logger.info("invitation accepted: username=%r", user.get_username())
    return user


def _check_account_administrable(
    *, user: User, study: Study, actor: User | None, what: str
) -> None:
    """Refuse `what` on `user`'s account unless `actor` administers every study the account
    has a current role in, the account has a role (held or revoked) in `study`, and it is not
    the actor's own (nor a superuser's, for anyone but a superuser)."""
    _require_study_administrator(study, actor, what)
    if not StudyMembership.objects.filter(study=study, user=user).exists():
        raise StaffAccountError(
            f"{user.get_username()} has no role in {study.slug!r}.",
            extra={"user": user.get_username()},
        )
    if actor is None:
        return
    if actor.pk == user.pk:
        raise StaffAccountError(
            f"You cannot {what} for your own account: ask another administrator.",
            extra={"user": user.get_username()},
        )
    if actor.is_superuser:
        return
    if user.is_superuser:
        raise StaffAccountError(
            f"{user.get_username()} is a superuser: only another superuser may {what}.",
            extra={"user": user.get_username()},
        )
    memberships = StudyMembership.objects.filter(user=user, active=True).select_related("study")
    elsewhere = sorted(
        m.study.slug
        for m in memberships_current(memberships)
        if not is_administrator(actor, m.study)
    )
    if elsewhere:
        raise StaffAccountError(
            f"{user.get_username()} also works on {', '.join(elsewhere)}, which you do not "
            f"administer: ask an administrator of it (or the superuser) to {what}.",
            extra={"user": user.get_username(), "studies": elsewhere},
        )


@transaction.atomic
def user_deactivate(*, user: User, study: Study, actor: User | None, reason: str) -> User:
    """Deactivate a staff account, saying why: it can no longer sign in, its open sessions are
    refused from their next request, its roles grant nothing and its unused invitations stop
    working. One DEACTIVATE event; the account and what it did stay on record.

    Refused without a reason, for one's own account, for an account that also works on a study
    the actor does not administer, and for the last administrator of a study
    (``studies.services.membership_check_administration_kept``).
    """
    text = reason.strip()
    if not text:
        raise InvalidInputError(
            "Say why the account is deactivated: the reason is kept in the audit trail."
        )
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active:
        raise StaffAccountError(
            f"The account {locked.get_username()!r} is deactivated already.",
            extra={"user": locked.get_username()},
        )
    _check_account_administrable(user=locked, study=study, actor=actor, what="deactivate it")
    held = StudyMembership.objects.select_for_update().select_related("study", "user")
    for membership in held.filter(user=locked, active=True, role=Role.ADMINISTRATOR):
        membership_check_administration_kept(
            membership=membership, actor=actor, what="deactivate the account holding"
        )
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    Invitation.objects.filter(user=locked, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action=AuditAction.DEACTIVATE,
        obj=locked,
        study_slug=study.slug,
        changes={"is_active": (True, False)},
        reason=text,
    )
    logger.info(
        "account deactivated: username=%r by=%r",
        locked.get_username(),
        actor.get_username() if actor is not None else None,
    )
    user.is_active = False
    return locked


@transaction.atomic
def user_totp_reset(*, user: User, study: Study, actor: User | None, reason: str) -> int:
    """Remove every two-step device of a staff member (a lost or replaced phone), saying why; at
    their next sign-in they set up the new phone. One TWO_STEP_REMOVE event per device; returns
    how many were removed.

    Refused without a reason, for one's own account, for an account without a device, and as
    `user_deactivate` refuses for an account of a study the actor does not administer.
    """
    text = reason.strip()
    if not text:
        raise InvalidInputError(
            "Say why the two-step sign-in is reset: the reason is kept in the audit trail."
        )
    _check_account_administrable(
        user=user, study=study, actor=actor, what="reset the two-step sign-in"
    )
    devices = list(TOTPDevice.objects.filter(user=user).order_by("pk"))
    if not any(device.confirmed for device in devices):
        raise StaffAccountError(
            f"{user.get_username()} has no two-step device set up: there is nothing to reset.",
            extra={"user": user.get_username()},
        )
    if actor is None:
        raise PermissionDeniedError("A two-step reset names the administrator who made it.")
    for device in devices:
        totp_device_remove(device=device, actor=actor, reason=text, study_slug=study.slug)
    return len(devices)
