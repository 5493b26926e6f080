"""Reads of the diary app. Nothing here names an arm: all of it is blinded-safe."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet

from diarytrial.diary.models import (
    BlindingGuess,
    DiaryAnswer,
    DiaryEntry,
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
    """The participant's PGIC answers by period."""
    return list(PgicAnswer.objects.filter(participant=participant).order_by("period"))


def blinding_guess_list(*, participant: Participant) -> list[BlindingGuess]:
    """The participant's blinding guesses by period."""
    return list(BlindingGuess.objects.filter(participant=participant).order_by("period"))
