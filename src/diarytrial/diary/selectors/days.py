"""Days as a participant reads them (`diary_day_words`, `diary_when_words`), and the last diary
day a participant can have, which tonight's form, the questions due and the progress share.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from diarytrial.participants.models import Participant, ParticipantPhase


def diary_day_words(day: dt.date) -> str:
    """A date as a participant reads it: Tuesday 3 March 2026."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def diary_when_words(instant: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """An instant in the participant's own time: 18:00 on Tuesday 3 March 2026."""
    local = instant.astimezone(zone)
    return f"{local:%H:%M} on {diary_day_words(local.date())}"


def _last_diary_day(participant: Participant, phases: list[ParticipantPhase]) -> dt.date | None:
    """The last diary date the participant can have; None while the schedule is open-ended."""
    return last_diary_day(participant, phases[-1].end if phases else None)


def last_diary_day(participant: Participant, schedule_end: dt.date | None) -> dt.date | None:
    """The last diary date of `participant` whose planned schedule ends on `schedule_end`
    (None: no schedule): that end, or the day before withdrawal, or completion, if earlier."""
    return diary_last_day(
        schedule_end=schedule_end,
        withdrawn_on=participant.withdrawn_on,
        completed_on=participant.completed_on,
    )


def diary_last_day(
    *, schedule_end: dt.date | None, withdrawn_on: dt.date | None, completed_on: dt.date | None
) -> dt.date | None:
    """`last_diary_day` from the dates alone (for many participants read as rows)."""
    ends = [schedule_end] if schedule_end is not None else []
    if withdrawn_on is not None:
        ends.append(withdrawn_on - dt.timedelta(days=1))
    if completed_on is not None:
        ends.append(completed_on)
    return min(ends) if ends else None
