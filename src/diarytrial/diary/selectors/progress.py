"""How the participant is doing so far, as their phone shows it (`diary_progress`): entries,
the nights due, completion and streak, never how long the schedule is (it tells the arm).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.selectors.days import _last_diary_day
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol, participant_schedule
from diarytrial.protocol import window_bounds
from diarytrial.protocol.compliance import diary_compliance_nights, last_night_due
from diarytrial.protocol.schema import Diary


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


def _latest_opened_day(now: dt.datetime, zone: zoneinfo.ZoneInfo, diary: Diary) -> dt.date:
    """The latest diary date whose window has opened by `now`."""
    day = now.astimezone(zone).date()
    opens, _ = window_bounds(day, zone, diary)
    return day if opens <= now else day - dt.timedelta(days=1)


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
