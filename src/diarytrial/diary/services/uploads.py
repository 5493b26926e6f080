"""Writes of the diary app. Each public function is one transaction that writes its rows and
their audit event together; e-mails go out once it commits.

**The server's clock decides.** An upload belongs to the diary date whose window (the
protocol's, in the participant's own time zone) contains the moment the server received it.
Received between windows, it is kept only as a *late* entry: when the device says it was
completed inside a window that closed at most ``late_sync_grace_hours`` before. The device's
clock is recorded, never trusted beyond that.

**Nothing is lost, nothing is counted twice.** An upload carries a client id: the same upload
again returns the entry it made; the same id with other content is a conflict (409). A second
upload for a date inside its window is the participant's own correction and replaces the
answers; after the window closes only staff change an entry (`diary_entry_correct`), with a
reason. Every change lands in the audit trail with old and new values.

Lock order: the study's row (`require_unlocked`), the participant's row, the audit chain head.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.diary.device_time import DeviceTime, device_time_compare
from diarytrial.diary.errors import (
    AlreadyAnsweredError,
    DiaryAnswersInvalidError,
    DiaryClientIdConflictError,
    DiaryDateInvalidError,
    DiaryEntryClosedError,
    DiaryEntryStillOpenError,
    DiaryWindowClosedError,
    PgicAnswerInvalidError,
)
from diarytrial.diary.models import (
    BlindingGuess,
    DiaryAnswer,
    DiaryEntry,
    DiarySubmission,
    EntryStatus,
    GuessChoice,
    PgicAnswer,
    SideEffectReport,
    SubmissionKind,
    Unpleasantness,
)
from diarytrial.diary.notifications import site_coordinator_emails, very_unpleasant_notify
from diarytrial.diary.selectors import diary_day_words, diary_questions_due, diary_when_words
from diarytrial.participants.errors import ParticipantStatusError, ReasonRequiredError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import (
    participant_protocol,
    participant_schedule,
    participant_today,
)
from diarytrial.participants.services import participant_lock
from diarytrial.protocol import (
    Protocol,
    WindowOutOfRangeError,
    diary_date_at,
    next_window_opening,
    window_bounds,
)
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.services import require_unlocked

Status = ParticipantStatus

DIARY_STATUSES = (Status.ENROLLED, Status.RANDOMIZED, Status.ACTIVE)
"""Statuses in which a participant fills the diary. A withdrawn or completed participant's
late uploads are still taken for the dates before withdrawal or up to completion."""


# --- content --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryContent:
    """What one upload says, checked against the protocol and in a canonical form."""

    answers: dict[str, float]
    side_effects: dict[str, str]
    capsule_taken: bool | None

    def as_json(self) -> dict[str, Any]:
        return {
            "answers": dict(sorted(self.answers.items())),
            "side_effects": dict(sorted(self.side_effects.items())),
            "capsule_taken": self.capsule_taken,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DiaryContent:
        return cls(
            answers={str(k): float(v) for k, v in data["answers"].items()},
            side_effects={str(k): str(v) for k, v in data["side_effects"].items()},
            capsule_taken=data["capsule_taken"],
        )


@dataclass(frozen=True)
class ReceivedUpload:
    """What one upload did: its entry, its own record, and whether it created the entry,
    replaced its answers (the participant's correction inside the window) or repeated an
    earlier upload with the same client id and content (nothing written)."""

    entry: DiaryEntry
    submission: DiarySubmission
    outcome: Literal["created", "corrected", "repeated"]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float: off every scale
        return None
    return number if math.isfinite(number) else None


def _answers_check(
    protocol: Protocol, answers: Mapping[str, object], *, partial: bool = False
) -> dict[str, float]:
    """`answers` as floats; DiaryAnswersInvalidError naming every problem."""
    items = {item.id: item for item in protocol.diary.items}
    problems: list[str] = []
    unknown = sorted(set(answers) - set(items))
    if unknown:
        problems.append(
            f"the diary asks no item {', '.join(unknown)} (its items are {', '.join(items)})"
        )
    missing = [i.id for i in protocol.diary.items if i.required and i.id not in answers]
    if missing and not partial:
        problems.append(f"answer every required item; missing: {', '.join(missing)}")
    clean: dict[str, float] = {}
    for item_id, raw in answers.items():
        item = items.get(item_id)
        if item is None:
            continue
        value = _number(raw)
        if value is None or not item.lowest <= value <= item.highest:
            problems.append(
                f"{item_id} must be a number from {item.lowest} to {item.highest} (got {raw!r})"
            )
            continue
        clean[item_id] = value
    if problems:
        raise DiaryAnswersInvalidError(
            "The diary answers cannot be used: " + "; ".join(problems) + ".",
            extra={"problems": problems},
        )
    return clean


def _side_effects_check(protocol: Protocol, side_effects: Mapping[str, object]) -> dict[str, str]:
    listed = [effect.id for effect in protocol.diary.side_effects]
    problems: list[str] = []
    unknown = sorted(set(side_effects) - set(listed))
    if unknown:
        problems.append(
            f"the checklist has no side effect {', '.join(unknown)} "
            f"(it lists {', '.join(listed) or 'none'})"
        )
    clean: dict[str, str] = {}
    for effect_id, raw in side_effects.items():
        if effect_id not in listed:
            continue
        if raw not in Unpleasantness.values:
            problems.append(
                f"how unpleasant {effect_id} was must be one of "
                f"{', '.join(Unpleasantness.values)} (got {raw!r})"
            )
            continue
        clean[effect_id] = str(raw)
    if problems:
        raise DiaryAnswersInvalidError(
            "The side effects cannot be used: " + "; ".join(problems) + ".",
            extra={"problems": problems},
        )
    return clean


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInputError(
            f"{name} must carry its time zone (e.g. 2026-03-02T21:15:00+00:00), not a local "
            f"time without one."
        )
    return value


def _offset_check(offset: dt.timedelta | None) -> None:
    if offset is not None and abs(offset) >= dt.timedelta(hours=24):
        raise InvalidInputError(
            f"The device's UTC offset {offset} is not a time zone's: an offset lies within 24 "
            f"hours of UTC (e.g. -08:00 or +05:30)."
        )


def _client_uuid(client_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(client_id, uuid.UUID):
        return client_id
    try:
        return uuid.UUID(str(client_id))
    except ValueError:
        raise InvalidInputError(
            f"The client id {client_id!r} is not a UUID; the device makes one per entry "
            f"(e.g. 0b8f3c2e-5d1a-4f8e-9c61-3a2b7d4e5f60)."
        ) from None


# --- windows --------------------------------------------------------------------------------------


def _window_date(
    *,
    protocol: Protocol,
    zone: zoneinfo.ZoneInfo,
    received_at: dt.datetime,
    completed_at_device: dt.datetime | None,
    form_date: dt.date | None = None,
) -> tuple[dt.date, bool]:
    """(diary date, late) of an upload received at `received_at`; DiaryWindowClosedError else."""
    diary = protocol.diary
    grace = dt.timedelta(hours=diary.late_sync_grace_hours)
    if form_date is not None:
        try:
            opens, closes = window_bounds(form_date, zone, diary)
        except WindowOutOfRangeError:
            raise DiaryDateInvalidError(
                f"The form date {form_date.isoformat()} is not a date of this diary; send the "
                f"diary_date of the form the server gave you.",
                extra={"diary_date": form_date.isoformat()},
            ) from None
        if opens <= received_at < closes:
            return form_date, False
        if closes <= received_at <= closes + grace:
            return form_date, True
        when = (
            "has not opened yet"
            if received_at < opens
            else (
                f"closed at {diary_when_words(closes, zone)}; an entry is taken up to "
                f"{diary.late_sync_grace_hours} hours after its window closes"
            )
        )
        raise DiaryWindowClosedError(
            f"The diary of {diary_day_words(form_date)} {when}, so this entry cannot be recorded.",
            extra={"next_window_opens": next_window_opening(received_at, zone, diary).isoformat()},
        )
    day = diary_date_at(received_at, zone, diary)
    if day is not None:
        return day, False
    why = "No diary window is open now"
    if completed_at_device is not None:
        claimed = diary_date_at(completed_at_device, zone, diary)
        if claimed is not None:
            _, closes = window_bounds(claimed, zone, diary)
            if closes <= received_at <= closes + grace:
                return claimed, True
            if closes <= received_at:
                why = (
                    f"The entry was completed in the window of {diary_day_words(claimed)}, which "
                    f"closed at {diary_when_words(closes, zone)}; an entry is taken up to "
                    f"{diary.late_sync_grace_hours} hours after its window closes"
                )
    opens = next_window_opening(received_at, zone, diary)
    raise DiaryWindowClosedError(
        f"{why} (it is {diary_when_words(received_at, zone)}, your time), so this diary cannot be "
        f"recorded. The next diary window opens at {diary_when_words(opens, zone)}.",
        extra={"next_window_opens": opens.isoformat()},
    )


def _date_check(participant: Participant, day: dt.date) -> None:
    """Refuse a diary date the participant cannot have: future, outside schedule or status."""
    code = participant.code
    if day > participant_today(participant):
        raise DiaryDateInvalidError(
            f"The diary date {day.isoformat()} is in the future; fill the diary on the "
            f"evening it is for.",
            extra={"participant": code, "diary_date": day.isoformat()},
        )
    status = participant.status
    if status == Status.WITHDRAWN and participant.withdrawn_on is not None:
        if day >= participant.withdrawn_on:
            raise ParticipantStatusError(
                f"Participant {code} withdrew on {participant.withdrawn_on.isoformat()}; "
                f"diaries from that date on are not recorded.",
                extra={"participant": code, "status": status},
            )
    elif status == Status.COMPLETED and participant.completed_on is not None:
        if day > participant.completed_on:
            raise ParticipantStatusError(
                f"Participant {code} completed the trial on "
                f"{participant.completed_on.isoformat()}; later diaries are not recorded.",
                extra={"participant": code, "status": status},
            )
    elif status not in DIARY_STATUSES:
        raise ParticipantStatusError(
            f"Participant {code} is {Status(status).label.lower()}; the diary starts once "
            f"they are enrolled.",
            extra={"participant": code, "status": status},
        )
    start = participant.start_date
    if start is None or day < start:
        raise DiaryDateInvalidError(
            f"The diary date {day.isoformat()} is before participant {code}'s first diary "
            f"day ({start.isoformat() if start else 'not set'}).",
            extra={"participant": code, "diary_date": day.isoformat()},
        )
    phases = participant_schedule(participant=participant)
    if phases and day > phases[-1].end:
        raise DiaryDateInvalidError(
            f"The diary date {day.isoformat()} is after participant {code}'s last diary day "
            f"({phases[-1].end.isoformat()}).",
            extra={"participant": code, "diary_date": day.isoformat()},
        )


# --- entries --------------------------------------------------------------------------------------


def _stored_content(entry: DiaryEntry) -> DiaryContent:
    return DiaryContent(
        answers=dict(entry.answers.values_list("item", "value")),
        side_effects=dict(entry.side_effects.values_list("side_effect", "unpleasantness")),
        capsule_taken=entry.capsule_taken,
    )


def _content_changes(old: DiaryContent, new: DiaryContent) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for item in sorted(set(old.answers) | set(new.answers)):
        before, after = old.answers.get(item), new.answers.get(item)
        if before != after:
            changes[f"answers.{item}"] = (before, after)
    for effect in sorted(set(old.side_effects) | set(new.side_effects)):
        before_s, after_s = old.side_effects.get(effect), new.side_effects.get(effect)
        if before_s != after_s:
            changes[f"side_effects.{effect}"] = (before_s, after_s)
    if old.capsule_taken != new.capsule_taken:
        changes["capsule_taken"] = (old.capsule_taken, new.capsule_taken)
    return changes


def _content_write(entry: DiaryEntry, old: DiaryContent | None, new: DiaryContent) -> None:
    """Make the entry's answer and side-effect rows say `new` (rows absent from it go)."""
    old_answers = old.answers if old else {}
    old_effects = old.side_effects if old else {}
    gone = set(old_answers) - set(new.answers)
    if gone:
        DiaryAnswer.objects.filter(entry=entry, item__in=gone).delete()
    DiaryAnswer.objects.bulk_create(
        DiaryAnswer(entry=entry, item=item, value=value)
        for item, value in new.answers.items()
        if item not in old_answers
    )
    for item, value in new.answers.items():
        if item in old_answers and old_answers[item] != value:
            DiaryAnswer.objects.filter(entry=entry, item=item).update(value=value)
    gone = set(old_effects) - set(new.side_effects)
    if gone:
        SideEffectReport.objects.filter(entry=entry, side_effect__in=gone).delete()
    SideEffectReport.objects.bulk_create(
        SideEffectReport(entry=entry, side_effect=effect, unpleasantness=level)
        for effect, level in new.side_effects.items()
        if effect not in old_effects
    )
    for effect, level in new.side_effects.items():
        if effect in old_effects and old_effects[effect] != level:
            SideEffectReport.objects.filter(entry=entry, side_effect=effect).update(
                unpleasantness=level
            )


def _newly_very(old: DiaryContent | None, new: DiaryContent) -> list[str]:
    before = old.side_effects if old else {}
    return [
        effect
        for effect, level in sorted(new.side_effects.items())
        if level == Unpleasantness.VERY and before.get(effect) != Unpleasantness.VERY
    ]


def _notify_very(participant: Participant, day: dt.date, effects: list[str]) -> None:
    if not effects:
        return
    protocol = participant_protocol(participant)
    labels = {effect.id: effect.label for effect in protocol.diary.side_effects}
    recipients = site_coordinator_emails(participant)
    study_slug, code, site_code = participant.study.slug, participant.code, participant.site.code
    named = [labels.get(effect, effect) for effect in effects]
    transaction.on_commit(
        lambda: very_unpleasant_notify(
            study_slug=study_slug,
            participant_code=code,
            site_code=site_code,
            diary_date=day.isoformat(),
            side_effects=named,
            recipients=recipients,
        )
    )


def _replay(
    submission: DiarySubmission,
    *,
    participant: Participant,
    content: DiaryContent,
    completed_at_device: dt.datetime | None,
) -> ReceivedUpload:
    """The upload seen before, if this is the same upload again; else a 409."""
    entry = submission.entry
    same = (
        entry.participant_id == participant.pk
        and DiaryContent.from_json(submission.content) == content
        and submission.completed_at_device == completed_at_device
    )
    if not same:
        raise DiaryClientIdConflictError(
            f"The client id {submission.client_id} was used for another diary upload with "
            f"different content; nothing was changed. The device must give each new entry "
            f"a new client id.",
            extra={"client_id": str(submission.client_id)},
        )
    return ReceivedUpload(entry=entry, submission=submission, outcome="repeated")


def _submission_find(client_id: uuid.UUID) -> DiarySubmission | None:
    # order_by("pk"): the default ordering would join the participant and study for nothing.
    rows = DiarySubmission.objects.select_related("entry").filter(client_id=client_id)
    return rows.order_by("pk").first()


def diary_entry_submit(
    *,
    participant: Participant,
    client_id: uuid.UUID | str,
    answers: Mapping[str, float],
    side_effects: Mapping[str, str],
    capsule_taken: bool | None,
    completed_at_device: dt.datetime | None,
    received_at: dt.datetime | None = None,
    form_date: dt.date | None = None,
    device_utc_offset: dt.timedelta | None = None,
) -> DiaryEntry:
    """Record a diary upload (`diary_upload_receive`) and return its entry."""
    return diary_upload_receive(
        participant=participant,
        client_id=client_id,
        answers=answers,
        side_effects=side_effects,
        capsule_taken=capsule_taken,
        completed_at_device=completed_at_device,
        received_at=received_at,
        form_date=form_date,
        device_utc_offset=device_utc_offset,
    ).entry


@transaction.atomic
def diary_upload_receive(
    *,
    participant: Participant,
    client_id: uuid.UUID | str,
    answers: Mapping[str, float],
    side_effects: Mapping[str, str],
    capsule_taken: bool | None,
    completed_at_device: dt.datetime | None,
    received_at: dt.datetime | None = None,
    form_date: dt.date | None = None,
    device_utc_offset: dt.timedelta | None = None,
) -> ReceivedUpload:
    """Record a diary upload from `participant`'s device: its entry, its own record, and
    whether it created the entry, replaced its answers or repeated an earlier upload (decided
    under the participant's lock, so two copies sent at once are one creation, one repeat).

    `answers` maps item ids to values on each item's scale (every required item present);
    `side_effects` maps checklist ids to ``not_at_all``, ``somewhat`` or ``very``. The diary
    date is the one whose window contains `received_at` (default: now, the server's clock);
    between windows the upload is kept as a late entry of the window in which the device says
    it was completed, if that window closed at most ``late_sync_grace_hours`` before, and is
    refused otherwise (DiaryWindowClosedError, saying when the next window opens).

    `form_date` is the diary date of the form the server issued and the phone filled (kept
    with an entry filled offline). With it, the server's clock decides against that date's
    window: received inside it, the entry is on time; received after it closed but within
    ``late_sync_grace_hours``, it is late; otherwise it is refused. So an entry filled offline
    on Monday night and uploaded during Tuesday's window stays Monday's.

    `received_at` is for trusted server-side callers (imports, the demo) only: never let a
    device set it.

    `completed_at_device` and `device_utc_offset` (the offset the phone wrote with its time)
    are the phone's claim: recorded on the entry, and flagged when the phone's clock cannot be
    right or its time zone is not the participant's (``diary.device_time``); the entry is kept
    under the server's diary date all the same.

    Refuses: DiaryAnswersInvalidError, DiaryDateInvalidError (future, outside the schedule),
    ParticipantStatusError (not enrolled, after withdrawal or completion), DiaryEntryClosedError
    (the date has an entry and its window closed: staff correct it), DiaryClientIdConflictError
    (client id reused for other content), StudyLockedError. A "very unpleasant" side effect
    e-mails the site's coordinators; it changes nothing by itself.
    """
    client_uuid = _client_uuid(client_id)
    _aware(completed_at_device, "completed_at_device")
    _offset_check(device_utc_offset)
    moment = _aware(received_at, "received_at") or timezone.now()
    protocol = participant_protocol(participant)
    content = DiaryContent(
        answers=_answers_check(protocol, answers),
        side_effects=_side_effects_check(protocol, side_effects),
        capsule_taken=None if capsule_taken is None else bool(capsule_taken),
    )
    try:
        # Shared: uploads of many participants run at once; they meet at the audit chain.
        require_unlocked(participant.study, shared=True)
    except StudyLockedError:
        # A repeated upload is acknowledged even once the study is locked: it changes nothing.
        seen = _submission_find(client_uuid)
        if seen is None:
            raise
        return _replay(
            seen, participant=participant, content=content, completed_at_device=completed_at_device
        )
    locked = participant_lock(participant)
    seen = _submission_find(client_uuid)  # sent before, or a concurrent copy got in first
    if seen is not None:
        return _replay(
            seen, participant=locked, content=content, completed_at_device=completed_at_device
        )
    zone = zoneinfo.ZoneInfo(locked.timezone)
    day, late = _window_date(
        protocol=protocol,
        zone=zone,
        received_at=moment,
        completed_at_device=completed_at_device,
        form_date=form_date,
    )
    _date_check(locked, day)
    device = device_time_compare(
        completed_at_device=completed_at_device,
        device_utc_offset=device_utc_offset,
        received_at=moment,
        window_opens=window_bounds(day, zone, protocol.diary)[0],
        zone=zone,
    )
    entry = (
        DiaryEntry.objects.select_for_update()
        .filter(participant=locked, diary_date=day)
        .order_by("pk")
        .first()
    )
    if entry is None:
        return _entry_create(
            participant=locked,
            day=day,
            client_id=client_uuid,
            zone=zone,
            received_at=moment,
            device=device,
            late=late,
            content=content,
        )
    if late:
        raise DiaryEntryClosedError(
            f"The diary of {diary_day_words(day)} was recorded already and its window has "
            f"closed, so it can no longer be changed from the diary. If an answer is wrong, "
            f"tell the study coordinator: staff can correct it.",
            extra={"participant": locked.code, "diary_date": day.isoformat()},
        )
    return _entry_replace(
        entry=entry,
        participant=locked,
        client_id=client_uuid,
        received_at=moment,
        device=device,
        content=content,
    )


def _entry_create(
    *,
    participant: Participant,
    day: dt.date,
    client_id: uuid.UUID,
    zone: zoneinfo.ZoneInfo,
    received_at: dt.datetime,
    device: DeviceTime,
    late: bool,
    content: DiaryContent,
) -> ReceivedUpload:
    completed_at_device = device.completed_at
    entry = DiaryEntry(
        participant=participant,
        diary_date=day,
        client_id=client_id,
        timezone=zone.key,
        received_at=received_at,
        completed_at_device=completed_at_device,
        **device.entry_fields(),
        late=late,
        capsule_taken=content.capsule_taken,
        status=EntryStatus.SUBMITTED,
        updated_at=timezone.now(),
    )
    # Every value was checked above, and the date and client id are free (under the lock);
    # the database's constraints back this up, so no full_clean() and its queries here.
    entry.save()
    _content_write(entry, None, content)
    submission = DiarySubmission.objects.create(
        entry=entry,
        client_id=client_id,
        kind=SubmissionKind.CREATED,
        received_at=received_at,
        completed_at_device=completed_at_device,
        late=late,
        content=content.as_json(),
    )
    audit_record(
        actor=None,
        actor_label=participant.code,
        action=AuditAction.CREATE,
        obj=entry,
        study_slug=participant.study.slug,
        changes={
            "participant": (None, participant.code),
            "diary_date": (None, day),
            "client_id": (None, client_id),
            "timezone": (None, zone.key),
            "received_at": (None, received_at),
            "completed_at_device": (None, completed_at_device),
            **{field: (None, value) for field, value in device.entry_fields().items()},
            "late": (None, late),
            **_content_changes(DiaryContent({}, {}, None), content),
            "capsule_taken": (None, content.capsule_taken),
        },
    )
    _notify_very(participant, day, _newly_very(None, content))
    return ReceivedUpload(entry=entry, submission=submission, outcome="created")


def _entry_replace(
    *,
    entry: DiaryEntry,
    participant: Participant,
    client_id: uuid.UUID,
    received_at: dt.datetime,
    device: DeviceTime,
    content: DiaryContent,
) -> ReceivedUpload:
    """The participant's own correction inside the window: the new upload's answers replace."""
    completed_at_device = device.completed_at
    old = _stored_content(entry)
    changes = _content_changes(old, content)
    changes["received_at"] = (entry.received_at, received_at)
    device_fields: dict[str, Any] = {"completed_at_device": completed_at_device}
    device_fields.update(device.entry_fields())
    for field, value in device_fields.items():
        if getattr(entry, field) != value:
            changes[field] = (getattr(entry, field), value)
        setattr(entry, field, value)
    _content_write(entry, old, content)
    entry.capsule_taken = content.capsule_taken
    entry.received_at = received_at
    entry.updated_at = timezone.now()
    entry.save(update_fields=["capsule_taken", "received_at", *device_fields, "updated_at"])
    submission = DiarySubmission.objects.create(
        entry=entry,
        client_id=client_id,
        kind=SubmissionKind.CORRECTED,
        received_at=received_at,
        completed_at_device=completed_at_device,
        late=False,
        content=content.as_json(),
    )
    audit_record(
        actor=None,
        actor_label=participant.code,
        action=AuditAction.UPDATE,
        obj=entry,
        study_slug=participant.study.slug,
        changes=changes,
        reason="the participant's own correction inside the diary window",
    )
    _notify_very(participant, entry.diary_date, _newly_very(old, content))
    return ReceivedUpload(entry=entry, submission=submission, outcome="corrected")


@transaction.atomic
def diary_entry_correct(
    *, entry: DiaryEntry, answers: Mapping[str, float], reason: str, actor: User
) -> DiaryEntry:
    """Staff correct answers of `entry` (the items given; the others stay), saying why.

    Refuses without a staff user (PermissionDeniedError) or a reason (ReasonRequiredError),
    while the entry's window is open (DiaryEntryStillOpenError: the participant corrects it
    then), with unknown items or values off the scale (DiaryAnswersInvalidError), or when
    nothing would change (InvalidInputError); nothing changes then. Recorded as an UPDATE with
    the old and new value of each changed item; the entry's status becomes ``corrected``.
    """
    participant = entry.participant
    require_unlocked(participant.study)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDeniedError(
            "A diary entry is corrected by a signed-in staff user only.",
            extra={"participant": participant.code},
        )
    text = reason.strip()
    if not text:
        raise ReasonRequiredError(
            f"Say why the diary of {entry.diary_date.isoformat()} of {participant.code} is "
            f"corrected: the reason is kept in the audit trail with the old and new values."
        )
    locked = participant_lock(participant)
    current = DiaryEntry.objects.select_for_update().get(pk=entry.pk)
    protocol = participant_protocol(locked)
    zone = zoneinfo.ZoneInfo(current.timezone)
    _, closes = window_bounds(current.diary_date, zone, protocol.diary)
    if timezone.now() < closes:
        raise DiaryEntryStillOpenError(
            f"The diary of {diary_day_words(current.diary_date)} is still open until "
            f"{diary_when_words(closes, zone)} ({zone.key}): the participant can change it "
            f"themselves. Correct it after the window closes.",
            extra={"participant": locked.code, "diary_date": current.diary_date.isoformat()},
        )
    clean = _answers_check(protocol, answers, partial=True)
    old = _stored_content(current)
    new = DiaryContent(
        answers={**old.answers, **clean},
        side_effects=old.side_effects,
        capsule_taken=old.capsule_taken,
    )
    changes = _content_changes(old, new)
    if not changes:
        raise InvalidInputError(
            f"The corrected answers are the ones recorded for {entry.diary_date.isoformat()}; "
            f"nothing to change.",
            extra={"participant": locked.code},
        )
    _content_write(current, old, new)
    if current.status != EntryStatus.CORRECTED:
        changes["status"] = (current.status, EntryStatus.CORRECTED)
    current.status = EntryStatus.CORRECTED
    current.updated_at = timezone.now()
    current.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=current,
        study_slug=locked.study.slug,
        changes=changes,
        reason=text,
    )
    entry.status = current.status
    entry.updated_at = current.updated_at
    return current


