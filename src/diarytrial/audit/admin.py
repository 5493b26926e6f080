"""The trail in the admin: read-only, and blinded.

The admin is the administrator's tool, and the administrator is a blinded role: an event of an
allocation record shows that it happened and which fields changed, never their values
(`audit.redaction`). The list filters and searches only on what it shows, so no query string
can select events by a hidden value.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html_join

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.redaction import redacted_changes
from diarytrial.core.admin import ReadOnlyModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "occurred_at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type", "study_slug")
    search_fields = ("object_id", "actor_label")
    fields = readonly_fields = (
        "occurred_at",
        "actor_label",
        "action",
        "study_slug",
        "object_type",
        "object_id",
        "object_repr",
        "changes_shown",
        "reason",
        "previous_hash",
        "hash",
    )

    @admin.display(description="Changes")
    def changes_shown(self, event: AuditEvent) -> str:
        rows = redacted_changes(event, unblinded=False)
        return format_html_join(
            "\n",
            "<div>{}: {} &rarr; {}</div>",
            (
                (row.get("field"), json.dumps(row.get("old")), json.dumps(row.get("new")))
                for row in rows
            ),
        )
