"""Where every participant's diary stands now, read in a fixed number of queries.

A participant's *position* holds what the dashboard derives everything else from: their diary
span (start date and last diary day, as `participants.selectors.participant_rows` defines it),
tonight's diary date and window in their own time zone, their last entry, and their entries
among the grid's nights. Nothing of the allocation is read: no period, arm or sequence.

The database counts (last entry, entries in the grid's nights, end of the schedule) per
participant with subqueries that run on the index of entries by participant and date, so the
number of queries does not grow with the participants.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from diarytrial.diary.models import DiaryEntry
from diarytrial.participants.models import Participant, ParticipantPhase, ParticipantStatus
from diarytrial.protocol import diary_date_at, next_window_opening, window_bounds
from diarytrial.protocol.compliance import diary_compliance_nights, last_night_due
from diarytrial.protocol.schema import Diary
from diarytrial.studies.models import ProtocolVersion, Site, Study
from diarytrial.studies.selectors import protocol_version_load

ONE_DAY = dt.timedelta(days=1)

RUNNING_STATUSES: tuple[str, ...] = (
    ParticipantStatus.ENROLLED,
    ParticipantStatus.RANDOMIZED,
    ParticipantStatus.ACTIVE,
)
"""Statuses whose diary may still be running (completed and withdrawn ones have ended)."""


@dataclass(frozen=True)
class ZoneNight:
    """Tonight in one time zone at one moment: the diary date whose window is open now, or
    else the next to open; its window (UTC instants); and the last date whose window closed."""

    tonight: dt.date
    window_open: bool
    opens_at: dt.datetime
    closes_at: dt.datetime

    @property
    def latest_closed(self) -> dt.date:
        """The latest diary date whose window has closed (the night before tonight)."""
        return self.tonight - ONE_DAY


def zone_night(now: dt.datetime, zone: zoneinfo.ZoneInfo, diary: Diary) -> ZoneNight:
    """Tonight's diary date and window in `zone` at `now`, as the participant's phone sees it."""
    open_day = diary_date_at(now, zone, diary)
    tonight = (
        open_day
        if open_day is not None
        else next_window_opening(now, zone, diary).astimezone(zone).date()
    )
    opens, closes = window_bounds(tonight, zone, diary)
    return ZoneNight(
        tonight=tonight, window_open=open_day is not None, opens_at=opens, closes_at=closes
    )


@functools.lru_cache(maxsize=4096)
def _due_nights(
    start: dt.date, last_day: dt.date | None, as_of: dt.date, first: dt.date, last: dt.date
) -> int:
    """Nights due between `first` and `last` (inclusive), by the one definition of compliance."""
    counts = diary_compliance_nights(
        start=start,
        last_day=last_day,
        as_of=as_of,
        filled=(),
        periods=[(max(first, start), last)],
    )
    return counts.periods[0].expected


@dataclass(frozen=True)
class DiaryPosition:
    """One participant's diary now, blinded: span, tonight, last entry, the grid's counts.

    What is derived is computed once per position (cached), since sorting and counting over
    every participant asks it again and again.
    """

    participant_id: int
    code: str
    site_code: str
    status: ParticipantStatus
    timezone: str
    start: dt.date | None
    last_day: dt.date | None
    """The last diary date the participant can have; None while the schedule is open-ended."""
    withdrawn_on: dt.date | None
    last_entry: dt.date | None
    night: ZoneNight
    grid_first: dt.date
    grid_last: dt.date
    grid_filled: int
    """Entries on the grid's nights (late ones included)."""
    grid_late: int

    @property
    def tonight_filled(self) -> bool:
        """Tonight's entry is in (no entry is ever dated after tonight)."""
        return self.last_entry is not None and self.last_entry == self.night.tonight

    @functools.cached_property
    def as_of(self) -> dt.date:
        """The last night due: the last whose window closed, or tonight once its entry is in."""
        filled = (self.night.tonight,) if self.tonight_filled else ()
        return last_night_due(latest_closed=self.night.latest_closed, filled=filled)

    @functools.cached_property
    def in_diary_tonight(self) -> bool:
        """Tonight is a night of the participant's diary: an entry is expected tonight."""
        tonight = self.night.tonight
        return (
            self.status in RUNNING_STATUSES
            and self.start is not None
            and self.start <= tonight
            and (self.last_day is None or tonight <= self.last_day)
        )

    @property
    def diary_running(self) -> bool:
        """The last night due is a night of the diary (it has begun and not ended)."""
        as_of = self.as_of
        return (
            self.status in RUNNING_STATUSES
            and self.start is not None
            and self.start <= as_of
            and (self.last_day is None or as_of <= self.last_day)
        )

    @functools.cached_property
    def missed_run(self) -> int:
        """Missed nights in a row up to the last night due (0 when that night is filled)."""
        if not self.diary_running or self.start is None:
            return 0
        since = (
            self.start if self.last_entry is None else max(self.start, self.last_entry + ONE_DAY)
        )
        return max(0, (self.as_of - since).days + 1)

    @functools.cached_property
    def grid_due(self) -> int:
        """Nights due among the grid's nights."""
        if self.start is None:
            return 0
        return _due_nights(self.start, self.last_day, self.as_of, self.grid_first, self.grid_last)

    @property
    def grid_missed(self) -> int:
        return max(0, self.grid_due - self.grid_filled)


