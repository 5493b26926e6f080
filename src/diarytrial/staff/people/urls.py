"""URLs of a study's people pages, under ``/studies/<study>/people/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.staff.people import views

app_name = "people"

urlpatterns = [
    path("", views.people_list, name="list"),
    path("invite/", views.invite, name="invite"),
    path("grant/", views.grant, name="grant"),
    path("<int:user>/", views.person, name="person"),
    path("<int:user>/revoke/", views.revoke, name="revoke"),
    path("<int:user>/deactivate/", views.deactivate, name="deactivate"),
    path("<int:user>/two-step-reset/", views.totp_reset, name="totp_reset"),
    path("<int:user>/reinvite/", views.reinvite, name="reinvite"),
]
