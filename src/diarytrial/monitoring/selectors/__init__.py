"""Reads of the study dashboard, blinded: nothing here reads an arm, a sequence or a period.

- `positions`: where each participant's diary stands now (span, tonight, last entry);
- `grid`: the grid of the last 28 nights (filter, sort, page; each night's status);
- `summaries`: tonight by site, runs of missed nights, compliance by week, enrolment.

`study_dashboard` gathers them for the sites a reader sees, in a fixed number of queries
however many participants there are (tests/monitoring/test_queries.py holds it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from diarytrial.monitoring.selectors.grid import (
    GRID_NIGHTS,
    NIGHT_LETTERS,
    PAGE_SIZE,
    SORT_CHOICES,
    SORT_KEYS,
    GridQuery,
    GridRow,
    NightGrid,
    night_grid,
)
from diarytrial.monitoring.selectors.positions import (
    DiaryPosition,
    ZoneNight,
    diary_positions,
    zone_nights,
)
from diarytrial.monitoring.selectors.summaries import (
    MISSED_RUN_FLAG,
    MISSED_RUNS_SHOWN,
    WEEKS,
    Enrolment,
    MissedRun,
    PhoneState,
    SiteEnrolment,
    TonightCount,
    WeekCompliance,
    enrolment,
    missed_runs,
    tonight_counts,
    weekly_compliance,
)
from diarytrial.studies.models import ProtocolVersion, Site, Study
from diarytrial.studies.readiness import ReadinessItem, lock_readiness
from diarytrial.studies.selectors import protocol_version_load


def _positions_now(
    *, study: Study, sites: list[Site], versions: list[ProtocolVersion], now: dt.datetime
) -> tuple[list[DiaryPosition], dt.date]:
    """Every position at `sites` at `now`, and the grid's last night: the latest *tonight*
    among the participants' time zones (the diary date whose window is open, or opens next)."""
    nights = zone_nights(study=study, sites=sites, versions=versions, now=now)
    last = max((night.tonight for night in nights.values()), default=now.astimezone(dt.UTC).date())
    first = last - dt.timedelta(days=GRID_NIGHTS - 1)
    return diary_positions(study=study, sites=sites, nights=nights, first=first, last=last), last


def positions_now(*, study: Study, sites: Sequence[Site], now: dt.datetime) -> list[DiaryPosition]:
    """Where each enrolled participant's diary at `sites` stands at `now` (the dashboard's
    positions, also read by the daily digest), by code."""
    versions = list(ProtocolVersion.objects.filter(study=study).order_by("number"))
    return _positions_now(study=study, sites=list(sites), versions=versions, now=now)[0]


@dataclass(frozen=True)
class StudyDashboard:
    """Everything the study dashboard shows, for the sites of one reader."""

    study: Study
    now: dt.datetime
    sites: tuple[Site, ...]
    tonight: TonightCount
    tonight_by_site: tuple[TonightCount, ...]
    grid: NightGrid
    missed_runs: tuple[MissedRun, ...]
    """The longest runs of missed nights (`MISSED_RUNS_SHOWN` at most)."""
    missed_runs_total: int
    """Participants with `MISSED_RUN_FLAG` or more missed nights in a row, in all."""
    weeks: tuple[WeekCompliance, ...]
    enrolment: Enrolment
    pending: tuple[ReadinessItem, ...]


def study_dashboard(
    *,
    study: Study,
    sites: Sequence[Site],
    query: GridQuery | None = None,
    all_sites: bool = True,
    now: dt.datetime | None = None,
) -> StudyDashboard:
    """The dashboard of `study` over `sites` (the reader's, `sites_visible_to`) at `now`.

    The grid's nights end with the latest *tonight* among the participants' time zones (the
    diary date whose window is open, or opens next); `query` picks the grid's rows. Every
    aggregate covers all participants at `sites`, whatever the grid shows.
    """
    moment = now or timezone.now()
    site_list = list(sites)
    versions = list(ProtocolVersion.objects.filter(study=study).order_by("number"))
    positions, last = _positions_now(study=study, sites=site_list, versions=versions, now=moment)
    total, by_site = tonight_counts(positions, site_list)
    runs, runs_total = missed_runs(positions)
    target = (
        protocol_version_load(versions[-1]).protocol.study.target_enrolment if versions else None
    )
    return StudyDashboard(
        study=study,
        now=moment,
        sites=tuple(site_list),
        tonight=total,
        tonight_by_site=by_site,
        grid=night_grid(positions=positions, query=query or GridQuery(), last=last),
        missed_runs=runs,
        missed_runs_total=runs_total,
        weeks=weekly_compliance(sites=site_list, positions=positions, last=last),
        enrolment=enrolment(study=study, sites=site_list, target=target, all_sites=all_sites),
        pending=lock_readiness(study, sites=site_list),
    )


__all__ = [
    "GRID_NIGHTS",
    "MISSED_RUNS_SHOWN",
    "MISSED_RUN_FLAG",
    "NIGHT_LETTERS",
    "PAGE_SIZE",
    "SORT_CHOICES",
    "SORT_KEYS",
    "WEEKS",
    "DiaryPosition",
    "Enrolment",
    "GridQuery",
    "GridRow",
    "MissedRun",
    "NightGrid",
    "PhoneState",
    "SiteEnrolment",
    "StudyDashboard",
    "TonightCount",
    "WeekCompliance",
    "ZoneNight",
    "positions_now",
    "study_dashboard",
]
