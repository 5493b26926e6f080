"""Invitations: an administrator invites someone by e-mail; the single-use, expiring link sets
their password and two-step device together; the token is stored only as its hash."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.builders import make_member, make_site, make_study, totp_code

from diarytrial.accounts.errors import InvitationInvalidError, SignInRefusedError
from diarytrial.accounts.models import Invitation
from diarytrial.accounts.services import (
    IssuedInvitation,
    invitation_accept,
    invitation_for_token,
    invitation_renew,
    invitation_token_hash,
    invitation_url,
    sign_in_verify,
    user_deactivate,
    user_invite,
)
from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.studies.access import membership_of
from diarytrial.studies.models import Role, Study, StudyMembership

pytestmark = pytest.mark.django_db


def later(days: int) -> dt.date:
    """A day `days` ahead of the test's clock (tests run at any instant)."""
    return timezone.now().date() + dt.timedelta(days=days)


PASSWORD = "a quiet harbour at dusk"


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def admin(study: Study) -> User:
    return make_member(study=study, role=Role.ADMINISTRATOR, username="ada").user


def invite(study: Study, admin: User, **kwargs: object) -> IssuedInvitation:
    values: dict[str, object] = {
        "username": "cora",
        "email": "cora@example.org",
        "role": Role.COORDINATOR,
        "first_name": "Cora",
        "last_name": "Lee",
    }
    values.update(kwargs)
    return user_invite(study=study, actor=admin, **values)  # type: ignore[arg-type]


def device_of(issued: IssuedInvitation) -> TOTPDevice:
    return TOTPDevice.objects.get(user=issued.invitation.user, confirmed=False)


def test_an_invitation_makes_the_account_the_role_and_sends_the_link(
    study: Study, admin: User, django_capture_on_commit_callbacks: object
) -> None:
    site = make_site(study=study)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        issued = invite(study, admin, sites=[site], ends_on=later(300))

    user = issued.invitation.user
    assert (user.username, user.email, user.get_full_name()) == (
        "cora",
        "cora@example.org",
        "Cora Lee",
    )
    assert not user.has_usable_password()
    membership = StudyMembership.objects.get(user=user, study=study)
    assert (membership.role, membership.ends_on) == (Role.COORDINATOR, later(300))
    assert list(membership.sites.all()) == [site]
    actions = list(
        AuditEvent.objects.filter(actor=admin).order_by("id").values_list("action", "object_type")
    )[-3:]
    assert actions == [
        (AuditAction.INVITE, "auth.user"),
        (AuditAction.CREATE, "otp_totp.totpdevice"),
        (AuditAction.GRANT, "studies.studymembership"),
    ]
    (message,) = mail.outbox
    assert message.to == ["cora@example.org"]
    assert invitation_url(issued.token) in message.body
    assert "72 hours" in message.body
    assert "coordinator" in message.body


def test_only_the_token_s_hash_is_stored(study: Study, admin: User) -> None:
    issued = invite(study, admin)

    row = Invitation.objects.get()
    assert row.token_hash == invitation_token_hash(issued.token)
    assert len(issued.token) >= 40
    stored = " ".join(str(v) for v in Invitation.objects.values().get().values())
    assert issued.token not in stored
    assert issued.token not in str(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_accepting_sets_the_password_and_the_device_and_the_link_works_once(
    study: Study, admin: User
) -> None:
    issued = invite(study, admin)
    device = device_of(issued)

    user = invitation_accept(token=issued.token, password=PASSWORD, code=totp_code(device))

    device.refresh_from_db()
    assert device.confirmed
    assert user.check_password(PASSWORD)
    assert Invitation.objects.get().used_at == timezone.now()
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="auth.user").get()
    assert (event.actor, event.reason) == (user, "invitation accepted")
    assert AuditEvent.objects.filter(action=AuditAction.TWO_STEP_ADD, actor=user).exists()
    with pytest.raises(InvitationInvalidError, match="used already"):
        invitation_accept(
            token=issued.token, password=PASSWORD, code=totp_code(device, steps_ahead=1)
        )
    # Signing in now takes the password and a code.
    with pytest.raises(SignInRefusedError):
        sign_in_verify(username="cora", password=PASSWORD, code="", ip_address="10.0.0.1")
    # django-otp pauses a device for a second after a wrong code: let it pass.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=2), tick=False):
        granted = sign_in_verify(
            username="cora",
            password=PASSWORD,
            code=totp_code(device, steps_ahead=1),
            ip_address="10.0.0.1",
        )
    assert granted.user == user
    assert granted.device == device
    assert membership_of(user, study) is not None
    assert audit_verify().ok


