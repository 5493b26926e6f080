"""Django app configuration of the monitoring app (the study dashboard, the daily digest)."""

from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "diarytrial.monitoring"
    label = "monitoring"
    verbose_name = "Study monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.monitoring.wording import register as register_wording

        register_wording()

        from diarytrial.core.periodic import register_periodic_job
        from diarytrial.monitoring.digest.tasks import digests_schedule

        register_periodic_job("digests", lambda now: digests_schedule(now=now), order=20)
