"""Read-only admin pages that show no allocation.

The administrator is a blinded role: these pages list lists, kits, randomizations and
dispensings by their codes, sizes, statuses and times only. Slots (sequences), seeds, salts and
kit contents are not shown here; the pharmacist reads them through the unblinded selectors,
which audit each read.
"""

from __future__ import annotations

from django.contrib import admin

from diarytrial.randomization.models import AllocationList, Dispensing, Kit, KitBatch, Randomization
from diarytrial.studies.admin import ReadOnlyAdminMixin


@admin.register(AllocationList)
class AllocationListAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("study", "stratum", "size", "created_at", "created_by")
    list_filter = ("study",)
    list_select_related = ("study", "created_by")
    fields = readonly_fields = (
        "study",
        "stratum",
        "size",
        "protocol_version",
        "fingerprint",
        "created_at",
        "created_by",
    )


@admin.register(Randomization)
class RandomizationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("participant", "randomized_at", "randomized_by")
    list_select_related = ("participant", "randomized_by")
    search_fields = ("participant__code",)
    fields = readonly_fields = ("participant", "randomized_at", "randomized_by")


@admin.register(KitBatch)
class KitBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "study", "source", "filename", "size", "created_at", "created_by")
    list_filter = ("study", "source")
    list_select_related = ("study", "created_by")
    fields = readonly_fields = (
        "study",
        "source",
        "filename",
        "size",
        "fingerprint",
        "created_at",
        "created_by",
    )


@admin.register(Kit)
class KitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "study", "status")
    list_filter = ("study", "status")
    list_select_related = ("study",)
    search_fields = ("code",)
    fields = readonly_fields = ("study", "batch", "code", "status", "created_at")


@admin.register(Dispensing)
class DispensingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kit", "participant", "period", "dispensed_at", "dispensed_by")
    list_select_related = ("kit", "participant", "dispensed_by")
    search_fields = ("kit__code", "participant__code")
    fields = readonly_fields = ("kit", "participant", "period", "dispensed_at", "dispensed_by")
