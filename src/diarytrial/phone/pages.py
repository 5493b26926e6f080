"""What each phone page shows, built from the diary's selectors (the same the JSON API answers
from), so the pages render on the server and the JavaScript only sends answers.

Nothing here may hint at the arm: the pages show the participant's own answers, dates and
progress (entries against evenings so far, never the length of a period or of the schedule).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any

from diarytrial.diary.models import EntryStatus
from diarytrial.diary.selectors import (
    UNPLEASANTNESS_CHOICES,
    DiaryForm,
    DiaryProgress,
    EntryView,
    HistoryRow,
    diary_day_words,
    diary_form_tonight,
    diary_history,
    diary_progress,
    diary_when_words,
)
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.protocol.schema import Diary

API_BASE = "/api"
"""Where the JSON API the pages send answers to lives (docs: /api/docs)."""

TITLES = {
    "diary": "Tonight's diary",
    "change": "Change tonight's answers",
    "questions": "End of this part of the study",
    "thanks": "Thank you",
    "closed": "The diary is closed now",
    "not_started": "Your diary has not started yet",
    "finished": "Your diary is finished",
    "locked": "The study's diary is closed",
}

LOCKED_MESSAGE = (
    "The study has closed its data for analysis: the diary no longer takes answers. "
    "Thank you for taking part."
)
"""What the phone says once the study's database is locked (every answer would be refused)."""


def number_words(value: float) -> str:
    """An answer as a person writes it: 42, not 42.0."""
    return f"{value:g}"


@dataclass(frozen=True)
class ItemRow:
    """One question of the form, with the answer already given (a correction) or None."""

    id: str
    label: str
    question: str
    scale: str
    min: int
    max: int
    middle: int
    anchors: tuple[str, str]
    required: bool
    value: int | float | None
    points: tuple[int, ...]


@dataclass(frozen=True)
class EffectRow:
    """One line of the side-effect checklist, with how unpleasant it was (a correction)."""

    id: str
    label: str
    level: str | None


@dataclass(frozen=True)
class ProgressView:
    """The participant's own progress, in the words the thank-you screen uses."""

    entries: int
    days_so_far: int
    streak: int
    completion_text: str
    bar_pct: int


def _whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def home_screen(form: DiaryForm, *, change: bool) -> str:
    """Which screen the home page shows: the form, a correction, the questions, thanks, or why
    the diary is not open (closed, not started, finished)."""
    if form.state == "open":
        if form.entry is None:
            return "diary"
        if change:
            return "change"
        return "questions" if form.questions else "thanks"
    if form.questions and form.state in ("closed", "finished"):
        return "questions"
    return form.state


def progress_view(progress: DiaryProgress) -> ProgressView:
    return ProgressView(
        entries=progress.entries,
        days_so_far=progress.days_so_far,
        streak=progress.streak,
        completion_text=f"{progress.completion_pct:.0f}%",
        bar_pct=max(0, min(100, round(progress.completion_pct))),
    )


def home_context(participant: Participant, *, change: bool) -> dict[str, Any]:
    """The home page: tonight's form (or a correction of it), the end-of-period questions, the
    thank-you screen with progress, or the message saying when the diary opens."""
    form = diary_form_tonight(participant=participant)
    # A locked study takes no answer: no form, no question, whatever the window says.
    screen = "locked" if participant.study.locked_at else home_screen(form, change=change)
    entry = form.entry if screen == "change" else None
    answers = entry.answers if entry is not None else {}
    levels = entry.side_effects if entry is not None else {}
    items = [
        ItemRow(
            id=item.id,
            label=item.label,
            question=item.question,
            scale=item.scale,
            min=item.min,
            max=item.max,
            middle=(item.min + item.max) // 2,
            anchors=item.anchors,
            required=item.required,
            value=_whole(answers[item.id]) if item.id in answers else None,
            points=tuple(range(item.min, item.max + 1)),
        )
        for item in form.items
    ]
    effects = [EffectRow(e.id, e.label, levels.get(e.id)) for e in form.side_effects]
    context: dict[str, Any] = {
        "form": form,
        "screen": screen,
        "title": TITLES[screen],
        "items": items,
        "effects": effects,
        "unpleasantness": form.unpleasantness,
        "capsule": entry.capsule_taken if entry is not None else None,
        "questions": form.questions,
        "api_base": API_BASE,
        "form_date": form.diary_date.isoformat() if form.diary_date else "",
        "form_day": diary_day_words(form.diary_date) if form.diary_date else "",
        "closes_at": form.closes_at.isoformat() if form.closes_at else "",
        "closes_local": diary_when_words(form.closes_at, zoneinfo.ZoneInfo(form.timezone))
        if form.closes_at
        else "",
        "can_change": form.state == "open" and form.entry is not None,
        "entry_late": form.entry.late if form.entry is not None else False,
        "progress": None,
        "locked_message": LOCKED_MESSAGE,
    }
    if screen in ("thanks", "closed", "finished", "locked"):
        context["progress"] = progress_view(diary_progress(participant=participant))
    if screen == "thanks" and form.entry is not None:
        context["tonight"] = entry_words(participant_protocol(participant).diary, form.entry)
    return context


@dataclass(frozen=True)
class AnswerRow:
    label: str
    value: str


@dataclass(frozen=True)
class HistoryView:
    """One evening of the participant's history, in words."""

    day: str
    late: bool
    corrected: bool
    answers: tuple[AnswerRow, ...]
    side_effects: str
    capsule: bool | None


def entry_words(diary: Diary, entry: HistoryRow | EntryView) -> HistoryView:
    """One entry in words: the protocol's labels, in the protocol's order."""
    effect_labels = {effect.id: effect.label for effect in diary.side_effects}
    level_words = dict(UNPLEASANTNESS_CHOICES)
    effects = ", ".join(
        f"{effect_labels.get(effect, effect)} ({level_words.get(level, level).lower()})"
        for effect, level in entry.side_effects.items()
    )
    return HistoryView(
        day=diary_day_words(entry.diary_date),
        late=entry.late,
        corrected=entry.status == EntryStatus.CORRECTED,
        answers=tuple(
            AnswerRow(item.label, number_words(entry.answers[item.id]))
            for item in diary.items
            if item.id in entry.answers
        ),
        side_effects=effects,
        capsule=entry.capsule_taken,
    )


def history_rows(participant: Participant) -> list[HistoryView]:
    """The participant's own entries, newest first, with the protocol's labels."""
    diary = participant_protocol(participant).diary
    return [entry_words(diary, row) for row in diary_history(participant=participant)]
