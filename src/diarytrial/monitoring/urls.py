"""URLs of the study dashboard, under ``/studies/<study>/dashboard/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.study_dashboard_page, name="dashboard"),
]
