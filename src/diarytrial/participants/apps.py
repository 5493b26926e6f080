"""Django app configuration of the participants app."""

from __future__ import annotations

from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "diarytrial.participants"
    label = "participants"
    verbose_name = "Participants"
    default_auto_field = "django.db.models.BigAutoField"
