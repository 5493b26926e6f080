"""Schedule arithmetic: where a calendar date falls in a participant's trial.

Dates here are the participant's *diary dates* (see :mod:`diarytrial.protocol.window`): the day
1 of the schedule is the first baseline day, and every phase runs from its first to its last
day inclusive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from diarytrial.protocol.schema import Condition, Protocol


@dataclass(frozen=True)
class Phase:
    """One phase placed on the calendar; `start` and `end` are inclusive."""

    index: int
    kind: str
    period: int | None
    arm: str | None
    condition: Condition
    block: int | None
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


@dataclass(frozen=True)
class DayPosition:
    """Where one date falls: its phase, its study day (1-based) and its day in the phase."""

    phase: Phase
    study_day: int
    day_in_phase: int

    @property
    def condition(self) -> Condition:
        return self.phase.condition


@dataclass(frozen=True)
class Schedule:
    """A participant's phases from their first baseline day."""

    sequence: tuple[str, ...]
    start: dt.date
    phases: tuple[Phase, ...]

    @property
    def end(self) -> dt.date:
        return self.phases[-1].end

    @property
    def total_days(self) -> int:
        return (self.end - self.start).days + 1

    def study_day(self, day: dt.date) -> int:
        """Day number counted from the first baseline day (day 1); may fall outside the trial."""
        return (day - self.start).days + 1

    def locate(self, day: dt.date) -> DayPosition | None:
        """The phase `day` falls in, or None before the start and after the end."""
        if not self.start <= day <= self.end:
            return None
        for phase in self.phases:
            if day <= phase.end:
                return DayPosition(
                    phase=phase,
                    study_day=self.study_day(day),
                    day_in_phase=(day - phase.start).days + 1,
                )
        raise AssertionError("phases cover the schedule without gaps")  # pragma: no cover

    def treatment_phases(self) -> tuple[Phase, ...]:
        return tuple(p for p in self.phases if p.kind == "treatment")

    def period(self, number: int) -> Phase:
        """Treatment period `number` (1-based); baseline is period 0."""
        for phase in self.phases:
            if phase.period == number:
                return phase
        raise KeyError(f"no period {number}; this schedule has {len(self.treatment_phases())}")


def make_schedule(protocol: Protocol, sequence: tuple[str, ...], start: dt.date) -> Schedule:
    """Place `sequence`'s phases on the calendar from `start`, the first baseline day.

    >>> from diarytrial.protocol import load_example
    >>> ldn = load_example("ldn-fibromyalgia").protocol
    >>> s = make_schedule(ldn, ("ldn", "placebo"), dt.date(2026, 1, 5))
    >>> [(p.condition, p.start.isoformat(), p.days) for p in s.phases]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('baseline', '2026-01-05', 14), ('active', '2026-01-19', 84),
     ('washout', '2026-04-13', 14), ('placebo', '2026-04-27', 28)]
    """
    if sequence not in protocol.sequences:
        known = ", ".join("-".join(s) for s in protocol.sequences)
        raise ValueError(f"{'-'.join(sequence)} is not a sequence of this protocol ({known})")
    phases: list[Phase] = []
    first = start
    for template in protocol.phase_templates(sequence):
        last = first + dt.timedelta(days=template.days - 1)
        phases.append(
            Phase(
                index=template.index,
                kind=template.kind,
                period=template.period,
                arm=template.arm,
                condition=template.condition,
                block=template.block,
                start=first,
                end=last,
            )
        )
        first = last + dt.timedelta(days=1)
    return Schedule(sequence=sequence, start=start, phases=tuple(phases))
