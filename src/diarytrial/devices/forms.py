"""Forms of the staff pages of the devices app."""

from __future__ import annotations

from django import forms


class RevokeForm(forms.Form):
    """Revoking a phone: the reason is kept in the audit trail."""

    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: phone lost, new phone. Kept in the audit trail.",
        error_messages={"required": "Say why this phone is revoked."},
    )
