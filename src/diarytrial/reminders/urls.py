"""URLs of the reminders app, under ``/d/`` beside the phone's pages."""

from __future__ import annotations

from django.urls import path

from diarytrial.reminders import views

app_name = "reminders"

urlpatterns = [
    path("calendar/<str:token>.ics", views.calendar, name="calendar"),
]
