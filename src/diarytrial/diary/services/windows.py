"""Which diary date an upload belongs to, and whether the participant can have an entry then.

**The server's clock decides.** An upload belongs to the diary date whose window (the
protocol's, in the participant's own time zone) contains the moment the server received it.
Received between windows, it is kept only as a *late* entry: when the device says it was
completed inside a window that closed at most ``late_sync_grace_hours`` before. The device's
clock is recorded, never trusted beyond that.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from diarytrial.diary.errors import DiaryDateInvalidError, DiaryWindowClosedError
from diarytrial.diary.selectors import diary_day_words, diary_when_words
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_schedule, participant_today
from diarytrial.protocol import (
    Protocol,
    WindowOutOfRangeError,
    diary_date_at,
    next_window_opening,
    window_bounds,
)

Status = ParticipantStatus

DIARY_STATUSES = (Status.ENROLLED, Status.RANDOMIZED, Status.ACTIVE)
"""Statuses in which a participant fills the diary. A withdrawn or completed participant's
late uploads are still taken for the dates before withdrawal or up to completion."""


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
