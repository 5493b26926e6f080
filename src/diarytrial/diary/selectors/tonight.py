"""Reads of the diary app. Nothing here names an arm: all of it is blinded-safe."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Literal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from diarytrial.diary.models import (
    BlindingGuess,
    DiaryAnswer,
    DiaryEntry,
    DiarySubmission,
    EntryStatus,
    GuessChoice,
    PgicAnswer,
    SideEffectReport,
    Unpleasantness,
)
from diarytrial.participants.models import (
    Participant,
    ParticipantPhase,
    ParticipantStatus,
    PhaseKind,
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
from diarytrial.protocol.compliance import diary_compliance_nights, last_night_due
from diarytrial.protocol.schema import Diary


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


# --- the participant's phone: tonight's form, questions due, progress, history --------------------

FormState = Literal["open", "closed", "not_started", "finished"]
QuestionKind = Literal["pgic", "blinding"]

QUESTIONS_DUE_DAYS = 14
"""End-of-period questions are asked from the period's last diary day for this many days more."""

UNPLEASANTNESS_CHOICES: tuple[tuple[str, str], ...] = (
    (Unpleasantness.NOT_AT_ALL.value, "Not at all"),
    (Unpleasantness.SOMEWHAT.value, "Somewhat"),
    (Unpleasantness.VERY.value, "Very"),
)
"""How unpleasant a ticked side effect was, as the form asks it."""

_QUESTION_STATUSES = (
    ParticipantStatus.RANDOMIZED,
    ParticipantStatus.ACTIVE,
    ParticipantStatus.COMPLETED,
    ParticipantStatus.WITHDRAWN,
)


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
    """An end-of-period question the participant has not answered and may answer now."""

    kind: QuestionKind
    period: int
    question: str
    choices: tuple[FormChoice, ...]


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


@dataclass(frozen=True)
class DiaryProgress:
    """How the participant is doing so far; never how long the schedule is (it tells the arm).

    `days_so_far` counts the diary nights due so far: from the first up to the latest whose
    window has closed, and tonight once its entry is in (see
    :mod:`diarytrial.protocol.compliance`); `today_done` says whether the latest night whose
    window has opened has its entry.
    """

    entries: int
    days_so_far: int
    completion_pct: float
    streak: int
    today_done: bool


@dataclass(frozen=True)
class HistoryRow:
    """One entry of the participant's own history."""

    diary_date: dt.date
    late: bool
    status: str
    answers: dict[str, float]
    side_effects: dict[str, str]
    capsule_taken: bool | None


def diary_day_words(day: dt.date) -> str:
    """A date as a participant reads it: Tuesday 3 March 2026."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def diary_when_words(instant: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """An instant in the participant's own time: 18:00 on Tuesday 3 March 2026."""
    local = instant.astimezone(zone)
    return f"{local:%H:%M} on {diary_day_words(local.date())}"


def _last_diary_day(participant: Participant, phases: list[ParticipantPhase]) -> dt.date | None:
    """The last diary date the participant can have; None while the schedule is open-ended."""
    ends = [phases[-1].end] if phases else []
    if participant.withdrawn_on is not None:
        ends.append(participant.withdrawn_on - dt.timedelta(days=1))
    if participant.completed_on is not None:
        ends.append(participant.completed_on)
    return min(ends) if ends else None


def _latest_opened_day(now: dt.datetime, zone: zoneinfo.ZoneInfo, diary: Diary) -> dt.date:
    """The latest diary date whose window has opened by `now`."""
    day = now.astimezone(zone).date()
    opens, _ = window_bounds(day, zone, diary)
    return day if opens <= now else day - dt.timedelta(days=1)


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


def diary_questions_due(
    *, participant: Participant, now: dt.datetime | None = None
) -> tuple[DueQuestion, ...]:
    """The end-of-period questions the participant may answer now and has not answered.

    Each treatment period's questions (the PGIC where the protocol asks it, and the blinding
    guess) are due from the period's last diary day for `QUESTIONS_DUE_DAYS` days more. A
    period is named only once it is over, so nothing tells a period's length in advance.
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
    if participant.status not in _QUESTION_STATUSES:
        return ()
    last = _last_diary_day(participant, phases)
    periods = [
        phase.period
        for phase in phases
        if phase.kind == PhaseKind.TREATMENT
        and phase.period
        and phase.end <= today <= phase.end + dt.timedelta(days=QUESTIONS_DUE_DAYS)
        and (last is None or phase.end <= last)
    ]
    if not periods:
        return ()
    pgic_done = {a.period for a in pgic_answer_list(participant=participant)}
    guess_done = {g.period for g in blinding_guess_list(participant=participant)}
    pgic_choices = tuple(FormChoice(score, label) for score, label in enumerate(PGIC_LABELS, 1))
    guess_choices = tuple(FormChoice(value, label) for value, label in GuessChoice.choices)
    thing = protocol.blinding.label.lower()
    due: list[DueQuestion] = []
    for period in periods:
        if period in protocol.pgic_periods() and period not in pgic_done:
            due.append(DueQuestion("pgic", period, protocol.pgic.question, pgic_choices))
        if period not in guess_done:
            question = f"During treatment period {period}, what do you think your {thing} was?"
            due.append(DueQuestion("blinding", period, question, guess_choices))
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


def diary_progress(*, participant: Participant, now: dt.datetime | None = None) -> DiaryProgress:
    """The participant's entries against the diary nights due so far (see `DiaryProgress`).

    The nights are counted by `diary_compliance_nights`, as on the staff list and in the
    analysis: a night is due once its window has closed, or once its entry is in.
    """
    moment = now or timezone.now()
    first = participant.start_date
    days = set(
        DiaryEntry.objects.filter(participant=participant).values_list("diary_date", flat=True)
    )
    if first is None:
        return DiaryProgress(len(days), 0, 0.0, 0, False)
    diary = participant_protocol(participant).diary
    zone = zoneinfo.ZoneInfo(participant.timezone)
    latest = _latest_opened_day(moment, zone, diary)
    _, closes = window_bounds(latest, zone, diary)
    latest_closed = latest if moment >= closes else latest - dt.timedelta(days=1)
    last = _last_diary_day(participant, participant_schedule(participant=participant))
    as_of = last_night_due(latest_closed=latest_closed, filled=days)
    nights = diary_compliance_nights(start=first, last_day=last, as_of=as_of, filled=days).overall
    upto = as_of if last is None else min(as_of, last)
    streak = 0
    day = upto
    while day >= first and day in days:
        streak += 1
        day -= dt.timedelta(days=1)
    return DiaryProgress(
        entries=len(days),
        days_so_far=nights.expected,
        completion_pct=round(100 * (nights.share or 0.0), 1),
        streak=streak,
        today_done=nights.expected > 0 and upto == latest and latest in days,
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
