"""URLs of the randomization app's pages, under ``/studies/<study>/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.randomization import views

app_name = "randomization"

urlpatterns = [
    path("pharmacy/", views.pharmacy, name="pharmacy"),
    path("pharmacy/dispense/", views.dispense, name="dispense"),
    path("pharmacy/kits/", views.kits, name="kits"),
    path("pharmacy/kits/generate/", views.kits_generate, name="kits_generate"),
    path("pharmacy/kits/import/", views.kits_import, name="kits_import"),
    path("pharmacy/allocation/", views.allocation_lists, name="allocation_lists"),
    path("pharmacy/allocation/generate/", views.allocation_generate, name="allocation_generate"),
    path("pharmacy/allocation/list/", views.allocation_list, name="allocation_list"),
    path("enrolment-by-sequence/", views.enrolment, name="enrolment"),
]
