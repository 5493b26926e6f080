"""The daily digest's page: each site-team member turns their own digest on or off; the
administrator sets when each site's digest goes out, and sees the recent ones.

On a locked study no digest is sent and the page offers no form.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.monitoring.digest.forms import ScheduleForm, SubscriptionForm
from diarytrial.monitoring.digest.selectors import (
    DIGEST_ROLES,
    digest_deliveries_recent,
    digest_schedules,
    digest_subscribed,
)
from diarytrial.monitoring.digest.services import digest_schedule_set, digest_subscription_set
from diarytrial.studies.access import StudyRequest, sites_visible_to, study_role_required
from diarytrial.studies.models import Role, Site

PAGE_ROLES = (*DIGEST_ROLES, Role.ADMINISTRATOR)


def _page_url(request: StudyRequest) -> str:
    return reverse("digest:settings", kwargs={"study": request.study.slug})


def _page(
    request: StudyRequest,
    *,
    schedule_form: ScheduleForm | None = None,
    form_site: Site | None = None,
    status: int = 200,
) -> HttpResponse:
    membership = request.membership
    administrator = membership.role == Role.ADMINISTRATOR
    visible = {site.pk for site in sites_visible_to(request.user, request.study)}
    schedules = [
        (site, schedule)
        for site, schedule in digest_schedules(study=request.study)
        if site.pk in visible
    ]
    forms = {
        site.pk: (
            schedule_form
            if form_site is not None and form_site.pk == site.pk and schedule_form is not None
            else ScheduleForm(
                initial={"timezone": schedule.timezone, "send_at": schedule.send_at}
                if schedule
                else {"timezone": site.timezone, "send_at": "07:30"},
                prefix=f"site-{site.code}",
            )
        )
        for site, schedule in schedules
    }
    return render(
        request,
        "monitoring/digest.html",
        {
            "schedules": [(site, schedule, forms[site.pk]) for site, schedule in schedules],
            "administrator": administrator,
            "team": membership.role in DIGEST_ROLES,
            "subscribed": membership.role in DIGEST_ROLES
            and membership.pk is not None
            and digest_subscribed(membership),
            "can_change": request.study.locked_at is None,
            "deliveries": digest_deliveries_recent(study=request.study) if administrator else [],
        },
        status=status,
    )


@require_safe
@study_role_required(*PAGE_ROLES)
def digest_settings(request: StudyRequest, study: str) -> HttpResponse:
    """The digest page."""
    return _page(request)


@study_role_required(*DIGEST_ROLES)
@require_POST
def subscription(request: StudyRequest, study: str) -> HttpResponse:
    """Turn one's own daily digest on or off."""
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose on or off.")
        return redirect(_page_url(request))
    try:
        digest_subscription_set(
            membership=request.membership,
            subscribed=form.cleaned_data["subscribed"],
            actor=request.user,
        )
    except PermissionDeniedError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "You get the daily digest."
            if form.cleaned_data["subscribed"]
            else "You no longer get the daily digest.",
        )
    return redirect(_page_url(request))


@study_role_required(Role.ADMINISTRATOR)
@require_POST
def schedule(request: StudyRequest, study: str, site: str) -> HttpResponse:
    """Set when one site's digest goes out, in the site's own zone."""
    target = get_object_or_404(Site, study=request.study, code=site)
    form = ScheduleForm(request.POST, prefix=f"site-{target.code}")
    if form.is_valid():
        try:
            digest_schedule_set(
                site=target,
                timezone_name=form.cleaned_data["timezone"],
                send_at=form.cleaned_data["send_at"],
                actor=request.user,
            )
        except InvalidInputError as error:
            form.add_error("timezone", error.message)
        else:
            messages.success(request, f"The digest of {target.name} is set.")
            return redirect(_page_url(request))
    return _page(request, schedule_form=form, form_site=target, status=400)
