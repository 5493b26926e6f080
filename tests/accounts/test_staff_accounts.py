"""Deactivating a staff account and resetting its two-step sign-in: audited, with a reason, by
an administrator of every study the account works on; never one's own, never a study's last
administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.builders import client_for, make_member, make_study, make_totp_device

from diarytrial.accounts.errors import StaffAccountError
from diarytrial.accounts.services import sign_in_verify, user_deactivate, user_totp_reset
from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.studies.access import is_administrator, membership_of
from diarytrial.studies.errors import LastAdministratorError
from diarytrial.studies.models import Role, Study
from diarytrial.studies.services import membership_grant

pytestmark = pytest.mark.django_db

PASSWORD = "a long staff password"


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def admin(study: Study) -> User:
    return make_member(study=study, role=Role.ADMINISTRATOR, username="ada").user


def test_deactivating_is_one_event_and_refuses_the_open_session(study: Study, admin: User) -> None:
    member = make_member(study=study, role=Role.INVESTIGATOR, username="ivan", password=PASSWORD)
    client: Client = client_for(member.user)
    assert client.get(f"/studies/{study.slug}/").status_code == 200

    user_deactivate(user=member.user, study=study, actor=admin, reason="left the clinic")

    event = AuditEvent.objects.filter(action=AuditAction.DEACTIVATE).get()
    assert (event.actor, event.reason, event.study_slug) == (admin, "left the clinic", study.slug)
    assert event.object_type == "auth.user"
    assert event.object_id == str(member.user.pk)
    assert event.changes == [{"field": "is_active", "old": True, "new": False}]
    assert client.get(f"/studies/{study.slug}/").status_code == 302  # back to sign in
    assert membership_of(member.user, study) is None
    with pytest.raises(Exception, match="not right"):
        sign_in_verify(username="ivan", password=PASSWORD, code="", ip_address=None)


def test_deactivating_needs_a_reason_and_happens_once(study: Study, admin: User) -> None:
    member = make_member(study=study, role=Role.COORDINATOR)

    with pytest.raises(InvalidInputError, match="Say why"):
        user_deactivate(user=member.user, study=study, actor=admin, reason=" ")
    user_deactivate(user=member.user, study=study, actor=admin, reason="left")
    with pytest.raises(StaffAccountError, match="deactivated already"):
        user_deactivate(user=member.user, study=study, actor=admin, reason="left")


def test_nobody_deactivates_themselves(study: Study, admin: User) -> None:
    make_member(study=study, role=Role.ADMINISTRATOR, username="bea")

    with pytest.raises(StaffAccountError, match="your own account"):
        user_deactivate(user=admin, study=study, actor=admin, reason="leaving")
    assert User.objects.get(pk=admin.pk).is_active


def test_the_last_administrator_is_not_deactivated(study: Study, admin: User) -> None:
    root = User.objects.create_superuser(username="root", password=None)

    with pytest.raises(LastAdministratorError, match="last administrator"):
        user_deactivate(user=admin, study=study, actor=root, reason="leaving")
    assert is_administrator(admin, study)
    assert not AuditEvent.objects.filter(action=AuditAction.DEACTIVATE).exists()


def test_an_account_that_works_on_another_study_is_left_to_its_administrators(
    study: Study, admin: User
) -> None:
    member = make_member(study=study, role=Role.INVESTIGATOR, username="ivan")
    other = make_study(study_id="other_study")
    membership_grant(study=other, user=member.user, role=Role.COORDINATOR, actor=None)

    with pytest.raises(StaffAccountError, match="also works on other_study"):
        user_deactivate(user=member.user, study=study, actor=admin, reason="left")
    with pytest.raises(StaffAccountError, match="also works on other_study"):
        user_totp_reset(user=member.user, study=study, actor=admin, reason="lost phone")
    root = User.objects.create_superuser(username="root", password=None)
    user_deactivate(user=member.user, study=study, actor=root, reason="left")


def test_an_account_without_a_role_in_the_study_is_not_found(study: Study, admin: User) -> None:
    other = make_study(study_id="other_study")
    stranger = make_member(study=other, role=Role.COORDINATOR, username="sue").user

    with pytest.raises(StaffAccountError, match="has no role in"):
        user_deactivate(user=stranger, study=study, actor=admin, reason="x")


def test_a_superuser_is_deactivated_only_by_a_superuser(study: Study, admin: User) -> None:
    root = User.objects.create_superuser(username="root", password=None)
    membership_grant(study=study, user=root, role=Role.STATISTICIAN, actor=None)

    with pytest.raises(StaffAccountError, match="superuser"):
        user_deactivate(user=root, study=study, actor=admin, reason="x")


def test_a_coordinator_deactivates_nobody(study: Study, admin: User) -> None:
    coordinator = make_member(study=study, role=Role.COORDINATOR).user
    member = make_member(study=study, role=Role.INVESTIGATOR)

    with pytest.raises(PermissionDeniedError):
        user_deactivate(user=member.user, study=study, actor=coordinator, reason="x")
    with pytest.raises(PermissionDeniedError):
        user_totp_reset(user=member.user, study=study, actor=coordinator, reason="x")


def test_a_two_step_reset_removes_the_device_with_the_reason(study: Study, admin: User) -> None:
    member = make_member(study=study, role=Role.COORDINATOR, username="cora", password=PASSWORD)
    device = make_totp_device(member.user)

    removed = user_totp_reset(user=member.user, study=study, actor=admin, reason="phone stolen")

    assert removed == 1
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = AuditEvent.objects.filter(action=AuditAction.TWO_STEP_REMOVE).get()
    assert (event.actor, event.reason, event.study_slug) == (admin, "phone stolen", study.slug)
    # The password alone signs in now; the new phone is set up then.
    assert (
        sign_in_verify(username="cora", password=PASSWORD, code="", ip_address=None).device is None
    )


def test_a_two_step_reset_needs_a_reason_a_device_and_someone_else(
    study: Study, admin: User
) -> None:
    member = make_member(study=study, role=Role.COORDINATOR)

    with pytest.raises(StaffAccountError, match="no two-step device"):
        user_totp_reset(user=member.user, study=study, actor=admin, reason="lost")
    make_totp_device(member.user)
    with pytest.raises(InvalidInputError, match="Say why"):
        user_totp_reset(user=member.user, study=study, actor=admin, reason="")
    make_totp_device(admin)
    with pytest.raises(StaffAccountError, match="your own account"):
        user_totp_reset(user=admin, study=study, actor=admin, reason="new phone")
