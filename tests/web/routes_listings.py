"""Route-matrix rows of the study-wide listings and their CSV downloads: participants and
adverse events for every role of the study, side effects to confirm for coordinators and
investigators (each sees only the rows of their sites)."""

from __future__ import annotations

from tests.web.matrix import CARE, RouteCase, study_page, study_url

ROUTES: dict[str, RouteCase] = {
    "participants:csv": RouteCase(url=study_url("participants:csv"), expected=study_page()),
    "adverse_events:list": RouteCase(url=study_url("adverse_events:list"), expected=study_page()),
    "adverse_events:csv": RouteCase(url=study_url("adverse_events:csv"), expected=study_page()),
    "side_effects:csv": RouteCase(
        url=study_url("side_effects:csv"), expected=study_page(allowed=CARE)
    ),
}
