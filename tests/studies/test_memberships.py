"""Roles granted, changed and revoked through the services, each with its audit event; a role
past its last day grants nothing; a study keeps an administrator, and nobody ends their own."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone
from tests.builders import make_member, make_participant, make_site, make_study, make_user

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.diary.notifications import site_coordinator_emails
from diarytrial.monitoring.digest.selectors import digest_recipients
from diarytrial.safety.notifications import investigator_emails
from diarytrial.studies.access import (
    is_administrator,
    membership_of,
    sites_visible_to,
    studies_visible_to,
)
from diarytrial.studies.errors import (
    LastAdministratorError,
    MembershipExistsError,
    OwnAdministratorRoleError,
)
from diarytrial.studies.models import Role, Study, StudyMembership
from diarytrial.studies.services import (
    membership_change,
    membership_grant,
    membership_revoke,
    site_create,
)

pytestmark = pytest.mark.django_db


def later(days: int) -> dt.date:
    """A day `days` ahead of the test's clock (tests run at any instant)."""
    return timezone.now().date() + dt.timedelta(days=days)


LA = "America/Los_Angeles"
SET_UP = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)
LAST_DAY = dt.date(2026, 12, 7)


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def admin(study: Study) -> User:
    return make_member(study=study, role=Role.ADMINISTRATOR, username="ada").user


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _changes(event: AuditEvent) -> dict[str, tuple[object, object]]:
    return {c["field"]: (c["old"], c["new"]) for c in event.changes}


def test_a_grant_is_one_grant_event_with_role_sites_and_last_day(study: Study, admin: User) -> None:
    site = make_site(study=study)
    newcomer = make_user(username="nina")
    before = AuditEvent.objects.count()

    membership = membership_grant(
        study=study,
        user=newcomer,
        role=Role.COORDINATOR,
        sites=[site],
        ends_on=later(200),
        actor=admin,
        reason="joins the Stanford team",
    )

    assert AuditEvent.objects.count() == before + 1
    (event,) = _events(AuditAction.GRANT)[-1:]
    assert event.actor == admin
    assert event.study_slug == study.slug
    assert event.object_id == str(membership.pk)
    assert event.reason == "joins the Stanford team"
    assert _changes(event) == {
        "user": (None, "nina"),
        "role": (None, "coordinator"),
        "sites": (None, ["stanford"]),
        "ends_on": (None, later(200).isoformat()),
        "active": (None, True),
    }
    assert membership_of(newcomer, study) == membership


def test_a_second_grant_to_a_member_is_refused(study: Study, admin: User) -> None:
    member = make_member(study=study, role=Role.STATISTICIAN, username="sam").user

    with pytest.raises(MembershipExistsError, match=r"statistician in .* already"):
        membership_grant(study=study, user=member, role=Role.INVESTIGATOR, actor=admin)


def test_only_an_administrator_of_the_study_grants(study: Study, admin: User) -> None:
    coordinator = make_member(study=study, role=Role.COORDINATOR).user
    other = make_study(study_id="other_study")
    other_admin = make_member(study=other, role=Role.ADMINISTRATOR, username="olga").user

    for actor in (coordinator, other_admin):
        with pytest.raises(PermissionDeniedError, match="Only an administrator"):
            membership_grant(
                study=study,
                user=make_user(username=f"x{actor.pk}"),
                role=Role.INVESTIGATOR,
                actor=actor,
            )


def test_a_site_of_another_study_is_refused(study: Study, admin: User) -> None:
    other = make_study(study_id="other_study")
    foreign = make_site(study=other, code="boston")

    with pytest.raises(InvalidInputError, match="belongs to another study"):
        membership_grant(
            study=study,
            user=make_user(username="nina"),
            role=Role.COORDINATOR,
            sites=[foreign],
            actor=admin,
        )
    assert not StudyMembership.objects.filter(user__username="nina").exists()


def test_a_last_day_already_past_is_refused(study: Study, admin: User) -> None:
    site_create(study=study, code="la", name="LA", actor=None, timezone=LA)
    # 2026-12-07 03:00 UTC is still the 6th in Los Angeles: the 6th is today there, not past.
    with time_machine.travel(dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC), tick=False):
        membership_grant(
            study=study,
            user=make_user(username="today"),
            role=Role.INVESTIGATOR,
            ends_on=dt.date(2026, 12, 6),
            actor=admin,
        )
        with pytest.raises(InvalidInputError, match="has passed already"):
            membership_grant(
                study=study,
                user=make_user(username="past"),
                role=Role.INVESTIGATOR,
                ends_on=dt.date(2026, 12, 5),
                actor=admin,
            )


