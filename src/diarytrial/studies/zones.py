"""The zone a staff page shows its dates and times in (stored times stay UTC).

A page about one participant or one site uses that site's zone. A page over several sites
uses their zone when they share one, and UTC otherwise; every page states its zone (the staff
layout says "Times in ..." from ``page_zone``).

Every template finds ``page_zone`` through the context processor `page_zone_context`: the
zone of the site the page is about, when the view named one with `page_site_set` (every page
of a participant does, through ``participants.pages.participant_of_reader``), else of the
sites the reader sees in the request's study, and UTC outside a study. A view may also put its
own ``page_zone`` in its context, which wins over the processor's.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable, Iterable

from django.http import HttpRequest
from django.utils import timezone

from diarytrial.studies.access import sites_visible_to
from diarytrial.studies.models import Site, Study

UTC = zoneinfo.ZoneInfo("UTC")


def staff_zone(*, site: Site | None = None, sites: Iterable[Site] = ()) -> zoneinfo.ZoneInfo:
    """The zone of `site`, or of all `sites` when they share one; UTC otherwise."""
    if site is not None:
        return zoneinfo.ZoneInfo(site.timezone)
    zones = {s.timezone for s in sites}
    return zoneinfo.ZoneInfo(zones.pop()) if len(zones) == 1 else UTC


def staff_today(*, sites: Iterable[Site]) -> dt.date:
    """Today's date in the zone of `sites` (`staff_zone`): what a page over them calls today,
    and the date in the name of a file downloaded from it."""
    return timezone.now().astimezone(staff_zone(sites=sites)).date()


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
