"""The grid of the last 28 nights: which participants it shows (filter, sort, page) and what
each night of theirs is (`night_status`, the words of the one definition of compliance)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from diarytrial.diary.models import DiaryEntry
from diarytrial.monitoring.selectors.positions import DiaryPosition
from diarytrial.participants.models import ParticipantStatus
from diarytrial.protocol.compliance import NightStatus, night_status

GRID_NIGHTS = 28
PAGE_SIZE = 100

NIGHT_LETTERS: dict[NightStatus, tuple[str, str]] = {
    "filled": ("F", "filled"),
    "late": ("L", "late (filled, sent after the window closed)"),
    "missed": ("M", "missed"),
    "not_yet_due": ("U", "not yet due"),
    "before_start": ("N", "not in the diary (before the start)"),
    "after_end": ("N", "not in the diary (after the last diary day)"),
    "withdrawn": ("W", "withdrawn"),
}
"""The letter of each night's status in the grid, and its words (the legend)."""

_NEVER = dt.date.min


def _last_entry(position: DiaryPosition) -> dt.date:
    return position.last_entry or _NEVER


SORT_KEYS: dict[str, tuple[str, Callable[[DiaryPosition], Any]]] = {
    "code": ("Participant", lambda p: p.code),
    "site": ("Site", lambda p: p.site_code),
    "status": ("Status", lambda p: p.status.label),
    "last_entry": ("Last entry", _last_entry),
    "run": ("Missed in a row", lambda p: p.missed_run),
    "missed": ("Missed (28 nights)", lambda p: p.grid_missed),
    "filled": ("Filled (28 nights)", lambda p: p.grid_filled),
}
"""What the grid can be sorted by (``?sort=missed``; a leading ``-`` sorts descending)."""

SORT_CHOICES: tuple[str, ...] = tuple(value for key in SORT_KEYS for value in (key, f"-{key}"))


@dataclass(frozen=True)
class GridQuery:
    """Which rows of the grid to show: a site code, a participant status, a sort, a page."""

    site: str | None = None
    status: ParticipantStatus | None = None
    sort: str = "code"
    page: int = 1


@dataclass(frozen=True)
class GridRow:
    """One participant's row: their position and the status of each of the grid's nights."""

    position: DiaryPosition
    nights: tuple[NightStatus, ...]

    @property
    def cells(self) -> tuple[tuple[str, str, NightStatus], ...]:
        """(letter, words, status) of each night, for the template."""
        return tuple((*NIGHT_LETTERS[status], status) for status in self.nights)


@dataclass(frozen=True)
class NightGrid:
    """One page of the grid: its nights (oldest first), its rows, where the page is."""

    nights: tuple[dt.date, ...]
    rows: tuple[GridRow, ...]
    query: GridQuery
    page: int
    pages: int
    total: int
    """Participants that match the filter, on every page."""
    per_page: int = PAGE_SIZE


def grid_nights(last: dt.date) -> tuple[dt.date, ...]:
    """The `GRID_NIGHTS` diary dates that end with `last`, oldest first."""
    return tuple(last - dt.timedelta(days=back) for back in range(GRID_NIGHTS - 1, -1, -1))


def night_grid(*, positions: Sequence[DiaryPosition], query: GridQuery, last: dt.date) -> NightGrid:
    """The page `query` asks for; its entries are read for its rows and nights only (one query)."""
    nights = grid_nights(last)
    chosen = [
        p
        for p in positions
        if (query.site is None or p.site_code == query.site)
        and (query.status is None or p.status == query.status)
    ]
    name = query.sort.removeprefix("-")
    key = SORT_KEYS[name][1]
    chosen.sort(key=lambda p: p.code)  # ties in code order, whichever the direction
    chosen.sort(key=key, reverse=query.sort.startswith("-"))
    pages = max(1, math.ceil(len(chosen) / PAGE_SIZE))
    page = min(query.page, pages)
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    filled: dict[int, set[dt.date]] = {p.participant_id: set() for p in shown}
    late: dict[int, set[dt.date]] = {p.participant_id: set() for p in shown}
    if shown:
        for participant_id, day, is_late in DiaryEntry.objects.filter(
            participant_id__in=list(filled), diary_date__gte=nights[0], diary_date__lte=nights[-1]
        ).values_list("participant_id", "diary_date", "late"):
            filled[participant_id].add(day)
            if is_late:
                late[participant_id].add(day)
    rows = tuple(
        GridRow(
            position=p,
            nights=tuple(
                "before_start"
                if p.start is None
                else night_status(
                    day,
                    start=p.start,
                    last_day=p.last_day,
                    as_of=p.as_of,
                    filled=filled[p.participant_id],
                    late=late[p.participant_id],
                    withdrawn_on=p.withdrawn_on,
                )
                for day in nights
            ),
        )
        for p in shown
    )
    return NightGrid(
        nights=nights, rows=rows, query=query, page=page, pages=pages, total=len(chosen)
    )
