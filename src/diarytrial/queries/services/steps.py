"""The steps of a query's life: raise, answer, close, re-open. Each is one transaction that
writes the query, its message and its audit event together.

Lock order: the study's row (`require_unlocked`), the query's row, the audit chain head.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.diary.models import BlindingGuess, DiaryEntry, PgicAnswer
from diarytrial.participants.models import Participant
from diarytrial.queries.access import ANSWER_ROLES, RAISE_ROLES, require_site_role
from diarytrial.queries.errors import (
    QueryStateError,
    QueryTargetInvalidError,
    QueryTextInvalidError,
)
from diarytrial.queries.models import (
    TARGET_FIELDS,
    TEXT_MAX_LENGTH,
    DataQuery,
    MessageKind,
    ParticipantField,
    QueryKind,
    QueryMessage,
    QueryStatus,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.studies.services import require_unlocked

Status = QueryStatus


def query_text_check(text: str, what: str) -> str:
    """`text` stripped; QueryTextInvalidError when empty or over `TEXT_MAX_LENGTH`."""
    clean = text.strip() if isinstance(text, str) else ""
    if not clean:
        raise QueryTextInvalidError(f"Write the {what}: a query's thread keeps every message.")
    if len(clean) > TEXT_MAX_LENGTH:
        raise QueryTextInvalidError(
            f"The {what} has {len(clean)} characters; a message has at most {TEXT_MAX_LENGTH}. "
            f"Shorten it.",
            extra={"length": len(clean), "max_length": TEXT_MAX_LENGTH},
        )
    return clean


def _target_check(
    participant: Participant,
    kind: str,
    records: dict[str, models.Model | None],
    participant_field: str,
) -> None:
    """The record of `kind` is given and is the participant's; no other record is given."""
    if kind not in QueryKind.values:
        raise QueryTargetInvalidError(
            f"A query is about one of: {', '.join(QueryKind.values)} (got {kind!r})."
        )
    own = TARGET_FIELDS.get(kind)
    others = sorted(name for name, record in records.items() if record is not None and name != own)
    if others:
        raise QueryTargetInvalidError(
            f"A query on the {QueryKind(kind).label.lower()} names no {', '.join(others)}."
        )
    if own is None:
        if participant_field not in ParticipantField.values:
            raise QueryTargetInvalidError(
                f"Name the part of {participant.code}'s record the query is about: one of "
                f"{', '.join(ParticipantField.values)} (got {participant_field!r}).",
                extra={"participant": participant.code},
            )
        return
    if participant_field:
        raise QueryTargetInvalidError(
            f"A query on the {QueryKind(kind).label.lower()} names no participant field."
        )
    record = records[own]
    if record is None or getattr(record, "participant_id", None) != participant.pk:
        raise QueryTargetInvalidError(
            f"Name the {QueryKind(kind).label.lower()} of {participant.code} the query is about.",
            extra={"participant": participant.code},
        )


def _message(query: DataQuery, kind: MessageKind, text: str, actor: User) -> QueryMessage:
    return QueryMessage.objects.create(query=query, kind=kind, author=actor, text=text)


def _locked(query: DataQuery) -> DataQuery:
    return (
        DataQuery.objects.select_for_update().select_related("participant__study").get(pk=query.pk)
    )


def _move(
    query: DataQuery,
    *,
    kind: MessageKind,
    text: str,
    actor: User,
    allowed_from: tuple[QueryStatus, ...],
    to: QueryStatus,
    refusal: str,
) -> DataQuery:
    """Move the locked `query` to `to` with a message and its audit event."""
    if query.status not in allowed_from:
        raise QueryStateError(
            f"Query {query.pk} is {QueryStatus(query.status).label.lower()}: {refusal}",
            extra={"query": query.pk, "status": query.status},
        )
    old = query.status
    query.status = to
    query.updated_at = timezone.now()
    query.save(update_fields=["status", "updated_at"])
    _message(query, kind, text, actor)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=query,
        study_slug=query.participant.study.slug,
        changes={"status": (old, to), kind.value: (None, text)},
    )
    return query


def _sync(target: DataQuery, source: DataQuery) -> DataQuery:
    target.status = source.status
    target.updated_at = source.updated_at
    return source


