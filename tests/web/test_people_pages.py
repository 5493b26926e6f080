"""The people pages of a study: an administrator invites, grants, changes, revokes, deactivates
and resets two-step sign-in there; refusals say what to do, hostile input is a 4xx, never a
500; the invitation link's page; the Django admin is linked for superusers only; the pages show
no allocation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.builders import (
    client_for,
    make_member,
    make_site,
    make_study,
    make_totp_device,
    make_user,
    totp_code,
)
from tests.web.test_blinding_pages import leaks, make_trial

from diarytrial.accounts.models import Invitation
from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.studies.models import Role, Site, Study, StudyMembership

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


@pytest.fixture
def browser(admin: User) -> Client:
    return client_for(admin)


def people(study: Study, tail: str = "") -> str:
    return f"/studies/{study.slug}/people/{tail}"


def invite_form(site: Site | None = None, **fields: str) -> dict[str, object]:
    form: dict[str, object] = {
        "username": "cora",
        "email": "cora@example.org",
        "first_name": "Cora",
        "last_name": "Lee",
        "role": "coordinator",
        "ends_on": "",
    }
    if site is not None:
        form["sites"] = [site.code]
    form.update(fields)
    return form


def test_the_list_shows_each_member_with_role_sites_and_standing(
    study: Study, browser: Client
) -> None:
    site = make_site(study=study)
    make_member(study=study, role=Role.COORDINATOR, sites=[site], username="cora")
    make_member(study=study, role=Role.STATISTICIAN, username="stan")

    page = browser.get(people(study))

    assert page.status_code == 200
    text = page.content.decode()
    assert re.search(r"cora</a></th>\s*<td></td>\s*<td>Coordinator</td>\s*<td>stanford", text)
    assert "stan" in text
    assert "holds the role" in text
    assert "Invite someone" in text


def test_the_list_queries_do_not_grow(study: Study, browser: Client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(people(study)).status_code == 200
        return len(captured)

    make_member(study=study, role=Role.COORDINATOR, username="one")
    few = count()
    site = make_site(study=study)
    for n in range(4):
        make_member(study=study, role=Role.COORDINATOR, sites=[site], username=f"more{n}")

    assert count() == few


def test_inviting_sends_the_link_and_the_link_sets_everything_up(
    study: Study, browser: Client, django_capture_on_commit_callbacks: object
) -> None:
    site = make_site(study=study)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = browser.post(
            people(study, "invite/"), invite_form(site, ends_on=later(200).isoformat())
        )

    user = User.objects.get(username="cora")
    assert response.status_code == 302
    assert response["Location"] == people(study, f"{user.pk}/")
    person = browser.get(response["Location"]).content.decode()
    assert "cora is invited" in person
    assert "not accepted yet" in person
    assert later(200).isoformat() in person
    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/invitation/[^/\s]+/)", message.body)
    assert link is not None

    visitor = Client()
    page = visitor.get(link[1])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    accepted = visitor.post(
        link[1], {"password": PASSWORD, "password_again": PASSWORD, "code": totp_code(device)}
    )
    assert accepted.status_code == 302
    assert accepted["Location"] == "/accounts/sign-in/"
    assert visitor.get(link[1]).status_code == 410
    signed_in = visitor.post(
        "/accounts/sign-in/",
        {"username": "cora", "password": PASSWORD, "code": totp_code(device, steps_ahead=1)},
    )
    assert signed_in.status_code == 302
    assert visitor.get(f"/studies/{study.slug}/").status_code == 200


@pytest.mark.parametrize(
    ("fields", "status", "shown"),
    [
        ({"email": "not an address"}, 400, "Enter a valid email address"),
        ({"email": "x" * 400}, 400, "at most 254 characters"),
        ({"username": "has space"}, 422, "A username has"),
        ({"username": "ada"}, 422, "is taken already"),
        ({"username": "x" * 5000}, 400, "at most 150 characters"),
        ({"role": "superuser"}, 400, "Select a valid choice"),
        ({"sites": ["nowhere"]}, 400, "Select a valid choice"),
        ({"sites": ["99999999999999999999"]}, 400, "Select a valid choice"),
        ({"sites": ["x" * 5000]}, 400, "Select a valid choice"),
        ({"ends_on": "2026-13-45"}, 400, "Enter a valid date"),
        ({"ends_on": "2001-01-01"}, 422, "has passed already"),
    ],
)
def test_a_bad_invitation_says_what_to_fix(
    study: Study, browser: Client, fields: dict[str, object], status: int, shown: str
) -> None:
    response = browser.post(people(study, "invite/"), invite_form(**fields))  # type: ignore[arg-type]

    assert response.status_code == status
    assert shown in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_site_of_another_study_is_not_offered(study: Study, browser: Client) -> None:
    foreign = make_site(study=make_study(study_id="other_study"), code="boston")

    response = browser.post(people(study, "invite/"), invite_form(foreign))

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(username="cora").exists()


def test_a_huge_body_is_a_413(study: Study, admin: User) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin)

    response = client.post(
        people(study, "invite/"),
        "note=" + "x" * 3_000_000,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413


def test_granting_a_role_to_an_existing_account(study: Study, browser: Client) -> None:
    other = make_study(study_id="other_study")
    sam = make_member(study=other, role=Role.STATISTICIAN, username="sam").user

    unknown = browser.post(people(study, "grant/"), {"username": "nobody", "role": "statistician"})
    granted = browser.post(
        people(study, "grant/"),
        {
            "username": "SAM",
            "role": "statistician",
            "ends_on": later(50).isoformat(),
            "reason": "audit",
        },
    )
    again = browser.post(people(study, "grant/"), {"username": "sam", "role": "investigator"})

    assert unknown.status_code == 400
    assert "No account has this username" in unknown.content.decode()
    assert granted.status_code == 302
    membership = StudyMembership.objects.get(study=study, user=sam)
    assert (membership.role, str(membership.ends_on)) == ("statistician", later(50).isoformat())
    assert again.status_code == 409
    assert "change that role instead" in again.content.decode()


@pytest.mark.parametrize("user_id", ["999999", "99999999999999999999"])
def test_an_unknown_person_is_not_found(study: Study, browser: Client, user_id: str) -> None:
    assert browser.get(people(study, f"{user_id}/")).status_code == 404
    assert (
        browser.post(people(study, f"{user_id}/revoke/"), {"revoke-reason": "x"}).status_code == 404
    )


def test_a_member_of_another_study_only_is_not_found(study: Study, browser: Client) -> None:
    stranger = make_member(
        study=make_study(study_id="other_study"), role=Role.COORDINATOR, username="sue"
    ).user

    assert browser.get(people(study, f"{stranger.pk}/")).status_code == 404
    deactivated = browser.post(
        people(study, f"{stranger.pk}/deactivate/"), {"deactivate-reason": "x"}
    )
    assert deactivated.status_code == 404
    assert User.objects.get(pk=stranger.pk).is_active


def test_changing_and_revoking_a_role(study: Study, browser: Client, admin: User) -> None:
    member = make_member(study=study, role=Role.COORDINATOR, username="cora")
    url = people(study, f"{member.user.pk}/")

    changed = browser.post(
        url, {"role": "investigator", "ends_on": later(100).isoformat(), "reason": "x"}
    )
    no_reason = browser.post(url + "revoke/", {"revoke-reason": ""})
    revoked = browser.post(url + "revoke/", {"revoke-reason": "left the clinic"})

    assert changed.status_code == 302
    assert no_reason.status_code == 400
    assert "Say why" in no_reason.content.decode()
    assert revoked.status_code == 302
    member.refresh_from_db()
    assert (member.role, member.active) == ("investigator", False)
    assert [e.action for e in AuditEvent.objects.filter(actor=admin).order_by("id")][-2:] == [
        AuditAction.GRANT,
        AuditAction.REVOKE,
    ]
    assert "role revoked" in browser.get(url).content.decode()


def test_one_s_own_administrator_role_and_account_stay(
    study: Study, browser: Client, admin: User
) -> None:
    make_member(study=study, role=Role.ADMINISTRATOR, username="bea")
    url = people(study, f"{admin.pk}/")

    revoked = browser.post(url + "revoke/", {"revoke-reason": "stepping down"})
    changed = browser.post(url, {"role": "investigator"})
    deactivated = browser.post(url + "deactivate/", {"deactivate-reason": "leaving"})

    assert revoked.status_code == 409
    assert "You cannot revoke your own administrator role" in revoked.content.decode()
    assert changed.status_code == 409
    assert deactivated.status_code == 409
    assert "your own account" in deactivated.content.decode()
    assert StudyMembership.objects.get(user=admin).active


def test_the_last_administrator_stays(study: Study, admin: User) -> None:
    root = User.objects.create_superuser(username="root", password=None)

    response = client_for(root).post(
        people(study, f"{admin.pk}/revoke/"), {"revoke-reason": "tidying"}
    )

    assert response.status_code == 409
    assert "ada is the last administrator" in response.content.decode()


def test_deactivating_an_account_and_resetting_its_two_step(study: Study, browser: Client) -> None:
    member = make_member(study=study, role=Role.INVESTIGATOR, username="ivan")
    make_totp_device(member.user)
    theirs = client_for(member.user)
    url = people(study, f"{member.user.pk}/")

    reset = browser.post(url + "two-step-reset/", {"totp-reason": "phone lost"})
    deactivated = browser.post(url + "deactivate/", {"deactivate-reason": "left the clinic"})

    assert reset.status_code == 302
    assert not TOTPDevice.objects.filter(user=member.user).exists()
    assert deactivated.status_code == 302
    assert theirs.get(f"/studies/{study.slug}/").status_code == 302
    assert "account deactivated" in browser.get(people(study)).content.decode()


def test_a_new_invitation_from_the_person_page(study: Study, browser: Client) -> None:
    browser.post(people(study, "invite/"), invite_form())
    cora = User.objects.get(username="cora")

    response = browser.post(people(study, f"{cora.pk}/reinvite/"))

    assert response.status_code == 302
    assert Invitation.objects.filter(user=cora, revoked_at__isnull=True).count() == 1
    assert Invitation.objects.filter(user=cora).count() == 2


@pytest.mark.parametrize("token", ["nonsense", "x" * 5000, "%00"])
def test_a_bad_invitation_link_is_a_410_that_says_what_to_do(token: str) -> None:
    response = Client().get(f"/accounts/invitation/{token}/")

    assert response.status_code == 410
    assert "ask your study&#x27;s administrator" in response.content.decode()


def test_the_invitation_form_refuses_what_does_not_fit(study: Study, browser: Client) -> None:
    browser.post(people(study, "invite/"), invite_form())
    from diarytrial.accounts.services import invitation_renew

    issued = invitation_renew(
        membership=StudyMembership.objects.get(user__username="cora"),
        actor=None,
    )
    url = f"/accounts/invitation/{issued.token}/"
    device = TOTPDevice.objects.get(user__username="cora")
    visitor = Client()

    differ = visitor.post(url, {"password": PASSWORD, "password_again": "other", "code": "1"})
    weak = visitor.post(
        url, {"password": "password", "password_again": "password", "code": totp_code(device)}
    )
    wrong = visitor.post(url, {"password": PASSWORD, "password_again": PASSWORD, "code": "000"})

    assert differ.status_code == 400
    assert "The two passwords differ" in differ.content.decode()
    assert weak.status_code == 422
    assert "too common" in weak.content.decode()
    assert wrong.status_code == 422
    assert "This code is not right" in wrong.content.decode()
    assert visitor.get(url).status_code == 200  # still usable


def test_the_django_admin_is_linked_for_superusers_only(study: Study, admin: User) -> None:
    root = User.objects.create_superuser(username="root", password=None)

    assert "Django admin" in client_for(root).get(f"/studies/{study.slug}/").content.decode()
    assert "Django admin" not in client_for(admin).get(f"/studies/{study.slug}/").content.decode()
    assert "People" in client_for(admin).get(f"/studies/{study.slug}/").content.decode()
    investigator = make_member(study=study, role=Role.INVESTIGATOR).user
    page = client_for(investigator).get(f"/studies/{study.slug}/").content.decode()
    assert "/people/" not in page


def test_the_people_pages_show_no_allocation() -> None:
    trial = make_trial()
    admin = make_member(study=trial.study, role=Role.ADMINISTRATOR, username="ada").user
    member = make_member(study=trial.study, role=Role.COORDINATOR, sites=[trial.site])
    make_user(username="spare")
    client = client_for(admin)
    base = people(trial.study)
    person = f"{base}{member.user.pk}/"
    pages = [base, f"{base}invite/", f"{base}grant/", person]
    posts = [
        f"{base}invite/",
        f"{base}grant/",
        person,
        *(
            f"{person}{action}/"
            for action in ("revoke", "deactivate", "two-step-reset", "reinvite")
        ),
    ]

    opened = 0
    for url in pages:
        response = client.get(url)
        assert not leaks(response.content.decode(), trial.protocol), url
        opened += response.status_code == 200
    for url in posts:
        response = client.post(url, {}, follow=True)
        assert not leaks(response.content.decode(), trial.protocol), url
    assert opened == len(pages)
