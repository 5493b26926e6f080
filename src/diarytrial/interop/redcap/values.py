"""A record row's mapped values read as text, dates, instants, numbers, flags and dataset
codes, as the mapping's ``[redcap]`` settings say they are written; what does not read is a
problem of that row and field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from diarytrial.interop.redcap.mapping import Coded, RedcapMapping
from diarytrial.interop.redcap.problems import ProblemList
from diarytrial.interop.redcap.records import RecordRow


class RowReader:
    """Values of the mapped fields of one row, as dates, numbers and dataset codes."""

    def __init__(self, mapping: RedcapMapping, source: str, problems: ProblemList) -> None:
        self.settings = mapping.redcap
        self.source = source
        self.problems = problems

    def text(self, row: RecordRow, name: str | None) -> str:
        """The raw value of field `name` in `row`; empty when it has none."""
        return row.values.get(name, "") if name else ""

    def bad(self, row: RecordRow, name: str, message: str) -> None:
        """A problem with field `name` of `row`."""
        self.problems.add(self.source, row.line, message, record=row.record, field=name)

    def date(self, row: RecordRow, name: str | None) -> dt.date | None:
        """A date in the export's `date_format`."""
        text = self.text(row, name)
        if not text or name is None:
            return None
        parsed = _parse_date(text, self.settings.date_format)
        if parsed is None:
            self.bad(row, name, f"{text!r} is not a date ({_DATE_HINT[self.settings.date_format]})")
        return parsed

    def instant(self, row: RecordRow, name: str | None) -> dt.datetime | None:
        """A date and time on the REDCap server's clock, in UTC."""
        text = self.text(row, name)
        if not text or name is None or text == "[not completed]":
            return None
        day, _space, clock = text.partition(" ")
        date = _parse_date(day, self.settings.date_format)
        try:
            time = dt.time.fromisoformat(clock) if date is not None else None
        except ValueError:
            time = None
        if date is None or time is None or time.tzinfo is not None:
            hint = _DATE_HINT[self.settings.date_format] + " HH:MM[:SS]"
            self.bad(row, name, f"{text!r} is not a date and time ({hint})")
            return None
        local = dt.datetime.combine(date, time).replace(
            tzinfo=ZoneInfo(self.settings.server_timezone)
        )
        return local.astimezone(dt.UTC)

    def number(self, row: RecordRow, name: str | None) -> float | None:
        """A finite number; a single decimal comma is read as a point."""
        text = self.text(row, name)
        if not text or name is None:
            return None
        try:
            value = float(text.replace(",", ".")) if text.count(",") == 1 else float(text)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            self.bad(row, name, f"{text!r} is not a number")
            return None
        return value

    def flag(self, row: RecordRow, name: str | None) -> bool | None:
        """A yes/no field: 1 or 0."""
        text = self.text(row, name)
        if not text or name is None:
            return None
        if text not in {"0", "1"}:
            self.bad(row, name, f"{text!r} is not yes (1) or no (0)")
            return None
        return text == "1"

    def coded(self, row: RecordRow, coded: Coded | None, allowed: Iterable[str] = ()) -> str | None:
        """The dataset's value of a coded field: its code through the mapping's `values`,
        which must be one of `allowed` when given."""
        if coded is None:
            return None
        text = self.text(row, coded.field)
        if not text:
            return None
        value = coded.values.get(text) if coded.values is not None else text
        allowed = tuple(allowed)
        if value is None or (allowed and value not in allowed):
            what = ", ".join(coded.values) if coded.values is not None else ", ".join(allowed)
            self.bad(
                row,
                coded.field,
                f"{text!r} is not one of the values the mapping knows ({what})",
            )
            return None
        return value

    def required(
        self, row: RecordRow, coded: Coded, allowed: Iterable[str], missing: str
    ) -> str | None:
        """A coded field the row must give: as `coded` reads it, and the problem `missing`
        when the field is empty."""
        value = self.coded(row, coded, allowed)
        if value is None and not self.text(row, coded.field):
            self.bad(row, coded.field, missing)
        return value


_DATE_HINT = {"YMD": "YYYY-MM-DD", "MDY": "MM-DD-YYYY", "DMY": "DD-MM-YYYY"}
_DATE = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})$")


def _parse_date(text: str, order: str) -> dt.date | None:
    match = _DATE.match(text.strip())
    if match is None:
        return None
    a, b, c = (int(g) for g in match.groups())
    year, month, day = {"YMD": (a, b, c), "MDY": (c, a, b), "DMY": (c, b, a)}[order]
    if year < 1000:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
