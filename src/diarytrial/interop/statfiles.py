"""The analysis-ready tables as SAS transport (XPT v5), SPSS (.sav) and Stata (.dta) files.

Every table of the trial dataset becomes one file, plus ``nights``: the nightly diary wide, one
row per participant and diary date with a column per diary item (what a statistician fits a
model to in SAS, SPSS or Stata). pyreadstat writes the files; nothing here writes bytes.

What the files keep:

- **Variable labels**: each column's description from the dataset's schema (for an item, its
  label and scale from the protocol). XPT v5 allows names of 8 characters and labels of 40:
  there the label starts with the dataset's column name, so a short name can be read back.
- **Value labels** (SPSS and Stata): a column with a fixed list of values (status, severity,
  guess...) is written as codes 1, 2, ... in the schema's order, each labelled with its
  value; a boolean as 0 "false" and 1 "true". SAS keeps value labels in a format catalog that
  the transport file cannot hold: the XPT files keep the values themselves as text.
- **Types**: dates as dates, instants as date-times in UTC, numbers as numbers; a missing
  value is the format's missing value (an empty text for text).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
import pyreadstat

from diarytrial.dataset import TrialDataset
from diarytrial.dataset.tables import TABLES, Column, Table

StatFormat = Literal["xpt", "sav", "dta"]
STAT_FORMATS: tuple[StatFormat, ...] = ("xpt", "sav", "dta")

XPT_NAME_LENGTH = 8
XPT_LABEL_LENGTH = 40
DTA_NAME_LENGTH = 32
DTA_LABEL_LENGTH = 80
SAV_NAME_LENGTH = 64
SAV_LABEL_LENGTH = 255

XPT_TABLE_NAMES = {
    "participants": "PARTICIP",
    "periods": "PERIODS",
    "diary": "DIARY",
    "nights": "NIGHTS",
    "side_effects": "SIDEEFF",
    "doses": "DOSES",
    "adverse_events": "AE",
    "pgic": "PGIC",
    "blinding": "BLINDING",
}
"""The SAS data set name of each table (8 characters at most in XPT v5)."""


@dataclass(frozen=True)
class LabelledTable:
    """One table as the statistics packages get it: its values and its labels."""

    name: str
    label: str
    frame: pd.DataFrame
    """The values: text, numbers, dates (``datetime.date``) and date-times (UTC, naive)."""
    column_labels: dict[str, str]
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """For each column with a fixed list of values, that list: value k-1 is written as code k
    (where the format keeps value labels)."""
    booleans: tuple[str, ...] = ()
    """The columns holding true/false (written 1/0)."""


def analysis_tables(dataset: TrialDataset) -> list[LabelledTable]:
    """Every table of `dataset` with its labels, and the nightly diary wide (``nights``)."""
    tables = [_table(table, dataset.table(table.name)) for table in TABLES]
    tables.insert(3, _nights(dataset))
    return tables


def _values(column: Column, series: pd.Series) -> pd.Series:
    match column.type:
        case "date":
            return pd.Series(
                [None if pd.isna(v) else pd.Timestamp(v).date() for v in series], dtype=object
            )
        case "datetime":
            stamps = pd.to_datetime(series, utc=True)
            return stamps.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
        case "integer":
            return series.astype("float64")
        case "boolean":
            return pd.Series([None if pd.isna(v) else bool(v) for v in series], dtype=object)
        case "number":
            return series.astype("float64")
    return pd.Series([None if pd.isna(v) else str(v) for v in series], dtype=object)


def _table(table: Table, frame: pd.DataFrame) -> LabelledTable:
    values = pd.DataFrame({c.name: _values(c, frame[c.name]) for c in table.columns})
    return LabelledTable(
        name=table.name,
        label=table.description,
        frame=values.reset_index(drop=True),
        column_labels={c.name: c.description for c in table.columns},
        codes={c.name: c.enum for c in table.columns if c.enum},
        booleans=tuple(c.name for c in table.columns if c.type == "boolean"),
    )


def _nights(dataset: TrialDataset) -> LabelledTable:
    """The diary wide: one row per participant and diary date, a column per item."""
    items = dataset.protocol.protocol.diary.items
    diary = dataset.diary
    keys = ["participant_id", "diary_date"]
    if diary.empty:
        wide = pd.DataFrame({key: pd.Series(dtype=object) for key in keys})
    else:
        wide = diary.pivot_table(index=keys, columns="item", values="value", aggfunc="first")
        wide = wide.reset_index()
        wide.columns = [str(name) for name in wide.columns]
    for item in items:
        if item.id not in wide:
            wide[item.id] = float("nan")
    wide = wide[[*keys, *(item.id for item in items)]].sort_values(keys, kind="stable")
    key_columns = {c.name: c for c in TABLES[2].columns if c.name in keys}
    frame = pd.DataFrame(
        {
            "participant_id": _values(key_columns["participant_id"], wide["participant_id"]),
            "diary_date": _values(key_columns["diary_date"], wide["diary_date"]),
            **{item.id: wide[item.id].astype("float64").to_numpy() for item in items},
        }
    )
    labels = {name: column.description for name, column in key_columns.items()}
    labels.update(
        {
            item.id: f"{item.label} ({item.lowest} {item.anchors[0]} to "
            f"{item.highest} {item.anchors[1]})"
            for item in items
        }
    )
    return LabelledTable(
        name="nights",
        label="The nightly diary, one row per participant and diary date, a column per item.",
        frame=frame.reset_index(drop=True),
        column_labels=labels,
    )


def short_names(names: Iterable[str], limit: int, *, upper: bool = False) -> dict[str, str]:
    """A name of at most `limit` characters for each of `names` (letters, digits and '_',
    starting with a letter), distinct from the others: cut, and numbered where two collide.

    >>> short_names(["participant_id", "participant_code", "pain"], 8, upper=True)
    {'participant_id': 'PARTICIP', 'participant_code': 'PARTICI2', 'pain': 'PAIN'}
    """
    found: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not base or not base[0].isalpha():
            base = f"V{base}"
        base = base.upper() if upper else base
        candidate = base[:limit]
        number = 1
        while candidate.lower() in taken:
            number += 1
            suffix = str(number)
            candidate = base[: limit - len(suffix)] + suffix
        taken.add(candidate.lower())
        found[name] = candidate
    return found


def _coded(table: LabelledTable) -> tuple[pd.DataFrame, dict[str, dict[float, str]]]:
    """The frame with fixed-list and boolean columns as numeric codes, and their labels."""
    frame = table.frame.copy()
    labels: dict[str, dict[float, str]] = {}
    for name, values in table.codes.items():
        code = {value: float(k) for k, value in enumerate(values, start=1)}
        unknown = sorted({v for v in frame[name] if v is not None and v not in code})
        if unknown:
            raise ValueError(
                f"{table.name}.{name}: {', '.join(map(repr, unknown))} not among its values"
            )
        frame[name] = [float("nan") if v is None else code[v] for v in frame[name]]
        labels[name] = {k: value for value, k in code.items()}
    for name in table.booleans:
        frame[name] = [float("nan") if v is None else float(v) for v in frame[name]]
        labels[name] = {0.0: "false", 1.0: "true"}
    return frame, labels


def _text_and_booleans(table: LabelledTable) -> pd.DataFrame:
    """The frame for a format without value labels: fixed lists stay text, booleans 1/0."""
    frame = table.frame.copy()
    for name in table.booleans:
        frame[name] = [float("nan") if v is None else float(v) for v in frame[name]]
    return frame


def _cut(text: str, limit: int, *, ascii_only: bool = False) -> str:
    """`text` in at most `limit` bytes of UTF-8 (cut with "..." between whole characters);
    `ascii_only` (SAS transport) writes other characters as '?'."""
    if ascii_only:
        text = text.encode("ascii", errors="replace").decode("ascii")
    if len(text.encode()) <= limit:
        return text
    while len(text.encode()) > limit - 3:
        text = text[:-1]
    return text + "..."


@dataclass(frozen=True)
class Limits:
    """What a format allows: the length of a variable name and of a label (bytes), whether
    names are upper case and labels plain ASCII, and whether it keeps value labels."""

    name: int
    label: int
    upper: bool = False
    ascii_only: bool = False
    value_labels: bool = True


LIMITS: dict[StatFormat, Limits] = {
    "xpt": Limits(
        XPT_NAME_LENGTH, XPT_LABEL_LENGTH, upper=True, ascii_only=True, value_labels=False
    ),
    "sav": Limits(SAV_NAME_LENGTH, SAV_LABEL_LENGTH),
    "dta": Limits(DTA_NAME_LENGTH, DTA_LABEL_LENGTH),
}


def written_names(table: LabelledTable, fmt: StatFormat) -> dict[str, str]:
    """Each column's name in the `fmt` file."""
    limits = LIMITS[fmt]
    return short_names(table.frame.columns, limits.name, upper=limits.upper)


