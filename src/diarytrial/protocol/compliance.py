"""Diary compliance: which nights of a participant's diary were due, filled, late or missed.

The one definition used by the phone's progress page, the staff list of participants and the
analysis. Dates are diary dates (see :mod:`diarytrial.protocol.window`).

A participant's diary runs from the first day of the schedule to their *last diary day*: the end
of the schedule, the day before withdrawal or the completion date, whichever comes first. A night
of that span is *due* once it is on or before the as-of date, the last night that has passed (for
a live participant: the last night whose window has closed, or tonight once its entry is in, see
:func:`last_night_due`). A due night is *filled* when the diary has an entry for it, *late* when
that entry came in late, and *missed* otherwise. The nights of the span after the as-of date are
*not yet due*; their number is unknown (None) while the span has no end.

`night_status` names one night in those same words, for a grid of nights: the nights outside
the span are *before the start*, *withdrawn* (from the withdrawal date on) or *after the end*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class NightCounts:
    """Nights of one span of the diary: due (expected), filled, late, missed and not yet due."""

    expected: int
    filled: int
    late: int
    not_yet_due: int | None
    """None while the span has no end (the schedule is open-ended)."""

    @property
    def missed(self) -> int:
        """Due nights without an entry."""
        return self.expected - self.filled

    @property
    def share(self) -> float | None:
        """Filled over expected nights; None while no night is due."""
        return self.filled / self.expected if self.expected else None


@dataclass(frozen=True)
class DiaryCompliance:
    """A participant's nights overall and in each span asked for (in the order given)."""

    overall: NightCounts
    periods: tuple[NightCounts, ...]


def _count(
    start: dt.date,
    end: dt.date | None,
    as_of: dt.date,
    filled: Collection[dt.date],
    late: Collection[dt.date],
) -> NightCounts:
    due_until = as_of if end is None else min(end, as_of)
    expected = max(0, (due_until - start).days + 1)
    done = [day for day in filled if start <= day <= due_until]
    not_yet_due = None if end is None else max(0, (end - max(as_of, start - dt.timedelta(1))).days)
    return NightCounts(
        expected=expected,
        filled=len(done),
        late=sum(1 for day in done if day in late),
        not_yet_due=not_yet_due,
    )


def diary_compliance_nights(
    *,
    start: dt.date,
    last_day: dt.date | None,
    as_of: dt.date,
    filled: Collection[dt.date],
    late: Collection[dt.date] = (),
    periods: Sequence[tuple[dt.date, dt.date]] = (),
) -> DiaryCompliance:
    """Due, filled, late, missed and not-yet-due nights of one participant's diary.

    Parameters
    ----------
    start : datetime.date
        The first night of the diary (the first day of the schedule).
    last_day : datetime.date or None
        The last night the participant can have: the end of the schedule, the day before
        withdrawal or the completion date, whichever comes first; None while open-ended.
    as_of : datetime.date
        The last night that has passed; later nights are not yet due.
    filled : collection of datetime.date
        The diary dates that have an entry (dates outside the diary's span are ignored).
    late : collection of datetime.date
        The filled dates whose entry came in late.
    periods : sequence of (start, end) date pairs
        Spans (phases) to count apart, inclusive; each is cut at `last_day`.

    Returns
    -------
    DiaryCompliance
        ``overall`` over `start` to `last_day` and one `NightCounts` per entry of `periods`.

    Examples
    --------
    >>> d = dt.date
    >>> counts = diary_compliance_nights(
    ...     start=d(2026, 3, 1), last_day=d(2026, 3, 10), as_of=d(2026, 3, 4),
    ...     filled={d(2026, 3, 1), d(2026, 3, 2), d(2026, 3, 4), d(2026, 3, 9)},
    ...     late={d(2026, 3, 4)}, periods=[(d(2026, 3, 1), d(2026, 3, 3))])
    >>> o = counts.overall
    >>> (o.expected, o.filled, o.late, o.missed, o.not_yet_due)
    (4, 3, 1, 1, 6)
    >>> p = counts.periods[0]
    >>> (p.expected, p.filled, p.missed, p.not_yet_due)
    (3, 2, 1, 0)
    """
    if last_day is not None and last_day < start:
        last_day = start - dt.timedelta(days=1)  # withdrawn before the first night: none due
    return DiaryCompliance(
        overall=_count(start, last_day, as_of, filled, late),
        periods=tuple(
            _count(
                first,
                end if last_day is None else max(min(end, last_day), first - dt.timedelta(1)),
                as_of,
                filled,
                late,
            )
            for first, end in periods
        ),
    )


def due_span(
    *, start: dt.date, last_day: dt.date | None, as_of: dt.date
) -> tuple[dt.date, dt.date] | None:
    """The first and the last night due of a diary (inclusive), None while none is due: the
    nights `diary_compliance_nights` counts as expected, for counting many diaries at once.

    >>> d = dt.date
    >>> due_span(start=d(2026, 3, 1), last_day=d(2026, 3, 10), as_of=d(2026, 3, 4))
    (datetime.date(2026, 3, 1), datetime.date(2026, 3, 4))
    >>> due_span(start=dt.date(2026, 3, 5), last_day=None, as_of=dt.date(2026, 3, 4)) is None
    True
    """
    due_until = as_of if last_day is None else min(last_day, as_of)
    return (start, due_until) if due_until >= start else None


def last_night_due(*, latest_closed: dt.date, filled: Collection[dt.date]) -> dt.date:
    """The as-of date of a live participant: the last night whose window has closed, or the
    night after it (tonight) once its entry is in, since a filled night has been kept.

    >>> last_night_due(latest_closed=dt.date(2026, 3, 3), filled={dt.date(2026, 3, 4)})
    datetime.date(2026, 3, 4)
    >>> last_night_due(latest_closed=dt.date(2026, 3, 3), filled=())
    datetime.date(2026, 3, 3)
    """
    tonight = latest_closed + dt.timedelta(days=1)
    return tonight if tonight in filled else latest_closed


NightStatus = Literal[
    "filled", "late", "missed", "not_yet_due", "before_start", "after_end", "withdrawn"
]
"""What one night of a participant's diary is, in the words of this module."""


def night_status(
    day: dt.date,
    *,
    start: dt.date,
    last_day: dt.date | None,
    as_of: dt.date,
    filled: Collection[dt.date],
    late: Collection[dt.date] = (),
    withdrawn_on: dt.date | None = None,
) -> NightStatus:
    """The status of the night `day`, counted as `diary_compliance_nights` counts it.

    A night of the span (`start` to `last_day`) is filled, late, missed or not yet due exactly
    when `diary_compliance_nights` counts it so; outside the span it is ``before_start``,
    ``withdrawn`` (from `withdrawn_on` on) or ``after_end``.

    >>> d = dt.date
    >>> [night_status(d(2026, 3, n), start=d(2026, 3, 2), last_day=d(2026, 3, 5),
    ...               as_of=d(2026, 3, 4), filled={d(2026, 3, 2), d(2026, 3, 3)},
    ...               late={d(2026, 3, 3)}, withdrawn_on=d(2026, 3, 6)) for n in range(1, 8)]
    ['before_start', 'filled', 'late', 'missed', 'not_yet_due', 'withdrawn', 'withdrawn']
    """
    if day < start:
        return "before_start"
    if last_day is not None and day > last_day:
        return "withdrawn" if withdrawn_on is not None and day >= withdrawn_on else "after_end"
    if day > as_of:
        return "not_yet_due"
    if day in filled:
        return "late" if day in late else "filled"
    return "missed"
