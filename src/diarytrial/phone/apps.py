"""Django app configuration of the phone app."""

from __future__ import annotations

from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "diarytrial.phone"
    label = "phone"
    verbose_name = "Phone diary"
    default_auto_field = "django.db.models.BigAutoField"
