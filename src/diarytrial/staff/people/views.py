"""The administrator's pages of a study's people: who holds which role (held, ended, revoked,
pending invitations), inviting someone new, granting a role to an existing account, changing or
revoking a role, deactivating an account and resetting its two-step sign-in.

Administrators of the study only (and the superuser). Each form calls one service; a refusal
is shown on the page with what to do, success redirects to the person's page with a message.
The pages show accounts and roles only: nothing of any participant, so nothing of allocation.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from diarytrial.accounts.errors import StaffAccountError
from diarytrial.accounts.selectors import Person, study_people, study_person, user_by_username
from diarytrial.accounts.services import (
    INVITATION_LIFETIME_HOURS,
    invitation_renew,
    user_deactivate,
    user_invite,
    user_totp_reset,
)
from diarytrial.core.errors import ConflictError, InvalidInputError, PermissionDeniedError
from diarytrial.staff.people.forms import GrantForm, InviteForm, ReasonForm, RoleChangeForm
from diarytrial.studies.access import StudyRequest, membership_zone, study_role_required
from diarytrial.studies.models import Role, Site
from diarytrial.studies.services import membership_change, membership_grant, membership_revoke
from diarytrial.studies.zones import staff_zone

REFUSALS = (InvalidInputError, ConflictError, PermissionDeniedError, StaffAccountError)
"""Refusals of a service the administrator can act on: shown on the page."""

administrators_only = study_role_required(Role.ADMINISTRATOR)


def _page_zone(request: StudyRequest) -> zoneinfo.ZoneInfo:
    return staff_zone(sites=Site.objects.filter(study=request.study))


def _person_url(request: StudyRequest, user: User | int) -> str:
    user_id = user if isinstance(user, int) else user.pk
    return reverse("people:person", kwargs={"study": request.study.slug, "user": user_id})


def _render(
    request: StudyRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault("page_zone", _page_zone(request))
    return render(request, template, context, status=status)


@require_safe
@administrators_only
def people_list(request: StudyRequest, study: str) -> HttpResponse:
    """Everyone who holds or held a role in the study."""
    people = study_people(request.study)
    return _render(request, "people/list.html", {"people": people})


@never_cache
@require_http_methods(["GET", "POST"])
@administrators_only
def invite(request: StudyRequest, study: str) -> HttpResponse:
    """Invite someone new: an account, a role, and a link sent by e-mail."""
    form = InviteForm(request.POST if request.method == "POST" else None, study=request.study)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = user_invite(
                study=request.study,
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=Role(data["role"]),
                sites=list(data["sites"]),
                ends_on=data["ends_on"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            user = issued.invitation.user
            messages.success(
                request,
                f"{user.get_username()} is invited: the link went to {user.email}. It works "
                f"once, for {INVITATION_LIFETIME_HOURS} hours.",
            )
            return redirect(_person_url(request, user))
    elif form.is_bound:
        status = 400
    return _render(
        request,
        "people/invite.html",
        {"form": form, "lifetime_hours": INVITATION_LIFETIME_HOURS},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@administrators_only
def grant(request: StudyRequest, study: str) -> HttpResponse:
    """Give a role in this study to an account that exists already."""
    form = GrantForm(request.POST if request.method == "POST" else None, study=request.study)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        user = user_by_username(data["username"])
        if user is None:
            form.add_error(
                "username",
                "No account has this username. Check the spelling; to add someone new, "
                "invite them instead.",
            )
            status = 400
        else:
            try:
                membership_grant(
                    study=request.study,
                    user=user,
                    role=Role(data["role"]),
                    sites=list(data["sites"]),
                    ends_on=data["ends_on"],
                    actor=request.user,
                    reason=data["reason"],
                )
            except REFUSALS as error:
                form.add_error(None, error.message)
                status = error.http_status
            else:
                messages.success(
                    request,
                    f"{user.get_username()} is {Role(data['role']).label.lower()} in "
                    f"{request.study.slug}.",
                )
                return redirect(_person_url(request, user))
    elif form.is_bound:
        status = 400
    return _render(request, "people/grant.html", {"form": form}, status=status)


def _person_page(
    request: StudyRequest,
    person: Person,
    *,
    role_form: RoleChangeForm | None = None,
    error: str = "",
    error_form: str = "",
    status: int = 200,
) -> HttpResponse:
    membership = person.membership
    if role_form is None:
        role_form = RoleChangeForm(
            study=request.study,
            initial={
                "role": membership.role,
                "sites": list(membership.sites.all()),
                "ends_on": membership.ends_on,
            },
        )
    context = {
        # The zone the role's last day is counted in: its sites'.
        "page_zone": membership_zone(membership),
        "person": person,
        "role_form": role_form,
        "revoke_form": ReasonForm(prefix="revoke"),
        "deactivate_form": ReasonForm(prefix="deactivate"),
        "totp_form": ReasonForm(prefix="totp"),
        "error": error,
        "error_form": error_form,
        "own": person.user.pk == request.user.pk,
    }
    return _render(request, "people/person.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@administrators_only
def person(request: StudyRequest, study: str, user: int) -> HttpResponse:
    """One member: their role, account and invitation; POST changes the role."""
    found = study_person(request.study, user)
    if request.method != "POST":
        return _person_page(request, found)
    form = RoleChangeForm(request.POST, study=request.study)
    if not form.is_valid():
        return _person_page(request, found, role_form=form, status=400)
    data = form.cleaned_data
    try:
        membership_change(
            membership=found.membership,
            role=Role(data["role"]),
            sites=list(data["sites"]),
            ends_on=data["ends_on"],
            actor=request.user,
            reason=data["reason"],
        )
    except REFUSALS as error:
        form.add_error(None, error.message)
        return _person_page(request, found, role_form=form, status=error.http_status)
    messages.success(request, "The role is changed.")
    return redirect(_person_url(request, user))


def _reason_action(
    request: StudyRequest,
    user: int,
    *,
    prefix: str,
    act: Callable[[Person, str], str],
) -> HttpResponse:
    """Parse the reason form `prefix`, run `act` (which returns the success message) and return
    to the person's page; a refusal is shown there beside that form."""
    found = study_person(request.study, user)
    form = ReasonForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _person_page(
            request,
            found,
            error="Say why: the reason is kept in the audit trail (at most 1000 characters).",
            error_form=prefix,
            status=400,
        )
    try:
        message = act(found, form.cleaned_data["reason"])
    except REFUSALS as error:
        return _person_page(
            request, found, error=error.message, error_form=prefix, status=error.http_status
        )
    messages.success(request, message)
    return redirect(_person_url(request, user))


