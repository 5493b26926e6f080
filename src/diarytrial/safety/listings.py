"""The study-wide listings of the safety app: the adverse events of every participant, and the
side effects reported in the diary that wait for a decision; each a page and a CSV download.

Both are blinded-safe for every role (they read no allocation) and show only the reader's sites
(`sites_visible_to`). The query string is read by a filter form (`safety.forms`); a value it
cannot read answers 400 with what is wrong (`diarytrial.core.listing`). The CSV holds every row
that matches the filters, with the same columns for every role.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from diarytrial.core.listing import csv_download, download_name, listing_page
from diarytrial.participants.pages import CARE_ROLES
from diarytrial.safety.forms import AdverseEventFilterForm, SideEffectFilterForm
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.selectors import (
    EPISODE_GAP_DAYS,
    SideEffectCandidate,
    adverse_event_listing,
    side_effect_candidates,
    side_effect_checklist,
)
from diarytrial.studies.access import ALL_ROLES, StudyRequest, sites_visible_to, study_role_required
from diarytrial.studies.models import Site
from diarytrial.studies.zones import staff_today


def _visible_sites(request: StudyRequest) -> list[Site]:
    return list(sites_visible_to(request.user, request.study).order_by("code"))


def _file_name(request: StudyRequest, what: str) -> str:
    return download_name(
        study_slug=request.study.slug, what=what, day=staff_today(sites=_visible_sites(request))
    )


# --- adverse events -------------------------------------------------------------------------------


def _adverse_events(
    request: StudyRequest,
) -> tuple[AdverseEventFilterForm, QuerySet[AdverseEvent] | None]:
    """The filter form and, when it reads, the matching events (a queryset, not yet run)."""
    visible = _visible_sites(request)
    form = AdverseEventFilterForm(request.GET, sites=visible)
    if not form.is_valid():
        return form, None
    rows = adverse_event_listing(
        study=request.study, sites=form.chosen_sites(visible), **form.filters()
    )
    return form, rows


@require_safe
@study_role_required(*ALL_ROLES)
def adverse_event_list(request: StudyRequest, study: str) -> HttpResponse:
    """Every participant's adverse events (the reader's sites), filtered, a page at a time."""
    form, rows = _adverse_events(request)
    context = {"form": form, "care_roles": CARE_ROLES, "page": None}
    if rows is None:
        return render(request, "safety/adverse_event_list.html", context, status=400)
    page = listing_page(rows, form.cleaned_data["page"])
    return render(request, "safety/adverse_event_list.html", {**context, "page": page})


ADVERSE_EVENT_COLUMNS = (
    "ae_id",
    "participant_id",
    "site",
    "term",
    "side_effect",
    "onset",
    "end",
    "severity",
    "serious",
    "related",
    "action",
    "outcome",
    "unresolved",
)
"""The CSV's columns; ``ae_id`` is the trial dataset's (``AE-`` and the event's number)."""


def _adverse_event_cells(events: Iterable[AdverseEvent]) -> Iterator[tuple[object, ...]]:
    for event in events:
        yield (
            f"AE-{event.pk}",
            event.participant.code,
            event.participant.site.code,
            event.term,
            event.side_effect,
            event.onset_date,
            event.end_date,
            event.severity,
            event.serious,
            event.related,
            event.action,
            event.outcome,
            getattr(event, "unresolved", None),
        )


@require_safe
@study_role_required(*ALL_ROLES)
def adverse_event_csv(request: StudyRequest, study: str) -> HttpResponse:
    """The adverse events that match the filters, every page, as CSV."""
    form, rows = _adverse_events(request)
    if rows is None:
        raise form.refusal()
    return csv_download(
        filename=_file_name(request, "adverse-events"),
        header=ADVERSE_EVENT_COLUMNS,
        rows=_adverse_event_cells(rows),
    )


# --- side effects to confirm ----------------------------------------------------------------------


def _side_effects(
    request: StudyRequest,
) -> tuple[SideEffectFilterForm, list[SideEffectCandidate] | None]:
    """The filter form and, when it reads, the open candidates that match it."""
    visible = _visible_sites(request)
    form = SideEffectFilterForm(
        request.GET, sites=visible, side_effects=side_effect_checklist(study=request.study)
    )
    if not form.is_valid():
        return form, None
    candidates = side_effect_candidates(study=request.study, sites=form.chosen_sites(visible))
    effect = form.cleaned_data["side_effect"]
    return form, [
        candidate
        for candidate in candidates
        if (not effect or candidate.side_effect == effect)
        and (candidate.very or not form.cleaned_data["very"])
    ]


@require_safe
@study_role_required(*CARE_ROLES)
def side_effect_list(request: StudyRequest, study: str) -> HttpResponse:
    """The study's side effects reported in the diary and not decided yet (the reader's sites),
    filtered, a page at a time; "very unpleasant" first."""
    form, candidates = _side_effects(request)
    context = {"form": form, "gap_days": EPISODE_GAP_DAYS, "page": None}
    if candidates is None:
        return render(request, "safety/side_effect_list.html", context, status=400)
    page = listing_page(candidates, form.cleaned_data["page"])
    return render(request, "safety/side_effect_list.html", {**context, "page": page})


SIDE_EFFECT_COLUMNS = (
    "participant_id",
    "site",
    "side_effect",
    "label",
    "first_night",
    "last_night",
    "nights",
    "worst",
    "very_unpleasant",
)


@require_safe
@study_role_required(*CARE_ROLES)
def side_effect_csv(request: StudyRequest, study: str) -> HttpResponse:
    """The side effects to confirm that match the filters, every page, as CSV."""
    form, candidates = _side_effects(request)
    if candidates is None:
        raise form.refusal()
    return csv_download(
        filename=_file_name(request, "side-effects-to-confirm"),
        header=SIDE_EFFECT_COLUMNS,
        rows=(
            (
                c.participant_code,
                c.site_code,
                c.side_effect,
                c.label,
                c.first_reported,
                c.last_reported,
                len(c.reports),
                c.worst,
                c.very,
            )
            for c in candidates
        ),
    )
