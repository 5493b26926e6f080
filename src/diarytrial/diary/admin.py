"""Read-only admin pages; diary data are written through the services only (and audited).

The end-of-period answers (PGIC, blinding guess) have no admin page: they are read in the
exports, where only an unblinded export says which treatment period a visit's answer closes.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from diarytrial.core.admin import ReadOnlyAdminMixin, ReadOnlyModelAdmin
from diarytrial.diary.models import (
    DiaryAnswer,
    DiaryEntry,
    DiarySubmission,
    SideEffectReport,
)


class DiaryAnswerInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = DiaryAnswer
    fields = ("item", "value")
    readonly_fields = fields
    extra = 0


class SideEffectReportInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = SideEffectReport
    fields = ("side_effect", "unpleasantness")
    readonly_fields = fields
    extra = 0


class DiarySubmissionInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = DiarySubmission
    fields = ("client_id", "kind", "received_at", "completed_at_device", "late")
    readonly_fields = fields
    extra = 0


@admin.register(DiaryEntry)
class DiaryEntryAdmin(ReadOnlyModelAdmin):
    list_display = ("participant", "diary_date", "received_at", "late", "status")
    list_filter = ("status", "late", "device_time_differs")
    search_fields = ("participant__code",)
    readonly_fields = (
        "participant",
        "diary_date",
        "client_id",
        "timezone",
        "received_at",
        "completed_at_device",
        "device_utc_offset",
        "device_clock_difference",
        "device_time_differs",
        "late",
        "capsule_taken",
        "status",
        "created_at",
        "updated_at",
    )
    inlines = (DiaryAnswerInline, SideEffectReportInline, DiarySubmissionInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DiaryEntry]:
        return super().get_queryset(request).select_related("participant")
