"""URLs of the data query pages, under ``/studies/<study>/queries/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.queries import views

app_name = "queries"

urlpatterns = [
    path("", views.query_list_page, name="list"),
    path("raise/<str:participant>/", views.query_raise_page, name="raise"),
    path("<int:query>/", views.query_detail, name="detail"),
    path("<int:query>/answer/", views.query_answer_page, name="answer"),
    path("<int:query>/close/", views.query_close_page, name="close"),
    path("<int:query>/reopen/", views.query_reopen_page, name="reopen"),
    path("<int:query>/correct/", views.query_correct_page, name="correct"),
]
