"""Fast, deterministic CSV encoding and decoding of dataset tables.

A diary of 10,000 participants x 180 nights x 6 items is 10.8 million rows; pandas'
``to_csv`` needs most of a minute for it. Dataset columns repeat few distinct values
(participants, dates, items, scale points), so each column is factorised, its distinct values
formatted once, and blocks of rows are assembled as byte matrices with numpy.

Text form of each type (what R's ``read.csv`` and pandas' ``read_csv`` read back unchanged):
string as is (quoted per RFC 4180 when it holds a comma, quote or line break), integer in
decimal, number in the shortest form that round-trips (``12`` for 12.0), boolean as
``TRUE``/``FALSE``, date as ``YYYY-MM-DD``, datetime in UTC as ``YYYY-MM-DDTHH:MM:SSZ``
(with ``.ffffff`` only when there are fractions of a second); a missing value is empty.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.tables import Column, Table
from diarytrial.textfile import not_utf8_message

_NEEDS_QUOTES = (",", '"', "\n", "\r")


def _format_string(value: Any) -> str:
    text = str(value)
    if any(ch in text for ch in _NEEDS_QUOTES) or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _format_integer(value: Any) -> str:
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return str(int(number))


def _format_number(value: Any) -> str:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


def _format_boolean(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    raise ValueError(f"{value!r} is not true or false")


def _format_date(value: Any) -> str:
    stamp = pd.Timestamp(value)
    if stamp != stamp.normalize():
        raise ValueError(f"{value!r} is a date with a time of day; a date column holds dates")
    return stamp.strftime("%Y-%m-%d")


def _format_datetime(value: Any) -> str:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; store instants in UTC")
    stamp = stamp.tz_convert("UTC")
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += f".{stamp.microsecond:06d}"
    return text + "Z"


_FORMATTERS = {
    "string": _format_string,
    "integer": _format_integer,
    "number": _format_number,
    "boolean": _format_boolean,
    "date": _format_date,
    "datetime": _format_datetime,
}


@dataclass(frozen=True)
class _Encoded:
    codes: npt.NDArray[np.intp]  # index into `texts`; the last entry is the empty (missing) text
    texts: npt.NDArray[np.bytes_]  # fixed-width byte strings


def _encode(series: pd.Series, column: Column) -> _Encoded:
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = np.asarray(series.cat.codes, dtype=np.intp)
        uniques: Any = series.cat.categories
    else:
        factor_codes, uniques = pd.factorize(series, use_na_sentinel=True)
        codes = np.asarray(factor_codes, dtype=np.intp)
    try:
        texts = _format_uniques(uniques, column)
    except ValueError as error:
        raise ValueError(f"column {column.name!r}: {error}") from None
    codes = np.where(codes < 0, len(texts), codes)
    return _Encoded(codes=codes, texts=np.append(texts, np.array([b""])))


def _format_uniques(uniques: Any, column: Column) -> npt.NDArray[np.bytes_]:
    """Text of each distinct value; instants and dates are formatted by numpy in bulk."""
    if column.type in {"date", "datetime"} and isinstance(uniques, pd.DatetimeIndex):
        tz = uniques.tz
        if column.type == "datetime" and tz is None:
            raise ValueError("times have no time zone; store instants in UTC")
        naive = (uniques.tz_convert("UTC") if tz is not None else uniques).tz_localize(None)
        stamps = naive.to_numpy()
        if column.type == "date":
            if tz is not None or np.any(naive != naive.normalize()):
                raise ValueError("a date column holds dates, not times of day")
            texts = np.datetime_as_string(stamps, unit="D")
        else:
            whole = bool(np.all(naive.microsecond == 0) and np.all(naive.nanosecond == 0))
            if whole:
                return _whole_second_instants(stamps.astype("datetime64[s]"))
            texts = np.char.add(np.datetime_as_string(stamps, unit="us"), "Z")
        return np.char.encode(texts, "ascii")
    format_value = _FORMATTERS[column.type]
    return np.array([format_value(value).encode("utf-8") for value in uniques], dtype=np.bytes_)


def _whole_second_instants(stamps: npt.NDArray[np.datetime64]) -> npt.NDArray[np.bytes_]:
    """``YYYY-MM-DDTHH:MM:SSZ`` for many instants: format each day and each second once."""
    days = stamps.astype("datetime64[D]")
    unique_days, day_index = np.unique(days, return_inverse=True)
    day_texts = np.char.encode(np.datetime_as_string(unique_days, unit="D"), "ascii")
    seconds = (stamps - days).astype(np.int64)
    unique_seconds, second_index = np.unique(seconds, return_inverse=True)
    clock = [
        f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z".encode("ascii")
        for s in unique_seconds.tolist()
    ]
    out: npt.NDArray[np.bytes_] = np.char.add(
        day_texts[day_index], np.array(clock, dtype="S10")[second_index]
    )
    return out


CHUNK_ROWS = 500_000
"""Rows encoded at a time: bounds the memory of the byte matrix (about 30 MB a chunk)."""


def iter_table_bytes(frame: pd.DataFrame, table: Table) -> Iterator[bytes]:
    """The CSV of `frame` in pieces: the header, then blocks of rows."""
    missing = [name for name in table.column_names if name not in frame.columns]
    if missing:
        raise ValueError(f"table {table.name!r} lacks the column(s) {', '.join(missing)}")
    yield (",".join(table.column_names) + "\n").encode("utf-8")
    if len(frame) == 0:
        return
    encoded = [_encode(frame[c.name], c) for c in table.columns]
    # Each column gets a slot as wide as its widest text plus its separator; a row is the
    # slots side by side, padded with NUL bytes, which CSV text never contains. Dropping
    # every NUL byte of a block of rows leaves exactly the rows' text.
    slots = []
    for k, column in enumerate(encoded):
        width = column.texts.dtype.itemsize
        slot = np.zeros((len(column.texts), width + 1), dtype=np.uint8)
        if width:
            slot[:, :width] = column.texts.view(np.uint8).reshape(len(column.texts), width)
        lengths = np.char.str_len(column.texts)
        slot[np.arange(len(column.texts)), lengths] = ord("\n" if k == len(encoded) - 1 else ",")
        slots.append(slot)
    row_width = sum(slot.shape[1] for slot in slots)
    for first in range(0, len(frame), CHUNK_ROWS):
        last = min(first + CHUNK_ROWS, len(frame))
        block = np.empty((last - first, row_width), dtype=np.uint8)
        offset = 0
        for slot, column in zip(slots, encoded, strict=True):
            width = slot.shape[1]
            block[:, offset : offset + width] = slot[column.codes[first:last]]
            offset += width
        flat = block.ravel()
        yield flat[flat != 0].tobytes()


def write_table(frame: pd.DataFrame, table: Table, path: Path) -> tuple[int, str]:
    """Write `frame` as `table`'s CSV file at `path`; return its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        for piece in iter_table_bytes(frame, table):
            out.write(piece)
            digest.update(piece)
            size += len(piece)
    return size, digest.hexdigest()


