"""Read-only admin pages; participants are written through the services only (and audited).

Nothing shown here names an arm or tells one: a participant's planned phases (whose dates and
periods differ by sequence) are not shown; the randomization app has no admin pages at all.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from diarytrial.core.admin import ReadOnlyAdminMixin, ReadOnlyModelAdmin
from diarytrial.participants.models import (
    Consent,
    DoseLevelChange,
    EligibilityAnswer,
    Participant,
)


class EligibilityAnswerInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = EligibilityAnswer
    fields = ("question_id", "answer", "eligible")
    readonly_fields = fields
    extra = 0


class ConsentInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Consent
    fields = ("form_version", "consented_on", "obtained_by", "created_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consent]:
        return super().get_queryset(request).select_related("obtained_by")


class DoseLevelChangeInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = DoseLevelChange
    fields = ("effective_on", "level", "reason", "created_by", "created_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[DoseLevelChange]:
        return super().get_queryset(request).select_related("created_by")


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyModelAdmin):
    list_display = ("code", "study", "site", "status", "dose_level", "start_date", "created_at")
    list_filter = ("study", "status")
    list_select_related = ("study", "site__study")
    search_fields = ("code",)
    readonly_fields = (
        "study",
        "site",
        "code",
        "protocol_version",
        "timezone",
        "opioid_use",
        "age",
        "status",
        "eligible",
        "ineligibility_reason",
        "start_date",
        "start_dose_level",
        "dose_level",
        "enrolled_at",
        "randomized_at",
        "completed_on",
        "withdrawn_on",
        "withdrawal_reason",
        "emergency_unblinded_at",
        "created_at",
        "created_by",
    )
    inlines = (
        EligibilityAnswerInline,
        ConsentInline,
        DoseLevelChangeInline,
    )
