"""URLs of the daily digest's page, under ``/studies/<study>/digest/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.monitoring.digest import views

app_name = "digest"

urlpatterns = [
    path("", views.digest_settings, name="settings"),
    path("subscription/", views.subscription, name="subscription"),
    path("sites/<slug:site>/", views.schedule, name="schedule"),
]
