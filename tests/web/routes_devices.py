"""Route-matrix rows of the devices app's staff pages (a participant's phones)."""

from __future__ import annotations

from django.urls import reverse
from tests.builders import make_device, make_participant
from tests.web.matrix import CARE, COORDINATOR, MatrixWorld, RouteCase, participant_url, study_page


def _revoke_url(world: MatrixWorld) -> str:
    participant = make_participant(study=world.study, site=world.sites[1])
    device, _ = make_device(participant)
    return reverse(
        "devices:revoke",
        kwargs={"study": world.study.slug, "participant": participant.code, "device": device.pk},
    )


ROUTES: dict[str, RouteCase] = {
    "devices:list": RouteCase(
        url=participant_url("devices:list"), expected=study_page(allowed=CARE)
    ),
    "devices:link": RouteCase(
        url=participant_url("devices:link"), expected=study_page(allowed=CARE)
    ),
    # At the coordinator's other site: 404 for them, as every participant page.
    "devices:revoke": RouteCase(
        url=_revoke_url, expected={**study_page(allowed=CARE), COORDINATOR: 404}
    ),
}
