"""The shape of what the pharmacist's pages accept; the services check the rest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms

MAX_KIT_FILE_BYTES = 2_000_000


class DispenseForm(forms.Form):
    """One row of the dispensing list: this kit to this participant at this visit."""

    participant = forms.CharField(max_length=12, widget=forms.HiddenInput)
    visit = forms.IntegerField(min_value=1, max_value=1000, widget=forms.HiddenInput)
    kit = forms.CharField(max_length=40, widget=forms.HiddenInput)


class KitGenerateForm(forms.Form):
    """Make kits: how many of each arm and dose level."""

    per_arm_and_level = forms.IntegerField(
        label="Kits of each arm and dose level",
        min_value=1,
        max_value=10_000,
        help_text="Every arm and every dose level gets this many kits, under random codes. A "
        "participant takes one kit per visit: see above how many of each arm.",
    )


class KitImportForm(forms.Form):
    """Import a supplier's kit list (CSV with the columns code, arm, dose_level)."""

    file = forms.FileField(
        label="Kit list (CSV)",
        help_text="Columns code, arm and dose_level, with the protocol's arm and level ids. "
        "Any problem refuses the whole file and lists every problem.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> str:
        """The file's text (UTF-8)."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_KIT_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_KIT_FILE_BYTES // 1_000_000} MB; split it."
            )
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text; save it as CSV (UTF-8) and try again."
            ) from None


class AllocationGenerateForm(forms.Form):
    """Generate the allocation list of one stratum that has none yet."""

    stratum = forms.ChoiceField(label="Stratum")
    size = forms.IntegerField(
        label="Slots, at least",
        min_value=1,
        max_value=100_000,
        help_text="Enough for everyone the stratum may randomize; the last block is kept whole.",
    )

    def __init__(self, *args: Any, strata: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["stratum"]).choices = [(s, s) for s in strata]
