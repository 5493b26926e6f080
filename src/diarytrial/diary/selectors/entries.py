"""Reads of a participant's diary entries and end-of-period answers: the entries by date
(`diary_entry_list`, `diary_entry_get`, `diary_entry_answers`), the PGIC answers and blinding
guesses, an entry or one upload as the phone sees it (`EntryView`, `diary_upload_view`,
`diary_submission_view`), and the participant's own history (`diary_history`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from diarytrial.diary.models import (
    BlindingGuess,
    DiaryAnswer,
    DiaryEntry,
    DiarySubmission,
    EntryStatus,
    PgicAnswer,
    SideEffectReport,
)
from diarytrial.participants.models import Participant


def diary_entry_list(
    *, participant: Participant, since: dt.date | None = None
) -> QuerySet[DiaryEntry]:
    """The participant's entries by diary date (from `since`), answers and side effects loaded."""
    rows = DiaryEntry.objects.filter(participant=participant)
    if since is not None:
        rows = rows.filter(diary_date__gte=since)
    return rows.prefetch_related(
        Prefetch("answers", queryset=DiaryAnswer.objects.order_by("item")),
        Prefetch("side_effects", queryset=SideEffectReport.objects.order_by("side_effect")),
    ).order_by("diary_date")


def diary_entry_get(*, participant: Participant, diary_date: dt.date) -> DiaryEntry | None:
    """The participant's entry of `diary_date`, or None when there is none."""
    return diary_entry_list(participant=participant).filter(diary_date=diary_date).first()


def diary_entry_answers(*, entry: DiaryEntry) -> dict[str, float]:
    """The entry's answers, item id -> value."""
    return {answer.item: answer.value for answer in entry.answers.all()}


def pgic_answer_list(*, participant: Participant) -> list[PgicAnswer]:
    """The participant's PGIC answers by visit."""
    return list(PgicAnswer.objects.filter(participant=participant).order_by("visit"))


def blinding_guess_list(*, participant: Participant) -> list[BlindingGuess]:
    """The participant's blinding guesses by visit."""
    return list(BlindingGuess.objects.filter(participant=participant).order_by("visit"))


@dataclass(frozen=True)
class EntryView:
    """A diary entry as the participant's phone sees it.

    `client_id` is the upload whose answers the view shows; `received_at` when the server
    received them (the server's clock).
    """

    client_id: uuid.UUID
    diary_date: dt.date
    late: bool
    status: str
    received_at: dt.datetime
    answers: dict[str, float]
    side_effects: dict[str, str]
    capsule_taken: bool | None


@dataclass(frozen=True)
class HistoryRow:
    """One entry of the participant's own history."""

    diary_date: dt.date
    late: bool
    status: str
    answers: dict[str, float]
    side_effects: dict[str, str]
    capsule_taken: bool | None


def _entry_view(entry: DiaryEntry) -> EntryView:
    latest = entry.submissions.order_by("-received_at", "-id").first()
    return EntryView(
        client_id=latest.client_id if latest is not None else entry.client_id,
        diary_date=entry.diary_date,
        late=entry.late,
        status=entry.status,
        received_at=entry.received_at,
        answers={answer.item: answer.value for answer in entry.answers.all()},
        side_effects={
            report.side_effect: report.unpleasantness for report in entry.side_effects.all()
        },
        capsule_taken=entry.capsule_taken,
    )


def diary_upload_view(*, participant: Participant, client_id: uuid.UUID) -> EntryView | None:
    """What the participant's upload `client_id` recorded, or None when they made no such upload.

    Built from the upload itself, not from the entry as it is now, so that the same upload
    sent again is answered with exactly the same view, whatever happened to the entry since.
    """
    upload = (
        DiarySubmission.objects.select_related("entry")
        .filter(client_id=client_id, entry__participant=participant)
        .order_by("pk")
        .first()
    )
    return None if upload is None else diary_submission_view(upload)


def diary_submission_view(upload: DiarySubmission) -> EntryView:
    """The view of one upload (its `entry` loaded): what it recorded, as it was sent."""
    content = upload.content
    return EntryView(
        client_id=upload.client_id,
        diary_date=upload.entry.diary_date,
        late=upload.late,
        status=EntryStatus.SUBMITTED,
        received_at=upload.received_at,
        answers={str(k): float(v) for k, v in sorted(content["answers"].items())},
        side_effects={str(k): str(v) for k, v in sorted(content["side_effects"].items())},
        capsule_taken=content["capsule_taken"],
    )


def diary_history(*, participant: Participant) -> list[HistoryRow]:
    """The participant's own entries, newest first, in three queries however many there are."""
    return [
        HistoryRow(
            diary_date=entry.diary_date,
            late=entry.late,
            status=entry.status,
            answers={answer.item: answer.value for answer in entry.answers.all()},
            side_effects={
                report.side_effect: report.unpleasantness for report in entry.side_effects.all()
            },
            capsule_taken=entry.capsule_taken,
        )
        for entry in diary_entry_list(participant=participant).reverse()
    ]
