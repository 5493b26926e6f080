"""The forms of the data query pages: the list's filter, raising a query, and a message of its
thread (answer, close, re-open). The services check the text again (empty, too long)."""

from __future__ import annotations

from typing import Any

from django import forms

from diarytrial.queries.models import TEXT_MAX_LENGTH, ParticipantField, QueryStatus
from diarytrial.studies.models import Site

PAGE_MAX = 100_000


def _text_field(label: str, help_text: str, required: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
        error_messages={
            "required": required,
            "max_length": f"A message has at most {TEXT_MAX_LENGTH} characters; shorten it.",
        },
    )


class QueryFilterForm(forms.Form):
    """The study list's filters: status, site, participant code; and the page number."""

    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Not closed"), ("all", "All"), *QueryStatus.choices],
    )
    site = forms.ChoiceField(label="Site", required=False)
    participant = forms.CharField(
        label="Participant code",
        required=False,
        max_length=40,
        error_messages={"max_length": "A participant code has at most 40 characters."},
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=PAGE_MAX,
        widget=forms.HiddenInput,
        error_messages={"invalid": "The page is a whole number from 1."},
    )

    def __init__(self, *args: Any, sites: list[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = {site.code: site for site in sites}
        field = self.fields["site"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "All your sites"), *((s.code, s.name) for s in sites)]

    def selected_site(self) -> Site | None:
        code = self.cleaned_data.get("site") or ""
        return self.sites.get(code)


class QueryRaiseForm(forms.Form):
    """The question of a new query; for a participant's record, the part it is about."""

    participant_field = forms.ChoiceField(
        label="About",
        choices=ParticipantField.choices,
        error_messages={"required": "Say which part of the record the query is about."},
    )
    text = _text_field(
        "Question",
        "What looks wrong and what you ask the site to check, e.g. pain 80 on a night the "
        "participant called it a good night.",
        "Write the question.",
    )

    def __init__(self, *args: Any, about_participant: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not about_participant:
            del self.fields["participant_field"]


class QueryMessageForm(forms.Form):
    """One message of a thread: an answer, a closing note or why it is re-opened."""

    def __init__(self, *args: Any, label: str, help_text: str, required: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["text"] = _text_field(label, help_text, required)


def answer_form(data: Any = None) -> QueryMessageForm:
    return QueryMessageForm(
        data,
        prefix="answer",
        label="Answer",
        help_text="What the site found, and what was corrected (or why the record is right).",
        required="Write the answer.",
    )


def close_form(data: Any = None) -> QueryMessageForm:
    return QueryMessageForm(
        data,
        prefix="close",
        label="Closing note",
        help_text="Why the query is resolved, e.g. confirmed with the source document.",
        required="Write why the query is closed.",
    )


def reopen_form(data: Any = None) -> QueryMessageForm:
    return QueryMessageForm(
        data,
        prefix="reopen",
        label="What is still needed",
        help_text="Why the answer does not resolve the query.",
        required="Write why the query is re-opened.",
    )
