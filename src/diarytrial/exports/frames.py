"""Rows read from the database as the dataset's tables: its columns, in its in-memory dtypes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from diarytrial.dataset.tables import Column, Table

Row = tuple[object, ...]
"""One row of a table, its values in the order of the table's columns."""


def _series(column: Column, values: Sequence[Any]) -> pd.Series:
    match column.type:
        case "string":
            return pd.Series([None if v is None else str(v) for v in values], dtype=object)
        case "integer":
            return pd.Series(pd.array(list(values), dtype="Int64"))
        case "number":
            return pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
        case "boolean":
            nullable = any(v is None for v in values)
            return pd.Series(list(values), dtype="boolean" if nullable else bool)
        case "date":
            return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[ns]").astype(
                "datetime64[s]"
            )
        case "datetime":
            stamps = [v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v for v in values]
            return pd.Series(pd.to_datetime(stamps, utc=True)).astype("datetime64[us, UTC]")
    raise ValueError(f"column {column.name!r} has an unknown type {column.type!r}")


def table_frame(table: Table, rows: Sequence[Row]) -> pd.DataFrame:
    """`rows` (tuples in the order of `table`'s columns) as a DataFrame, sorted by its key.

    Each column gets the dtype of its type (``dataset.model``): object for strings, ``Int64``,
    ``float64``, ``bool``, ``datetime64[s]`` for dates and ``datetime64[us, UTC]`` for instants.
    Sorting here (strings by code point) rather than in SQL, whose collation differs between
    databases, gives the same bytes on SQLite and PostgreSQL.

    >>> from diarytrial.dataset.tables import DOSES
    >>> frame = table_frame(DOSES, [("P-2", dt.date(2026, 1, 5), "standard", "start")])
    >>> [str(t) for t in frame.dtypes]
    ['object', 'datetime64[s]', 'object', 'object']
    """
    width = len(table.columns)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {table.name} has {len(row)} values, not {width}")
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in table.columns]
    frame = pd.DataFrame(
        {
            column.name: _series(column, values)
            for column, values in zip(table.columns, columns, strict=True)
        }
    )
    return frame.sort_values(list(table.primary_key), kind="stable").reset_index(drop=True)
