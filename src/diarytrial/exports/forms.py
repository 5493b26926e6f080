"""The shape of what the database page accepts: a reason for a lock, an unlock or unblinding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from diarytrial.interop.formats import FORMATS
from diarytrial.signatures.forms import SignatureForm
from diarytrial.studies.models import Site


class UnlockForm(SignatureForm):
    """Unlock the database, saying why, signed by the administrator."""

    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail.",
        error_messages={"required": "Say why."},
    )


class LockForm(UnlockForm):
    """Lock the database, saying why (with items of the checklist open, why all the same),
    signed by the administrator."""

    override_reason = forms.CharField(
        label="Why lock with these items open",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when the study must be locked as it is. Kept on the study, in the "
        "audit trail and in the exported dataset.",
    )

    def reason_fields(self) -> list[forms.BoundField]:
        """The fields of a lock with nothing open: the reason only."""
        return [self["reason"]]

    def override_fields(self) -> list[forms.BoundField]:
        """The fields of a lock with items open: the reason and why all the same."""
        return [self["reason"], self["override_reason"]]


class UnblindForm(forms.Form):
    """Unblind the study for its statistician: why, and that it cannot be undone."""

    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. Database locked, final analysis. Kept in the audit trail.",
        error_messages={"required": "Say why the study is unblinded."},
    )
    understood = forms.BooleanField(
        label="I understand that this shows me every participant's allocation from now on, "
        "and that it cannot be undone.",
        error_messages={"required": "Tick the box to confirm that you understand."},
    )

    def text_fields(self) -> list[forms.BoundField]:
        return [self["reason"]]


class CasebookSignForm(SignatureForm):
    """An investigator's sign-off of a participant's casebook: the signature's fields only."""


DATASET_FORMAT = "dataset"
"""The trial dataset's own folder: the CSV files, the protocol and ``datapackage.json``."""


EXPORT_FORMATS: tuple[tuple[str, str], ...] = (
    (DATASET_FORMAT, "Trial dataset (CSV files and datapackage.json)"),
    *((fmt.key, fmt.name) for fmt in FORMATS.values()),
)
"""What a dataset can be downloaded as: its own folder, or each of the interop formats."""


class ExportForm(forms.Form):
    """Which dataset to download (blinded or not), and in which format."""

    kind = forms.ChoiceField(choices=(("blinded", "Blinded"), ("unblinded", "Unblinded")))
    format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=EXPORT_FORMATS,
        error_messages={"invalid_choice": "Choose one of the formats listed."},
    )

    def clean_format(self) -> str:
        """No format chosen: the trial dataset's own folder."""
        return str(self.cleaned_data.get("format") or DATASET_FORMAT)


class CertifiedCopyForm(SignatureForm):
    """An investigator's certified copy: which of their sites (all of them by default), signed."""

    site = forms.ChoiceField(
        label="Sites",
        required=False,
        help_text="One copy holds every participant of the sites chosen.",
        error_messages={"invalid_choice": "Choose one of your sites, or all of them."},
    )

    def __init__(self, *args: Any, sites: Sequence[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = {site.code: site for site in sites}
        choices = [("", "All my sites")] if len(sites) != 1 else []
        choices += [(site.code, f"{site.name} ({site.code})") for site in sites]
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ChoiceField)
        site_field.choices = choices

    def chosen_site(self) -> Site | None:
        """The site chosen (after `is_valid`); None for all of them."""
        return self.sites.get(self.cleaned_data.get("site") or "")
