"""Django app configuration of the studies app."""

from __future__ import annotations

from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "diarytrial.studies"
    label = "studies"
    verbose_name = "Studies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.studies.wording import register

        register()
