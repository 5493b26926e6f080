"""The participant's phone pages, under ``/d/`` (the service worker's scope)."""

from __future__ import annotations

from django.urls import path

from diarytrial.phone import views

app_name = "phone"

urlpatterns = [
    path("", views.home, name="home"),
    path("history/", views.history, name="history"),
    path("settings/", views.settings_page, name="settings"),
    path("pin/", views.pin, name="pin"),
    path("enrol/<str:token>/", views.enrol, name="enrol"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
]
