"""Django app configuration of the monitoring app (the study dashboard)."""

from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "diarytrial.monitoring"
    label = "monitoring"
    verbose_name = "Study monitoring"
    default_auto_field = "django.db.models.BigAutoField"
