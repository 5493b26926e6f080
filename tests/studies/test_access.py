"""Access: roles, sites, blinding, and the view decorator; everything denied by default."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from tests.builders import make_member, make_site, make_study, make_user

from diarytrial.core.errors import NotSignedInError, PermissionDeniedError
from diarytrial.studies.access import (
    ALL_ROLES,
    StudyRequest,
    is_administrator,
    is_unblinded,
    membership_of,
    require_role,
    sites_visible_to,
    studies_visible_to,
    study_role_required,
)
from diarytrial.studies.errors import StudyNotFoundError
from diarytrial.studies.models import Role, Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    return make_study()


def superuser() -> User:
    return User.objects.create_superuser(username="root", password=None)


def test_a_user_without_membership_has_no_access(study: Study) -> None:
    outsider = make_user(username="outsider")
    make_site(study=study)

    assert membership_of(outsider, study) is None
    assert list(sites_visible_to(outsider, study)) == []
    assert not is_unblinded(outsider, study)
    assert list(studies_visible_to(outsider)) == []
    with pytest.raises(PermissionDeniedError) as refused:
        require_role(outsider, study, *ALL_ROLES)
    assert refused.value.http_status == 403


def test_anonymous_has_no_access(study: Study) -> None:
    anonymous = AnonymousUser()

    assert membership_of(anonymous, study) is None
    assert not is_administrator(anonymous)
    with pytest.raises(PermissionDeniedError):
        require_role(anonymous, study, Role.COORDINATOR)


def test_require_role_returns_the_membership_of_an_allowed_role(study: Study) -> None:
    membership = make_member(study=study, role=Role.INVESTIGATOR)

    assert require_role(membership.user, study, Role.INVESTIGATOR, Role.COORDINATOR) == membership
    with pytest.raises(PermissionDeniedError):
        require_role(membership.user, study, Role.COORDINATOR)


def test_require_role_needs_a_role() -> None:
    with pytest.raises(ValueError, match="denied by default"):
        require_role(AnonymousUser(), Study(slug="x"))


def test_a_membership_in_another_study_gives_nothing_here(study: Study) -> None:
    other = make_study(study_id="other_trial")
    membership = make_member(study=other, role=Role.PHARMACIST)

    assert membership_of(membership.user, study) is None
    assert not is_unblinded(membership.user, study)
    assert is_unblinded(membership.user, other)


def test_inactive_memberships_and_users_have_no_access(study: Study) -> None:
    by_membership = make_member(study=study, role=Role.INVESTIGATOR, username="a")
    by_membership.active = False
    by_membership.save()
    by_user = make_member(study=study, role=Role.INVESTIGATOR, username="b")
    by_user.user.is_active = False
    by_user.user.save()

    assert membership_of(by_membership.user, study) is None
    assert membership_of(by_user.user, study) is None


def test_a_coordinator_sees_only_the_sites_of_their_membership(study: Study) -> None:
    stanford = make_site(study=study, code="stanford")
    make_site(study=study, code="boston")
    oslo = make_site(study=study, code="oslo")
    limited = make_member(study=study, role=Role.COORDINATOR, sites=[stanford, oslo])
    everywhere = make_member(study=study, role=Role.COORDINATOR, username="everywhere")
    investigator = make_member(study=study, role=Role.INVESTIGATOR, sites=[stanford])
    principal = make_member(study=study, role=Role.INVESTIGATOR, username="principal")
    statistician = make_member(study=study, role=Role.STATISTICIAN, sites=[oslo])

    def codes(user: User) -> list[str]:
        return [site.code for site in sites_visible_to(user, study)]

    assert codes(limited.user) == ["oslo", "stanford"]
    assert codes(everywhere.user) == ["boston", "oslo", "stanford"]
    # An investigator's role is held at sites too (a site's investigator)...
    assert codes(investigator.user) == ["stanford"]
    assert codes(principal.user) == ["boston", "oslo", "stanford"]
    # ...the other roles work for the whole study, whatever their membership lists.
    assert codes(statistician.user) == ["boston", "oslo", "stanford"]


def test_sites_of_another_study_are_never_visible(study: Study) -> None:
    other = make_study(study_id="other_trial")
    make_site(study=other, code="elsewhere")
    make_site(study=study, code="here")
    statistician = make_member(study=study, role=Role.STATISTICIAN)

    assert [s.code for s in sites_visible_to(statistician.user, study)] == ["here"]


@pytest.mark.parametrize(
    ("role", "before", "after"),
    [
        (Role.PHARMACIST, True, True),
        (Role.STATISTICIAN, False, True),
        (Role.COORDINATOR, False, False),
        (Role.INVESTIGATOR, False, False),
        (Role.ADMINISTRATOR, False, False),
    ],
)
def test_who_is_unblinded(study: Study, role: Role, before: bool, after: bool) -> None:
    member = make_member(study=study, role=role)

    blinded_answer = is_unblinded(member.user, study)
    study.unblinded_at = timezone.now()  # in memory only: its service comes later

    assert (blinded_answer, is_unblinded(member.user, study)) == (before, after)


def test_the_superuser_administers_every_study_but_is_not_unblinded(study: Study) -> None:
    root = superuser()
    make_site(study=study)

    membership = require_role(root, study, Role.ADMINISTRATOR)

    assert membership.role == Role.ADMINISTRATOR
    assert membership.pk is None
    assert is_administrator(root, study)
    assert len(sites_visible_to(root, study)) == 1
    assert not is_unblinded(root, study)
    assert list(studies_visible_to(root)) == [study]
    with pytest.raises(PermissionDeniedError):
        require_role(root, study, Role.PHARMACIST)


def test_an_administrator_membership_makes_an_administrator(study: Study) -> None:
    admin = make_member(study=study, role=Role.ADMINISTRATOR)
    other = make_study(study_id="other_trial")

    assert is_administrator(admin.user)
    assert is_administrator(admin.user, study)
    assert not is_administrator(admin.user, other)
    assert not is_administrator(make_member(study=study, role=Role.PHARMACIST).user)


@study_role_required(Role.COORDINATOR, Role.INVESTIGATOR)
def enrolment_page(request: StudyRequest, study: str) -> HttpResponse:
    return HttpResponse(f"{request.study.slug} {request.membership.role}")


def call(user: User | AnonymousUser, slug: str, path: str = "/studies/x/") -> HttpResponse:
    request = RequestFactory().get(path)
    request.user = user
    response = enrolment_page(request, study=slug)
    assert isinstance(response, HttpResponse)
    return response


def test_the_decorator_lets_in_the_roles_it_names(study: Study) -> None:
    coordinator = make_member(study=study, role=Role.COORDINATOR)

    response = call(coordinator.user, study.slug)

    assert response.content == b"ldn_fibromyalgia coordinator"


def test_the_decorator_refuses_other_roles_and_outsiders(study: Study) -> None:
    pharmacist = make_member(study=study, role=Role.PHARMACIST)

    with pytest.raises(PermissionDeniedError):
        call(pharmacist.user, study.slug)
    with pytest.raises(PermissionDeniedError):
        call(make_user(username="outsider"), study.slug)


def test_the_decorator_does_not_tell_outsiders_which_studies_exist(study: Study) -> None:
    with pytest.raises(PermissionDeniedError):
        call(make_user(username="outsider"), "no_such_study")
    with pytest.raises(StudyNotFoundError):
        call(superuser(), "no_such_study")


def test_the_decorator_sends_anonymous_pages_to_sign_in_and_refuses_the_api(
    study: Study,
) -> None:
    page = call(AnonymousUser(), study.slug, path="/studies/ldn_fibromyalgia/")

    assert page.status_code == 302
    assert page["Location"] == "/accounts/sign-in/?next=/studies/ldn_fibromyalgia/"
    with pytest.raises(NotSignedInError):
        call(AnonymousUser(), study.slug, path="/api/studies/ldn_fibromyalgia/")


def test_the_decorator_needs_a_role() -> None:
    with pytest.raises(ValueError, match="denied by default"):
        study_role_required()
