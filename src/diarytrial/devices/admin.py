"""Read-only admin pages of the participants' phones; no token hash is shown. Phones are
revoked on the participant's staff page (with a reason, audited), never here."""

from __future__ import annotations

from django.contrib import admin

from diarytrial.core.admin import ReadOnlyModelAdmin
from diarytrial.devices.models import Device, EnrolmentLink


@admin.register(Device)
class DeviceAdmin(ReadOnlyModelAdmin):
    list_display = ("participant", "label", "created_at", "last_seen_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("participant",)
    search_fields = ("participant__code",)
    fields = (
        "participant",
        "label",
        "created_at",
        "last_seen_at",
        "pin_failures",
        "revoked_at",
        "revoked_reason",
    )
    readonly_fields = fields


@admin.register(EnrolmentLink)
class EnrolmentLinkAdmin(ReadOnlyModelAdmin):
    list_display = ("participant", "created_at", "expires_at", "used_at", "revoked_at")
    list_select_related = ("participant",)
    search_fields = ("participant__code",)
    fields = ("participant", "created_by", "created_at", "expires_at", "used_at", "revoked_at")
    readonly_fields = fields
