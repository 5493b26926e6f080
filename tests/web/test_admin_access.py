"""The Django admin is for administrators only, and signs in through the staff sign-in."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from tests.builders import make_member, make_study, make_user

from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_superuser_uses_the_admin(admin_user: User) -> None:
    make_study()

    response = client_for(admin_user).get("/admin/studies/study/")

    assert response.status_code == 200


def test_an_administrator_membership_opens_the_admin() -> None:
    member = make_member(study=make_study(), role=Role.ADMINISTRATOR)

    assert client_for(member.user).get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.PHARMACIST, Role.STATISTICIAN]
)
def test_other_roles_are_refused_even_as_django_staff(role: Role) -> None:
    member = make_member(study=make_study(), role=role)
    member.user.is_staff = True
    member.user.save()
    client = client_for(member.user)

    index = client.get("/admin/")
    followed = client.get("/admin/", follow=True)
    changelist = client.get("/admin/studies/study/")

    assert index.status_code == 302
    assert followed.status_code == 403
    assert "for administrators only" in followed.text
    assert changelist.status_code == 302


def test_a_staff_user_without_any_role_is_refused() -> None:
    user = make_user(username="staff")
    user.is_staff = True
    user.save()

    assert client_for(user).get("/admin/", follow=True).status_code == 403


def test_the_admin_sign_in_is_the_staff_sign_in(client: Client) -> None:
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/sign-in/?next=/admin/"
    assert response.status_code == 200
