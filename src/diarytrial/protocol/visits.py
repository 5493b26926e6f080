"""The blinded visit calendar: one set of visits for every sequence of a protocol.

A crossover's sequences can share their length and still change phase on different days: in
the LDN protocol, LDN-first runs 84 days of LDN, 14 of washout and 28 of placebo, and
placebo-first the reverse, so period 1 ends on treatment day 84 for one and day 28 for the
other. Whoever sees the dates of a participant's periods reads their sequence.

The visit calendar hides this. Its visits fall on the union of every sequence's phase
boundaries (for LDN: treatment days 0, 28, 42, 84, 98 and 126), so between two visits no
sequence changes phase. At each visit but the last the pharmacist dispenses a kit for the
stretch until the next visit; what the kit holds depends on the sequence (LDN-first: LDN, LDN,
LDN, washout, placebo; placebo-first: placebo, washout, LDN, LDN, LDN), what it looks like does
not. Blinded staff and participants see only the visits and the stretches ("Visit 3, treatment
day 42: kit for days 43-84"), the same for everyone who started on the same day.

Days are counted from the first treatment day: *treatment day* 1 is the day after the last
baseline day, and a visit on treatment day ``d`` closes day ``d`` and opens day ``d + 1`` (the
first visit, on treatment day 0, is the last baseline day). Where a protocol's sequences cannot
share one calendar (different total lengths, or a washout without capsules that falls on
different days), `VisitCalendar.problems` says why in plain words; ``protocol check`` prints
them as warnings. A protocol whose sequences share their boundaries (equal periods, every
n-of-1 design) has one visit per phase: the single kit per period, as before.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from functools import cached_property

from diarytrial.protocol.schema import Protocol

QUESTIONS_DUE_DAYS = 14
"""The end-of-period questions of a visit are asked from the visit's day for this many days more."""

WASHOUT = "washout"
"""What a stretch holds when a sequence is in its washout and the washout has no capsules."""


@dataclass(frozen=True)
class Stretch:
    """The days one kit covers, treatment days ``first_day`` to ``last_day`` inclusive."""

    number: int
    first_day: int
    last_day: int

    @property
    def days(self) -> int:
        return self.last_day - self.first_day + 1


@dataclass(frozen=True)
class Visit:
    """A visit on treatment day `treatment_day`; it dispenses the kit for `stretch`, if any."""

    number: int
    treatment_day: int
    stretch: Stretch | None

    def describe(self) -> str:
        """``Visit 3, treatment day 42: kit for days 43-84``; the last visit closes the trial."""
        where = f"Visit {self.number}, treatment day {self.treatment_day}"
        if self.stretch is None:
            return f"{where}: end of treatment"
        return f"{where}: kit for days {self.stretch.first_day}-{self.stretch.last_day}"


