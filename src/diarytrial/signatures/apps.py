from django.apps import AppConfig


class SignaturesConfig(AppConfig):
    name = "diarytrial.signatures"
    label = "signatures"
    verbose_name = "Electronic signatures"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.signatures.wording import register

        register()
