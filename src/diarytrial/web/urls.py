"""The project's URLs; each app adds its own under a prefix."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from diarytrial.web.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