def test_a_change_records_old_and_new_values_and_nothing_when_nothing_changes(
    study: Study, admin: User
) -> None:
    stanford, boston = make_site(study=study), make_site(study=study, code="boston")
    membership = make_member(study=study, role=Role.COORDINATOR, sites=[stanford])

    membership_change(
        membership=membership,
        role=Role.INVESTIGATOR,
        sites=[boston],
        ends_on=later(50),
        actor=admin,
        reason="promoted",
    )
    count = AuditEvent.objects.count()
    membership_change(
        membership=membership,
        role=Role.INVESTIGATOR,
        sites=[boston],
        ends_on=later(50),
        actor=admin,
    )

    assert AuditEvent.objects.count() == count
    event = _events(AuditAction.GRANT)[-1]
    assert _changes(event) == {
        "user": ("coordinator", "coordinator"),
        "role": ("coordinator", "investigator"),
        "sites": (["stanford"], ["boston"]),
        "ends_on": (None, later(50).isoformat()),
    }
    assert event.reason == "promoted"
    membership.refresh_from_db()
    assert (membership.role, membership.ends_on) == (Role.INVESTIGATOR, later(50))
    assert list(membership.sites.all()) == [boston]


def test_a_revoke_needs_a_reason_and_takes_the_access_away(study: Study, admin: User) -> None:
    membership = make_member(study=study, role=Role.INVESTIGATOR)
    user = membership.user

    with pytest.raises(InvalidInputError, match="Say why"):
        membership_revoke(membership=membership, actor=admin, reason="  ")
    membership_revoke(membership=membership, actor=admin, reason="left the clinic")

    event = _events(AuditAction.REVOKE)[-1]
    assert (event.actor, event.reason, event.study_slug) == (admin, "left the clinic", study.slug)
    assert _changes(event)["active"] == (True, False)
    assert membership_of(user, study) is None
    assert list(studies_visible_to(user)) == []
    with pytest.raises(InvalidInputError, match="revoked already"):
        membership_revoke(membership=membership, actor=admin, reason="again")
    with pytest.raises(InvalidInputError, match="grant one again"):
        membership_change(membership=membership, role=Role.COORDINATOR, actor=admin)


def test_a_revoked_role_is_granted_again_on_the_same_row(study: Study, admin: User) -> None:
    membership = make_member(study=study, role=Role.INVESTIGATOR)
    membership_revoke(membership=membership, actor=admin, reason="on leave")

    again = membership_grant(
        study=study, user=membership.user, role=Role.COORDINATOR, actor=admin, reason="back"
    )

    assert again.pk == membership.pk
    assert _changes(_events(AuditAction.GRANT)[-1])["role"] == ("investigator", "coordinator")
    assert membership_of(membership.user, study) == again
    assert audit_verify().ok


def test_the_last_administrator_is_kept(study: Study, admin: User) -> None:
    last = StudyMembership.objects.get(user=admin, study=study)
    root = User.objects.create_superuser(username="root", password=None)
    count = AuditEvent.objects.count()

    with pytest.raises(LastAdministratorError, match="last administrator"):
        membership_revoke(membership=last, actor=root, reason="tidying")
    with pytest.raises(LastAdministratorError):
        membership_change(membership=last, role=Role.INVESTIGATOR, actor=root)
    with pytest.raises(LastAdministratorError):
        membership_change(membership=last, role=Role.ADMINISTRATOR, ends_on=later(30), actor=root)

    assert AuditEvent.objects.count() == count
    second = make_member(study=study, role=Role.ADMINISTRATOR, username="bea")
    membership_revoke(membership=last, actor=second.user, reason="handed over to bea")
    assert not is_administrator(admin, study)


def test_an_administrator_with_an_end_date_does_not_count_as_the_one_kept(
    study: Study, admin: User
) -> None:
    temporary = make_member(study=study, role=Role.ADMINISTRATOR, username="tem")
    membership_change(membership=temporary, role=Role.ADMINISTRATOR, ends_on=later(30), actor=admin)
    root = User.objects.create_superuser(username="root", password=None)

    with pytest.raises(LastAdministratorError):
        membership_revoke(
            membership=StudyMembership.objects.get(user=admin), actor=root, reason="leaving"
        )


