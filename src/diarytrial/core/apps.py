from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares (errors, problem pages, listings, the moments' filters); no models."""

    name = "diarytrial.core"
    label = "core"
    verbose_name = "Core"