# --- end-of-period questions ----------------------------------------------------------------------


def _treatment_periods(participant: Participant) -> dict[int, dt.date]:
    """Each treatment period of the participant's schedule with its first day."""
    return {
        phase.period: phase.start
        for phase in participant_schedule(participant=participant)
        if phase.period is not None and phase.period > 0
    }


def _period_answer_check(
    participant: Participant, *, period: int, answered_on: dt.date, allowed: tuple[int, ...]
) -> None:
    code = participant.code
    if participant.status not in (
        Status.RANDOMIZED,
        Status.ACTIVE,
        Status.COMPLETED,
        Status.WITHDRAWN,
    ):
        raise ParticipantStatusError(
            f"Participant {code} is {Status(participant.status).label.lower()}; end-of-period "
            f"questions are answered once they are randomized.",
            extra={"participant": code, "status": participant.status},
        )
    starts = _treatment_periods(participant)
    if period not in allowed or period not in starts:
        raise PgicAnswerInvalidError(
            f"Period {period} is not a period asked about for participant {code}; the "
            f"periods are {', '.join(str(p) for p in allowed if p in starts) or 'none'}.",
            extra={"participant": code, "period": period},
        )
    if answered_on > participant_today(participant):
        raise PgicAnswerInvalidError(
            f"The answer date {answered_on.isoformat()} is in the future.",
            extra={"participant": code},
        )
    if answered_on < starts[period]:
        raise PgicAnswerInvalidError(
            f"The answer date {answered_on.isoformat()} is before period {period} started "
            f"({starts[period].isoformat()}); it is asked at the end of the period.",
            extra={"participant": code, "period": period},
        )


