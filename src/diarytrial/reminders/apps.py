"""Django app configuration of the reminders app."""

from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "diarytrial.reminders"
    label = "reminders"
    verbose_name = "Diary reminders"
    default_auto_field = "django.db.models.BigAutoField"
