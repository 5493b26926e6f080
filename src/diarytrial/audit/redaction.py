"""What of an audit event a blinded reader may see: that it happened, never the allocation.

An event keeps its time, actor, action, record and reason for everyone. Its values are hidden
from a blinded reader (every role but an unblinded pharmacist or statistician, and the Django
admin always) where they carry the allocation:

- every value of an event of a record that *is* allocation: a planned phase (its dates and
  period differ by sequence), an allocation list or slot, a randomization, a kit (its arm and
  dose), a dispensing;
- the fields that name an arm or a sequence on any record.

The hidden value is replaced by `HIDDEN`, so the reader still sees which field changed. Every
page that shows an event's changes goes through here (the admin, and the template
``audit/_changes.html`` with its filter ``changes_for``): pages that list a participant's history
leave allocation records out altogether, and this is the second line of defence.
"""

from __future__ import annotations

from typing import Any

from diarytrial.audit.models import AuditEvent

HIDDEN = "(hidden while blinded)"

ALLOCATION_RECORDS = frozenset(
    {
        "participants.participantphase",
        "randomization.allocationlist",
        "randomization.allocationslot",
        "randomization.randomization",
        "randomization.kit",
        "randomization.kitbatch",
        "randomization.dispensing",
    }
)
"""Records whose every value is allocation: all of their values are hidden."""

ALLOCATION_FIELDS = frozenset(
    {"arm", "arms", "sequence", "sequence_code", "condition", "kit_contents", "contents"}
)
"""Fields that name an arm or a sequence, whatever the record."""


def redacted_changes(event: AuditEvent, *, unblinded: bool) -> list[dict[str, Any]]:
    """The event's ``{field, old, new}`` changes as `unblinded` or blinded reader may see them.

    >>> event = AuditEvent(object_type="randomization.kit", changes=[
    ...     {"field": "arm", "old": None, "new": "ldn"}])
    >>> redacted_changes(event, unblinded=False)
    [{'field': 'arm', 'old': None, 'new': '(hidden while blinded)'}]
    >>> redacted_changes(event, unblinded=True)[0]["new"]
    'ldn'
    """
    changes: list[dict[str, Any]] = list(event.changes or [])
    if unblinded:
        return changes
    whole = event.object_type in ALLOCATION_RECORDS
    return [
        {
            **change,
            "old": _hidden(change.get("old")),
            "new": _hidden(change.get("new")),
        }
        if whole or change.get("field") in ALLOCATION_FIELDS
        else change
        for change in changes
    ]


def event_is_of_allocation(event: AuditEvent) -> bool:
    """True for an event of a record that is allocation (all of its values are hidden)."""
    return event.object_type in ALLOCATION_RECORDS


def _hidden(value: Any) -> Any:
    return None if value is None else HIDDEN
