"""URLs of the studies' pages, under ``/studies/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.staff.studies import views

app_name = "studies"

urlpatterns = [
    path("", views.study_list, name="list"),
    path("<slug:study>/", views.study_home, name="home"),
]