@dataclass(frozen=True)
class VisitCalendar:
    """The visits of a protocol, and what each sequence's kit holds at each of them.

    >>> from diarytrial.protocol import load_example
    >>> calendar = visit_calendar(load_example("ldn-fibromyalgia").protocol)
    >>> [visit.treatment_day for visit in calendar.visits]
    [0, 28, 42, 84, 98, 126]
    >>> calendar.contents[("ldn", "placebo")]
    ('ldn', 'ldn', 'ldn', 'washout', 'placebo')
    """

    baseline_days: int
    visits: tuple[Visit, ...]
    contents: dict[tuple[str, ...], tuple[str, ...]]
    """Per sequence, per stretch: the arm id, or `WASHOUT` (no capsules)."""
    problems: tuple[str, ...]

    @cached_property
    def stretches(self) -> tuple[Stretch, ...]:
        return tuple(visit.stretch for visit in self.visits if visit.stretch is not None)

    @property
    def treatment_days(self) -> int:
        return self.visits[-1].treatment_day

    @property
    def blind(self) -> bool:
        """True when the calendar is the same for every sequence, kits included."""
        return not self.problems

    def stretch_on(self, treatment_day: int) -> Stretch | None:
        """The stretch `treatment_day` falls in; None in the baseline and after the end."""
        for stretch in self.stretches:
            if stretch.first_day <= treatment_day <= stretch.last_day:
                return stretch
        return None

    def date_of(self, treatment_day: int, start: dt.date) -> dt.date:
        """The calendar date of `treatment_day` for a participant whose first baseline day is
        `start` (treatment day 0 is the last baseline day).

        >>> from diarytrial.protocol import load_example
        >>> calendar = visit_calendar(load_example("ldn-fibromyalgia").protocol)
        >>> [calendar.date_of(v.treatment_day, dt.date(2026, 1, 5)).isoformat()
        ...  for v in calendar.visits[:3]]
        ['2026-01-18', '2026-02-15', '2026-03-01']
        """
        return start + dt.timedelta(days=self.baseline_days + treatment_day - 1)

    def treatment_day_of(self, day: dt.date, start: dt.date) -> int:
        """The treatment day of calendar date `day` (0 or less in the baseline); inverse of
        `date_of`."""
        return (day - start).days + 1 - self.baseline_days

    @property
    def answer_visits(self) -> tuple[Visit, ...]:
        """The visits at which the end-of-period questions are asked: every one but the first."""
        return self.visits[1:]

    def visit(self, number: int) -> Visit | None:
        """Visit `number` (1, 2, ...), or None when the calendar has no such visit."""
        if isinstance(number, bool) or not 1 <= number <= len(self.visits):
            return None
        return self.visits[number - 1]

    def stretch_closed_by(self, visit: Visit) -> Stretch | None:
        """The stretch that ends on `visit`'s day (the kit of the visit before); None for the
        first visit.

        >>> from diarytrial.protocol import load_example
        >>> calendar = visit_calendar(load_example("ldn-fibromyalgia").protocol)
        >>> calendar.stretch_closed_by(calendar.visits[2])
        Stretch(number=2, first_day=29, last_day=42)
        """
        return self.stretches[visit.number - 2] if visit.number > 1 else None

    def last_visit_on_or_before(self, treatment_day: int) -> Visit | None:
        """The latest visit on or before `treatment_day`; None in the baseline before day 0."""
        found = None
        for visit in self.visits:
            if visit.treatment_day <= treatment_day:
                found = visit
        return found


def kit_arm(protocol: Protocol, contents: str) -> str | None:
    """The arm whose capsules a stretch's kit holds: a washout's are placebo, or there is no kit.

    >>> from diarytrial.protocol import load_example
    >>> ldn = load_example("ldn-fibromyalgia").protocol
    >>> kit_arm(ldn, "ldn"), kit_arm(ldn, WASHOUT)  # the LDN washout has placebo capsules
    ('ldn', 'placebo')
    """
    if contents != WASHOUT:
        return contents
    if protocol.blinding.washout_capsules:
        return protocol.placebo_arms[0].id
    return None


