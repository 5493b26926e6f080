"""Route-matrix rows of the reminders: their API is the participant's phone's only; the
calendar feed needs no cookie, its secret address decides (a wrong one is 404 for anyone)."""

from __future__ import annotations

from django.urls import reverse
from tests.web.matrix import PARTICIPANT, ROLES, MatrixWorld, RouteCase, everyone

from diarytrial.reminders.services import calendar_feed_issue


def _phone_only(status: int = 200) -> dict[str, int]:
    return {**dict.fromkeys(ROLES, 401), PARTICIPANT: status}


def _api(name: str, *, status: int = 200, method: str = "get") -> RouteCase:
    return RouteCase(
        url=lambda world: reverse(f"api:{name}"), expected=_phone_only(status), method=method
    )


def _calendar_url(world: MatrixWorld) -> str:
    issued = calendar_feed_issue(participant=world.participant)
    return reverse("reminders:calendar", kwargs={"token": issued.token})


ROUTES: dict[str, RouteCase] = {
    "api:reminders_settings_get": _api("reminders_settings_get"),
    # Same address as the row above: put empty, the phone's body is refused (422).
    "api:reminders_settings_put": _api("reminders_settings_put", status=422, method="put"),
    # The matrix's site has no Web Push keys.
    "api:reminders_push_key": _api("reminders_push_key", status=503),
    "api:reminders_push_subscribe": RouteCase(
        url=lambda world: reverse("api:reminders_push_subscribe"), expected=everyone(405)
    ),
    "api:reminders_push_unsubscribe": _api("reminders_push_unsubscribe", method="delete"),
    "api:reminders_calendar_create": RouteCase(
        url=lambda world: reverse("api:reminders_calendar_create"), expected=everyone(405)
    ),
    "api:reminders_calendar_delete": _api("reminders_calendar_delete", method="delete"),
    "reminders:calendar": RouteCase(
        url=_calendar_url, expected={**everyone(200), PARTICIPANT: 200}
    ),
}
