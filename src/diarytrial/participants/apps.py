"""Django app configuration of the participants app; it registers its lock check at start."""

from __future__ import annotations

from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "diarytrial.participants"
    label = "participants"
    verbose_name = "Participants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.participants.wording import register as register_wording

        register_wording()

        from diarytrial.participants.readiness import participants_open_check
        from diarytrial.studies.readiness import register_lock_check

        register_lock_check("open_participants", participants_open_check, order=10)
