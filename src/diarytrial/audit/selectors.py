"""Reading the audit trail: a record's history, and the verification of the hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.services import GENESIS_HASH, event_hash


def audit_history(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """Every event of `obj`, oldest first."""
    meta = obj._meta
    return AuditEvent.objects.filter(
        object_type=f"{meta.app_label}.{meta.model_name}", object_id=str(obj.pk)
    ).select_related("actor")


@dataclass(frozen=True)
class ChainCheck:
    """The result of verifying the chain: `broken_at` is the first bad event's id, if any."""

    checked: int
    broken_at: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_verify(*, batch: int = 2000) -> ChainCheck:
    """Recompute every event's hash and link, oldest first; stop at the first broken link."""
    previous = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        events = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not events:
            return ChainCheck(checked=checked, broken_at=None, problem=None)
        for event in events:
            if event.previous_hash != previous:
                return ChainCheck(
                    checked,
                    event.pk,
                    f"event {event.pk} does not follow the event before it: an event was "
                    "removed or inserted before it",
                )
            if event_hash(event) != event.hash:
                return ChainCheck(
                    checked,
                    event.pk,
                    f"event {event.pk} does not match its hash: its content was altered",
                )
            previous = event.hash
            checked += 1
        last_id = events[-1].pk
