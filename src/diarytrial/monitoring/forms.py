"""The study dashboard's query string: which rows of the night grid to show."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms

from diarytrial.monitoring.selectors import SORT_CHOICES, SORT_KEYS, GridQuery
from diarytrial.participants.models import ParticipantStatus
from diarytrial.studies.models import Site

MAX_PAGE = 100_000


def _sort_label(value: str) -> str:
    label = SORT_KEYS[value.removeprefix("-")][0]
    return f"{label}, descending" if value.startswith("-") else label


class DashboardQueryForm(forms.Form):
    """``?site=stanford&status=active&sort=-missed&page=2``; every field may be left out."""

    site = forms.ChoiceField(label="Site", required=False)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *ParticipantStatus.choices],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(value, _sort_label(value)) for value in SORT_CHOICES],
    )
    page = forms.IntegerField(
        label="Page",
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args: Any, sites: Sequence[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["site"])
        field.choices = [("", "All your sites"), *((site.code, site.code) for site in sites)]

    def grid_query(self) -> GridQuery:
        """The valid query (call after `is_valid`); the default one for a form without data."""
        if not self.is_bound:
            return GridQuery()
        data = self.cleaned_data
        return GridQuery(
            site=data["site"] or None,
            status=ParticipantStatus(data["status"]) if data["status"] else None,
            sort=data["sort"] or "code",
            page=data["page"] or 1,
        )
