"""URLs of the staff diary pages, under ``/studies/<study>/participants/<participant>/diary/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.diary import views

app_name = "diary"

urlpatterns = [
    path("", views.diary_entries, name="entries"),
    path("<str:day>/", views.diary_correct, name="correct"),
]
