"""The participant's phone at one moment: tonight's diary form (`diary_form_tonight`: its
state, words, items, checklist and the entry made so far) and the end-of-period questions due
(`diary_questions_due`), asked at the visits of the blinded visit calendar, the same days and
words for every sequence.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Literal

from django.utils import timezone

from diarytrial.diary.models import GuessChoice, Unpleasantness
from diarytrial.diary.selectors.days import _last_diary_day, diary_when_words
from diarytrial.diary.selectors.entries import (
    EntryView,
    _entry_view,
    blinding_guess_list,
    diary_entry_get,
    pgic_answer_list,
)
from diarytrial.diary.selectors.visits import answer_visits
from diarytrial.participants.models import (
    Participant,
    ParticipantPhase,
    ParticipantStatus,
)
from diarytrial.participants.selectors import (
    participant_protocol,
    participant_schedule,
    participant_today,
)
from diarytrial.protocol import (
    PGIC_LABELS,
    Protocol,
    diary_date_at,
    next_window_opening,
    window_bounds,
)

FormState = Literal["open", "closed", "not_started", "finished"]
QuestionKind = Literal["pgic", "blinding"]


UNPLEASANTNESS_CHOICES: tuple[tuple[str, str], ...] = (
    (Unpleasantness.NOT_AT_ALL.value, "Not at all"),
    (Unpleasantness.SOMEWHAT.value, "Somewhat"),
    (Unpleasantness.VERY.value, "Very"),
)
"""How unpleasant a ticked side effect was, as the form asks it."""

QUESTION_STATUSES = (
    ParticipantStatus.RANDOMIZED,
    ParticipantStatus.ACTIVE,
    ParticipantStatus.COMPLETED,
    ParticipantStatus.WITHDRAWN,
)
"""Statuses of a participant who is asked the end-of-period questions (at visits of their diary)."""


@dataclass(frozen=True)
class FormItem:
    """One question of the nightly form, with its scale."""

    id: str
    label: str
    question: str
    scale: str
    min: int
    max: int
    anchors: tuple[str, str]
    required: bool


@dataclass(frozen=True)
class FormSideEffect:
    """One line of the side-effect checklist."""

    id: str
    label: str


@dataclass(frozen=True)
class FormChoice:
    """One answer a question offers: the value sent back, and the words shown."""

    value: int | str
    label: str


@dataclass(frozen=True)
class DueQuestion:
    """An end-of-period question the participant has not answered and may answer now, about
    the days since the visit before `visit`."""

    kind: QuestionKind
    visit: int
    question: str
    choices: tuple[FormChoice, ...]


@dataclass(frozen=True)
class DiaryForm:
    """Tonight's diary for one participant at one moment: its state, its words, its questions.

    `state` is ``open`` (a window is open: `diary_date`, `opens_at`, `closes_at` are set),
    ``closed`` (between windows), ``not_started`` (the diary has not begun) or ``finished``
    (the participant's last diary day is past). `message` says it in plain words, in the
    participant's own time. Instants are UTC.
    """

    state: FormState
    diary_date: dt.date | None
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    next_window_opens: dt.datetime | None
    message: str
    timezone: str
    items: tuple[FormItem, ...]
    side_effects: tuple[FormSideEffect, ...]
    unpleasantness: tuple[FormChoice, ...]
    capsule_question: str
    entry: EntryView | None
    questions: tuple[DueQuestion, ...]


def diary_questions_due(
    *, participant: Participant, now: dt.datetime | None = None
) -> tuple[DueQuestion, ...]:
    """The end-of-period questions the participant may answer now and has not answered.

    At every visit of the visit calendar after the first (`diary.selectors.visits`), the PGIC
    where the protocol asks it and the blinding guess are due from the visit's day for
    `QUESTIONS_DUE_DAYS` days more. The visits, their days and the words of the questions are
    the same for every sequence: nothing here reads the participant's periods or arms.
    """
    protocol = participant_protocol(participant)
    phases = participant_schedule(participant=participant)
    return _questions_due(participant, protocol, phases, participant_today(participant, now=now))


def _questions_due(
    participant: Participant,
    protocol: Protocol,
    phases: list[ParticipantPhase],
    today: dt.date,
) -> tuple[DueQuestion, ...]:
    if participant.status not in QUESTION_STATUSES or not phases:
        return ()
    last = _last_diary_day(participant, phases)
    visits = [
        visit
        for visit in answer_visits(participant=participant, protocol=protocol)
        if visit.day <= today <= visit.last_answer_day and visit.asked(last)
    ]
    if not visits:
        return ()
    pgic_done = {a.visit for a in pgic_answer_list(participant=participant)}
    guess_done = {g.visit for g in blinding_guess_list(participant=participant)}
    pgic_choices = tuple(FormChoice(score, label) for score, label in enumerate(PGIC_LABELS, 1))
    guess_choices = tuple(FormChoice(value, label) for value, label in GuessChoice.choices)
    thing = protocol.blinding.label.lower()
    due: list[DueQuestion] = []
    for visit in visits:
        if visit.pgic and visit.number not in pgic_done:
            question = (
                f"Visit {visit.number}, treatment day {visit.last_day}: {protocol.pgic.question}"
            )
            due.append(DueQuestion("pgic", visit.number, question, pgic_choices))
        if visit.number not in guess_done:
            question = f"Since {visit.days_words}, what do you think your {thing} was?"
            due.append(DueQuestion("blinding", visit.number, question, guess_choices))
    return tuple(due)


def diary_form_tonight(*, participant: Participant, now: dt.datetime | None = None) -> DiaryForm:
    """The diary form the participant's phone shows at `now` (default: the server's clock)."""
    moment = now or timezone.now()
    protocol = participant_protocol(participant)
    diary = protocol.diary
    zone = zoneinfo.ZoneInfo(participant.timezone)
    phases = participant_schedule(participant=participant)
    first = participant.start_date
    last = _last_diary_day(participant, phases)
    open_day = diary_date_at(moment, zone, diary)
    next_opens = next_window_opening(moment, zone, diary)

    state: FormState
    day: dt.date | None = None
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    entry: EntryView | None = None
    upcoming = open_day if open_day is not None else next_opens.astimezone(zone).date()
    if first is None or participant.status == ParticipantStatus.SCREENED:
        state, next_opens_at = "not_started", None
        message = "Your diary has not started yet. The study team will tell you when it begins."
    elif upcoming < first:
        state = "not_started"
        next_opens_at, _ = window_bounds(first, zone, diary)
        message = f"Your diary starts at {diary_when_words(next_opens_at, zone)}."
    elif last is not None and upcoming > last:
        state, next_opens_at = "finished", None
        message = "Your diary is finished. Thank you for taking part."
    elif open_day is not None:
        state, day, next_opens_at = "open", open_day, next_opens
        opens_at, closes_at = window_bounds(open_day, zone, diary)
        found = diary_entry_get(participant=participant, diary_date=open_day)
        entry = _entry_view(found) if found is not None else None
        until = diary_when_words(closes_at, zone)
        message = (
            f"Tonight's diary is in. You can change your answers until {until}."
            if entry is not None
            else f"Tonight's diary is open until {until}."
        )
    else:
        state, next_opens_at = "closed", next_opens
        message = f"The diary opens at {diary_when_words(next_opens, zone)}."

    questions: tuple[DueQuestion, ...] = ()
    if state != "not_started":
        today = participant_today(participant, now=moment)
        questions = _questions_due(participant, protocol, phases, today)
    return DiaryForm(
        state=state,
        diary_date=day,
        opens_at=opens_at,
        closes_at=closes_at,
        next_window_opens=next_opens_at,
        message=message,
        timezone=participant.timezone,
        items=tuple(
            FormItem(
                id=item.id,
                label=item.label,
                question=item.question,
                scale=item.scale,
                min=item.lowest,
                max=item.highest,
                anchors=item.anchors,
                required=item.required,
            )
            for item in diary.items
        ),
        side_effects=tuple(FormSideEffect(e.id, e.label) for e in diary.side_effects),
        unpleasantness=tuple(FormChoice(value, label) for value, label in UNPLEASANTNESS_CHOICES),
        capsule_question=f"I took my {protocol.blinding.label.lower()} last night",
        entry=entry,
        questions=questions,
    )
