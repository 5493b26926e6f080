"""Django app configuration of the reminders app."""

from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "diarytrial.reminders"
    label = "reminders"
    verbose_name = "Diary reminders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.reminders.wording import register as register_wording

        register_wording()

        from diarytrial.core.periodic import register_periodic_job
        from diarytrial.reminders.tasks import reminders_schedule

        register_periodic_job("reminders", lambda now: reminders_schedule(now=now), order=10)