@dataclass(frozen=True)
class CellProblem:
    """A value that does not parse as its column's type; `line` is the CSV line number."""

    line: int
    column: str
    message: str


_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


class TableReadError(ValueError):
    """A CSV file that cannot be read as a table at all; `line` is where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


_SNIFF_BYTES = 64 * 1024
_PARSER_LINE = re.compile(r"(?:line|row) (\d+)")


def read_table(path: Path, table: Table) -> tuple[pd.DataFrame, list[CellProblem], list[str]]:
    """Read `table` from `path` into the in-memory dtypes.

    Returns the frame, the cells that did not parse (left missing in the frame) and the
    names of expected columns absent from the file. Extra columns are kept as strings.
    Raises TableReadError for a file that is not a UTF-8 CSV with a header line (empty, in
    another encoding, a column named twice, a row that does not split into fields).
    """
    _check_start(path, table)
    try:
        raw = pd.read_csv(
            path, dtype="category", keep_default_na=False, na_values=[""], encoding="utf-8"
        )
    except UnicodeDecodeError:
        raise TableReadError(_not_utf8(path)) from None
    except pd.errors.EmptyDataError:
        raise TableReadError(_empty_message(table), 1) from None
    except pd.errors.ParserError as error:
        found = _PARSER_LINE.search(str(error))
        detail = str(error).split("C error: ")[-1].strip().rstrip(".")
        raise TableReadError(
            f"not a valid CSV file ({detail}); every line needs "
            f"{len(table.columns)} fields separated by commas, and text holding a comma or a "
            'quote goes inside double quotes (" doubled within)',
            int(found.group(1)) if found else None,
        ) from None
    problems: list[CellProblem] = []
    absent = [name for name in table.column_names if name not in raw.columns]
    frame: dict[str, Any] = {}
    for name in raw.columns:
        series = raw[name]
        try:
            column = table.column(str(name))
        except KeyError:
            frame[str(name)] = series
            continue
        frame[str(name)] = _decode(series, column, problems)
    return pd.DataFrame(frame, index=raw.index), problems, absent


def _check_start(path: Path, table: Table) -> None:
    """Refuse an empty file, UTF-16 text and a header that names a column twice."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise TableReadError(_empty_message(table), 1)
    if b"\0" in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TableReadError(not_utf8_message(head, what="CSV file"))
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    try:
        names = next(csv.reader([first]), [])
    except csv.Error:  # a stray carriage return; pandas reports what is wrong with the file
        return
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise TableReadError(
            f"the header names the column(s) {', '.join(twice)} more than once; "
            "keep one column of each name",
            1,
        )


