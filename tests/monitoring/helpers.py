"""A small study for the dashboard's tests, built through the services at a fixed moment.

`NOON` is 12:00 on Friday 20 March 2026 in Los Angeles (between windows; the LDN diary's window
is 18:00 to 03:00) and 04:00 on Saturday 21 March in Tokyo. Tonight is the 20th in Los Angeles
and the 21st in Tokyo, so the grid's 28 nights run from 22 February to 21 March when a
Tokyo participant is in view (21 February to 20 March otherwise).
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from tests.builders import make_entry, make_participant

from diarytrial.diary.services import diary_entry_submit
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_protocol
from diarytrial.protocol import window_bounds
from diarytrial.studies.models import Site, Study

NOON = dt.datetime(2026, 3, 20, 19, 0, tzinfo=dt.UTC)
EVENING = dt.datetime(2026, 3, 21, 3, 0, tzinfo=dt.UTC)  # 20:00 in LA, 12:00 in Tokyo
LA = "America/Los_Angeles"
TOKYO = "Asia/Tokyo"


def day(n: int, month: int = 3) -> dt.date:
    return dt.date(2026, month, n)


def nights(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def enrolled(
    study: Study, site: Site, *, start: dt.date, tz: str = LA, randomized: bool = False
) -> Participant:
    return make_participant(
        study=study,
        site=site,
        start_date=start,
        tz=tz,
        status=ParticipantStatus.RANDOMIZED if randomized else ParticipantStatus.ENROLLED,
    )


def fill(participant: Participant, days: list[dt.date]) -> None:
    for night in days:
        make_entry(participant=participant, diary_date=night)


def fill_late(participant: Participant, night: dt.date) -> None:
    """An entry completed in `night`'s window and received an hour after it closed."""
    protocol = participant_protocol(participant)
    opens, closes = window_bounds(night, ZoneInfo(participant.timezone), protocol.diary)
    diary_entry_submit(
        participant=participant,
        client_id=uuid.uuid4(),
        answers={item.id: (item.lowest + item.highest) / 2 for item in protocol.diary.items},
        side_effects={},
        capsule_taken=True,
        completed_at_device=opens + dt.timedelta(hours=1),
        received_at=closes + dt.timedelta(hours=1),
    )
