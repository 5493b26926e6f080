"""URLs of the database page, under ``/studies/<study>/database/``, and of a participant's
casebook sign-off (``casebooks/<participant>/``) and the investigator's certified copy
(``certified-copy/``)."""

from __future__ import annotations

from django.urls import path

from diarytrial.exports import views

app_name = "exports"

urlpatterns = [
    path("", views.database, name="database"),
    path("lock/", views.lock, name="lock"),
    path("unlock/", views.unlock, name="unlock"),
    path("unblind/", views.unblind, name="unblind"),
    path("download/", views.download, name="download"),
    path("certified-copy/", views.certified_copy, name="certified_copy"),
    path("casebooks/<str:participant>/", views.casebook, name="casebook"),
]
