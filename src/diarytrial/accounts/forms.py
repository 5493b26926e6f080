"""The shape of what the sign-in pages accept; the checks themselves are in the services."""

from __future__ import annotations

from django import forms


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        label="Code from your authenticator app",
        required=False,
        max_length=12,
        help_text="6 digits. Leave empty if you have not set up an authenticator app yet.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        help_text="The 6 digits your app shows now.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class InvitationForm(forms.Form):
    """A new password, typed twice, and the first code of the authenticator app."""

    password = forms.CharField(
        label="Choose a password",
        strip=False,
        max_length=1000,
        help_text="At least 8 characters; not a common password, not all digits, not like your "
        "username. A short sentence is easy to remember.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Type the password again",
        strip=False,
        max_length=1000,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        help_text="The 6 digits the app shows now, once you have added diarytrial to it.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if (
            data.get("password") is not None
            and data.get("password_again") is not None
            and data["password"] != data["password_again"]
        ):
            self.add_error("password_again", "The two passwords differ: type the same one twice.")
        return data
