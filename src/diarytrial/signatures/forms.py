"""The signature's part of a form: the meaning chosen, the password and, for a signer with an
authenticator app, its current code (21 CFR Part 11.200(a): two components, in the same form
as the act). Other apps' forms inherit it and add their own fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from diarytrial.accounts.services import totp_devices_confirmed
from diarytrial.signatures.models import Meaning
from diarytrial.signatures.services import SigningCredentials, printed_name


class SignatureForm(forms.Form):
    """Sign as `signer`: what the signature means, and both components."""

    meaning = forms.ChoiceField(
        label="What your signature means",
        choices=Meaning.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what your signature means.",
            "invalid_choice": "Choose approved, reviewed or responsible for.",
        },
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="The password you sign in with: it makes this your signature.",
        error_messages={"required": "Enter your password to sign."},
    )
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
        help_text="The 6 digits it shows now.",
        error_messages={"required": "Enter the code your authenticator app shows now."},
    )

    def __init__(self, *args: Any, signer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signer = signer
        self.needs_code = bool(totp_devices_confirmed(signer))
        if not self.needs_code:
            del self.fields["code"]

    @property
    def printed_name(self) -> str:
        """The name the signature will carry."""
        return printed_name(self.signer)

    def signature_fields(self) -> list[forms.BoundField]:
        """The signature's fields, in order, for the template."""
        names = ["meaning", "password", *(["code"] if self.needs_code else [])]
        return [self[name] for name in names]

    def act_fields(self) -> list[forms.BoundField]:
        """The fields of the act itself (those of the inheriting form)."""
        own = {"meaning", "password", "code"}
        return [field for field in self.visible_fields() if field.name not in own]

    def credentials(self) -> SigningCredentials:
        """What the signer gave, for the signing services (after `is_valid`)."""
        data = self.cleaned_data
        return SigningCredentials(
            signer=self.signer,
            password=data["password"],
            code=data.get("code") or "",
            meaning=data["meaning"],
        )
