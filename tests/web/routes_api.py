"""Route-matrix rows of the JSON API (/api/): the participant's phone only, docs for anyone.

Staff sessions are no way in: the diary endpoints know the device cookie only, so every staff
role gets what anonymous gets (401, a problem document). Addresses that only take other methods
answer GET with 405 for everyone, before anyone is asked who they are.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from tests.web.matrix import PARTICIPANT, ROLES, MatrixWorld, RouteCase, everyone


def _phone_only(status: int = 200) -> dict[str, int]:
    return {**dict.fromkeys(ROLES, 401), PARTICIPANT: status}


def _api(name: str) -> RouteCase:
    return RouteCase(url=lambda world: reverse(f"api:{name}"), expected=_phone_only())


def _correct_url(world: MatrixWorld) -> str:
    return reverse("api:diary_entry_correct", kwargs={"diary_date": dt.date.today().isoformat()})


ROUTES: dict[str, RouteCase] = {
    "api:openapi-json": RouteCase(
        url=lambda world: reverse("api:openapi-json"), expected=everyone(200)
    ),
    "api:openapi-view": RouteCase(
        url=lambda world: reverse("api:openapi-view"), expected=everyone(200)
    ),
    "api:api-root": RouteCase(url=lambda world: reverse("api:api-root"), expected=everyone(404)),
    # Every other address under /api/: a 404 problem, whatever the method, DEBUG or who asks.
    "api:not_found": RouteCase(url=lambda world: "/api/no-such-address", expected=everyone(404)),
    "api:diary_form": _api("diary_form"),
    "api:diary_entry_list": _api("diary_entry_list"),
    "api:diary_progress": _api("diary_progress"),
    # Same address as the list (its GET is the row above): posted as an empty form (the test
    # client's default), the body is refused once the phone is known: it is not JSON (415).
    "api:diary_entry_submit": RouteCase(
        url=lambda world: reverse("api:diary_entry_submit"),
        expected=_phone_only(415),
        method="post",
    ),
    "api:diary_entry_correct": RouteCase(url=_correct_url, expected=everyone(405)),
    "api:diary_pgic": RouteCase(
        url=lambda world: reverse("api:diary_pgic"), expected=everyone(405)
    ),
    "api:diary_blinding": RouteCase(
        url=lambda world: reverse("api:diary_blinding"), expected=everyone(405)
    ),
}
