"""URLs of the audit trail's pages, under ``/studies/<study>/audit/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.staff.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.study_trail, name="trail"),
    path("audit-trail.csv", views.trail_csv, name="csv"),
    path("audit-trail.pdf", views.trail_pdf, name="pdf"),
    path("verify/", views.trail_verify, name="verify"),
    path("participants/<str:participant>/", views.participant_trail, name="participant"),
    path("users/<str:username>/", views.user_trail, name="user"),
    path("records/<str:object_type>/<str:object_id>/", views.record_trail, name="record"),
]
