"""The zone of the page answering a request (``page_zone`` in every template).

The zone of the site the page is about, when the view named one with `page_site_set` (every
page of a participant does, through ``participants.pages.participant_of_reader``), else of
the sites the reader sees in the request's study (``studies.zones.staff_zone``), and UTC
outside a study. A view may also put its own ``page_zone`` in its context, which wins over
the processor's.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest

from diarytrial.studies.access import sites_visible_to
from diarytrial.studies.models import Site, Study
from diarytrial.studies.zones import UTC, staff_zone


def page_site_set(request: HttpRequest, site: Site) -> None:
    """Say that the page answering `request` is about `site`: it shows times in its zone."""
    request.page_site = site  # type: ignore[attr-defined]


def page_zone_context(request: HttpRequest) -> dict[str, Callable[[], zoneinfo.ZoneInfo]]:
    """Context processor: ``page_zone``, the zone of the site the page is about
    (`page_site_set`), else of the sites the reader sees in the request's study (`staff_zone`),
    UTC outside a study.

    The template calls it (a callable in the context) the first time it reads ``page_zone``;
    it reads the sites then, once, and never on a page that shows no time or whose view gave
    its own ``page_zone``.
    """

    @functools.cache
    def page_zone() -> zoneinfo.ZoneInfo:
        site = getattr(request, "page_site", None)
        if isinstance(site, Site):
            return staff_zone(site=site)
        study = getattr(request, "study", None)
        if not isinstance(study, Study):
            return UTC
        return staff_zone(sites=sites_visible_to(request.user, study))

    return {"page_zone": page_zone}
