"""The shape of what the safety pages accept: an adverse event, its change or removal, a dose
level change, and the filters of the study's listings (adverse events, side effects to
confirm). The services check the trial's rules; a form says next to a field what a person can
fix on the spot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django import forms

from diarytrial.core.listing import ListingForm
from diarytrial.participants.forms import YES_NO, DateInput
from diarytrial.protocol.schema import SideEffect
from diarytrial.safety.models import ActionTaken, AdverseEvent, Outcome, Relatedness, Severity
from diarytrial.signatures.forms import SignatureForm
from diarytrial.studies.models import Site

OTHER = "other"
"""The choice of the side-effect list that means "another event, with its own term"."""


def _not_after(form: forms.Form, name: str, today: dt.date, what: str) -> None:
    day = form.cleaned_data.get(name)
    if day is not None and day > today:
        form.add_error(
            name,
            f"{what} {day.isoformat()} is in the future (today is {today.isoformat()} in the "
            f"participant's time zone).",
        )


class AdverseEventForm(forms.Form):
    """An adverse event: the protocol's side-effect list first, then a free term."""

    side_effect = forms.ChoiceField(
        label="Event",
        widget=forms.RadioSelect,
        help_text="A side effect of the protocol's list, or another event.",
        error_messages={"required": "Choose the side effect, or another event."},
    )
    term = forms.CharField(
        label="Term",
        max_length=200,
        required=False,
        help_text="The event in a few words, e.g. Sprained ankle. For a side effect of the list "
        "you may leave it empty.",
    )
    onset_date = forms.DateField(label="Onset date", widget=DateInput())
    end_date = forms.DateField(
        label="End date", widget=DateInput(), required=False, help_text="Empty while ongoing."
    )
    severity = forms.ChoiceField(
        label="Severity", choices=Severity.choices, widget=forms.RadioSelect
    )
    serious = forms.ChoiceField(
        label="Serious adverse event?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text="Death, life-threatening, hospital stay, disability or another important "
        "medical event. A serious event e-mails the investigators at once.",
    )
    related = forms.ChoiceField(
        label="Related to the study medication",
        choices=[("", "Choose"), *Relatedness.choices],
    )
    action = forms.ChoiceField(
        label="Action taken with the study medication",
        choices=[("", "Choose"), *ActionTaken.choices],
    )
    outcome = forms.ChoiceField(label="Outcome", choices=[("", "Choose"), *Outcome.choices])

    def __init__(
        self, *args: Any, side_effects: Iterable[SideEffect], today: dt.date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        choices = [(effect.id, effect.label) for effect in side_effects]
        choices.append((OTHER, "Another event (write its term)"))
        cast(forms.ChoiceField, self.fields["side_effect"]).choices = choices

    @classmethod
    def initial_of(cls, event: AdverseEvent) -> dict[str, object]:
        """The form's values for an event as it is recorded."""
        return {
            "side_effect": event.side_effect or OTHER,
            "term": event.term,
            "onset_date": event.onset_date,
            "end_date": event.end_date,
            "severity": event.severity,
            "serious": "yes" if event.serious else "no",
            "related": event.related,
            "action": event.action,
            "outcome": event.outcome,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("side_effect") == OTHER and not cleaned.get("term", "").strip():
            self.add_error("term", "Write the event's term, e.g. Sprained ankle.")
        _not_after(self, "onset_date", self.today, "The onset date")
        _not_after(self, "end_date", self.today, "The end date")
        onset, end = cleaned.get("onset_date"), cleaned.get("end_date")
        if onset and end and end < onset:
            self.add_error("end_date", "The end date is before the onset date.")
        return cleaned

    def values(self) -> dict[str, Any]:
        """The event's fields as the safety services take them."""
        data = self.cleaned_data
        side_effect = "" if data["side_effect"] == OTHER else data["side_effect"]
        return {
            "side_effect": side_effect,
            "term": data["term"].strip(),
            "onset_date": data["onset_date"],
            "end_date": data["end_date"],
            "severity": data["severity"],
            "serious": data["serious"] == "yes",
            "related": data["related"],
            "action": data["action"],
            "outcome": data["outcome"],
        }

    def event_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "reason"]


class AdverseEventChangeForm(AdverseEventForm):
    """A change to a recorded event: the same fields, and why."""

    reason = forms.CharField(
        label="Reason for the change",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail with the old and new values.",
        error_messages={"required": "Say why the event changes."},
    )


class ReasonForm(forms.Form):
    """A reason, and nothing else (removing an event recorded in error)."""

    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail.",
        error_messages={"required": "Say why."},
    )


