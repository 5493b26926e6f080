"""Corrections made in answer to a query: `query_correction_link` records, on the query's
thread, the audit event of a correction of the record the query is about; the composed
services correct a diary entry or change an adverse event through their own app's service and
link the correction, in one transaction (either both are recorded or neither is).

The correction services stay in their apps (diary, safety), which know nothing of queries;
this app sits above them and composes.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.selectors import audit_history
from diarytrial.audit.services import audit_record
from diarytrial.diary.services import diary_entry_correct
from diarytrial.queries.access import ANSWER_ROLES, require_site_role
from diarytrial.queries.errors import QueryStateError, QueryTargetInvalidError
from diarytrial.queries.models import (
    TARGET_FIELDS,
    DataQuery,
    MessageKind,
    QueryKind,
    QueryMessage,
    QueryStatus,
)
from diarytrial.safety.services import adverse_event_update
from diarytrial.studies.services import require_unlocked


def _value_words(value: object) -> str:
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _field_words(field: str) -> str:
    # A diary item's answer is recorded as ``answers.<item>``; the item's id reads as a word.
    return field.removeprefix("answers.").replace("_", " ")


def correction_words(event: AuditEvent) -> str:
    """What a correction's audit event changed, in words: ``pain 80 → 20; status ...``."""
    parts = [
        f"{_field_words(change['field'])} {_value_words(change['old'])} → "
        f"{_value_words(change['new'])}"
        for change in event.changes
    ]
    return "; ".join(parts) or "no field changed"


def _record_of(query: DataQuery) -> tuple[str, str] | None:
    """The (object_type, object_id) of the record a correction event of `query` concerns."""
    name = TARGET_FIELDS.get(query.kind)
    if name is None:
        return None
    record = getattr(query, name)
    meta = record._meta
    return f"{meta.app_label}.{meta.model_name}", str(record.pk)


@transaction.atomic
def query_correction_link(*, query: DataQuery, event: AuditEvent, actor: User) -> QueryMessage:
    """Record on `query`'s thread that the change `event` corrected its record.

    The status does not move: the site still answers, and the raiser closes. Refuses:
    StudyLockedError, PermissionDeniedError (not the site's coordinator or investigator),
    QueryStateError (a closed query), QueryTargetInvalidError (the event changed another
    record, or is not a change).
    """
    require_unlocked(query.study)
    require_site_role(actor, query.participant, *ANSWER_ROLES)
    current = DataQuery.objects.select_for_update().get(pk=query.pk)
    if current.status == QueryStatus.CLOSED:
        raise QueryStateError(
            f"Query {current.pk} is closed; a correction is linked to an open or answered "
            f"query. Its raiser re-opens it if needed.",
            extra={"query": current.pk},
        )
    record = _record_of(query)
    if (
        record is None
        or (event.object_type, event.object_id) != record
        or event.action != AuditAction.UPDATE
    ):
        raise QueryTargetInvalidError(
            f"The change to link is not a correction of the record query {current.pk} is about.",
            extra={"query": current.pk, "event": event.pk},
        )
    message = QueryMessage.objects.create(
        query=current,
        kind=MessageKind.CORRECTION,
        author=actor,
        text=correction_words(event),
        correction=event,
    )
    current.updated_at = timezone.now()
    current.save(update_fields=["updated_at"])
    query.updated_at = current.updated_at
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=current,
        study_slug=query.study.slug,
        changes={"correction": (None, event.pk)},
    )
    return message


def _require_kind(query: DataQuery, kind: QueryKind) -> None:
    if query.kind != kind:
        raise QueryTargetInvalidError(
            f"Query {query.pk} concerns the {QueryKind(query.kind).label.lower()}; it cannot "
            f"link a change of the {kind.label.lower()}.",
            extra={"query": query.pk},
        )
    if query.status == QueryStatus.CLOSED:
        raise QueryStateError(
            f"Query {query.pk} is closed; correct the record from its own page, or ask its "
            f"raiser to re-open the query.",
            extra={"query": query.pk},
        )


@transaction.atomic
def query_diary_entry_correct(
    *, query: DataQuery, answers: Mapping[str, float], reason: str, actor: User
) -> QueryMessage:
    """Correct the diary entry `query` is about (`diary_entry_correct`) and link the
    correction to the query (`query_correction_link`), in one transaction."""
    require_unlocked(query.study)
    require_site_role(actor, query.participant, *ANSWER_ROLES)
    _require_kind(query, QueryKind.DIARY_ENTRY)
    entry = query.diary_entry
    assert entry is not None  # the check constraint holds it for this kind
    diary_entry_correct(entry=entry, answers=answers, reason=reason, actor=actor)
    event = audit_history(entry).order_by("-id").first()
    assert event is not None  # diary_entry_correct wrote it
    return query_correction_link(query=query, event=event, actor=actor)


@transaction.atomic
def query_adverse_event_update(
    *, query: DataQuery, changes: Mapping[str, object], reason: str, actor: User
) -> QueryMessage:
    """Change the adverse event `query` is about (`adverse_event_update`) and link the change
    to the query (`query_correction_link`), in one transaction."""
    require_unlocked(query.study)
    require_site_role(actor, query.participant, *ANSWER_ROLES)
    _require_kind(query, QueryKind.ADVERSE_EVENT)
    event = query.adverse_event
    assert event is not None  # the check constraint holds it for this kind
    adverse_event_update(event=event, changes=changes, reason=reason, actor=actor)
    recorded = audit_history(event).order_by("-id").first()
    assert recorded is not None  # adverse_event_update wrote it
    return query_correction_link(query=query, event=recorded, actor=actor)