@transaction.atomic
def pgic_answer_record(
    *,
    participant: Participant,
    period: int,
    score: int,
    answered_on: dt.date,
    actor: User | None = None,
) -> PgicAnswer:
    """Record the PGIC (score 1 very much improved ... 7 very much worse) closing `period`.

    `actor` None means the participant answered on their device; a staff user records a paper
    answer. The same answer again returns the recorded one; a different answer for a period
    that has one is refused (AlreadyAnsweredError); periods the protocol does not ask about,
    scores off 1..7 and dates in the future or before the period are refused
    (PgicAnswerInvalidError).
    """
    require_unlocked(participant.study)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 7:
        raise PgicAnswerInvalidError(
            f"The PGIC score must be a whole number from 1 (very much improved) to 7 (very "
            f"much worse); got {score!r}."
        )
    locked = participant_lock(participant)
    protocol = participant_protocol(locked)
    _period_answer_check(
        locked, period=period, answered_on=answered_on, allowed=protocol.pgic_periods()
    )
    existing = PgicAnswer.objects.filter(participant=locked, period=period).first()
    if existing is not None:
        if existing.score == score and existing.answered_on == answered_on:
            return existing
        raise AlreadyAnsweredError(
            f"Participant {locked.code} answered the PGIC of period {period} already (on "
            f"{existing.answered_on.isoformat()}); an answer is given once.",
            extra={"participant": locked.code, "period": period},
        )
    answer = PgicAnswer(
        participant=locked, period=period, score=score, answered_on=answered_on, recorded_by=actor
    )
    _period_answer_save(answer, participant=locked, actor=actor, field="score", value=score)
    return answer


