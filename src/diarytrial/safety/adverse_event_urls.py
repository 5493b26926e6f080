"""URLs of the study's adverse events, under ``/studies/<study>/adverse-events/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.safety import listings

app_name = "adverse_events"

urlpatterns = [
    path("", listings.adverse_event_list, name="list"),
    path("adverse-events.csv", listings.adverse_event_csv, name="csv"),
]
