"""What every listing page shares: its query read by a form, one page of its rows, and its CSV.

A listing (the participants, the adverse events, the side effects to confirm) reads its filters
and its page number from the query string through a Django form derived from `ListingForm`.
A value that cannot be read (a page that is not a number, an unknown choice, a date that does
not exist, a string longer than its field) makes the form invalid: the page is shown again with
what is wrong next to the field and status 400, and the CSV answers 400 with the same words
(`ListingQueryInvalidError`). A page number past the last page shows the last page.

The CSV download (`csv_download`) holds every row that matches the filters, not one page: UTF-8
with a byte-order mark (so that spreadsheet programs read accents right), one header row, and
every cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) prefixed with an apostrophe (`spreadsheet_safe`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpResponse

from diarytrial.core.errors import ApplicationError

PAGE_SIZE = 50
"""Rows on one page of a listing."""

MAX_PAGE = 1_000_000
"""The highest page number a listing reads; past the last page shows the last page."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, CSV injection)."""

Row = TypeVar("Row")


class ListingQueryInvalidError(ApplicationError):
    """A listing's query string holds a value that cannot be read."""

    code = "listing_query_invalid"
    title = "The filter cannot be used"
    http_status = 400


class ListingForm(forms.Form):
    """The query of a listing: its filters (in subclasses) and the page number."""

    page = forms.IntegerField(
        label="Page",
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={"invalid": "The page must be a whole number, 1 or more."},
    )

    @property
    def filter_fields(self) -> list[forms.BoundField]:
        """The fields a person fills in: every one but the page number."""
        return [field for field in self.visible_fields() if field.name != "page"]

    def problem_lines(self) -> list[str]:
        """Every error of the query, one line each, naming the field and its parameter."""
        lines: list[str] = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else None
            where = f"{label} ({name})" if label else "The filter"
            lines.extend(f"{where}: {error}" for error in errors)
        return lines

    def problems(self) -> str:
        """Every error of the query in one sentence each."""
        return " ".join(self.problem_lines())

    def refusal(self) -> ListingQueryInvalidError:
        """The error a download answers with when the query cannot be read."""
        return ListingQueryInvalidError(
            f"This list cannot be filtered like that. {self.problems()} Change the filter and "
            "try again.",
            extra={"fields": sorted(self.errors)},
        )


def listing_page(rows: Sequence[Row] | QuerySet[Any], number: int | None) -> Page[Any]:
    """Page `number` (1 when None) of `rows`, `PAGE_SIZE` a page; past the end: the last page.

    A queryset is counted once and sliced once (two queries, whatever the number of rows).
    """
    paginator = Paginator(rows, PAGE_SIZE, allow_empty_first_page=True)
    return paginator.page(min(number or 1, paginator.num_pages))


def spreadsheet_safe(value: object) -> str:
    """`value` as a CSV cell a spreadsheet shows as text: a leading apostrophe before a cell
    that starts like a formula. None is an empty cell; True and False are "yes" and "no"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def download_name(*, study_slug: str, what: str, day: dt.date) -> str:
    """``ldn-fibromyalgia-adverse-events-2026-12-07.csv``: the study, the listing, the date."""
    return f"{study_slug}-{what}-{day.isoformat()}.csv"


def csv_download(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    """The rows as a CSV attachment named `filename` (UTF-8 with a byte-order mark)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
