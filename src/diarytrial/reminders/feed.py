"""The calendar feed: one daily event at the opening of the participant's diary window.

The event recurs from the participant's first diary day for as many days as the protocol's
*longest* schedule, the same count for everyone in the study. The participant's own last day
is not used: when treatment periods differ in length between sequences, the date the diary
ends could tell which sequence they are on. A calendar entry after the last diary day is
harmless (the diary then says it has finished); a hint at the allocation is not. Times are in
the participant's time zone with its VTIMEZONE, so a daylight-saving change keeps the event at
the same local time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

from django.conf import settings
from django.utils import timezone
from icalendar import Alarm, Calendar, Event, Timezone

from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.reminders.selectors import REMINDED_STATUSES, longest_schedule_days
from diarytrial.reminders.sending import diary_url

EVENT_MINUTES = 15


def _uid(participant: Participant) -> str:
    """A stable id of the event that does not show the participant's code."""
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:calendar:{participant.pk}".encode())
    return f"diary-{digest.hexdigest()[:32]}@diarytrial"


def calendar_ics(participant: Participant) -> bytes:
    """The participant's calendar (iCalendar bytes); no event unless they fill the diary."""
    calendar = Calendar()
    calendar.add("prodid", "-//diarytrial//diary reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Diary")
    start = participant.start_date
    if participant.status not in REMINDED_STATUSES or start is None:
        return bytes(calendar.to_ical())
    protocol = participant_protocol(participant)
    diary = protocol.diary
    zone = zoneinfo.ZoneInfo(participant.timezone)
    days = longest_schedule_days(protocol)
    last = start + dt.timedelta(days=days - 1)
    calendar.add("x-wr-timezone", participant.timezone)
    calendar.add_component(
        Timezone.from_tzinfo(
            zone,
            tzid=participant.timezone,
            first_date=start - dt.timedelta(days=1),
            last_date=last + dt.timedelta(days=2),
        )
    )
    closes = diary.closes.strftime("%H:%M")
    url = diary_url()
    event = Event()
    event.add("uid", _uid(participant))
    event.add("dtstamp", timezone.now())
    event.add("summary", "Fill in your diary")
    event.add("dtstart", dt.datetime.combine(start, diary.opens, tzinfo=zone))
    event.add("duration", dt.timedelta(minutes=EVENT_MINUTES))
    event.add("rrule", {"freq": "daily", "count": days})
    event.add(
        "description",
        f"Tonight's diary is open until {closes}. Fill it in on your phone: {url}",
    )
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Your diary is open")
    alarm.add("trigger", dt.timedelta(0))
    event.add_component(alarm)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
