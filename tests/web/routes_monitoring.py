"""Route-matrix rows of the monitoring app: the study dashboard and its JSON, for the site
team only (coordinators and investigators)."""

from __future__ import annotations

from tests.web.matrix import (
    ANONYMOUS,
    CARE,
    PARTICIPANT,
    SIGNED_IN,
    RouteCase,
    study_page,
    study_url,
)

ROUTES: dict[str, RouteCase] = {
    # Every other role is refused (403).
    "monitoring:dashboard": RouteCase(
        url=study_url("monitoring:dashboard"), expected=study_page(allowed=CARE)
    ),
    # The staff's JSON: a problem instead of the sign-in page; a phone's cookie is no way in.
    "api:study_dashboard": RouteCase(
        url=study_url("api:study_dashboard"),
        expected={
            ANONYMOUS: 401,
            **dict.fromkeys(SIGNED_IN, 403),
            **dict.fromkeys(CARE, 200),
            PARTICIPANT: 401,
        },
    ),
}
