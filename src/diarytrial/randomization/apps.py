"""Django app configuration of the randomization app."""

from __future__ import annotations

from django.apps import AppConfig


class RandomizationConfig(AppConfig):
    name = "diarytrial.randomization"
    label = "randomization"
    verbose_name = "Randomization"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.randomization.wording import register

        register()