def _period_answer_save(
    row: PgicAnswer | BlindingGuess,
    *,
    participant: Participant,
    actor: User | None,
    field: str,
    value: object,
) -> None:
    """Save an end-of-period answer and its audit event (by the participant when no actor)."""
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        actor_label=None if actor is not None else participant.code,
        action=AuditAction.CREATE,
        obj=row,
        study_slug=participant.study.slug,
        changes={
            "participant": (None, participant.code),
            "period": (None, row.period),
            field: (None, value),
            "answered_on": (None, row.answered_on),
        },
    )


@transaction.atomic
def blinding_guess_record(
    *,
    participant: Participant,
    period: int,
    guess: str,
    answered_on: dt.date,
    actor: User | None = None,
) -> BlindingGuess:
    """Record what the participant believes they took in treatment `period`.

    `guess` is ``drug``, ``placebo`` or ``dont_know``. Like `pgic_answer_record`: once per
    period (the same guess again returns it), `actor` None for the participant's device.
    """
    require_unlocked(participant.study)
    if guess not in GuessChoice.values:
        raise PgicAnswerInvalidError(
            f"The guess must be one of {', '.join(GuessChoice.values)}; got {guess!r}."
        )
    locked = participant_lock(participant)
    periods = tuple(sorted(_treatment_periods(locked)))
    _period_answer_check(locked, period=period, answered_on=answered_on, allowed=periods)
    existing = BlindingGuess.objects.filter(participant=locked, period=period).first()
    if existing is not None:
        if existing.guess == guess and existing.answered_on == answered_on:
            return existing
        raise AlreadyAnsweredError(
            f"Participant {locked.code} gave their guess for period {period} already (on "
            f"{existing.answered_on.isoformat()}); a guess is given once.",
            extra={"participant": locked.code, "period": period},
        )
    row = BlindingGuess(
        participant=locked, period=period, guess=guess, answered_on=answered_on, recorded_by=actor
    )
    _period_answer_save(row, participant=locked, actor=actor, field="guess", value=guess)
    return row


