"""Django app configuration of the data queries app: it registers the lock check of open
queries (a study is not ready to lock while a query waits for an answer or for its raiser)."""

from __future__ import annotations

from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "diarytrial.queries"
    label = "queries"
    verbose_name = "Data queries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from diarytrial.queries.wording import register as register_wording

        register_wording()

        from diarytrial.queries.selectors import open_queries_lock_check
        from diarytrial.studies.readiness import register_lock_check

        register_lock_check("open_queries", open_queries_lock_check, order=40)
