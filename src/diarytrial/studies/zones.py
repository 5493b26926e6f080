"""The zone a staff page shows its dates and times in (stored times stay UTC).

A page about one participant or one site uses that site's zone. A page over several sites
uses their zone when they share one, and UTC otherwise; every page states its zone.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable

from diarytrial.studies.models import Site

UTC = zoneinfo.ZoneInfo("UTC")


def staff_zone(*, site: Site | None = None, sites: Iterable[Site] = ()) -> zoneinfo.ZoneInfo:
    """The zone of `site`, or of all `sites` when they share one; UTC otherwise."""
    if site is not None:
        return zoneinfo.ZoneInfo(site.timezone)
    zones = {s.timezone for s in sites}
    return zoneinfo.ZoneInfo(zones.pop()) if len(zones) == 1 else UTC
