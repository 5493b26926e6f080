"""Django app configuration of the safety app; it registers its lock checks when Django starts."""

from __future__ import annotations

from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "diarytrial.safety"
    label = "safety"
    verbose_name = "Safety"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.safety.wording import register as register_wording

        register_wording()

        from diarytrial.safety.readiness import adverse_events_open_check, side_effects_open_check
        from diarytrial.studies.readiness import register_lock_check

        register_lock_check("side_effects_awaiting_review", side_effects_open_check, order=20)
        register_lock_check("adverse_events_without_outcome", adverse_events_open_check, order=30)
