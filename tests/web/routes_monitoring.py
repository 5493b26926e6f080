"""Route-matrix rows of the monitoring app: the study dashboard, for the site team only."""

from __future__ import annotations

from tests.web.matrix import CARE, RouteCase, study_page, study_url

ROUTES: dict[str, RouteCase] = {
    # Coordinators and investigators; every other role is refused (403).
    "monitoring:dashboard": RouteCase(
        url=study_url("monitoring:dashboard"), expected=study_page(allowed=CARE)
    ),
}
