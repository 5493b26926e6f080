"""The staff form that corrects a diary entry: one number per item, on its scale, and why."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from diarytrial.diary.overview import ItemLine


def _number(value: float) -> str:
    return f"{value:g}"


class DiaryCorrectionForm(forms.Form):
    """Each item of the diary (its current answer first), and the reason for the correction."""

    reason = forms.CharField(
        label="Reason for the correction",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Where the right values come from, e.g. the participant confirmed by phone "
        "that pain was 20, not 80. Kept in the audit trail with the old and new values.",
        error_messages={"required": "Say why the diary is corrected."},
    )

    def __init__(self, *args: Any, items: Iterable[ItemLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item_names: list[str] = []
        fields: dict[str, forms.Field] = {}
        for line in items:
            item = line.item
            low, high = item.lowest, item.highest
            scale = f"{low} to {high}"
            anchors = f"{low} = {item.anchors[0]}, {high} = {item.anchors[1]}"
            fields[f"item_{item.id}"] = forms.FloatField(
                label=item.label,
                required=False,
                min_value=low,
                max_value=high,
                initial=None if line.value is None else _number(line.value),
                widget=forms.NumberInput(attrs={"step": "any", "min": low, "max": high}),
                help_text=f"{item.question} A number from {scale} ({anchors}). "
                + (
                    "Not answered."
                    if line.value is None
                    else f"Recorded now: {_number(line.value)}."
                ),
                error_messages={
                    "invalid": f"{item.label}: write a number from {scale}.",
                    "min_value": f"{item.label} is at least {low} on its scale ({scale}).",
                    "max_value": f"{item.label} is at most {high} on its scale ({scale}).",
                },
            )
            self.item_names.append(item.id)
        self.fields = {**fields, "reason": self.fields["reason"]}

    def answers(self) -> dict[str, float]:
        """The items given a value (an empty field leaves the item as it is)."""
        data = self.cleaned_data
        return {
            name: data[f"item_{name}"]
            for name in self.item_names
            if data.get(f"item_{name}") is not None
        }

    def item_fields(self) -> list[forms.BoundField]:
        return [self[f"item_{name}"] for name in self.item_names]
