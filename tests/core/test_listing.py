"""What the listings share: the query form's page number, a page of rows, the CSV download."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django import forms

from diarytrial.core.listing import (
    PAGE_SIZE,
    ListingForm,
    ListingQueryInvalidError,
    csv_download,
    download_name,
    listing_page,
    spreadsheet_safe,
)


class NameForm(ListingForm):
    name = forms.CharField(label="Name", required=False, max_length=5)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Headache", "Headache"),
        ("P-7Q3M", "P-7Q3M"),
        (" =not first", " =not first"),
        (None, ""),
        (True, "yes"),
        (False, "no"),
        (42, "42"),
        (dt.date(2026, 12, 7), "2026-12-07"),
    ],
)
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(value: object, cell: str) -> None:
    assert spreadsheet_safe(value) == cell


def test_the_csv_is_utf8_with_a_bom_a_header_and_safe_cells() -> None:
    response = csv_download(
        filename=download_name(study_slug="ldn", what="adverse-events", day=dt.date(2026, 12, 7)),
        header=("term", "onset"),
        rows=[("Céphalée", dt.date(2026, 1, 2)), ("=1+1", None)],
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="ldn-adverse-events-2026-12-07.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["term", "onset"], ["Céphalée", "2026-01-02"], ["'=1+1", ""]]


def test_a_page_past_the_end_is_the_last_page_and_an_empty_list_has_one_page() -> None:
    rows = list(range(PAGE_SIZE * 2 + 3))

    assert list(listing_page(rows, None)) == rows[:PAGE_SIZE]
    assert list(listing_page(rows, 2)) == rows[PAGE_SIZE : PAGE_SIZE * 2]
    assert list(listing_page(rows, 99999)) == rows[PAGE_SIZE * 2 :]
    assert listing_page([], 5).number == 1


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"page": "abc"}, "Page (page): The page must be a whole number, 1 or more."),
        ({"page": "0"}, "Page (page): Ensure this value is greater than or equal to 1."),
        ({"page": "1e9"}, "Page (page): The page must be a whole number, 1 or more."),
        ({"page": "99999999"}, "Page (page): Ensure this value is less than or equal to"),
        ({"name": "x" * 10_000}, "Name (name): Ensure this value has at most 5 characters"),
        ({"name": "a\x00b"}, "Name (name): Null characters are not allowed."),
    ],
)
def test_a_query_that_cannot_be_read_names_the_field_and_what_is_wrong(
    query: dict[str, str], problem: str
) -> None:
    form = NameForm(query)

    assert not form.is_valid()
    assert problem in form.problems()
    refusal = form.refusal()
    assert isinstance(refusal, ListingQueryInvalidError)
    assert refusal.http_status == 400
    assert problem in refusal.message


def test_the_filter_fields_leave_out_the_page() -> None:
    assert [field.name for field in NameForm({}).filter_fields] == ["name"]
