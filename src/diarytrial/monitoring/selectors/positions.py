"""Where every participant's diary stands now, read in a fixed number of queries.

A participant's *position* holds what the dashboard derives everything else from: their diary
span (start date and last diary day, as `participants.selectors.participant_rows` defines it),
tonight's diary date and window in their own time zone, their last entry, and their entries
among the grid's nights. Nothing of the allocation is read: no period, arm or sequence.

The database sums the grid's whole weeks from the diary's week tallies and counts the other
nights' entries by participant (and finds the last of them) on the index of entries by date,
finds the last entry of those without one among those nights and the end of every schedule
with one index probe each; so the number of queries does not grow with the participants.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from diarytrial.diary.models import DiaryEntry, DiaryWeekTally
from diarytrial.participants.models import Participant, ParticipantPhase, ParticipantStatus
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


@dataclass(frozen=True, slots=True)
class DiaryPosition:
    """One participant's diary now, blinded: span, tonight, last entry, the grid's counts.

    Built by `diary_positions`, which derives the last night due, tonight's expectation, the
    run of missed nights and the nights due in the grid once for each participant.
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


def _position(
    *,
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
    last_entry = recent.last_entry
    tonight = night.tonight
    tonight_filled = last_entry is not None and last_entry == tonight
    as_of = last_night_due(
        latest_closed=night.latest_closed, filled=(tonight,) if tonight_filled else ()
    )
    running = status in RUNNING_STATUSES and start is not None
    in_diary_tonight = (
        running
        and start is not None
        and start <= tonight
        and (last_day is None or tonight <= last_day)
    )
    missed_run = grid_due = 0
    if start is not None:
        if running and start <= as_of and (last_day is None or as_of <= last_day):
            since = start if last_entry is None else max(start, last_entry + ONE_DAY)
            missed_run = max(0, (as_of - since).days + 1)
        span = due_span(start=start, last_day=last_day, as_of=as_of)
        if span is not None:
            grid_due = max(0, (min(span[1], grid[1]) - max(span[0], grid[0])).days + 1)
    return DiaryPosition(
        participant_id=participant_id,
        code=code,
        site_code=site_code,
        status=status,
        timezone=zone,
        start=start,
        last_day=last_day,
        withdrawn_on=withdrawn_on,
        last_entry=last_entry,
        night=night,
        tonight_filled=tonight_filled,
        as_of=as_of,
        in_diary_tonight=in_diary_tonight,
        missed_run=missed_run,
        grid_due=grid_due,
        grid_filled=recent.filled,
        grid_late=recent.late,
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


@dataclass(frozen=True, slots=True)
class RecentEntries:
    """A participant's entries among the grid's nights, and their last entry of all."""

    filled: int = 0
    late: int = 0
    last_entry: dt.date | None = None


def _nights(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def whole_weeks(
    first: dt.date, last: dt.date
) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """The Mondays of the calendar weeks wholly inside the nights `first` to `last`, and the
    runs of nights outside them (at most two: before the first whole week, after the last)."""
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    sunday = last - dt.timedelta(days=(last.weekday() + 1) % 7)
    if monday + dt.timedelta(days=6) > sunday:
        return [], [(first, last)]
    weeks = [monday + dt.timedelta(weeks=k) for k in range((sunday - monday).days // 7 + 1)]
    runs = []
    if first < monday:
        runs.append((first, monday - ONE_DAY))
    if sunday < last:
        runs.append((sunday + ONE_DAY, last))
    return weeks, runs


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

    The whole weeks among those nights are summed from the diary's week tallies
    (`DiaryWeekTally`, one row per participant and week), the nights outside them (at most
    six at each end) counted from the entries on the index of entries by date: two queries
    however many participants. A third finds the last entry of those without one among those
    nights (one probe each of the index by participant and date; no query when every
    participant has one).
    """
    enrolled = _enrolled(study, sites).values("pk")
    weeks, runs = whole_weeks(first, last)
    found: dict[int, RecentEntries] = {}

    def add(participant_id: int, filled: int, late: int, latest: dt.date) -> None:
        before = found.get(participant_id)
        if before is None:
            found[participant_id] = RecentEntries(filled, late, latest)
        else:
            newest = max(latest, before.last_entry) if before.last_entry else latest
            found[participant_id] = RecentEntries(
                before.filled + filled, before.late + late, newest
            )

    if weeks:
        for row in (
            DiaryWeekTally.objects.filter(participant__in=enrolled, week__in=weeks)
            .order_by()
            .values("participant_id")
            .annotate(filled=Sum("entries"), late=Sum("late"), latest=Max("last_entry"))
            .values_list("participant_id", "filled", "late", "latest")
        ):
            add(*row)
    if runs:
        # The nights listed, not ranges: an index-only scan of the index of entries by date.
        nights = [day for start, end in runs for day in _nights(start, end)]
        for row in (
            DiaryEntry.objects.filter(diary_date__in=nights, participant__in=enrolled)
            .order_by()
            .values("participant_id")
            .annotate(
                filled=Count("diary_date"),
                late=Count("late", filter=Q(late=True)),
                latest=Max("diary_date"),
            )
            .values_list("participant_id", "filled", "late", "latest")
        ):
            add(*row)
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
        found[participant_id] = RecentEntries(last_entry=latest)
    return found


_NO_ENTRIES = RecentEntries()


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
            schedule_end=Subquery(
                ParticipantPhase.objects.filter(participant=OuterRef("pk"))
                .order_by("-end")
                .values("end")[:1]
            ),
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
        # The last diary day as participant_rows and the phone define it.
        ends = [schedule_end] if schedule_end is not None else []
        if withdrawn_on is not None:
            ends.append(withdrawn_on - ONE_DAY)
        if completed_on is not None:
            ends.append(completed_on)
        positions.append(
            _position(
                participant_id=pk,
                code=code,
                site_code=site_code,
                status=_STATUSES[status],
                zone=zone,
                start=start,
                last_day=min(ends) if ends else None,
                withdrawn_on=withdrawn_on,
                night=night,
                grid=(first, last),
                recent=recent.get(pk, _NO_ENTRIES),
            )
        )
    return positions
