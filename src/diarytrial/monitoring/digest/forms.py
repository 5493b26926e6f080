"""Forms of the digest page: one's own choice, and a site's schedule."""

from __future__ import annotations

from django import forms


class SubscriptionForm(forms.Form):
    subscribed = forms.TypedChoiceField(
        choices=(("on", "On"), ("off", "Off")), coerce=lambda value: value == "on"
    )


class ScheduleForm(forms.Form):
    timezone = forms.CharField(
        label="Time zone of the site",
        max_length=64,
        help_text="An IANA name such as America/Los_Angeles or Europe/Berlin; it starts as "
        "the site's own zone, the one its staff pages show times in.",
    )
    send_at = forms.TimeField(
        label="Send at (the site's clock)", input_formats=["%H:%M"], help_text="e.g. 07:30"
    )
