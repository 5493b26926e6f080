"""Django app configuration of the exports app."""

from __future__ import annotations

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "diarytrial.exports"
    label = "exports"
    verbose_name = "Exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.exports.wording import register

        register()
