"""The shape of what the participant pages accept. The trial's rules are checked by the services;
a form checks what a person can fix on the spot (a missing answer, a date in the future) and
says so next to the field.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

from django import forms

from diarytrial.core.listing import ListingForm
from diarytrial.participants.models import ParticipantStatus
from diarytrial.protocol.schema import EligibilityQuestion
from diarytrial.signatures.forms import SignatureForm
from diarytrial.studies.models import Site

YES_NO = (("yes", "Yes"), ("no", "No"))
ELIGIBILITY_PREFIX = "eligibility_"


@cache
def _timezone_choices() -> tuple[tuple[str, str], ...]:
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and "Etc/" not in z)
    return (("", "Choose the participant's time zone"), *((z, z.replace("_", " ")) for z in zones))


class DateInput(forms.DateInput):
    """A date picker where the browser has one; the text ``YYYY-MM-DD`` works everywhere."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _not_after(day: dt.date | None, today: dt.date, what: str) -> None:
    if day is not None and day > today:
        raise forms.ValidationError(
            f"{what} {day.isoformat()} is in the future (today is {today.isoformat()} in the "
            f"participant's time zone); record it once it has happened."
        )


class ScreeningForm(forms.Form):
    """Screening: the site, the protocol's eligibility questions, time zone, opioid use, age."""

    site = forms.ChoiceField(label="Site")
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Where the participant lives: their diary days are counted in this zone.",
    )
    opioid_use = forms.ChoiceField(
        label="Does the person take opioids?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text="Opioid users may start at a lower dose level, and are randomized apart.",
    )
    age = forms.IntegerField(
        label="Age in years", required=False, min_value=1, max_value=129, help_text="Optional."
    )

    def __init__(
        self,
        *args: Any,
        sites: Iterable[Site],
        questions: Iterable[EligibilityQuestion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        site_list = list(sites)
        site_field = cast(forms.ChoiceField, self.fields["site"])
        site_field.choices = [(s.code, f"{s.name} ({s.code})") for s in site_list]
        if len(site_list) == 1:
            site_field.initial = site_list[0].code
        cast(forms.ChoiceField, self.fields["timezone"]).choices = _timezone_choices()
        self.questions = list(questions)
        for question in self.questions:
            self.fields[ELIGIBILITY_PREFIX + question.id] = forms.ChoiceField(
                label=question.question,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": "Answer this question: yes or no."},
            )

    def eligibility_fields(self) -> list[forms.BoundField]:
        return [self[ELIGIBILITY_PREFIX + q.id] for q in self.questions]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("site", "timezone", "opioid_use", "age")]

    def answers(self) -> dict[str, bool]:
        """Question id -> the yes/no answer, for ``participant_screen``."""
        return {q.id: self.cleaned_data[ELIGIBILITY_PREFIX + q.id] == "yes" for q in self.questions}


class EnrolmentForm(forms.Form):
    """Enrolment: the consent (form version and date) and the first baseline day."""

    consent_form_version = forms.CharField(
        label="Version of the consent form signed", max_length=50, help_text="e.g. 2.1"
    )
    consented_on = forms.DateField(label="Date of consent", widget=DateInput())
    start_date = forms.DateField(
        label="Start date (first baseline day)",
        widget=DateInput(),
        help_text="Study day 1: the first night the participant fills the diary. Not before "
        "consent.",
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_consented_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["consented_on"]
        _not_after(day, self.today, "The consent date")
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        consented, start = cleaned.get("consented_on"), cleaned.get("start_date")
        if consented and start and start < consented:
            self.add_error(
                "start_date",
                f"The start date {start.isoformat()} is before consent on "
                f"{consented.isoformat()}; the first baseline day must follow consent.",
            )
        return cleaned


class ConfirmForm(forms.Form):
    """A button and nothing else: randomization takes no input."""


class WithdrawalForm(forms.Form):
    """Withdrawal: the date and the reason, which the audit trail keeps."""

    on = forms.DateField(label="Date of withdrawal", widget=DateInput())
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the participant leaves the trial, in plain words. Kept in the audit trail.",
        error_messages={"required": "Say why the participant withdraws."},
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["on"].initial = today

    def clean_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["on"]
        _not_after(day, self.today, "The withdrawal date")
        return day


class CompletionForm(forms.Form):
    """Completion: the date the participant finished the trial."""

    on = forms.DateField(label="Date of completion", widget=DateInput())

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["on"].initial = today

    def clean_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["on"]
        _not_after(day, self.today, "The completion date")
        return day


class EmergencyUnblindingForm(SignatureForm):
    """Emergency unblinding: why, that the person understands what it does, and their
    electronic signature (meaning, password, code)."""

    reason = forms.CharField(
        label="Reason for unblinding",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The medical reason knowing the treatment is needed now. Kept in the audit "
        "trail and sent to the study's investigators.",
        error_messages={"required": "Say why this participant must be unblinded."},
    )
    understood = forms.BooleanField(
        label="I understand that this shows me the participant's treatment, and that it is "
        "recorded and reported to the investigators.",
        error_messages={"required": "Tick the box to confirm that you understand."},
    )

    def text_fields(self) -> list[forms.BoundField]:
        return [self["reason"]]


BASELINE = "baseline"
OUTSIDE = "outside"
"""The choices of the list's visit filter besides the visits: in the baseline, and not in the
diary schedule today (not started, not randomized, finished or withdrawn)."""

PARTICIPANT_SORTS = (
    ("code", "Code"),
    ("site", "Site"),
    ("status", "Status"),
    ("-last_diary", "Last diary, latest first"),
    ("last_diary", "Last diary, oldest first"),
    ("compliance", "Diary kept, lowest first"),
    ("-compliance", "Diary kept, highest first"),
    ("-code", "Code, Z to A"),
    ("-site", "Site, Z to A"),
    ("-status", "Status, last step first"),
)
"""How the participant list may be sorted; ``-`` sorts descending. Empty values come last."""


class ParticipantFilterForm(ListingForm):
    """The participant list's query: code search, statuses (none ticked: all), where they are
    on the visit calendar today, diary kept below a share, the order, the page."""

    code = forms.CharField(
        label="Code contains",
        required=False,
        max_length=20,
        help_text="A part of the code, e.g. 7Q3.",
    )
    status = forms.MultipleChoiceField(
        label="Status",
        required=False,
        choices=ParticipantStatus.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    visit = forms.ChoiceField(label="Today", required=False)
    compliance_below = forms.IntegerField(
        label="Diary kept below (%)",
        required=False,
        min_value=1,
        max_value=100,
        help_text="e.g. 80: those who kept fewer of their due nights.",
    )
    sort = forms.ChoiceField(label="Sort by", required=False, choices=PARTICIPANT_SORTS)

    def __init__(self, *args: Any, visits: Iterable[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["visit"]).choices = [
            ("", "Anywhere"),
            (BASELINE, "In the baseline"),
            *((str(number), f"Since visit {number}") for number in visits),
            (OUTSIDE, "Not in the diary schedule"),
        ]


class TimezoneForm(forms.Form):
    """A participant who moved: the new time zone and why."""

    timezone = forms.ChoiceField(
        label="New time zone",
        help_text="Where the participant lives now: their diary windows follow this zone.",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: moved to London. Kept in the audit trail.",
        error_messages={"required": "Say why the time zone changes."},
    )

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["timezone"])
        field.choices = _timezone_choices()
        field.initial = current
