"""URLs of the participants' pages, under ``/studies/<study>/participants/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.staff.participants import views

app_name = "participants"

urlpatterns = [
    path("", views.participant_list, name="list"),
    path("screen/", views.participant_screen_page, name="screen"),
    path("participants.csv", views.participant_csv, name="csv"),
    path("<str:participant>/", views.participant_detail, name="detail"),
    path("<str:participant>/enrol/", views.participant_enrol_page, name="enrol"),
    path("<str:participant>/randomize/", views.participant_randomize_page, name="randomize"),
    path("<str:participant>/complete/", views.participant_complete_page, name="complete"),
    path("<str:participant>/withdraw/", views.participant_withdraw_page, name="withdraw"),
    path("<str:participant>/time-zone/", views.participant_timezone_page, name="timezone"),
    path("<str:participant>/unblind/", views.participant_unblind_page, name="unblind"),
    path(
        "<str:participant>/unblind/result/",
        views.participant_unblind_result,
        name="unblind_result",
    ),
]
