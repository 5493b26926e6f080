"""Route-matrix rows of the people pages (administrators only) and of the invitation link
(anyone holding it: the link is the key)."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from tests.web.matrix import (
    ADMINISTRATOR,
    COORDINATOR,
    MatrixWorld,
    RouteCase,
    everyone,
    study_page,
    study_url,
)

from diarytrial.accounts.services import user_invite
from diarytrial.studies.models import Role


def _person_url(name: str) -> Callable[[MatrixWorld], str]:
    """A page of the coordinator, a member of the world's study."""

    def url(world: MatrixWorld) -> str:
        user = world.users[COORDINATOR]
        assert user is not None
        return reverse(name, kwargs={"study": world.study.slug, "user": user.pk})

    return url


def _invitation_url(world: MatrixWorld) -> str:
    issued = user_invite(
        study=world.study,
        username="invited",
        email="invited@example.org",
        role=Role.COORDINATOR,
        actor=world.users[ADMINISTRATOR],
    )
    return reverse("accounts:invitation", kwargs={"token": issued.token})


ADMINISTRATORS = (ADMINISTRATOR,)

ROUTES: dict[str, RouteCase] = {
    "people:list": RouteCase(url=study_url("people:list"), expected=study_page(ADMINISTRATORS)),
    "people:invite": RouteCase(url=study_url("people:invite"), expected=study_page(ADMINISTRATORS)),
    "people:grant": RouteCase(url=study_url("people:grant"), expected=study_page(ADMINISTRATORS)),
    "people:person": RouteCase(
        url=_person_url("people:person"), expected=study_page(ADMINISTRATORS)
    ),
    # Their forms only post (GET: 405).
    "people:revoke": RouteCase(
        url=_person_url("people:revoke"), expected=study_page(ADMINISTRATORS, status=405)
    ),
    "people:deactivate": RouteCase(
        url=_person_url("people:deactivate"), expected=study_page(ADMINISTRATORS, status=405)
    ),
    "people:totp_reset": RouteCase(
        url=_person_url("people:totp_reset"), expected=study_page(ADMINISTRATORS, status=405)
    ),
    "people:reinvite": RouteCase(
        url=_person_url("people:reinvite"), expected=study_page(ADMINISTRATORS, status=405)
    ),
    # The link works for whoever opens it, signed in or not (it signs nobody in).
    "accounts:invitation": RouteCase(url=_invitation_url, expected=everyone(200)),
}
