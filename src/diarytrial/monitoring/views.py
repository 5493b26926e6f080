"""The study dashboard page: for coordinators and investigators, over the sites they see.

A query string the form does not accept (an unknown site or sort, a page that is no number)
is answered 400, with the dashboard in its default order and the reason above it.
"""

from __future__ import annotations

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_safe

from diarytrial.monitoring.chart import week_chart
from diarytrial.monitoring.forms import DashboardQueryForm
from diarytrial.monitoring.selectors import (
    MISSED_RUN_FLAG,
    NIGHT_LETTERS,
    SORT_KEYS,
    GridQuery,
    study_dashboard,
)
from diarytrial.studies.access import StudyRequest, sites_visible_to, study_role_required
from diarytrial.studies.models import Role, Site
from diarytrial.studies.zones import staff_zone

DASHBOARD_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)
"""Who opens the study dashboard (others get 403, see the route matrix)."""


def _sort_headers(query: GridQuery, params: QueryDict) -> dict[str, dict[str, str]]:
    """For each sortable column: the link that sorts by it (again: the other way) and its
    ``aria-sort`` value ('' when the grid is not sorted by it)."""
    headers = {}
    for key in SORT_KEYS:
        ascending, descending = query.sort == key, query.sort == f"-{key}"
        changed = params.copy()
        changed["sort"] = f"-{key}" if ascending else key
        changed.pop("page", None)
        headers[key] = {
            "href": f"?{changed.urlencode()}",
            "aria_sort": "ascending" if ascending else "descending" if descending else "",
        }
    return headers


def _page_href(params: QueryDict, page: int) -> str:
    changed = params.copy()
    changed["page"] = str(page)
    return f"?{changed.urlencode()}"


@require_safe
@study_role_required(*DASHBOARD_ROLES)
def study_dashboard_page(request: StudyRequest, study: str) -> HttpResponse:
    """Tonight, the last 28 nights, who missed nights in a row, compliance by week,
    enrolment and pending work, for the reader's sites; all of it blinded."""
    sites = list(sites_visible_to(request.user, request.study))
    form = DashboardQueryForm(request.GET or None, sites=sites)
    valid = form.is_valid() if form.is_bound else True
    query = form.grid_query() if valid else GridQuery()
    params = request.GET.copy() if valid else QueryDict(mutable=True)
    dashboard = study_dashboard(
        study=request.study,
        sites=sites,
        query=query,
        all_sites=len(sites) == Site.objects.filter(study=request.study).count(),
    )
    grid = dashboard.grid
    legend = {letter: words for letter, words in NIGHT_LETTERS.values()}
    legend["N"] = "not in the diary (before the start, or after the last diary day)"
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "dashboard": dashboard,
            "page_zone": staff_zone(sites=sites),
            "form": form,
            "invalid": not valid,
            "chart": week_chart(dashboard.weeks),
            "sort_headers": _sort_headers(query, params),
            "legend": legend,
            "missed_run_flag": MISSED_RUN_FLAG,
            "previous_href": _page_href(params, grid.page - 1) if grid.page > 1 else "",
            "next_href": _page_href(params, grid.page + 1) if grid.page < grid.pages else "",
        },
        status=200 if valid else 400,
    )