def _entry_count(*condition: Q) -> Coalesce:
    counted = (
        DiaryEntry.objects.filter(Q(participant=OuterRef("pk")), *condition)
        .order_by()
        .values("participant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def zone_nights(
    *,
    study: Study,
    sites: Sequence[Site],
    versions: Sequence[ProtocolVersion],
    now: dt.datetime,
) -> dict[tuple[str, int], ZoneNight]:
    """Tonight for every (time zone, protocol version) of the participants at `sites`."""
    diaries = {version.pk: protocol_version_load(version).protocol.diary for version in versions}
    pairs = (
        Participant.objects.filter(study=study, site__in=sites)
        .order_by()
        .values_list("timezone", "protocol_version_id")
        .distinct()
    )
    return {
        (zone, version): zone_night(now, zoneinfo.ZoneInfo(zone), diaries[version])
        for zone, version in pairs
    }


def diary_positions(
    *,
    study: Study,
    sites: Sequence[Site],
    nights: dict[tuple[str, int], ZoneNight],
    first: dt.date,
    last: dt.date,
) -> list[DiaryPosition]:
    """The position of every participant at `sites` who has been enrolled, by code; the grid's
    counts are over the nights `first` to `last`. One query, however many participants."""
    in_grid = Q(diary_date__gte=first, diary_date__lte=last)
    rows = (
        Participant.objects.filter(study=study, site__in=sites)
        .exclude(status=ParticipantStatus.SCREENED)
        .annotate(
            schedule_end=Subquery(
                ParticipantPhase.objects.filter(participant=OuterRef("pk"))
                .order_by("-end")
                .values("end")[:1]
            ),
            last_entry=Subquery(
                DiaryEntry.objects.filter(participant=OuterRef("pk"))
                .order_by("-diary_date")
                .values("diary_date")[:1]
            ),
            grid_filled=_entry_count(in_grid),
            grid_late=_entry_count(in_grid, Q(late=True)),
        )
        .order_by("code")
        .values_list(
            "pk",
            "code",
            "site__code",
            "status",
            "timezone",
            "protocol_version_id",
            "start_date",
            "withdrawn_on",
            "completed_on",
            "schedule_end",
            "last_entry",
            "grid_filled",
            "grid_late",
        )
    )
    positions = []
    for (
        pk,
        code,
        site_code,
        status,
        zone,
        version,
        start,
        withdrawn_on,
        completed_on,
        schedule_end,
        last_entry,
        grid_filled,
        grid_late,
    ) in rows:
        night = nights.get((zone, version))
        if night is None:  # enrolled, or moved to another zone, since `nights` was read
            continue
        # The last diary day as participant_rows and the phone define it.
        ends = [schedule_end] if schedule_end is not None else []
        if withdrawn_on is not None:
            ends.append(withdrawn_on - ONE_DAY)
        if completed_on is not None:
            ends.append(completed_on)
        positions.append(
            DiaryPosition(
                participant_id=pk,
                code=code,
                site_code=site_code,
                status=ParticipantStatus(status),
                timezone=zone,
                start=start,
                last_day=min(ends) if ends else None,
                withdrawn_on=withdrawn_on,
                last_entry=last_entry,
                night=night,
                grid_first=first,
                grid_last=last,
                grid_filled=grid_filled,
                grid_late=grid_late,
            )
        )
    return positions
