"""Read-only admin pages; studies and protocol versions are written through services only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from diarytrial.core.admin import ReadOnlyAdminMixin, ReadOnlyModelAdmin
from diarytrial.studies.models import ProtocolVersion, Study


# The admin classes are generic only in django-stubs, not at runtime: hence the ignores.
class ProtocolVersionInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = ProtocolVersion
    fields = ("number", "source", "sha256", "created_at", "created_by")
    readonly_fields = ("number", "source", "sha256", "created_at", "created_by")
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProtocolVersion]:
        # Each row shows its study and creator: fetch them with the rows, not one by one.
        return super().get_queryset(request).select_related("study", "created_by")


@admin.register(Study)
class StudyAdmin(ReadOnlyModelAdmin):
    list_display = ("slug", "title", "created_at")
    search_fields = ("slug", "title")
    readonly_fields = ("slug", "title", "created_at")
    inlines = (ProtocolVersionInline,)


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ReadOnlyModelAdmin):
    list_display = ("study", "number", "source", "sha256", "created_at", "created_by")
    list_filter = ("study",)
    list_select_related = ("study", "created_by")
    readonly_fields = ("study", "number", "source", "sha256", "created_at", "created_by", "text")