class DoseChangeForm(forms.Form):
    """A blinded dose level change: the new level, from when, and why."""

    level = forms.ChoiceField(
        label="New dose level",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the new dose level."},
    )
    effective_on = forms.DateField(
        label="From", widget=DateInput(), help_text="The first diary date at the new level."
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. Vivid dreams rated very unpleasant. Kept in the audit trail.",
        error_messages={"required": "Say why the dose level changes."},
    )

    def __init__(
        self, *args: Any, levels: Sequence[str], current: str, today: dt.date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        position = {level: index for index, level in enumerate(levels)}
        here = position.get(current, -1)

        def label(level: str) -> str:
            if here < 0:
                return level
            return f"{level} ({'lower' if position[level] < here else 'higher'})"

        cast(forms.ChoiceField, self.fields["level"]).choices = [
            (level, label(level)) for level in levels if level != current
        ]
        self.fields["effective_on"].initial = today

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _not_after(self, "effective_on", self.today, "The date")
        return cleaned


class CandidateConfirmForm(AdverseEventForm):
    """A diary side effect confirmed as an adverse event: the side effect and the onset (its
    first night) are the diary's; the rest as for any event, and optional notes."""

    notes = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional, e.g. what the participant said on the phone. Kept in the audit trail.",
    )

    def __init__(self, *args: Any, onset: dt.date, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, side_effects=(), today=today, **kwargs)
        self.onset = onset
        del self.fields["side_effect"]
        del self.fields["onset_date"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        end = cleaned.get("end_date")
        if end is not None and end < self.onset:
            self.add_error(
                "end_date",
                f"The end date is before the first night it was reported "
                f"({self.onset.isoformat()}).",
            )
        return cleaned

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "term": data["term"].strip(),
            "end_date": data["end_date"],
            "severity": data["severity"],
            "serious": data["serious"] == "yes",
            "related": data["related"],
            "action": data["action"],
            "outcome": data["outcome"],
            "notes": data["notes"],
        }

    def event_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "notes"]


class DismissForm(forms.Form):
    """Why a diary side effect is not an adverse event."""

    reason = forms.CharField(
        label="Why it is not an adverse event",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. Known, mild, not an adverse event. Kept in the audit trail.",
        error_messages={"required": "Say why it is not an adverse event."},
    )


# --- the study-wide listings ---------------------------------------------------------------------


def _site_choices(sites: Iterable[Site]) -> list[tuple[str, str]]:
    return [("", "Every site"), *((site.code, f"{site.code}: {site.name}") for site in sites)]


class AdverseEventFilterForm(ListingForm):
    """The filters of the study's adverse events (each optional; together they all apply)."""

    field_order = ("term", "site", "onset_from", "onset_to", "serious", "unresolved")

    serious = forms.BooleanField(label="Serious only", required=False)
    unresolved = forms.BooleanField(
        label="Unresolved only",
        required=False,
        help_text="No end date yet, or an outcome other than recovered.",
    )
    term = forms.CharField(
        label="Term contains",
        required=False,
        max_length=100,
        help_text="A part of the reported term, e.g. head.",
    )
    site = forms.ChoiceField(label="Site", required=False)
    onset_from = forms.DateField(label="Onset from", required=False, widget=DateInput)
    onset_to = forms.DateField(label="Onset up to", required=False, widget=DateInput)

    def __init__(self, *args: Any, sites: Sequence[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = {site.code: site for site in sites}
        cast(forms.ChoiceField, self.fields["site"]).choices = _site_choices(sites)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = cleaned.get("onset_from"), cleaned.get("onset_to")
        if first is not None and last is not None and first > last:
            self.add_error(
                "onset_to",
                f"The last onset date ({last.isoformat()}) is before the first "
                f"({first.isoformat()}).",
            )
        return cleaned

    def chosen_sites(self, visible: Sequence[Site]) -> Sequence[Site]:
        """The site chosen, or every site the reader sees."""
        code = self.cleaned_data.get("site") or ""
        return [self.sites[code]] if code else visible

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of `adverse_event_listing`, but the study and sites."""
        data = self.cleaned_data
        return {
            "serious_only": data["serious"],
            "unresolved_only": data["unresolved"],
            "term": data["term"].strip(),
            "onset_from": data["onset_from"],
            "onset_to": data["onset_to"],
        }


class SideEffectFilterForm(ListingForm):
    """The filters of the side effects to confirm."""

    site = forms.ChoiceField(label="Site", required=False)
    side_effect = forms.ChoiceField(label="Side effect", required=False)
    very = forms.BooleanField(label="Very unpleasant only", required=False)

    def __init__(
        self, *args: Any, sites: Sequence[Site], side_effects: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sites = {site.code: site for site in sites}
        cast(forms.ChoiceField, self.fields["site"]).choices = _site_choices(sites)
        cast(forms.ChoiceField, self.fields["side_effect"]).choices = [
            ("", "Every side effect"),
            *side_effects.items(),
        ]

    def chosen_sites(self, visible: Sequence[Site]) -> Sequence[Site]:
        """The site chosen, or every site the reader sees."""
        code = self.cleaned_data.get("site") or ""
        return [self.sites[code]] if code else visible


class AdverseEventSignForm(SignatureForm):
    """An investigator's sign-off of an adverse event: the signature's fields only."""
