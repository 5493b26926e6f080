"""Read-only admin pages; adverse events are written through the services only (and audited)."""

from __future__ import annotations

from django.contrib import admin

from diarytrial.core.admin import ReadOnlyModelAdmin
from diarytrial.safety.models import AdverseEvent, SideEffectReview


@admin.register(AdverseEvent)
class AdverseEventAdmin(ReadOnlyModelAdmin):
    list_display = (
        "participant",
        "term",
        "onset_date",
        "end_date",
        "severity",
        "serious",
        "status",
    )
    list_filter = ("status", "serious", "severity")
    list_select_related = ("participant",)
    search_fields = ("participant__code", "term")


@admin.register(SideEffectReview)
class SideEffectReviewAdmin(ReadOnlyModelAdmin):
    list_display = ("participant", "side_effect", "first_reported", "last_reported", "decision")
    list_filter = ("decision",)
    list_select_related = ("participant",)
    search_fields = ("participant__code", "side_effect")
