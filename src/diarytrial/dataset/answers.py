"""Validation of the end-of-visit answers: the PGIC and blinding tables.

An answer closes a visit the protocol asks at; in an unblinded dataset its period is the one
that visit closes for the participant's sequence, in a blinded one there is none (which period
a visit closes tells the sequence); it is given on or after its visit and at most
`QUESTIONS_DUE_DAYS` days after the participant's last diary day. Called by
`validate.validate_dataset`, which collects the problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import BLINDING, PGIC, Table
from diarytrial.protocol.schema import Protocol
from diarytrial.protocol.visits import (
    QUESTIONS_DUE_DAYS,
    VisitCalendar,
    periods_closed,
    pgic_visits,
    visit_calendar,
)

if TYPE_CHECKING:
    from diarytrial.dataset.validate import _Collector


def check_answers(
    found: _Collector,
    protocol: Protocol,
    dataset: TrialDataset,
    spans: pd.DataFrame,
    sequences: dict[str, tuple[str, ...] | None],
) -> None:
    """The PGIC and blinding tables: visits the protocol asks at, periods, dates.

    `spans`: each participant's first and last diary day; `sequences`: each participant's
    sequence (None when unknown), as the validation of the other tables found them.
    """
    calendar = visit_calendar(protocol)
    blinded = bool(dataset.provenance.get("blinded"))
    asked_at = {
        PGIC: ("the PGIC", pgic_visits(protocol, calendar)),
        BLINDING: ("the blinding guess", tuple(v.number for v in calendar.answer_visits)),
    }
    for table, (what, asked) in asked_at.items():
        frame = dataset.table(table.name)
        visits = frame["visit"].astype("Float64")
        known = visits.isin(asked).fillna(False).to_numpy(dtype=bool)
        found.rows(
            table,
            visits.notna().to_numpy(dtype=bool) & ~known,
            "visit",
            f"the protocol asks {what} at visit(s) {_listing(asked)}",
        )
        if blinded:
            found.rows(
                table,
                frame["period"].notna(),
                "period",
                "a blinded dataset gives no period: which period a visit closes tells the sequence",
            )
        else:
            _check_answer_periods(found, table, frame, known, protocol, calendar, sequences)
        _check_answer_dates(found, table, frame, known, calendar, spans)


def _check_answer_periods(
    found: _Collector,
    table: Table,
    frame: pd.DataFrame,
    known: npt.NDArray[np.bool_],
    protocol: Protocol,
    calendar: VisitCalendar,
    sequences: dict[str, tuple[str, ...] | None],
) -> None:
    """In an unblinded dataset, the period of an answer is the one its visit closes."""
    closes = {
        sequence: periods_closed(protocol, calendar, sequence) for sequence in protocol.sequences
    }
    columns = (frame["participant_id"].astype(str), frame["visit"], frame["period"])
    for position, (participant, visit, period) in enumerate(zip(*columns, strict=True)):
        sequence = sequences.get(participant)
        if not known[position] or sequence is None:
            continue
        expected = closes[sequence].get(int(visit))
        given = None if pd.isna(period) else int(period)
        if given != expected:
            closed = f"closes period {expected}" if expected else "closes no treatment period"
            found.positions(
                table,
                [position],
                "period",
                f"visit {int(visit)} {closed} for this participant's sequence",
            )


def _check_answer_dates(
    found: _Collector,
    table: Table,
    frame: pd.DataFrame,
    known: npt.NDArray[np.bool_],
    calendar: VisitCalendar,
    spans: pd.DataFrame,
) -> None:
    """An answer is given on or after its visit, and at most `QUESTIONS_DUE_DAYS` days after
    the participant's last diary day."""
    ids = frame["participant_id"].astype(str)
    dates = pd.to_datetime(frame["answered_on"]).astype("datetime64[s]")
    first = ids.map(spans["first"])
    last = ids.map(spans["last"]) + pd.Timedelta(days=QUESTIONS_DUE_DAYS)
    outside = ids.isin(spans.index) & ((dates < first) | (dates > last))
    found.rows(table, outside, "answered_on", "date outside the participant's schedule")
    offsets = {
        visit.number: calendar.baseline_days + visit.treatment_day - 1 for visit in calendar.visits
    }
    visit_days = frame["visit"].astype("Float64").where(known).map(offsets, na_action="ignore")
    visit_dates = first + pd.to_timedelta(visit_days.astype(float), unit="D")
    early = (ids.isin(spans.index) & ~outside & (dates < visit_dates)).fillna(False)
    found.rows(table, early, "answered_on", "answered before the visit it closes")


def _listing(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values) or "none"
