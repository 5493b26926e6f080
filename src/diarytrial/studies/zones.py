"""The zone a staff page shows its dates and times in (stored times stay UTC).

A page about one participant or one site uses that site's zone. A page over several sites
uses their zone when they share one, and UTC otherwise; every page states its zone (the staff
layout says "Times in ..." from ``page_zone``).

Every template finds ``page_zone`` through the context processor of ``studies.page_zone``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.utils import timezone

from diarytrial.studies.models import Site

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
