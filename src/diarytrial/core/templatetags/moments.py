"""Template filters that show a stored (UTC) moment in the page's zone.

    {% load moments %}
    {{ event.occurred_at|moment:page_zone }}
        -> <time datetime="...">2026-12-06 19:30 UTC-08:00</time>
    {{ participant.screened_at|day:page_zone }}
        -> <time datetime="...">2026-12-06</time>
    {{ change.new|moment_or_value:page_zone }}
        -> a moment the audit trail stored as text shown like `moment`; any other value as is

`page_zone` is what the view puts in the context (``studies.zones.staff_zone`` for staff pages);
the page states it (``{{ page_zone|zone_name }}``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from diarytrial.core.moments import day_text, in_zone, moment_text, stored_moment, zone_text

register = template.Library()

Zone = zoneinfo.ZoneInfo | str | None


@register.filter
def moment(value: dt.datetime | None, zone: Zone) -> SafeString | str:
    """The moment's date, time and UTC offset in `zone`, as an HTML ``<time>``."""
    if value is None:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>', in_zone(value, zone).isoformat(), moment_text(value, zone)
    )


@register.filter
def day(value: dt.datetime | None, zone: Zone) -> SafeString | str:
    """The date of the moment in `zone`, as an HTML ``<time>``."""
    if value is None:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>', in_zone(value, zone).isoformat(), day_text(value, zone)
    )


@register.filter
def zone_name(zone: Zone, at: dt.datetime | None = None) -> str:
    """The zone's name with its offset now (or at `at`), for the page's "Times in ..." line."""
    return zone_text(zone, at or timezone.now())


@register.filter
def moment_or_value(value: object, zone: Zone) -> object:
    """A moment stored as ISO 8601 text (an audit event's old or new value) shown like
    `moment`; any other value unchanged."""
    found = stored_moment(value)
    return value if found is None else moment(found, zone)
