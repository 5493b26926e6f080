"""The audit trail's pages: the study's, a participant's, a user's and a record's (one template,
a filter fixed by the address), their CSV and PDF, and the verification of the chain.

Thin: the reader's scope and rows come from `staff.audit.trail`, the words from
``audit.wording``, the check of the chain from ``audit.selectors.audit_verify``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from diarytrial.audit.selectors import audit_verify
from diarytrial.audit.wording import record_noun
from diarytrial.core.errors import ApplicationError, ServiceUnavailableError
from diarytrial.core.listing import csv_download, listing_page
from diarytrial.participants.pages import participant_of_reader
from diarytrial.report.pdf import PdfError, print_pdf
from diarytrial.staff.audit.forms import TrailFilterForm
from diarytrial.staff.audit.trail import (
    CSV_HEADER,
    PRINT_LIMIT,
    TRAIL_ROLES,
    TrailScope,
    csv_rows,
    trail_events,
    trail_scope,
    worded,
)
from diarytrial.studies.access import StudyRequest, study_role_required


def _query(request: StudyRequest, fixed: dict[str, str]) -> QueryDict:
    """The query string with the address's fixed filter over it."""
    query = request.GET.copy()
    for name, value in fixed.items():
        query[name] = value
    return query


def _trail(
    request: StudyRequest, *, title: str, fixed: dict[str, str], scope: TrailScope
) -> HttpResponse:
    form = TrailFilterForm(_query(request, fixed))
    context: dict[str, Any] = {
        "form": form,
        "title": title,
        "fixed": fixed,
        "scope": scope,
        "page_zone": scope.zone,
        "page": None,
        "rows": [],
        "downloads": _downloads(request, fixed),
    }
    if not form.is_valid():
        return render(request, "staff/audit/trail.html", context, status=400)
    page = listing_page(trail_events(request, scope, form), form.cleaned_data["page"])
    context.update(page=page, rows=worded(page.object_list, scope))
    return render(request, "staff/audit/trail.html", context)


def _downloads(request: StudyRequest, fixed: dict[str, str]) -> str:
    """The query string the CSV and PDF links carry: the filters and the fixed one, no page."""
    query = _query(request, fixed)
    query.pop("page", None)
    return query.urlencode()


@require_safe
@study_role_required(*TRAIL_ROLES)
def study_trail(request: StudyRequest, study: str) -> HttpResponse:
    """The study's audit trail (a coordinator's: their sites' participants), newest first."""
    return _trail(request, title="Audit trail", fixed={}, scope=trail_scope(request))


@require_safe
@study_role_required(*TRAIL_ROLES)
def participant_trail(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Everything that concerns one participant: their phone's doing and every staff action."""
    found = participant_of_reader(request, participant)
    return _trail(
        request,
        title=f"Audit trail of participant {found.code}",
        fixed={"participant": found.code},
        scope=trail_scope(request, site=found.site),
    )


@require_safe
@study_role_required(*TRAIL_ROLES)
def user_trail(request: StudyRequest, study: str, username: str) -> HttpResponse:
    """What one user (or one participant's phone, by its code) did in the study."""
    return _trail(
        request,
        title=f"Audit trail of {username}",
        fixed={"who": username},
        scope=trail_scope(request),
    )


@require_safe
@study_role_required(*TRAIL_ROLES)
def record_trail(
    request: StudyRequest, study: str, object_type: str, object_id: str
) -> HttpResponse:
    """The history of one record."""
    return _trail(
        request,
        title=f"Audit trail of {record_noun(object_type)} {object_id}",
        fixed={"record": object_type, "object_id": object_id},
        scope=trail_scope(request),
    )


def _matching(request: StudyRequest) -> tuple[TrailScope, list[Any]]:
    """Every event the download's filters select, in words; a filter that cannot be read is
    refused with what is wrong (400)."""
    scope = trail_scope(request)
    form = TrailFilterForm(request.GET)
    if not form.is_valid():
        raise form.refusal()
    events = trail_events(request, scope, form)
    return scope, worded(events.iterator(chunk_size=1000), scope)


def _file_name(request: StudyRequest, extension: str) -> str:
    return f"{request.study.slug}-audit-trail-{timezone.now():%Y-%m-%d}.{extension}"


@require_safe
@study_role_required(*TRAIL_ROLES)
def trail_csv(request: StudyRequest, study: str) -> HttpResponse:
    """Every event the filters select, as CSV: as the page words it, with the stored codes."""
    scope, rows = _matching(request)
    return csv_download(
        filename=_file_name(request, "csv"), header=CSV_HEADER, rows=csv_rows(rows, scope)
    )


def trail_print_html(request: StudyRequest) -> str:
    """The document the PDF is printed from: the events the filters select, in words."""
    scope, rows = _matching(request)
    if len(rows) > PRINT_LIMIT:
        raise TrailTooLongError(
            f"The filter selects {len(rows)} events; a PDF holds at most {PRINT_LIMIT}. Narrow "
            "the filter (dates, participant) or download the CSV, which holds every event.",
            extra={"events": len(rows)},
        )
    return render_to_string(
        "staff/audit/print.html",
        {
            "rows": rows,
            "scope": scope,
            "page_zone": scope.zone,
            "study": request.study,
            "reader": request.user.get_username(),
            "filters": _filter_words(request.GET),
            "printed_at": timezone.now(),
        },
    )


class TrailTooLongError(ApplicationError):
    """More events than a PDF holds."""

    code = "audit_trail_too_long"
    title = "Too many events for one PDF"
    http_status = 413


def _filter_words(query: QueryDict) -> list[str]:
    labels = {name: field.label for name, field in TrailFilterForm.base_fields.items()}
    return [
        f"{labels.get(name) or name}: {value}"
        for name, value in query.items()
        if value and name in labels and name != "page"
    ]


@require_safe
@study_role_required(*TRAIL_ROLES)
def trail_pdf(request: StudyRequest, study: str) -> HttpResponse:
    """Every event the filters select, as a PDF printed by headless Chromium."""
    html = trail_print_html(request)
    with tempfile.TemporaryDirectory(prefix="diarytrial-audit-") as folder:
        source = Path(folder) / "trail.html"
        source.write_text(html, encoding="utf-8")
        try:
            pdf = print_pdf(source, Path(folder) / "trail.pdf").read_bytes()
        except PdfError as error:
            raise ServiceUnavailableError(
                f"The PDF could not be made ({error}). Download the CSV instead, or try again "
                "later.",
            ) from None
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(request, "pdf")}"'
    response["Cache-Control"] = "no-store"
    return response


@require_safe
@study_role_required(*TRAIL_ROLES)
def trail_verify(request: StudyRequest, study: str) -> HttpResponse:
    """Check the whole chain as ``diarytrial audit verify`` does, and say what it found."""
    check = audit_verify()
    return render(
        request,
        "staff/audit/verify.html",
        {
            "check": check,
            "checked_at": timezone.now(),
            "page_zone": trail_scope(request).zone,
            "back": reverse("audit:trail", kwargs={"study": request.study.slug}),
        },
    )
