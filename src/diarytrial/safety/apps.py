"""Django app configuration of the safety app."""

from __future__ import annotations

from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "diarytrial.safety"
    label = "safety"
    verbose_name = "Safety"
    default_auto_field = "django.db.models.BigAutoField"
