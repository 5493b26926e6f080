"""Route-matrix rows of the daily digest's page: the site team and the administrator open it;
a member turns their own digest on or off; the administrator sets a site's time (POST only)."""

from __future__ import annotations

from django.urls import reverse
from tests.web.matrix import (
    ADMINISTRATOR,
    COORDINATOR,
    INVESTIGATOR,
    MatrixWorld,
    RouteCase,
    study_page,
    study_url,
)


def _schedule_url(world: MatrixWorld) -> str:
    return reverse(
        "digest:schedule", kwargs={"study": world.study.slug, "site": world.sites[0].code}
    )


ROUTES: dict[str, RouteCase] = {
    "digest:settings": RouteCase(
        url=study_url("digest:settings"),
        expected=study_page(allowed=(COORDINATOR, INVESTIGATOR, ADMINISTRATOR)),
    ),
    "digest:subscription": RouteCase(
        url=study_url("digest:subscription"),
        expected=study_page(allowed=(COORDINATOR, INVESTIGATOR), status=405),
    ),
    "digest:schedule": RouteCase(
        url=_schedule_url, expected=study_page(allowed=(ADMINISTRATOR,), status=405)
    ),
}