@transaction.atomic
def query_raise(
    *,
    participant: Participant,
    kind: str,
    text: str,
    actor: User,
    diary_entry: DiaryEntry | None = None,
    adverse_event: AdverseEvent | None = None,
    pgic_answer: PgicAnswer | None = None,
    blinding_guess: BlindingGuess | None = None,
    participant_field: str = "",
) -> DataQuery:
    """Raise a query about one record of `participant` (the record of `kind`; for a
    participant query, `participant_field`), with the question in `text`.

    Refuses: StudyLockedError, PermissionDeniedError (a role that does not raise, or another
    site's participant), QueryTargetInvalidError (no record, another participant's, two
    records), QueryTextInvalidError (empty, too long).
    """
    study = participant.study
    require_unlocked(study)
    require_site_role(actor, participant, *RAISE_ROLES)
    clean = query_text_check(text, "question")
    records: dict[str, models.Model | None] = {
        "diary_entry": diary_entry,
        "adverse_event": adverse_event,
        "pgic_answer": pgic_answer,
        "blinding_guess": blinding_guess,
    }
    _target_check(participant, kind, records, participant_field)
    query = DataQuery(
        study=study,
        participant=participant,
        kind=kind,
        participant_field=participant_field,
        raised_by=actor,
        **records,
    )
    query.full_clean()
    query.save()
    _message(query, MessageKind.RAISE, clean, actor)
    own = TARGET_FIELDS.get(kind)
    changes: dict[str, tuple[object, object]] = {
        "participant": (None, participant.code),
        "kind": (None, kind),
    }
    if own is None:
        changes["participant_field"] = (None, participant_field)
    else:
        changes[own] = (None, records[own])
    changes["status"] = (None, QueryStatus.OPEN)
    changes["raise"] = (None, clean)
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=query, study_slug=study.slug, changes=changes
    )
    return query


@transaction.atomic
def query_answer(*, query: DataQuery, text: str, actor: User) -> DataQuery:
    """The site answers an open query; it waits for its raiser then.

    Refuses: StudyLockedError, PermissionDeniedError (not the coordinator or investigator of
    the participant's site), QueryStateError (answered or closed), QueryTextInvalidError.
    """
    require_unlocked(query.study)
    require_site_role(actor, query.participant, *ANSWER_ROLES)
    clean = query_text_check(text, "answer")
    current = _locked(query)
    return _sync(
        query,
        _move(
            current,
            kind=MessageKind.ANSWER,
            text=clean,
            actor=actor,
            allowed_from=(Status.OPEN,),
            to=Status.ANSWERED,
            refusal="only an open query is answered. Its raiser re-opens it if more is needed.",
        ),
    )


def _require_raiser(query: DataQuery, actor: User, verb: str) -> None:
    require_site_role(actor, query.participant, *RAISE_ROLES)
    if query.raised_by_id != actor.pk:
        raise PermissionDeniedError(
            f"Only the member who raised query {query.pk} {verb} it; answer it instead, or "
            f"ask them.",
            extra={"query": query.pk},
        )


@transaction.atomic
def query_close(*, query: DataQuery, text: str, actor: User) -> DataQuery:
    """The raiser closes the query (answered, or open when raised in error), saying why.

    Refuses: StudyLockedError, PermissionDeniedError (not its raiser), QueryStateError
    (closed already), QueryTextInvalidError.
    """
    require_unlocked(query.study)
    _require_raiser(query, actor, "closes")
    clean = query_text_check(text, "closing note")
    current = _locked(query)
    return _sync(
        query,
        _move(
            current,
            kind=MessageKind.CLOSE,
            text=clean,
            actor=actor,
            allowed_from=(Status.OPEN, Status.ANSWERED),
            to=Status.CLOSED,
            refusal="it is closed already.",
        ),
    )


@transaction.atomic
def query_reopen(*, query: DataQuery, text: str, actor: User) -> DataQuery:
    """The raiser re-opens an answered or closed query, saying what is still needed.

    Refuses: StudyLockedError, PermissionDeniedError (not its raiser), QueryStateError
    (open already), QueryTextInvalidError.
    """
    require_unlocked(query.study)
    _require_raiser(query, actor, "re-opens")
    clean = query_text_check(text, "reason to re-open")
    current = _locked(query)
    return _sync(
        query,
        _move(
            current,
            kind=MessageKind.REOPEN,
            text=clean,
            actor=actor,
            allowed_from=(Status.ANSWERED, Status.CLOSED),
            to=Status.OPEN,
            refusal="it is open already and waits for the site's answer.",
        ),
    )
