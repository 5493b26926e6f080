"""The study dashboard as JSON (``GET /api/studies/{study}/dashboard``), for the staff.

The first staff endpoint of the API: it is authenticated by the staff session (the same
sign-in as the pages), not by a phone's cookie, and answers the roles the dashboard page
answers, over the sites the reader sees: coordinators (their sites) and investigators. Without
a session it is a 401 ``not_signed_in`` problem; another role gets 403 ``permission_denied``;
a query value outside its schema is a 422 ``validation_error``, a site that is not the
reader's a 422 ``invalid_input``. GET only, so no CSRF token is needed.

The numbers are the page's (`monitoring.selectors.study_dashboard`), blinded.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from ninja import Router, Schema
from ninja.params.functions import Query
from pydantic import Field

from diarytrial.core.errors import InvalidInputError
from diarytrial.core.problems import ProblemOut
from diarytrial.monitoring.forms import MAX_PAGE
from diarytrial.monitoring.selectors import (
    GridQuery,
    StudyDashboard,
    TonightCount,
    study_dashboard,
)
from diarytrial.monitoring.views import DASHBOARD_ROLES
from diarytrial.participants.models import ParticipantStatus
from diarytrial.protocol.compliance import NightStatus
from diarytrial.studies.access import StudyRequest, sites_visible_to, study_role_required
from diarytrial.studies.models import Site

router = Router(tags=["staff"])

SortKey = Literal[
    "code", "-code", "site", "-site", "status", "-status", "last_entry", "-last_entry",
    "run", "-run", "missed", "-missed", "filled", "-filled",
]  # fmt: skip
StatusValue = Literal["enrolled", "randomized", "active", "completed", "withdrawn", "screened"]


class TonightOut(Schema):
    site: str | None = Field(description="The site's code; null for the total of all of them.")
    expected: int = Field(description="Participants whose diary includes tonight.")
    received: int = Field(description="Of those, entries for tonight received.")
    window_open: int = Field(description="Of those, windows open now in their own time zone.")


class GridRowOut(Schema):
    participant: str
    site: str
    status: str
    tonight: dt.date = Field(description="The participant's tonight, in their own time zone.")
    window_open: bool
    expected_tonight: bool
    last_entry: dt.date | None
    missed_in_a_row: int
    filled: int
    late: int
    missed: int
    nights: list[NightStatus] = Field(description="One status per night of `grid.nights`.")


class GridOut(Schema):
    nights: list[dt.date]
    page: int
    pages: int
    per_page: int
    total: int
    rows: list[GridRowOut]


class MissedRunOut(Schema):
    participant: str
    site: str
    missed_in_a_row: int
    since: dt.date
    phone: Literal["none", "revoked", "active"]
    phone_at: dt.datetime | None = Field(
        description="When the phone was revoked, or last seen (null: not seen since set up)."
    )
    phone_words: str


class WeekOut(Schema):
    week_start: dt.date
    expected: int
    filled: int
    percent: int | None = Field(description="Whole percent of the nights due; null: none due.")


class SiteEnrolmentOut(Schema):
    site: str
    screened: int
    enrolled: int
    completed: int
    withdrawn: int


class EnrolmentOut(Schema):
    target: int | None = Field(description="The protocol's target; null when it sets none.")
    enrolled: int
    all_sites: bool = Field(description="The numbers cover every site of the study.")
    by_site: list[SiteEnrolmentOut]


class PendingOut(Schema):
    key: str
    label: str
    count: int
    what_to_do: str
    blocks_lock: bool


class DashboardOut(Schema):
    study: str
    generated_at: dt.datetime
    sites: list[str]
    tonight: TonightOut
    tonight_by_site: list[TonightOut]
    grid: GridOut
    missed_in_a_row: list[MissedRunOut] = Field(
        description="The 50 longest runs of 2 or more missed nights in a row, longest first."
    )
    missed_in_a_row_total: int = Field(description="Participants with such a run, in all.")
    weeks: list[WeekOut]
    enrolment: EnrolmentOut
    pending: list[PendingOut]


def _tonight(line: TonightCount) -> TonightOut:
    return TonightOut(
        site=line.site.code if line.site else None,
        expected=line.expected,
        received=line.received,
        window_open=line.window_open,
    )


def dashboard_out(dashboard: StudyDashboard) -> DashboardOut:
    """The dashboard in the shape of the JSON document."""
    return DashboardOut(
        study=dashboard.study.slug,
        generated_at=dashboard.now,
        sites=[site.code for site in dashboard.sites],
        tonight=_tonight(dashboard.tonight),
        tonight_by_site=[_tonight(line) for line in dashboard.tonight_by_site],
        grid=GridOut(
            nights=list(dashboard.grid.nights),
            page=dashboard.grid.page,
            pages=dashboard.grid.pages,
            per_page=dashboard.grid.per_page,
            total=dashboard.grid.total,
            rows=[
                GridRowOut(
                    participant=row.position.code,
                    site=row.position.site_code,
                    status=row.position.status.value,
                    tonight=row.position.night.tonight,
                    window_open=row.position.night.window_open,
                    expected_tonight=row.position.in_diary_tonight,
                    last_entry=row.position.last_entry,
                    missed_in_a_row=row.position.missed_run,
                    filled=row.position.grid_filled,
                    late=row.position.grid_late,
                    missed=row.position.grid_missed,
                    nights=list(row.nights),
                )
                for row in dashboard.grid.rows
            ],
        ),
        missed_in_a_row=[
            MissedRunOut(
                participant=run.position.code,
                site=run.position.site_code,
                missed_in_a_row=run.run,
                since=run.since,
                phone=run.phone.kind,
                phone_at=run.phone.when,
                phone_words=run.phone.words,
            )
            for run in dashboard.missed_runs
        ],
        missed_in_a_row_total=dashboard.missed_runs_total,
        weeks=[
            WeekOut(week_start=w.start, expected=w.expected, filled=w.filled, percent=w.percent)
            for w in dashboard.weeks
        ],
        enrolment=EnrolmentOut(
            target=dashboard.enrolment.target,
            enrolled=dashboard.enrolment.enrolled,
            all_sites=dashboard.enrolment.all_sites,
            by_site=[
                SiteEnrolmentOut(
                    site=line.site.code,
                    screened=line.screened,
                    enrolled=line.enrolled,
                    completed=line.completed,
                    withdrawn=line.withdrawn,
                )
                for line in dashboard.enrolment.by_site
            ],
        ),
        pending=[
            PendingOut(
                key=item.key,
                label=item.label,
                count=item.count,
                what_to_do=item.what_to_do,
                blocks_lock=item.blocks_lock,
            )
            for item in dashboard.pending
        ],
    )


@study_role_required(*DASHBOARD_ROLES)
def _dashboard_json(request: StudyRequest, *, study: str, query: GridQuery) -> HttpResponseBase:
    sites = list(sites_visible_to(request.user, request.study))
    if query.site is not None and query.site not in {site.code for site in sites}:
        raise InvalidInputError(
            f"{query.site!r} is not one of your sites in this study; leave `site` out for all "
            f"of them, or use one of: {', '.join(site.code for site in sites) or 'none'}.",
            extra={"site": query.site},
        )
    dashboard = study_dashboard(
        study=request.study,
        sites=sites,
        query=query,
        all_sites=len(sites) == Site.objects.filter(study=request.study).count(),
    )
    return JsonResponse(dashboard_out(dashboard).model_dump(mode="json"))


_STATUS = Query(None, description="Only participants of this status.")
_SORT = Query("code", description="Sort of the grid's rows; `-` descending.")


@router.get(
    "/studies/{study}/dashboard",
    response={200: DashboardOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut},
    url_name="study_dashboard",
    summary="The study dashboard's numbers (staff)",
)
def study_dashboard_get(
    request: HttpRequest,
    study: str,
    site: str | None = Query(None, max_length=40, description="Only this site's rows."),
    status: StatusValue | None = _STATUS,
    sort: SortKey = _SORT,
    page: int = Query(1, ge=1, le=MAX_PAGE, description="Page of the grid (100 rows a page)."),
) -> HttpResponseBase:
    """Tonight, the grid of the last 28 nights (one page), the runs of missed nights, compliance
    by week, enrolment and pending work, for a coordinator's sites or an investigator's study."""
    query = GridQuery(
        site=site or None,
        status=ParticipantStatus(status) if status else None,
        sort=sort,
        page=page,
    )
    return _dashboard_json(request, study=study, query=query)
