"""URLs of the side effects reported in the diary, under ``/studies/<study>/side-effects/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.safety import listings, views

app_name = "side_effects"

urlpatterns = [
    path("", listings.side_effect_list, name="list"),
    path("side-effects.csv", listings.side_effect_csv, name="csv"),
    path(
        "<str:participant>/<str:side_effect>/<str:first>/confirm/",
        views.side_effect_confirm,
        name="confirm",
    ),
    path(
        "<str:participant>/<str:side_effect>/<str:first>/dismiss/",
        views.side_effect_dismiss,
        name="dismiss",
    ),
]
