"""Who may do what in a study: the one place other apps ask. Everything is denied by default.

A staff user acts in a study through their active ``StudyMembership``, which names one role and
the sites it covers (all sites when it lists none). The Django superuser counts as an
administrator of every study without a membership; being an administrator does not unblind.

Views use `study_role_required`; services and selectors call `require_role`,
`sites_visible_to` and `is_unblinded` with the acting user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from diarytrial.core.errors import NotSignedInError, PermissionDeniedError
from diarytrial.studies.errors import StudyNotFoundError
from diarytrial.studies.models import Role, Site, Study, StudyMembership

AnyUser = AbstractBaseUser | AnonymousUser

ALL_ROLES: tuple[Role, ...] = tuple(Role)
"""Every staff role, for pages any member of the study may see."""

_DENIED = (
    "You have no role in this study that allows this. If you need it, ask the study's "
    "administrator to give you a role."
)


def _active_user(user: AnyUser) -> User | None:
    if not isinstance(user, User) or not user.is_active:
        return None
    return user


def is_administrator(user: AnyUser, study: Study | None = None) -> bool:
    """True for the superuser, and for an active administrator membership (of `study`, or of any).

    >>> is_administrator(AnonymousUser())
    False
    """
    active = _active_user(user)
    if active is None:
        return False
    if active.is_superuser:
        return True
    memberships = StudyMembership.objects.filter(user=active, role=Role.ADMINISTRATOR, active=True)
    if study is not None:
        memberships = memberships.filter(study=study)
    return memberships.exists()


def _superuser_membership(user: User, study: Study) -> StudyMembership:
    # Never saved: the superuser administers every study without a row saying so.
    return StudyMembership(study=study, user=user, role=Role.ADMINISTRATOR)


def membership_of(user: AnyUser, study: Study) -> StudyMembership | None:
    """`user`'s active membership of `study`; for a superuser without one, an administrator's.

    The superuser's membership is built in memory (its ``pk`` is None): read its ``role`` and
    ``study``; ask `sites_visible_to` for sites rather than its ``sites``.
    """
    active = _active_user(user)
    if active is None:
        return None
    membership = (
        StudyMembership.objects.select_related("study", "user")
        .filter(study=study, user=active, active=True)
        .first()
    )
    if membership is None and active.is_superuser:
        return _superuser_membership(active, study)
    return membership


def require_role(user: AnyUser, study: Study, *roles: Role) -> StudyMembership:
    """`user`'s membership of `study` if its role is one of `roles`; else PermissionDeniedError.

    A superuser passes whenever `roles` include the administrator.
    """
    if not roles:
        raise ValueError("require_role needs at least one role: access is denied by default")
    membership = membership_of(user, study)
    if membership is not None and membership.role in roles:
        return membership
    active = _active_user(user)
    if active is not None and active.is_superuser and Role.ADMINISTRATOR in roles:
        return _superuser_membership(active, study)
    raise PermissionDeniedError(_DENIED, extra={"study": study.slug})


def sites_visible_to(user: AnyUser, study: Study) -> QuerySet[Site]:
    """The sites of `study` whose data `user` may see.

    A coordinator sees the sites their membership lists (all when it lists none); every other
    role sees all sites; a user without a role sees none.
    """
    membership = membership_of(user, study)
    sites = Site.objects.filter(study=study).order_by("code")
    if membership is None:
        return sites.none()
    if membership.role == Role.COORDINATOR and membership.pk is not None:
        listed = membership.sites.values("pk")
        if listed.exists():
            return sites.filter(pk__in=listed)
    return sites


def is_unblinded(user: AnyUser, study: Study) -> bool:
    """True when `user` may see allocation in `study`.

    The pharmacist always; the statistician once the study is unblinded
    (``study.unblinded_at``); nobody else, administrators included.
    """
    membership = membership_of(user, study)
    if membership is None:
        return False
    if membership.role == Role.PHARMACIST:
        return True
    return membership.role == Role.STATISTICIAN and study.unblinded_at is not None


def studies_visible_to(user: AnyUser) -> QuerySet[Study]:
    """The studies in which `user` has an active role; every study for the superuser."""
    active = _active_user(user)
    if active is None:
        return Study.objects.none()
    if active.is_superuser:
        return Study.objects.order_by("slug")
    return Study.objects.filter(memberships__user=active, memberships__active=True).order_by("slug")


def admin_site_has_permission(request: HttpRequest) -> bool:
    """The Django admin is for administrators only (installed by the accounts app)."""
    return is_administrator(request.user)


class StudyRequest(HttpRequest):
    """A request that passed `study_role_required`: it carries the study and the membership."""

    user: User
    study: Study
    membership: StudyMembership


P = ParamSpec("P")
StudyView = Callable[Concatenate[StudyRequest, P], HttpResponseBase]
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


def study_role_required(*roles: Role) -> Callable[[StudyView[P]], View[P]]:
    """Let the view run only for a member of the URL's study (kwarg ``study``) with one of `roles`.

    Anonymous visitors of a page are sent to sign in; under ``/api/`` they get
    NotSignedInError (401). Others without such a role get PermissionDeniedError (403), also
    for a study that does not exist, so that the answer does not tell which studies exist
    (administrators get 404 for those). The view finds ``request.study`` and
    ``request.membership``. Class-based views use it through ``method_decorator``.
    """
    if not roles:
        raise ValueError("study_role_required needs at least one role: access is denied by default")

    def decorate(view: StudyView[P]) -> View[P]:
        def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if not request.user.is_authenticated:
                if request.path.startswith("/api/"):
                    raise NotSignedInError("Sign in first: this needs a signed-in staff user.")
                return redirect_to_login(request.get_full_path())
            slug = kwargs.get("study")
            study = Study.objects.filter(slug=slug).first() if isinstance(slug, str) else None
            if study is None:
                if is_administrator(request.user):
                    raise StudyNotFoundError(
                        f"There is no study {slug!r}.", extra={"study": str(slug)}
                    )
                raise PermissionDeniedError(_DENIED)
            membership = require_role(request.user, study, *roles)
            study_request: StudyRequest = request  # type: ignore[assignment]
            study_request.study = study
            study_request.membership = membership
            return view(study_request, *args, **kwargs)

        functools.update_wrapper(wrapper, view)
        return wrapper

    return decorate