def written_labels(table: LabelledTable, fmt: StatFormat) -> dict[str, str]:
    """Each column's label in the `fmt` file: its description, cut to the format; led by the
    column's own name where the format had to shorten it."""
    limits = LIMITS[fmt]
    names = written_names(table, fmt)
    return {
        name: _cut(
            table.column_labels[name]
            if names[name].lower() == name
            else f"{name}: {table.column_labels[name]}",
            limits.label,
            ascii_only=limits.ascii_only,
        )
        for name in table.frame.columns
    }


def _write(table: LabelledTable, path: Path, fmt: StatFormat) -> None:
    limits = LIMITS[fmt]
    if limits.value_labels:
        frame, value_labels = _coded(table)
    else:
        frame, value_labels = _text_and_booleans(table), {}
    names = written_names(table, fmt)
    labels = written_labels(table, fmt)
    frame = frame.rename(columns=names)
    column_labels: list[str | None] = [labels[name] for name in table.frame.columns]
    file_label = _cut(table.label, limits.label, ascii_only=limits.ascii_only)
    match fmt:
        case "xpt":
            pyreadstat.write_xport(
                frame,
                str(path),
                file_label=file_label,
                column_labels=column_labels,
                table_name=XPT_TABLE_NAMES[table.name],
                file_format_version=5,
            )
        case "sav" | "dta":
            write = (
                pyreadstat.write_sav
                if fmt == "sav"
                else functools.partial(pyreadstat.write_dta, version=15)
            )
            write(
                frame,
                str(path),
                file_label=file_label,
                column_labels=column_labels,
                variable_value_labels={names[n]: v for n, v in value_labels.items()},
            )


def write_stat_files(dataset: TrialDataset, directory: Path, fmt: StatFormat) -> list[Path]:
    """Write each analysis-ready table of `dataset` to `directory` as a `fmt` file (``xpt``,
    ``sav`` or ``dta``); return the files written, in the order of the tables.

    Raises ValueError when a table cannot be written in `fmt` (pyreadstat's refusal)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in analysis_tables(dataset):
        path = directory / f"{table.name}.{fmt}"
        try:
            _write(table, path, fmt)
        except pyreadstat.ReadstatError as error:
            raise ValueError(f"{table.name}: {error}") from error
        written.append(path)
    return written
