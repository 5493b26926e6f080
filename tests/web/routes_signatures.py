"""Route-matrix rows of the signing pages: an adverse event's page (where the investigator signs
it off) and a participant's casebook (its sign-off), both for the participant's site team
(coordinators read, investigators sign); a coordinator gets 404 for another site's participant.
The database lock and unlock are signed on their own forms (see the core rows). The certified
copy is the investigator's only."""

from __future__ import annotations

from tests.web.matrix import (
    CARE,
    COORDINATOR,
    INVESTIGATOR,
    RouteCase,
    adverse_event_url,
    participant_url,
    study_page,
    study_url,
)

ROUTES: dict[str, RouteCase] = {
    "safety:adverse_event": RouteCase(
        url=adverse_event_url("safety:adverse_event"), expected=study_page(allowed=CARE)
    ),
    "exports:casebook": RouteCase(
        url=participant_url("exports:casebook", site=1),  # the coordinator's other site
        expected={**study_page(allowed=CARE), COORDINATOR: 404},
    ),
    # The investigator's certified copy: the form (GET); the signed ZIP is a POST.
    "exports:certified_copy": RouteCase(
        url=study_url("exports:certified_copy"), expected=study_page(allowed=(INVESTIGATOR,))
    ),
}
