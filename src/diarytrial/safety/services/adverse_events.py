"""Adverse events: recording one (from the diary's report of a side effect or not), changing
its fields with a reason, and removing one recorded in error. A serious event e-mails the
investigators once the transaction commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.diary.models import DiaryEntry, SideEffectReport
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Consent, Participant
from diarytrial.participants.selectors import participant_protocol, participant_today
from diarytrial.participants.services import participant_lock, required_reason
from diarytrial.safety.errors import (
    AdverseEventDuplicateError,
    AdverseEventInvalidError,
    AdverseEventRemovedError,
)
from diarytrial.safety.models import (
    ActionTaken,
    AdverseEvent,
    EventStatus,
    Outcome,
    Relatedness,
    Severity,
)
from diarytrial.safety.notifications import investigator_emails, serious_event_notify
from diarytrial.studies.services import require_unlocked

EDITABLE_FIELDS: tuple[str, ...] = (
    "term",
    "side_effect",
    "onset_date",
    "end_date",
    "severity",
    "serious",
    "related",
    "action",
    "outcome",
)
"""The fields `adverse_event_update` may change (not the participant, status or diary link)."""

_CHOICES: dict[str, tuple[str, ...]] = {
    "severity": tuple(Severity.values),
    "related": tuple(Relatedness.values),
    "action": tuple(ActionTaken.values),
    "outcome": tuple(Outcome.values),
}


def _date(value: object, name: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        raise AdverseEventInvalidError(f"The {name} is a date (e.g. 2026-03-02), not a time.")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise AdverseEventInvalidError(f"The {name} {value!r} is not a date; write it as 2026-03-02.")


def _values_check(participant: Participant, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every editable field of an event, checked; AdverseEventInvalidError naming each problem."""
    problems: list[str] = []
    clean: dict[str, Any] = {}
    protocol = participant_protocol(participant)
    checklist = {effect.id: effect.label for effect in protocol.diary.side_effects}
    side_effect = str(values.get("side_effect") or "").strip()
    if side_effect and side_effect not in checklist:
        problems.append(
            f"side effect {side_effect!r} is not on the protocol's checklist "
            f"({', '.join(checklist) or 'none'}); leave it empty for another event"
        )
    clean["side_effect"] = side_effect
    term = str(values.get("term") or "").strip() or checklist.get(side_effect, "")
    if not term:
        problems.append("give the event's term, e.g. Headache")
    elif len(term) > 200:
        problems.append("the term has at most 200 characters")
    clean["term"] = term
    for name, allowed in _CHOICES.items():
        value = values.get(name)
        if value not in allowed:
            problems.append(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
        clean[name] = value
    serious = values.get("serious")
    if not isinstance(serious, bool):
        problems.append(f"serious must be yes or no (got {serious!r})")
    clean["serious"] = serious
    onset = _date(values.get("onset_date"), "onset date")
    end = _date(values.get("end_date"), "end date")
    today = participant_today(participant)
    if onset is None:
        problems.append("give the onset date")
    elif onset > today:
        problems.append(f"the onset date {onset.isoformat()} is in the future")
    else:
        consented = (
            Consent.objects.filter(participant=participant)
            .order_by("consented_on")
            .values_list("consented_on", flat=True)
            .first()
        )
        if consented is not None and onset < consented:
            problems.append(
                f"the onset date {onset.isoformat()} is before consent "
                f"({consented.isoformat()}): record it as medical history, not as an adverse "
                f"event"
            )
    if end is not None and end > today:
        problems.append(f"the end date {end.isoformat()} is in the future; leave it empty")
    if end is not None and onset is not None and end < onset:
        problems.append(f"the end date {end.isoformat()} is before the onset")
    clean["onset_date"], clean["end_date"] = onset, end
    if problems:
        raise AdverseEventInvalidError(
            "The adverse event cannot be recorded: " + "; ".join(problems) + ".",
            extra={"participant": participant.code, "problems": problems},
        )
    return clean


def _notify_serious(event: AdverseEvent, participant: Participant, actor: User | None) -> None:
    recipients = investigator_emails(participant.study)
    values = {
        "study_slug": participant.study.slug,
        "participant_code": participant.code,
        "site_code": participant.site.code,
        "term": event.term,
        "onset_date": event.onset_date.isoformat(),
        "severity": Severity(event.severity).label,
        "outcome": Outcome(event.outcome).label,
        "recorded_by": actor.get_username() if actor is not None else "the system",
    }
    transaction.on_commit(lambda: serious_event_notify(**values, recipients=recipients))


def _diary_link_check(
    participant: Participant, entry: DiaryEntry | None, side_effect: str
) -> DiaryEntry | None:
    if entry is None:
        return None
    if entry.participant_id != participant.pk:
        raise AdverseEventInvalidError(
            f"The diary entry of {entry.diary_date.isoformat()} is another participant's; "
            f"confirm a report from {participant.code}'s own diary.",
            extra={"participant": participant.code},
        )
    reported = SideEffectReport.objects.filter(entry=entry, side_effect=side_effect).exists()
    if not side_effect or not reported:
        raise AdverseEventInvalidError(
            f"The diary of {entry.diary_date.isoformat()} reports no side effect "
            f"{side_effect or '(none named)'}; name the side effect the event confirms.",
            extra={"participant": participant.code},
        )
    if AdverseEvent.objects.filter(
        from_diary_entry=entry, side_effect=side_effect, status=EventStatus.RECORDED
    ).exists():
        raise AdverseEventDuplicateError(
            f"The {side_effect} reported in the diary of {entry.diary_date.isoformat()} is "
            f"recorded as an adverse event already; change that event instead.",
            extra={"participant": participant.code},
        )
    return entry


@transaction.atomic
def adverse_event_record(
    *,
    participant: Participant,
    term: str,
    onset_date: dt.date,
    severity: str,
    serious: bool,
    related: str,
    action: str,
    outcome: str,
    actor: User | None,
    side_effect: str = "",
    end_date: dt.date | None = None,
    from_diary_entry: DiaryEntry | None = None,
) -> AdverseEvent:
    """Record an adverse event of `participant`; a serious one e-mails the investigators.

    `side_effect` is an id of the protocol's checklist (the term defaults to its label) or
    empty; `from_diary_entry` is the diary entry whose report of `side_effect` this confirms.
    Refuses: AdverseEventInvalidError (a value off its list, dates in the future, onset before
    consent or after the end), ParticipantStatusError (never enrolled), AdverseEventDuplicateError
    (the diary report is an event already), StudyLockedError.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    if locked.enrolled_at is None:
        raise ParticipantStatusError(
            f"Participant {locked.code} was never enrolled; adverse events are recorded from "
            f"consent on.",
            extra={"participant": locked.code, "status": locked.status},
        )
    values = _values_check(
        locked,
        {
            "term": term,
            "side_effect": side_effect,
            "onset_date": onset_date,
            "end_date": end_date,
            "severity": severity,
            "serious": serious,
            "related": related,
            "action": action,
            "outcome": outcome,
        },
    )
    entry = _diary_link_check(locked, from_diary_entry, values["side_effect"])
    event = AdverseEvent(participant=locked, from_diary_entry=entry, recorded_by=actor, **values)
    event.full_clean()
    event.save()
    changes: dict[str, tuple[Any, Any]] = {"participant": (None, locked.code)}
    changes.update({name: (None, values[name]) for name in EDITABLE_FIELDS})
    if entry is not None:
        changes["from_diary_entry"] = (None, entry.pk)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=event,
        study_slug=locked.study.slug,
        changes=changes,
    )
    if event.serious:
        _notify_serious(event, locked, actor)
    return event


def _event_lock(event: AdverseEvent) -> tuple[Participant, AdverseEvent]:
    participant = participant_lock(event.participant)
    current = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    if current.status == EventStatus.REMOVED:
        raise AdverseEventRemovedError(
            f"Adverse event {current.pk} ({current.term}) of {participant.code} was removed "
            f"({current.removal_reason}); it cannot change. Record a new event if needed.",
            extra={"participant": participant.code, "event": current.pk},
        )
    return participant, current


def _sync(target: AdverseEvent, source: AdverseEvent) -> None:
    if target is not source:
        for field in AdverseEvent._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def adverse_event_update(
    *, event: AdverseEvent, changes: Mapping[str, object], reason: str, actor: User | None
) -> AdverseEvent:
    """Change fields of a recorded event (`changes`: field -> new value), saying why.

    Only `EDITABLE_FIELDS` change. Recorded as an UPDATE with the old and new value of each
    changed field and the reason. An event that becomes serious e-mails the investigators.
    Refuses: ReasonRequiredError, AdverseEventInvalidError (unknown field, bad value, no
    change), AdverseEventRemovedError, StudyLockedError; nothing changes then.
    """
    require_unlocked(event.participant.study)
    text = required_reason(reason, f"adverse event {event.pk} changes")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise AdverseEventInvalidError(
            f"An adverse event's {', '.join(unknown)} cannot be changed; the fields that "
            f"can are {', '.join(EDITABLE_FIELDS)}.",
            extra={"fields": unknown},
        )
    participant, current = _event_lock(event)
    before = {name: getattr(current, name) for name in EDITABLE_FIELDS}
    values = _values_check(participant, {**before, **changes})
    if current.from_diary_entry_id is not None and values["side_effect"] != current.side_effect:
        raise AdverseEventInvalidError(
            f"Adverse event {current.pk} confirms the diary's report of "
            f"{current.side_effect}; its side effect cannot change. Remove it and record "
            f"another event instead.",
            extra={"event": current.pk},
        )
    changed = {
        name: (before[name], values[name])
        for name in EDITABLE_FIELDS
        if before[name] != values[name]
    }
    if not changed:
        raise AdverseEventInvalidError(
            f"The changes leave adverse event {current.pk} as it is; nothing to change.",
            extra={"event": current.pk},
        )
    for name, (_, new) in changed.items():
        setattr(current, name, new)
    current.updated_at = timezone.now()
    current.full_clean()
    current.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=current,
        study_slug=participant.study.slug,
        changes=changed,
        reason=text,
    )
    if current.serious and not before["serious"]:
        _notify_serious(current, participant, actor)
    _sync(event, current)
    return current


@transaction.atomic
def adverse_event_remove(*, event: AdverseEvent, reason: str, actor: User | None) -> AdverseEvent:
    """Remove an event recorded in error (e.g. a duplicate), saying why; the row stays.

    Recorded as a REMOVE event with the reason. Refuses: ReasonRequiredError,
    AdverseEventRemovedError (removed already), StudyLockedError.
    """
    require_unlocked(event.participant.study)
    text = required_reason(reason, f"adverse event {event.pk} is removed")
    participant, current = _event_lock(event)
    current.status = EventStatus.REMOVED
    current.removal_reason = text
    current.updated_at = timezone.now()
    current.full_clean()
    current.save(update_fields=["status", "removal_reason", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.REMOVE,
        obj=current,
        study_slug=participant.study.slug,
        changes={
            "status": (EventStatus.RECORDED, EventStatus.REMOVED),
            "removal_reason": ("", text),
        },
        reason=text,
    )
    _sync(event, current)
    return current