def _boundaries(protocol: Protocol, sequence: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Each phase after the baseline as (first treatment day, last treatment day, contents)."""
    phases: list[tuple[int, int, str]] = []
    day = 0
    for template in protocol.phase_templates(sequence):
        if template.kind == "baseline":
            continue
        contents = template.arm if template.arm is not None else WASHOUT
        phases.append((day + 1, day + template.days, contents))
        day += template.days
    return phases


def visit_calendar(protocol: Protocol) -> VisitCalendar:
    """The visits of `protocol`: the union of every sequence's phase boundaries."""
    per_sequence = {sequence: _boundaries(protocol, sequence) for sequence in protocol.sequences}
    days = sorted(
        {0} | {last for phases in per_sequence.values() for _first, last, _contents in phases}
    )
    stretches = [
        Stretch(number=k, first_day=first + 1, last_day=last)
        for k, (first, last) in enumerate(itertools.pairwise(days), start=1)
    ]
    visits = tuple(
        Visit(
            number=k, treatment_day=day, stretch=stretches[k - 1] if k <= len(stretches) else None
        )
        for k, day in enumerate(days, start=1)
    )
    contents = {
        sequence: tuple(_contents_on(phases, stretch.first_day) for stretch in stretches)
        for sequence, phases in per_sequence.items()
    }
    return VisitCalendar(
        baseline_days=protocol.design.baseline_days,
        visits=visits,
        contents=contents,
        problems=_problems(protocol, per_sequence, contents, stretches),
    )


def _contents_on(phases: list[tuple[int, int, str]], day: int) -> str:
    for first, last, contents in phases:
        if first <= day <= last:
            return contents
    return WASHOUT  # after this sequence's end: nothing to take


def _problems(
    protocol: Protocol,
    per_sequence: dict[tuple[str, ...], list[tuple[int, int, str]]],
    contents: dict[tuple[str, ...], tuple[str, ...]],
    stretches: list[Stretch],
) -> tuple[str, ...]:
    """Why the calendar cannot be the same for every sequence, in words a designer can act on."""
    problems: list[str] = []
    lengths = {
        sequence: phases[-1][1] if phases else 0 for sequence, phases in per_sequence.items()
    }
    if len(set(lengths.values())) > 1:
        told = ", ".join(
            f"{protocol.sequence_code(s)} {days} days" for s, days in sorted(lengths.items())
        )
        problems.append(
            f"the sequences last differently after the baseline ({told}): the day a participant "
            "finishes tells their sequence; give every sequence the same total length"
        )
    if not protocol.blinding.washout_capsules:
        uneven = [
            stretch
            for k, stretch in enumerate(stretches)
            if len({c[k] == WASHOUT for c in contents.values()}) > 1
        ]
        if uneven:
            days = " and ".join(f"{s.first_day}-{s.last_day}" for s in uneven)
            problems.append(
                "the washout has no capsules and falls on different days by sequence (treatment "
                f"days {days} are washout for some sequences only): a participant without capsules "
                "knows their sequence. Give the washout identical placebo capsules "
                '([blinding] washout = "placebo_capsules") or the same timing in every sequence'
            )
    return tuple(problems)


def pgic_visits(protocol: Protocol, calendar: VisitCalendar) -> tuple[int, ...]:
    """The visits at which `protocol` asks the PGIC: every visit after the first when it is
    asked at the end of each treatment period, the last visit when at the end of the study.

    Asked at every visit, the PGIC falls on the same days for every sequence; which of the
    answers close a treatment period depends on the sequence (`periods_closed`).

    >>> from diarytrial.protocol import load_example
    >>> ldn = load_example("ldn-fibromyalgia").protocol
    >>> pgic_visits(ldn, visit_calendar(ldn))
    (2, 3, 4, 5, 6)
    """
    match protocol.pgic.schedule:
        case "end_of_each_treatment_period":
            return tuple(visit.number for visit in calendar.answer_visits)
        case "end_of_study":
            return (calendar.visits[-1].number,) if len(calendar.visits) > 1 else ()
        case _:
            return ()


def periods_closed(
    protocol: Protocol, calendar: VisitCalendar, sequence: tuple[str, ...]
) -> dict[int, int]:
    """For `sequence`, the visits on the last day of a treatment period: {visit: period}.

    A visit missing here closes a washout, or a stretch inside a period. This tells the
    sequence, so only unblinded readers may see it.

    >>> from diarytrial.protocol import load_example
    >>> ldn = load_example("ldn-fibromyalgia").protocol
    >>> calendar = visit_calendar(ldn)
    >>> periods_closed(ldn, calendar, ("ldn", "placebo")), periods_closed(
    ...     ldn, calendar, ("placebo", "ldn"))
    ({4: 1, 6: 2}, {2: 1, 6: 2})
    """
    by_day = {visit.treatment_day: visit.number for visit in calendar.visits}
    closed: dict[int, int] = {}
    day = 0
    for template in protocol.phase_templates(sequence):
        if template.kind == "baseline":
            continue
        day += template.days
        if template.kind == "treatment" and template.period and day in by_day:
            closed[by_day[day]] = template.period
    return closed
