"""Django app configuration of the accounts app."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "diarytrial.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.accounts.wording import register as register_wording

        register_wording()

        from django.contrib import admin

        from diarytrial.studies.access import admin_site_has_permission

        # Django's default lets in any is_staff user; ours only administrators. The admin's own
        # sign-in form is replaced by ours (web/urls.py), which has the throttle and TOTP.
        admin.site.has_permission = admin_site_has_permission  # type: ignore[method-assign]
