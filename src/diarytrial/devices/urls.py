"""Staff pages of the devices app, under ``/studies/<study>/participants/<participant>/phone/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.devices import views

app_name = "devices"

urlpatterns = [
    path("", views.device_list_page, name="list"),
    path("link/", views.enrolment_link_page, name="link"),
    path("<int:device>/revoke/", views.device_revoke_page, name="revoke"),
]
