"""One way to show a moment: in a zone the page states, with the UTC offset beside it.

Stored times are UTC. A page for staff shows them in its zone (the site's; see
``studies.zones.staff_zone``); the phone shows them in the participant's own zone. Every
template goes through the filters of ``core/templatetags/moments.py``, which call these.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

UTC = zoneinfo.ZoneInfo("UTC")


def utc_offset_text(moment: dt.datetime) -> str:
    """``UTC-08:00`` (a real minus sign), ``UTC+05:30``, ``UTC+00:00`` for an aware moment."""
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def in_zone(moment: dt.datetime, zone: zoneinfo.ZoneInfo | str | None) -> dt.datetime:
    """`moment` (aware; a naive one is taken as UTC) seen in `zone` (UTC when None or empty)."""
    if isinstance(zone, str):
        zone = zoneinfo.ZoneInfo(zone) if zone else None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone or UTC)


def moment_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo | str | None) -> str:
    """``2026-12-06 19:30 UTC-08:00``: the moment's date and time in `zone`, and the offset."""
    local = in_zone(moment, zone)
    return f"{local:%Y-%m-%d %H:%M} {utc_offset_text(local)}"


def day_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo | str | None) -> str:
    """``2026-12-06``: the date of `moment` in `zone` (a screening at 03:30 UTC on the 7th is
    on the 6th in California)."""
    return f"{in_zone(moment, zone):%Y-%m-%d}"


def zone_text(zone: zoneinfo.ZoneInfo | str | None, at: dt.datetime) -> str:
    """``America/Los_Angeles (UTC-08:00)``: the zone's name and its offset at `at`."""
    name = str(zone or UTC)
    return f"{name} ({utc_offset_text(in_zone(at, zone))})"


def stored_moment(value: object) -> dt.datetime | None:
    """The moment `value` holds when it is one as the audit trail stores it (ISO 8601 with a
    date, a time and an offset, e.g. ``2026-12-07T03:30:00+00:00``); None for anything else
    (a date, a number, words)."""
    if not isinstance(value, str) or "T" not in value or len(value) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
