"""Django app configuration of the devices app."""

from __future__ import annotations

from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "diarytrial.devices"
    label = "devices"
    verbose_name = "Participants' devices"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.devices.wording import register

        register()