@administrators_only
@require_POST
def revoke(request: StudyRequest, study: str, user: int) -> HttpResponse:
    """Take the member's role in this study away, with a reason."""

    def act(found: Person, reason: str) -> str:
        membership_revoke(membership=found.membership, actor=request.user, reason=reason)
        return f"The role of {found.user.get_username()} is revoked."

    return _reason_action(request, user, prefix="revoke", act=act)


@administrators_only
@require_POST
def deactivate(request: StudyRequest, study: str, user: int) -> HttpResponse:
    """Deactivate the member's account, with a reason."""

    def act(found: Person, reason: str) -> str:
        user_deactivate(user=found.user, study=request.study, actor=request.user, reason=reason)
        return f"The account {found.user.get_username()} is deactivated: it can no longer sign in."

    return _reason_action(request, user, prefix="deactivate", act=act)


@administrators_only
@require_POST
def totp_reset(request: StudyRequest, study: str, user: int) -> HttpResponse:
    """Remove the member's two-step device (a lost phone), with a reason."""

    def act(found: Person, reason: str) -> str:
        user_totp_reset(user=found.user, study=request.study, actor=request.user, reason=reason)
        return (
            f"The two-step sign-in of {found.user.get_username()} is reset: at their next "
            f"sign-in they set up their new phone."
        )

    return _reason_action(request, user, prefix="totp", act=act)


@administrators_only
@require_POST
def reinvite(request: StudyRequest, study: str, user: int) -> HttpResponse:
    """Send a new invitation to a member who has not accepted theirs."""
    found = study_person(request.study, user)
    try:
        issued = invitation_renew(membership=found.membership, actor=request.user)
    except REFUSALS as error:
        return _person_page(
            request, found, error=error.message, error_form="reinvite", status=error.http_status
        )
    messages.success(
        request,
        f"A new invitation went to {issued.invitation.email}; the earlier link no longer works.",
    )
    return redirect(_person_url(request, user))
