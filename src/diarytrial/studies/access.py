"""Who may do what in a study: the one place other apps ask. Everything is denied by default.

A staff user acts in a study through their active ``StudyMembership``, which names one role and
the sites it covers (all sites when it lists none). The Django superuser counts as an
administrator of every study without a membership; being an administrator does not unblind.

A role with an end date (``ends_on``) is held through that whole day, in the zone of the sites
the role covers (``studies.zones.staff_zone``: the study's sites when it lists none; UTC when
they are in different zones); from the next midnight there it grants nothing
(`membership_ended`).

Views use `study_role_required`; services and selectors call `require_role`,
`sites_visible_to` and `is_unblinded` with the acting user.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Concatenate, ParamSpec

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from diarytrial.core.errors import NotSignedInError, PermissionDeniedError
from diarytrial.studies.errors import StudyNotFoundError
from diarytrial.studies.models import Role, Site, Study, StudyMembership
from diarytrial.studies.zones import staff_zone

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


def membership_zone(membership: StudyMembership) -> zoneinfo.ZoneInfo:
    """The zone whose days the membership's end date counts: its sites' (the study's when it
    lists none), or UTC when those sites are in different zones."""
    listed = list(membership.sites.all()) if membership.pk is not None else []
    return staff_zone(sites=listed or Site.objects.filter(study_id=membership.study_id))


def membership_today(membership: StudyMembership, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the membership's end date is counted (`membership_zone`)."""
    return (now or timezone.now()).astimezone(membership_zone(membership)).date()


def membership_ended(membership: StudyMembership, now: dt.datetime | None = None) -> bool:
    """True once the membership's end date has passed in its zone (the end date is inclusive).

    No zone is more than a day from UTC, so most end dates are decided without a query.
    """
    if membership.ends_on is None:
        return False
    utc_today = (now or timezone.now()).astimezone(dt.UTC).date()
    if membership.ends_on > utc_today + dt.timedelta(days=1):
        return False
    if membership.ends_on < utc_today - dt.timedelta(days=1):
        return True
    return membership_today(membership, now) > membership.ends_on


def memberships_current(
    memberships: Iterable[StudyMembership], now: dt.datetime | None = None
) -> list[StudyMembership]:
    """The active memberships of `memberships` whose end date (if any) has not passed."""
    return [m for m in memberships if m.active and not membership_ended(m, now)]


def is_administrator(user: AnyUser, study: Study | None = None) -> bool:
    """True for the superuser, and for a current administrator membership (of `study`, or of any).

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
    return bool(memberships_current(memberships))


def _superuser_membership(user: User, study: Study) -> StudyMembership:
    # Never saved: the superuser administers every study without a row saying so.
    return StudyMembership(study=study, user=user, role=Role.ADMINISTRATOR)


def membership_of(user: AnyUser, study: Study) -> StudyMembership | None:
    """`user`'s current membership of `study` (active, end date not passed); for a superuser
    without one, an administrator's.

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
    if membership is not None and membership_ended(membership):
        membership = None
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


SITE_ROLES = frozenset({Role.COORDINATOR, Role.INVESTIGATOR})
"""Roles held at sites: the sites a membership lists limit what it sees."""


def sites_visible_to(user: AnyUser, study: Study) -> QuerySet[Site]:
    """The sites of `study` whose data `user` may see.

    A coordinator or an investigator sees the sites their membership lists (all when it lists
    none: a site's team, or the study's principal investigator); every other role works for the
    whole study and sees all sites; a user without a role sees none.
    """
    membership = membership_of(user, study)
    sites = Site.objects.filter(study=study).order_by("code")
    if membership is None:
        return sites.none()
    if membership.role in SITE_ROLES and membership.pk is not None:
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
    """The studies in which `user` has a current role; every study for the superuser."""
    active = _active_user(user)
    if active is None:
        return Study.objects.none()
    if active.is_superuser:
        return Study.objects.order_by("slug")
    current = memberships_current(StudyMembership.objects.filter(user=active, active=True))
    return Study.objects.filter(pk__in=[m.study_id for m in current]).order_by("slug")


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
