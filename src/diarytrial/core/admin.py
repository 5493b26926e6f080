"""The admin's read-only pages: every app's admin pages are built on these.

Adding, changing and deleting go through the services (and their audit), never the admin; and
a list filters only by the filters it shows, since the administrator is a blinded role.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


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
