"""Small tools the analysis modules share to read the dataset's tables: required columns, dates
as day numbers and back, string columns as Python values, the phases of the schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


def require_columns(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    """Raise ValueError naming the columns of `columns` that `frame` (table `table`) lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the {table} table has no column {', '.join(map(repr, missing))}; "
            "add it (docs/dataset.md lists the columns of every table)"
        )


def day_numbers(column: pd.Series) -> FloatArray:
    """Days since 1970-01-01 of a date column, as floats; NaN for a missing date."""
    values = pd.to_datetime(column).to_numpy().astype("datetime64[D]")
    out: FloatArray = values.astype(np.int64).astype(float)
    out[np.isnat(values)] = np.nan
    return out


def day_number(date: dt.date) -> float:
    """Days since 1970-01-01 of one date."""
    return float((date - dt.date(1970, 1, 1)).days)


def dates_of(days: npt.ArrayLike) -> pd.Series:
    """Dates (``datetime64[s]`` at midnight) of day numbers from :func:`day_numbers`."""
    numbers = np.asarray(days, dtype=float)
    out = np.full(numbers.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    known = ~np.isnan(numbers)
    out[known] = (numbers[known].astype(np.int64)).astype("datetime64[D]").astype("datetime64[s]")
    return pd.Series(out)


def string_values(column: pd.Series) -> npt.NDArray[np.object_]:
    """The values of a string (or categorical) column as Python objects; missing stays None."""
    values = column.astype(object).to_numpy()
    out: npt.NDArray[np.object_] = np.array(
        [None if pd.isna(v) else str(v) for v in values],
        dtype=object,
    )
    return out


def phase_table(periods: pd.DataFrame) -> pd.DataFrame:
    """The phases of ``periods``: participant_id, phase, period (Int64), condition, and start
    and end as day numbers."""
    return pd.DataFrame(
        {
            "participant_id": string_values(periods["participant_id"]),
            "phase": periods["phase"].astype("Int64").array,
            "period": periods["period"].astype("Int64").array,
            "condition": string_values(periods["condition"]),
            "start": day_numbers(periods["start"]),
            "end": day_numbers(periods["end"]),
        }
    )