def test_a_wrong_code_or_a_weak_password_changes_nothing(study: Study, admin: User) -> None:
    issued = invite(study, admin)
    device = device_of(issued)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    count = AuditEvent.objects.count()

    with pytest.raises(InvalidInputError, match="code is not right"):
        invitation_accept(token=issued.token, password=PASSWORD, code=wrong)
    with pytest.raises(InvalidInputError, match="Choose another password"):
        invitation_accept(token=issued.token, password="12345678", code=totp_code(device))
    with pytest.raises(InvalidInputError, match="Choose another password"):
        invitation_accept(token=issued.token, password="cora", code=totp_code(device))

    user = User.objects.get(username="cora")
    assert not user.has_usable_password()
    assert AuditEvent.objects.count() == count
    assert invitation_for_token(issued.token).used_at is None
    invitation_accept(token=issued.token, password=PASSWORD, code=totp_code(device))


def test_an_expired_link_is_refused(study: Study, admin: User) -> None:
    issued = invite(study, admin)
    device = device_of(issued)

    with time_machine.travel(timezone.now() + dt.timedelta(hours=71, minutes=59), tick=False):
        assert invitation_for_token(issued.token)
    later = time_machine.travel(timezone.now() + dt.timedelta(hours=72), tick=False)
    with later, pytest.raises(InvitationInvalidError, match=r"expired.*72 hours"):
        invitation_accept(token=issued.token, password=PASSWORD, code=totp_code(device))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1],
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t + "x",
        lambda t: "",
        lambda t: t * 40,
        lambda t: "../../etc/passwd",
    ],
)
def test_a_tampered_link_is_refused(study: Study, admin: User, tamper: object) -> None:
    issued = invite(study, admin)

    with pytest.raises(InvitationInvalidError, match="not valid") as caught:
        invitation_for_token(tamper(issued.token))  # type: ignore[operator]
    assert caught.value.http_status == 410


def test_a_new_invitation_replaces_the_old_link(study: Study, admin: User) -> None:
    first = invite(study, admin)
    membership = StudyMembership.objects.get(user=first.invitation.user)

    second = invitation_renew(membership=membership, actor=admin)

    with pytest.raises(InvitationInvalidError, match="replaced by a newer one"):
        invitation_for_token(first.token)
    assert invitation_for_token(second.token) == second.invitation
    assert TOTPDevice.objects.filter(user=membership.user).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.INVITE).count() == 2


def test_no_new_invitation_once_accepted(study: Study, admin: User) -> None:
    issued = invite(study, admin)
    invitation_accept(token=issued.token, password=PASSWORD, code=totp_code(device_of(issued)))
    membership = StudyMembership.objects.get(user=issued.invitation.user)

    with pytest.raises(Exception, match="accepted their invitation already"):
        invitation_renew(membership=membership, actor=admin)


def test_a_deactivated_account_s_invitation_is_refused(study: Study, admin: User) -> None:
    issued = invite(study, admin)
    user_deactivate(user=issued.invitation.user, study=study, actor=admin, reason="not coming")

    with pytest.raises(InvitationInvalidError, match="deactivated"):
        invitation_for_token(issued.token)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not an address"}, "is not an e-mail address"),
        ({"email": "x" * 300 + "@example.org"}, "is not an e-mail address"),
        ({"email": "ADA@example.org"}, "exists already"),
        ({"username": "Ada"}, "is taken already"),
        ({"username": "has space"}, "A username has"),
        ({"username": "x" * 151}, "A username has"),
        ({"username": ""}, "A username has"),
    ],
)
def test_bad_or_taken_names_and_addresses_are_refused(
    study: Study, admin: User, fields: dict[str, str], message: str
) -> None:
    admin.email = "ada@example.org"
    admin.save()
    users = User.objects.count()

    with pytest.raises(InvalidInputError, match=message):
        invite(study, admin, **fields)
    assert User.objects.count() == users
    assert not Invitation.objects.exists()


def test_only_an_administrator_of_the_study_invites(study: Study, admin: User) -> None:
    investigator = make_member(study=study, role=Role.INVESTIGATOR).user
    other_admin = make_member(
        study=make_study(study_id="other_study"), role=Role.ADMINISTRATOR, username="olga"
    ).user

    for actor in (investigator, other_admin):
        with pytest.raises(PermissionDeniedError):
            invite(study, actor)
    assert not User.objects.filter(username="cora").exists()


def test_an_invitation_mail_that_fails_is_logged_not_raised(
    study: Study,
    admin: User,
    settings: object,
    django_capture_on_commit_callbacks: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.EMAIL_BACKEND = "tests.accounts.test_invitations.FailingBackend"  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        issued = invite(study, admin)

    assert Invitation.objects.get() == issued.invitation
    assert re.search(r"invitation e-mail not sent", caplog.text)


class FailingBackend:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: object) -> int:
        raise OSError("mail server down")


def test_a_username_taken_between_the_check_and_the_insert_is_refused(
    study: Study, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diarytrial.accounts import services

    # As if another administrator's invitation of "ada" committed just after the check.
    monkeypatch.setattr(services, "_clean_username", lambda username: username)

    with pytest.raises(InvalidInputError, match="was taken a moment ago"):
        invite(study, admin, username="ada", email="other@example.org")
    assert not Invitation.objects.exists()
