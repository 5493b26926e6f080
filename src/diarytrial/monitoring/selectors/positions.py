"""Where every participant's diary stands now, read in a fixed number of queries.

A participant's *position* holds what the dashboard derives everything else from: their diary
span (start date and last diary day, as `participants.selectors.participant_rows` defines it),
tonight's diary date and window in their own time zone, their last entry, and their entries
among the grid's nights. Nothing of the allocation is read: no period, arm or sequence.

The database sums the grid's nights from the diary's week tallies (whole weeks by their
counts, the weeks at either end by the days their bits mark), finds the last entry of those
without one in those weeks and the end of every schedule with one index probe each; so the
number of queries does not grow with the participants.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import zoneinfo
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import (
    Case,
    Expression,
    F,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.lookups import GreaterThan

from diarytrial.diary.models import DiaryEntry, DiaryWeekTally
from diarytrial.diary.selectors.days import diary_last_day
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import schedule_end_of
from diarytrial.protocol import diary_date_at, next_window_opening, window_bounds
from diarytrial.protocol.compliance import due_span, last_night_due
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

_STATUSES = {status.value: status for status in ParticipantStatus}


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


class DiaryPosition(NamedTuple):
    """One participant's diary now, blinded: span, tonight, last entry, the grid's counts.

    Built by `diary_positions`, which derives the last night due, tonight's expectation, the
    run of missed nights and the nights due in the grid once for each participant. A named
    tuple (immutable, and made ten thousand times per dashboard at a third of the cost of a
    frozen dataclass).
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
    tonight_filled: bool
    """Tonight's entry is in (no entry is ever dated after tonight)."""
    as_of: dt.date
    """The last night due: the last whose window closed, or tonight once its entry is in."""
    due: tuple[dt.date, dt.date] | None
    """The first and the last night due up to `as_of` (`due_span`), None while none is."""
    in_diary_tonight: bool
    """Tonight is a night of the participant's diary: an entry is expected tonight."""
    missed_run: int
    """Missed nights in a row up to the last night due (0 when that night is filled, or when
    the diary has not begun or has ended)."""
    grid_due: int
    """Nights due among the grid's nights."""
    grid_filled: int
    """Entries on the grid's nights (late ones included)."""
    grid_late: int

    @property
    def grid_missed(self) -> int:
        return max(0, self.grid_due - self.grid_filled)


RecentEntries = tuple[int, int, dt.date | None]
"""A participant's entries among the grid's nights, the late ones among them, and their last
entry of all (None: no entry yet)."""

_NO_ENTRIES: RecentEntries = (0, 0, None)


def _position(
    participant_id: int,
    code: str,
    site_code: str,
    status: ParticipantStatus,
    zone: str,
    start: dt.date | None,
    last_day: dt.date | None,
    withdrawn_on: dt.date | None,
    night: ZoneNight,
    grid: tuple[dt.date, dt.date],
    recent: RecentEntries,
) -> DiaryPosition:
    filled, late, last_entry = recent
    tonight = night.tonight
    tonight_filled = last_entry == tonight
    as_of = last_night_due(
        latest_closed=night.latest_closed, filled=(tonight,) if tonight_filled else ()
    )
    running = start is not None and status in RUNNING_STATUSES
    in_diary_tonight = (
        running
        and start is not None
        and start <= tonight
        and (last_day is None or tonight <= last_day)
    )
    missed_run = grid_due = 0
    span = None
    if start is not None:
        if running and start <= as_of and (last_day is None or as_of <= last_day):
            since = start if last_entry is None else max(start, last_entry + ONE_DAY)
            missed_run = max(0, (as_of - since).days + 1)
        span = due_span(start=start, last_day=last_day, as_of=as_of)
        if span is not None:
            grid_due = max(0, (min(span[1], grid[1]) - max(span[0], grid[0])).days + 1)
    return DiaryPosition(
        participant_id,
        code,
        site_code,
        status,
        zone,
        start,
        last_day,
        withdrawn_on,
        last_entry,
        night,
        tonight_filled,
        as_of,
        span,
        in_diary_tonight,
        missed_run,
        grid_due,
        filled,
        late,
    )


def _enrolled(study: Study, sites: Sequence[Site]) -> QuerySet[Participant]:
    """The participants at `sites` who have been enrolled (the screened have no diary)."""
    return Participant.objects.filter(study=study, site__in=sites).exclude(
        status=ParticipantStatus.SCREENED
    )


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


