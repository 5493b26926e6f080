"""What a blinded export may show of a participant's schedule: pure functions of the protocol.

A blinded export must not tell who got which arm, and the dates of a schedule can: in the LDN
example period 1 lasts 84 days on LDN and 28 on placebo, so the end of period 1 tells the
sequence. The *blinded schedule* keeps the phases that are the same under every sequence of the
protocol (same kind, period, block, first day and length) and merges the rest into one phase
per stretch between the boundaries that all sequences share. It is a function of the protocol
and the start date only, so it is the same whatever the allocation. (The PGIC answers and
blinding guesses are kept by visit of the visit calendar, the same days for every sequence; a
blinded export leaves out which period a visit closes.)

No Django here: this module only reads the protocol.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from diarytrial.protocol import Protocol

BLINDED_SEQUENCE_PREFIX = "S"
"""A blinded export's sequence codes are S1, S2, ...: one per randomized participant."""


@dataclass(frozen=True)
class BlindedPhase:
    """One phase of the blinded schedule, as day offsets from the first baseline day.

    `merged` phases join the phases of a stretch whose layout differs between sequences: their
    kind is ``treatment`` (such a stretch always holds treatment) with no period or block.
    """

    index: int
    kind: str
    period: int | None
    block: int | None
    first_day: int
    days: int
    merged: bool

    def start(self, start_date: dt.date) -> dt.date:
        """The phase's first diary date for a participant whose first baseline day is given."""
        return start_date + dt.timedelta(days=self.first_day)

    def end(self, start_date: dt.date) -> dt.date:
        """The phase's last diary date (inclusive)."""
        return start_date + dt.timedelta(days=self.first_day + self.days - 1)


_Layout = tuple[tuple[int, int, str, int | None, int | None], ...]
"""Phases of one sequence: (first day, day after the last, kind, period, block)."""


def _layouts(protocol: Protocol) -> list[_Layout]:
    layouts: list[_Layout] = []
    for sequence in protocol.sequences:
        phases: list[tuple[int, int, str, int | None, int | None]] = []
        offset = 0
        for template in protocol.phase_templates(sequence):
            phases.append(
                (offset, offset + template.days, template.kind, template.period, template.block)
            )
            offset += template.days
        layouts.append(tuple(phases))
    return layouts


def blinded_schedule(protocol: Protocol) -> tuple[BlindedPhase, ...]:
    """The schedule a blinded export gives every randomized participant of `protocol`.

    >>> from diarytrial.protocol import load_example
    >>> ldn = blinded_schedule(load_example("ldn-fibromyalgia").protocol)
    >>> [(p.kind, p.period, p.first_day, p.days, p.merged) for p in ldn]
    [('baseline', 0, 0, 14, False), ('treatment', None, 14, 126, True)]
    >>> nof1 = blinded_schedule(load_example("nof1-ldn").protocol)
    >>> [(p.kind, p.period, p.days) for p in nof1][:3]
    [('baseline', 0, 7), ('treatment', 1, 14), ('treatment', 2, 14)]
    """
    layouts = _layouts(protocol)
    last = max(layout[-1][1] for layout in layouts)
    shared = set.intersection(*({p[0] for p in layout} | {layout[-1][1]} for layout in layouts))
    bounds = sorted(shared | {0, last})
    phases: list[BlindedPhase] = []
    for first, after in itertools.pairwise(bounds):
        inside = {tuple(p for p in layout if first <= p[0] < after) for layout in layouts}
        alike = len(inside) == 1
        only = next(iter(inside))
        if alike and len(only) == 1 and only[0][1] == after:
            _, _, kind, period, block = only[0]
            phases.append(
                BlindedPhase(len(phases), kind, period, block, first, after - first, False)
            )
        else:
            phases.append(
                BlindedPhase(len(phases), "treatment", None, None, first, after - first, True)
            )
    return tuple(phases)


def blinded_sequence_codes(participant_codes: Iterable[str]) -> dict[str, str]:
    """S1, S2, ... for the randomized participants, in the order of their (random) codes.

    One code per participant, never shared: a code shared by participants on the same sequence
    would split them into the trial's groups, which is itself allocation.

    >>> blinded_sequence_codes(["P-9Z", "P-2K"])
    {'P-2K': 'S1', 'P-9Z': 'S2'}
    """
    ordered = sorted(set(participant_codes))
    return {code: f"{BLINDED_SEQUENCE_PREFIX}{k}" for k, code in enumerate(ordered, start=1)}
