"""Reading the audit trail: a record's history, a study's trail filtered, and the verification
of the hash chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import models

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.services import GENESIS_HASH, event_hash


def audit_history(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """Every event of `obj`, oldest first."""
    meta = obj._meta
    return AuditEvent.objects.filter(
        object_type=f"{meta.app_label}.{meta.model_name}", object_id=str(obj.pk)
    ).select_related("actor")


def audit_trail(
    *,
    study_slug: str,
    participants: Collection[str] | models.QuerySet[Any] | None = None,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    participant: str = "",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> models.QuerySet[AuditEvent]:
    """The study's events, newest first, that match every filter given (an empty one is none).

    `participants` limits the trail to events that concern one of those participant codes (a
    reader who sees some sites only): events about no participant (the study's roles, its
    lock) are then left out. `actor` is the name the event shows (a username, or a
    participant's code for their phone); `start` is included, `end` excluded.
    """
    events = AuditEvent.objects.filter(study_slug=study_slug)
    if participants is not None:
        events = events.filter(participant_code__in=participants)
    if participant:
        events = events.filter(participant_code=participant)
    if actor:
        events = events.filter(actor_label=actor)
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if start is not None:
        events = events.filter(occurred_at__gte=start)
    if end is not None:
        events = events.filter(occurred_at__lt=end)
    return events.order_by("-id")


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