WHOLE_WEEK = 0b1111111
"""Every day of a week, Monday (bit 0) to Sunday (bit 6), as the week tallies mark them."""


def week_masks(first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
    """The Monday of each calendar week with nights among `first` to `last`, and which of its
    days are among them (bit 0 Monday ... bit 6 Sunday; `WHOLE_WEEK` for all seven)."""
    found = []
    monday = first - dt.timedelta(days=first.weekday())
    while monday <= last:
        mask = 0
        for weekday in range(7):
            if first <= monday + dt.timedelta(days=weekday) <= last:
                mask |= 1 << weekday
        found.append((monday, mask))
        monday += dt.timedelta(weeks=1)
    return found


def _days_marked(field: str, mask: int) -> Expression:
    """How many of the days in `mask` the bits of the tally's `field` mark (0 to 7)."""
    days = [
        Case(When(GreaterThan(F(field).bitand(1 << weekday), 0), then=Value(1)), default=Value(0))
        for weekday in range(7)
        if mask >> weekday & 1
    ]
    return functools.reduce(operator.add, days)


def recent_entries(
    *,
    study: Study,
    sites: Sequence[Site],
    participant_ids: Collection[int],
    first: dt.date,
    last: dt.date,
) -> dict[int, RecentEntries]:
    """The entries and late entries on the nights `first` to `last` and the last entry of each
    of `participant_ids` (enrolled at `sites`).

    Summed from the diary's week tallies (`DiaryWeekTally`, one row per participant and week)
    of the weeks with nights among those (five at most for 28 nights): a week wholly among
    them by its counts, another by the days its bits mark. One query however many
    participants, on the index of tallies by week and site. A second finds the last entry of
    those without one in these weeks (one probe each of the index by participant and date; no
    query when every participant has one).
    """
    weeks = week_masks(first, last)

    def counted(total: str, days: str) -> Sum:
        return Sum(
            Case(
                *(
                    When(
                        week=monday,
                        then=F(total) if mask == WHOLE_WEEK else _days_marked(days, mask),
                    )
                    for monday, mask in weeks
                ),
                default=Value(0),
                output_field=IntegerField(),
            )
        )

    found: dict[int, RecentEntries] = {
        participant_id: (filled, late, latest)
        for participant_id, filled, late, latest in (
            DiaryWeekTally.objects.filter(site__in=sites, week__in=[monday for monday, _ in weeks])
            .order_by()
            .values("participant_id")
            .annotate(
                filled=counted("entries", "nights"),
                late=counted("late", "late_nights"),
                latest=Max("last_entry"),
            )
            .values_list("participant_id", "filled", "late", "latest")
        )
    }
    older = (
        Participant.objects.filter(pk__in=[pk for pk in participant_ids if pk not in found])
        .annotate(
            latest=Subquery(
                DiaryEntry.objects.filter(participant=OuterRef("pk"))
                .order_by("-diary_date")
                .values("diary_date")[:1]
            )
        )
        .order_by()
        .values_list("pk", "latest")
    )
    for participant_id, latest in older:
        found[participant_id] = (0, 0, latest)
    return found


def diary_positions(
    *,
    study: Study,
    sites: Sequence[Site],
    nights: dict[tuple[str, int], ZoneNight],
    first: dt.date,
    last: dt.date,
) -> list[DiaryPosition]:
    """The position of every participant at `sites` who has been enrolled, by code; the grid's
    counts are over the nights `first` to `last`. Three queries at most, however many
    participants."""
    query = (
        _enrolled(study, sites)
        .annotate(
            schedule_end=schedule_end_of(),
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
        )
    )
    rows = list(query)
    recent = recent_entries(
        study=study,
        sites=sites,
        participant_ids=[row[0] for row in rows],
        first=first,
        last=last,
    )
    grid = (first, last)
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
    ) in rows:
        night = nights.get((zone, version))
        if night is None:  # enrolled, or moved to another zone, since `nights` was read
            continue
        positions.append(
            _position(
                pk,
                code,
                site_code,
                _STATUSES[status],
                zone,
                start,
                diary_last_day(
                    schedule_end=schedule_end, withdrawn_on=withdrawn_on, completed_on=completed_on
                ),
                withdrawn_on,
                night,
                grid,
                recent.get(pk, _NO_ENTRIES),
            )
        )
    return positions
