"""Django app configuration of the diary app; it registers its lock checks when Django starts."""

from __future__ import annotations

from django.apps import AppConfig


class DiaryConfig(AppConfig):
    name = "diarytrial.diary"
    label = "diary"
    verbose_name = "Diary"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.diary.wording import register as register_wording

        register_wording()

        from diarytrial.diary.readiness import end_of_period_answers_missing_check
        from diarytrial.studies.readiness import register_lock_check

        register_lock_check(
            "missing_end_of_period_answers", end_of_period_answers_missing_check, order=50
        )
