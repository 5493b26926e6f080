"""Writing the audit trail. Every service that changes trial data calls `audit_record` inside
its own transaction, so the change and its event are committed, or rolled back, together.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction, AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
"""The `previous_hash` of the first event."""

SYSTEM = "system"


def jsonable(value: Any) -> Any:
    """`value` as plain JSON: dates and times in ISO 8601, decimals and ids as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 of the event's content and the hash of the event before it."""
    content = {
        "previous_hash": event.previous_hash,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "study": event.study_slug,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "reason": event.reason,
    }
    # The participant joined the event in migration 0005. It is hashed only when set, so the
    # events written before (none set) keep the hashes they were written with, and a changed
    # or removed participant of a newer event breaks its hash.
    if event.participant_code:
        content["participant"] = event.participant_code
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: AuditAction,
    obj: models.Model,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str = "",
    study_slug: str = "",
    actor_label: str | None = None,
    participant_code: str | None = None,
) -> AuditEvent:
    """Append one event for `obj`; must run inside the transaction that changed `obj`.

    `changes` maps each field to its (old, new) value (old is None on create). `actor_label`
    overrides how the actor is named (e.g. a participant's code for an entry from their phone).
    `participant_code` names the participant the event concerns; when None it is found from
    `obj` (`concerned_participant`): the participant itself, or the record's ``participant``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "audit_record must run inside the transaction of the write it records "
            "(wrap the service in transaction.atomic)"
        )
    label = actor_label or (actor.get_username() if actor is not None else SYSTEM)
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_hash": GENESIS_HASH}
    )
    meta = obj._meta
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.pk is not None else None,  # type: ignore[misc]
        actor_label=label[:150],
        action=action,
        study_slug=study_slug,
        object_type=f"{meta.app_label}.{meta.model_name}",
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        participant_code=(
            participant_code if participant_code is not None else concerned_participant(obj)
        )[:20],
        changes=[
            {"field": field, "old": jsonable(old), "new": jsonable(new)}
            for field, (old, new) in (changes or {}).items()
        ],
        reason=reason,
        previous_hash=head.last_hash,
    )
    event.hash = event_hash(event)
    event.save()
    head.last_hash = event.hash
    head.last_event_id = event.pk
    head.save(update_fields=["last_hash", "last_event_id"])
    return event


def concerned_participant(obj: models.Model) -> str:
    """The code of the participant `obj` concerns: `obj` itself when it is a participant, else
    the participant its ``participant`` foreign key names; empty for any other record.

    Duck-typed on the model's label and field so that the trail's lowest layer imports no app.
    """
    meta = obj._meta
    if f"{meta.app_label}.{meta.model_name}" == "participants.participant":
        return str(getattr(obj, "code", "") or "")
    try:
        field = meta.get_field("participant")
    except FieldDoesNotExist:
        return ""
    if not field.is_relation or getattr(obj, f"{field.name}_id", None) is None:
        return ""
    return str(getattr(getattr(obj, field.name), "code", "") or "")


def changed_fields(
    obj: models.Model, before: Mapping[str, Any], fields: list[str]
) -> dict[str, tuple[Any, Any]]:
    """The (old, new) pairs of `fields` whose value in `obj` differs from `before`."""
    out: dict[str, tuple[Any, Any]] = {}
    for field in fields:
        new = getattr(obj, field)
        if before.get(field) != new:
            out[field] = (before.get(field), new)
    return out


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The current values of `fields` of `obj`, to compare after a change."""
    return {field: getattr(obj, field) for field in fields}
