"""Read-only admin pages; studies and protocol versions are written through services only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from diarytrial.studies.models import ProtocolVersion, Study


class ReadOnlyAdminMixin:
    """Viewing only: adding, changing and deleting go through the services (and their audit)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The admin classes are generic only in django-stubs, not at runtime: hence the ignores.
class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A read-only admin page whose list filters only by the filters it shows.

    Django's admin otherwise accepts a filter on any field of the model in the query string
    (``?arm=ldn``), shown on the page or not: a blinded administrator could count by it.
    """

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:  # type: ignore[override]
        listed = {name for name in self.list_filter if isinstance(name, str)}
        listed |= {n[0] for n in self.list_filter if isinstance(n, tuple) and isinstance(n[0], str)}
        if self.date_hierarchy:
            listed.add(self.date_hierarchy)
        return lookup.split("__", 1)[0] in listed and super().lookup_allowed(lookup, value, request)


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
