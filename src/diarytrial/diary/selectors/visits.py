"""The visits at which a participant answers the end-of-period questions.

The questions (the PGIC where the protocol asks it, and the blinding guess) are asked at every
visit of the blinded visit calendar (``protocol.visits``) after the first, for every participant
alike: a visit falls on the same day for everyone who started on the same day, whatever their
sequence, so neither the questions nor their dates tell the sequence. Nothing here reads the
participant's allocation or the periods of their schedule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from diarytrial.participants.models import Participant
from diarytrial.protocol import Protocol
from diarytrial.protocol.visits import QUESTIONS_DUE_DAYS, pgic_visits, visit_calendar


@dataclass(frozen=True)
class AnswerVisit:
    """A visit at which the questions are asked: its number, its date for the participant, the
    treatment days since the visit before (``first_day`` to ``last_day``) and whether the PGIC
    is asked at it."""

    number: int
    day: dt.date
    first_day: int
    last_day: int
    pgic: bool

    @property
    def days_words(self) -> str:
        """``visit 2 (treatment days 29-42)``: the visit before and the days since, in words."""
        return f"visit {self.number - 1} (treatment days {self.first_day}-{self.last_day})"

    @property
    def last_answer_day(self) -> dt.date:
        """The last day the phone asks the visit's questions (from `day` on)."""
        return self.day + dt.timedelta(days=QUESTIONS_DUE_DAYS)

    def asked(self, last_diary_day: dt.date | None) -> bool:
        """Whether a participant whose diary ends on `last_diary_day` is asked at this visit:
        the visit falls within their diary (None: the diary has no end yet)."""
        return last_diary_day is None or self.day <= last_diary_day


def answer_visits(*, participant: Participant, protocol: Protocol) -> tuple[AnswerVisit, ...]:
    """The participant's visits after the first, in order; empty without a start date."""
    start = participant.start_date
    if start is None:
        return ()
    return answer_visits_from(start=start, protocol=protocol)


def answer_visits_from(*, start: dt.date, protocol: Protocol) -> tuple[AnswerVisit, ...]:
    """The visits after the first, in order, of a participant whose first baseline day is
    `start` (the same for everyone who started that day)."""
    calendar = visit_calendar(protocol)
    asked = set(pgic_visits(protocol, calendar))
    found: list[AnswerVisit] = []
    for visit in calendar.answer_visits:
        stretch = calendar.stretch_closed_by(visit)
        if stretch is None:  # the first visit; every later one closes a stretch
            continue
        found.append(
            AnswerVisit(
                number=visit.number,
                day=calendar.date_of(visit.treatment_day, start),
                first_day=stretch.first_day,
                last_day=stretch.last_day,
                pgic=visit.number in asked,
            )
        )
    return tuple(found)


_REFERENCE_START = dt.date(2001, 1, 1)


def answer_visit_offsets(protocol: Protocol) -> tuple[tuple[int, int, bool], ...]:
    """Each visit of `answer_visits_from` as (number, days from the start, PGIC asked): the
    visit falls on the start plus those days, for every participant of `protocol`."""
    return tuple(
        (visit.number, (visit.day - _REFERENCE_START).days, visit.pgic)
        for visit in answer_visits_from(start=_REFERENCE_START, protocol=protocol)
    )