def _empty_message(table: Table) -> str:
    return "the file is empty; a table has at least its header line: " + ",".join(
        table.column_names
    )


def _not_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return not_utf8_message(data, what="CSV file", at=error.start)
    return not_utf8_message(data, what="CSV file")


def _decode(series: pd.Series, column: Column, problems: list[CellProblem]) -> Any:
    categories = pd.Index(series.cat.categories.astype(str))
    codes = np.asarray(series.cat.codes)
    if column.type == "string":
        return series.cat.rename_categories(categories)
    values, bad = _parse_categories(categories, column)
    if bad.any():
        for row in np.flatnonzero((codes >= 0) & bad[np.maximum(codes, 0)])[:50]:
            text = categories[codes[row]]
            problems.append(
                CellProblem(
                    int(row) + 2, column.name, f"{text!r} is not a valid {_NAMES[column.type]}"
                )
            )
    taken = values.take(np.where(codes >= 0, codes, -1), allow_fill=True)
    if column.type == "boolean" and not pd.isna(taken).any():
        taken = taken.to_numpy(dtype=bool)
    return pd.Series(taken, index=series.index)


_NAMES = {
    "integer": "whole number",
    "number": "number",
    "boolean": "boolean (write true or false)",
    "date": "date (write YYYY-MM-DD, a year from 1900 to 2199)",
    "datetime": "UTC time (write YYYY-MM-DDTHH:MM:SSZ, a year from 1900 to 2199)",
}
FIRST_DATE = pd.Timestamp("1900-01-01")
LAST_DATE = pd.Timestamp("2199-12-31 23:59:59")
"""Dates outside these years are typing mistakes, and beyond 9999 no calendar library works."""


def _parse_categories(categories: pd.Index, column: Column) -> tuple[Any, npt.NDArray[np.bool_]]:
    """Parse each distinct text once; return the parsed values and which ones failed."""
    kind = column.type
    if kind in {"integer", "number"}:
        numbers = pd.to_numeric(pd.Series(categories), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if kind == "integer":
            # Beyond 2**53 a float no longer holds every whole number, and int64 overflows.
            bad |= ~np.isclose(numbers, np.round(numbers), rtol=0, atol=0) & ~bad
            bad |= np.abs(np.where(bad, 0, numbers)) > 2**53
            ints = pd.array(np.where(bad, 0, numbers).astype(np.int64), dtype="Int64")
            ints[bad] = pd.NA
            return ints, bad
        return pd.array(np.where(bad, np.nan, numbers), dtype="float64"), bad
    if kind == "boolean":
        truth = np.array([text in _TRUE for text in categories], dtype=bool)
        bad = np.array(
            [text not in _TRUE and text not in _FALSE for text in categories], dtype=bool
        )
        return pd.array(truth, dtype="boolean"), bad
    if kind == "date":
        dates = pd.to_datetime(pd.Series(categories), format="%Y-%m-%d", errors="coerce")
        bad = (dates.isna() | (dates < FIRST_DATE) | (dates > LAST_DATE)).to_numpy()
        return pd.array(dates.to_numpy(dtype="datetime64[s]")), bad
    texts = pd.Series(categories)
    aware = texts.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    instants = pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
    naive = instants.dt.tz_localize(None)
    bad = (instants.isna() | ~aware | (naive < FIRST_DATE) | (naive > LAST_DATE)).to_numpy()
    return pd.array(instants.dt.tz_convert("UTC").astype("datetime64[s, UTC]")), bad
