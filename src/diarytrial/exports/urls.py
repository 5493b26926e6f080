"""URLs of the database page, under ``/studies/<study>/database/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.exports import views

app_name = "exports"

urlpatterns = [
    path("", views.database, name="database"),
    path("lock/", views.lock, name="lock"),
    path("unlock/", views.unlock, name="unlock"),
    path("unblind/", views.unblind, name="unblind"),
    path("download/", views.download, name="download"),
]