@dataclass(frozen=True)
class PeriodAnswered:
    """An end-of-period answer from the phone, and whether this request recorded it."""

    answer: PgicAnswer | BlindingGuess
    created: bool


@transaction.atomic
def period_answer_from_phone(
    *, participant: Participant, kind: Literal["pgic", "blinding"], period: int, value: int | str
) -> PeriodAnswered:
    """Record the PGIC score or blinding guess the participant gave on their phone.

    A first answer is taken only for a question the diary asks now (`diary_questions_due`),
    refused in words that name no date (PgicAnswerInvalidError): when a period starts or ends
    could tell its length, hence the arm. The same answer sent again returns the recorded one,
    whatever day it comes (`created` False); another answer is AlreadyAnsweredError.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    model: type[PgicAnswer] | type[BlindingGuess] = PgicAnswer if kind == "pgic" else BlindingGuess
    given = model.objects.filter(participant=locked, period=period).first()
    if given is None and not any(
        q.kind == kind and q.period == period for q in diary_questions_due(participant=locked)
    ):
        raise PgicAnswerInvalidError(
            f"There is no question about treatment period {period} to answer now. The diary "
            f"shows the end-of-period questions when they are due.",
            extra={"period": period},
        )
    answered_on = given.answered_on if given is not None else participant_today(locked)
    answer: PgicAnswer | BlindingGuess
    if kind == "pgic":
        answer = pgic_answer_record(
            participant=locked, period=period, score=int(value), answered_on=answered_on
        )
    else:
        answer = blinding_guess_record(
            participant=locked, period=period, guess=str(value), answered_on=answered_on
        )
    return PeriodAnswered(answer=answer, created=given is None)
