"""How a page shows an audit event's changes: through `audit.redaction`, blinded by default,
and in words (`audit.wording`)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import template

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.redaction import redacted_changes
from diarytrial.audit.wording import AuditReading, WordedChange

register = template.Library()


@register.filter
def changes_for(event: AuditEvent, unblinded: bool | None = False) -> list[dict[str, Any]]:
    """The changes of `event` a reader may see: allocation hidden unless `unblinded`."""
    return redacted_changes(event, unblinded=bool(unblinded))


@register.simple_tag
def worded_changes(
    event: AuditEvent, unblinded: bool | None = False, zone: ZoneInfo | str | None = None
) -> tuple[WordedChange, ...]:
    """The changes of `event` in words, allocation hidden unless `unblinded`, moments in the
    page's `zone` (UTC when the page gives none); reads nothing from the database (one event
    at a time: labels from the apps' registered wording only).

        {% worded_changes event unblinded page_zone as changes %}
    """
    if isinstance(zone, str):
        zone = ZoneInfo(zone) if zone else None
    reading = AuditReading(zone=zone, unblinded=bool(unblinded), lookups=False)
    return reading.word(event).changes
