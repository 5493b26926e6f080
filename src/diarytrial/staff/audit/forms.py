"""The audit trail's filters, read from the query string (``core.listing.ListingForm``)."""

from __future__ import annotations

from typing import Any

from django import forms

from diarytrial.audit.models import AuditAction
from diarytrial.audit.wording import record_noun, registered_record_types
from diarytrial.core.listing import ListingForm
from diarytrial.participants.forms import DateInput


def _record_choices() -> list[tuple[str, str]]:
    types = sorted(registered_record_types(), key=record_noun)
    return [("", "Any record"), *((t, record_noun(t).capitalize()) for t in types)]


class TrailFilterForm(ListingForm):
    """Who, what, when and which participant; each optional, together they all apply."""

    field_order = ("who", "action", "record", "participant", "since", "until")

    who = forms.CharField(
        label="Who",
        required=False,
        max_length=150,
        help_text="A username, or a participant's code for what their phone did.",
    )
    action = forms.ChoiceField(
        label="What was done",
        required=False,
        choices=[("", "Anything"), *((a.value, a.label) for a in AuditAction)],
    )
    record = forms.ChoiceField(label="Record", required=False)
    participant = forms.CharField(
        label="Participant",
        required=False,
        max_length=12,
        help_text="A participant's code, e.g. P-7Q3M: everything that concerns them.",
    )
    since = forms.DateField(label="From", required=False, widget=DateInput())
    until = forms.DateField(label="Up to", required=False, widget=DateInput())
    object_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record"].choices = _record_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("who", "participant", "object_id"):
            cleaned[name] = (cleaned.get(name) or "").strip()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "This date is before the first date.")
        return cleaned
