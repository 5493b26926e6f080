"""How a page shows an audit event's changes: through `audit.redaction`, blinded by default."""

from __future__ import annotations

from typing import Any

from django import template

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.redaction import redacted_changes

register = template.Library()


@register.filter
def changes_for(event: AuditEvent, unblinded: bool | None = False) -> list[dict[str, Any]]:
    """The changes of `event` a reader may see: allocation hidden unless `unblinded`."""
    return redacted_changes(event, unblinded=bool(unblinded))
