"""URLs of the safety pages, under ``/studies/<study>/participants/<participant>/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.safety import views

app_name = "safety"

urlpatterns = [
    path("adverse-events/new/", views.adverse_event_new, name="adverse_event_new"),
    path("adverse-events/<int:event>/", views.adverse_event_page, name="adverse_event"),
    path(
        "adverse-events/<int:event>/change/",
        views.adverse_event_change,
        name="adverse_event_change",
    ),
    path(
        "adverse-events/<int:event>/remove/",
        views.adverse_event_remove_page,
        name="adverse_event_remove",
    ),
    path("dose/", views.dose_change, name="dose_change"),
]
