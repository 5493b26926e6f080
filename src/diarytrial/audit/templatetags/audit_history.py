"""How a page shows an audit event's changes: through `audit.redaction`, blinded by default,
and in words (`audit.wording`)."""

from __future__ import annotations

from typing import Any

from django import template

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.redaction import redacted_changes
from diarytrial.audit.wording import AuditReading, WordedChange

register = template.Library()


@register.filter
def changes_for(event: AuditEvent, unblinded: bool | None = False) -> list[dict[str, Any]]:
    """The changes of `event` a reader may see: allocation hidden unless `unblinded`."""
    return redacted_changes(event, unblinded=bool(unblinded))


@register.filter
def worded_changes(event: AuditEvent, unblinded: bool | None = False) -> tuple[WordedChange, ...]:
    """The changes of `event` in words, allocation hidden unless `unblinded`; reads nothing
    from the database (one event at a time: labels from the apps' registered wording only)."""
    reading = AuditReading(zone=None, unblinded=bool(unblinded), lookups=False)
    return reading.word(event).changes
