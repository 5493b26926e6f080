"""The admin page of two-step (TOTP) devices, replacing django-otp's.

An administrator may only list devices and remove one (a lost or replaced phone), through
`totp_device_remove` and so on the audit trail. No key is shown, and no device is added or
edited here: a user sets up their own on the two-step page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

# Imported first so that its registration exists to be replaced, whatever the app order.
from django_otp.plugins.otp_totp import admin as otp_totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice

from diarytrial.accounts.services import totp_device_remove

REASON = "removed on the admin's page of two-step devices"

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "name", "confirmed")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TOTPDevice) -> None:
        actor = request.user
        if not isinstance(actor, User):  # the admin lets in signed-in administrators only
            raise PermissionDenied("Sign in as an administrator to remove a two-step device.")
        totp_device_remove(device=obj, actor=actor, reason=REASON)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TOTPDevice]) -> None:
        for device in queryset.order_by("pk"):
            self.delete_model(request, device)