def test_nobody_ends_their_own_administrator_role(study: Study, admin: User) -> None:
    make_member(study=study, role=Role.ADMINISTRATOR, username="bea")
    own = StudyMembership.objects.get(user=admin, study=study)

    with pytest.raises(OwnAdministratorRoleError, match="your own administrator role"):
        membership_revoke(membership=own, actor=admin, reason="stepping down")
    with pytest.raises(OwnAdministratorRoleError):
        membership_change(membership=own, role=Role.INVESTIGATOR, actor=admin)
    with pytest.raises(OwnAdministratorRoleError):
        membership_change(membership=own, role=Role.ADMINISTRATOR, ends_on=later(30), actor=admin)
    # Sites mean nothing to an administrator's access: changing them takes nothing away.
    membership_change(
        membership=own, role=Role.ADMINISTRATOR, sites=[make_site(study=study)], actor=admin
    )


def _member_until(study: Study, admin: User, last_day: dt.date, **kwargs: object) -> User:
    with time_machine.travel(SET_UP, tick=False):
        user = make_user(username="leaving")
        membership_grant(
            study=study, user=user, role=Role.COORDINATOR, ends_on=last_day, actor=admin, **kwargs
        )  # type: ignore[arg-type]
    return user


@pytest.mark.parametrize(
    ("instant", "held"),
    [
        # 23:30 on the 7th in Los Angeles: the last day, still held.
        (dt.datetime(2026, 12, 8, 7, 30, tzinfo=dt.UTC), True),
        # 00:30 on the 8th in Los Angeles: the day after, nothing.
        (dt.datetime(2026, 12, 8, 8, 30, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 12, 20, 12, 0, tzinfo=dt.UTC), False),
    ],
)
def test_the_last_day_is_held_whole_in_the_zone_of_the_role_s_sites(
    study: Study, admin: User, instant: dt.datetime, held: bool
) -> None:
    site = site_create(study=study, code="la", name="LA", actor=None, timezone=LA)
    user = _member_until(study, admin, LAST_DAY, sites=[site])

    with time_machine.travel(instant, tick=False):
        assert (membership_of(user, study) is not None) is held
        assert (list(studies_visible_to(user)) == [study]) is held
        assert (list(sites_visible_to(user, study)) == [site]) is held


@pytest.mark.parametrize(
    ("instant", "held"),
    [
        (dt.datetime(2026, 12, 7, 23, 59, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 12, 8, 0, 1, tzinfo=dt.UTC), False),
    ],
)
def test_sites_in_different_zones_count_the_last_day_in_utc(
    study: Study, admin: User, instant: dt.datetime, held: bool
) -> None:
    site_create(study=study, code="la", name="LA", actor=None, timezone=LA)
    site_create(study=study, code="tokyo", name="Tokyo", actor=None, timezone="Asia/Tokyo")
    user = _member_until(study, admin, LAST_DAY)  # no sites listed: the study's, two zones

    with time_machine.travel(instant, tick=False):
        assert (membership_of(user, study) is not None) is held


def test_an_ended_administrator_role_administers_nothing(study: Study, admin: User) -> None:
    with time_machine.travel(SET_UP, tick=False):
        temporary = make_member(study=study, role=Role.ADMINISTRATOR, username="tem")
        membership_change(
            membership=temporary, role=Role.ADMINISTRATOR, ends_on=LAST_DAY, actor=admin
        )

    with time_machine.travel(dt.datetime(2026, 12, 9, 12, 0, tzinfo=dt.UTC), tick=False):
        assert not is_administrator(temporary.user)
        assert not is_administrator(temporary.user, study)
        with pytest.raises(PermissionDeniedError):
            membership_grant(
                study=study,
                user=make_user(username="z"),
                role=Role.COORDINATOR,
                actor=temporary.user,
            )


def test_a_role_past_its_last_day_gets_no_more_e_mail_about_participants(
    study: Study, admin: User
) -> None:
    site = site_create(study=study, code="la", name="LA", actor=None, timezone=LA)
    with time_machine.travel(SET_UP, tick=False):
        for role, name in ((Role.INVESTIGATOR, "ivan"), (Role.COORDINATOR, "cora")):
            user = make_user(username=name)
            user.email = f"{name}@example.org"
            user.save()
            membership_grant(
                study=study, user=user, role=role, sites=[site], ends_on=LAST_DAY, actor=admin
            )
        participant = make_participant(study=study, site=site)

    with time_machine.travel(dt.datetime(2026, 12, 8, 7, 30, tzinfo=dt.UTC), tick=False):
        assert investigator_emails(study) == ["ivan@example.org"]
        assert site_coordinator_emails(participant) == ["cora@example.org"]
        assert [u.username for u in digest_recipients(site=site)] == ["cora"]
    with time_machine.travel(dt.datetime(2026, 12, 8, 8, 30, tzinfo=dt.UTC), tick=False):
        assert investigator_emails(study) == []
        assert site_coordinator_emails(participant) == []
        assert digest_recipients(site=site) == []
