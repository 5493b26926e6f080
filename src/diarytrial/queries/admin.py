"""Read-only admin pages; queries and their threads are written through the services only (and
audited)."""

from __future__ import annotations

from django.contrib import admin

from diarytrial.core.admin import ReadOnlyModelAdmin
from diarytrial.queries.models import DataQuery, QueryMessage


@admin.register(DataQuery)
class DataQueryAdmin(ReadOnlyModelAdmin):
    list_display = ("pk", "study", "participant", "kind", "participant_field", "status")
    list_filter = ("status", "kind")
    list_select_related = ("study", "participant")
    search_fields = ("participant__code",)


@admin.register(QueryMessage)
class QueryMessageAdmin(ReadOnlyModelAdmin):
    list_display = ("query", "kind", "author", "written_at")
    list_filter = ("kind",)
    list_select_related = ("query", "author")
