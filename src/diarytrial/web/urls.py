"""The project's URLs; each app adds its own under a prefix."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from diarytrial.accounts.views import admin_sign_in
from diarytrial.web.api import api
from diarytrial.web.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="studies:list"), name="home"),
    # Before the admin's own: the admin signs in through ours (throttle, TOTP).
    path("admin/login/", admin_sign_in, name="admin_sign_in"),
    path("admin/", admin.site.urls),
    path("accounts/", include("diarytrial.accounts.urls")),
    path("studies/", include("diarytrial.staff.studies.urls")),
    path("studies/<slug:study>/participants/", include("diarytrial.staff.participants.urls")),
    path(
        "studies/<slug:study>/participants/<str:participant>/",
        include("diarytrial.safety.urls"),
    ),
    path(
        "studies/<slug:study>/participants/<str:participant>/phone/",
        include("diarytrial.devices.urls"),
    ),
    path("studies/<slug:study>/side-effects/", include("diarytrial.safety.side_effect_urls")),
    path("studies/<slug:study>/adverse-events/", include("diarytrial.safety.adverse_event_urls")),
    path(
        "studies/<slug:study>/participants/<str:participant>/diary/",
        include("diarytrial.diary.urls"),
    ),
    path("studies/<slug:study>/queries/", include("diarytrial.queries.urls")),
    path("studies/<slug:study>/audit/", include("diarytrial.staff.audit.urls")),
    path("studies/<slug:study>/people/", include("diarytrial.staff.people.urls")),
    path("studies/<slug:study>/dashboard/", include("diarytrial.monitoring.urls")),
    path("studies/<slug:study>/", include("diarytrial.randomization.urls")),
    path("studies/<slug:study>/database/", include("diarytrial.exports.urls")),
    path("studies/<slug:study>/digest/", include("diarytrial.monitoring.digest.urls")),
    path("d/", include("diarytrial.phone.urls")),
    path("d/", include("diarytrial.reminders.urls")),
    path("healthz", healthz, name="healthz"),
    path("api/", api.urls),
]

# Errors look the same everywhere: an HTML page, or problem details under /api/.
handler400 = "diarytrial.web.error_responses.handler400"
handler403 = "diarytrial.web.error_responses.handler403"
handler404 = "diarytrial.web.error_responses.handler404"
handler500 = "diarytrial.web.error_responses.handler500"
