"""The shape of what the people pages accept; the rules themselves are in the services."""

from __future__ import annotations

from typing import cast

from django import forms
from django.db.models import QuerySet

from diarytrial.studies.models import Role, Site, Study


class SiteChoiceField(forms.ModelMultipleChoiceField[Site]):
    """Sites as check boxes, each named and coded; the value is the code (text, unlike ids: no
    number too large for the database)."""

    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.name} ({obj.code})"


class RoleFields(forms.Form):
    """A role, the sites it covers and its end date: for a grant, a change and an invitation."""

    role = forms.ChoiceField(choices=Role.choices)
    sites = SiteChoiceField(
        queryset=Site.objects.none(),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For a coordinator: the sites whose participants they see. None ticked: all "
        "sites. Other roles see every site.",
    )
    ends_on = forms.DateField(
        label="Last day of the role",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The role is held through this whole day in the zone of its sites, "
        "and grants nothing from the next midnight there. Empty: no end.",
    )

    def __init__(self, *args: object, study: Study, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        sites: QuerySet[Site] = Site.objects.filter(study=study).order_by("code")
        cast(SiteChoiceField, self.fields["sites"]).queryset = sites


class InviteForm(RoleFields):
    username = forms.CharField(
        max_length=150,
        help_text="What they will sign in with: letters, digits and @ . + - _, e.g. jsmith.",
    )
    email = forms.EmailField(label="E-mail address", max_length=254)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)

    field_order = ("username", "email", "first_name", "last_name", "role", "sites", "ends_on")


class GrantForm(RoleFields):
    username = forms.CharField(
        max_length=150, help_text="The username of an existing account, as they sign in."
    )
    reason = forms.CharField(max_length=1000, required=False, help_text="Optional.")

    field_order = ("username", "role", "sites", "ends_on", "reason")


class RoleChangeForm(RoleFields):
    reason = forms.CharField(max_length=1000, required=False, help_text="Optional.")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail.",
    )
