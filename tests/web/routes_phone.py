"""Route-matrix rows of the participant's phone pages (``/d/``).

Only a phone with a device cookie opens the diary; everyone else, staff included, gets the calm
401 page (staff sessions are no way into a participant's diary). The enrolment link's confirm
page, the manifest and the service worker are for any browser.
"""

from __future__ import annotations

from django.urls import reverse
from tests.builders import make_user
from tests.web.matrix import PARTICIPANT, MatrixWorld, RouteCase, everyone

from diarytrial.devices.services import enrolment_link_issue


def _enrol_url(world: MatrixWorld) -> str:
    issued = enrolment_link_issue(
        participant=world.participant, actor=make_user(username="link-maker")
    )
    return reverse("phone:enrol", args=[issued.token])


def _phone_only(status: int = 200) -> dict[str, int]:
    return {**everyone(401), PARTICIPANT: status}


ROUTES: dict[str, RouteCase] = {
    "phone:home": RouteCase(url=lambda w: reverse("phone:home"), expected=_phone_only()),
    "phone:history": RouteCase(url=lambda w: reverse("phone:history"), expected=_phone_only()),
    "phone:settings": RouteCase(url=lambda w: reverse("phone:settings"), expected=_phone_only()),
    # A phone without a PIN has nothing to unlock: on to the diary.
    "phone:pin": RouteCase(url=lambda w: reverse("phone:pin"), expected=_phone_only(302)),
    # GET only asks to confirm, so every browser may open it; POST uses the link up.
    "phone:enrol": RouteCase(url=_enrol_url, expected={**everyone(200), PARTICIPANT: 200}),
    "phone:manifest": RouteCase(
        url=lambda w: reverse("phone:manifest"), expected={**everyone(200), PARTICIPANT: 200}
    ),
    "phone:service_worker": RouteCase(
        url=lambda w: reverse("phone:service_worker"),
        expected={**everyone(200), PARTICIPANT: 200},
    ),
}
