"""Staff pages of studies: the list of one's studies and a study's home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from diarytrial.staff.studies.overview import study_listings_for, study_overview
from diarytrial.studies.access import ALL_ROLES, StudyRequest, study_role_required


@require_safe
@login_required
def study_list(request: HttpRequest) -> HttpResponse:
    """The studies the signed-in user has a role in."""
    if not isinstance(request.user, User):
        return redirect_to_login(request.get_full_path())
    listings = study_listings_for(request.user)
    return render(request, "studies/list.html", {"listings": listings})


@require_safe
@study_role_required(*ALL_ROLES)
def study_home(request: StudyRequest, study: str) -> HttpResponse:
    """A study as it is recorded now: protocol versions, sites, members, history."""
    overview = study_overview(study=request.study, user=request.user)
    return render(request, "studies/home.html", {"overview": overview})
