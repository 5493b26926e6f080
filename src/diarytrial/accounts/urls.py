"""URLs of the accounts app, under ``/accounts/``."""

from __future__ import annotations

from django.urls import path

from diarytrial.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("two-step/", views.two_step, name="two_step"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]
