"""The trial dataset in memory: the protocol plus one pandas DataFrame per table.

In memory, each column has one dtype by its Table Schema type:

========  ==========================================================
string    ``object``/``str`` or ``category``; missing is NaN/None
integer   ``Int64`` (nullable) or ``int64``
number    ``float64``
boolean   ``bool`` (or nullable ``boolean``)
date      ``datetime64`` at midnight (any unit); missing is NaT
datetime  ``datetime64`` with tz UTC
========  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from diarytrial.dataset.integrity import DatasetFiles
from diarytrial.dataset.tables import TABLES, Table
from diarytrial.protocol import ProtocolFile

_EMPTY_DTYPES: dict[str, str] = {
    "string": "object",
    "integer": "Int64",
    "number": "float64",
    "boolean": "bool",
    "date": "datetime64[s]",
    "datetime": "datetime64[s, UTC]",
}


def empty_table(table: Table) -> pd.DataFrame:
    """A table with its columns and no rows."""
    return pd.DataFrame({c.name: pd.Series([], dtype=_EMPTY_DTYPES[c.type]) for c in table.columns})


@dataclass(frozen=True)
class TrialDataset:
    """Everything one trial produced, in the documented tidy format.

    `provenance` says where the data came from (e.g. ``{"generator": "diarytrial simulate",
    "seed": 7}``) and is written to ``datapackage.json``. `files` describes the files a dataset
    read from a folder came from (their hashes, the dataset's SHA-256 and the files changed
    after it was written); it is None for a dataset made in memory.
    """

    protocol: ProtocolFile
    participants: pd.DataFrame
    periods: pd.DataFrame
    diary: pd.DataFrame
    side_effects: pd.DataFrame = field(default_factory=lambda: empty_table(TABLES[3]))
    doses: pd.DataFrame = field(default_factory=lambda: empty_table(TABLES[4]))
    adverse_events: pd.DataFrame = field(default_factory=lambda: empty_table(TABLES[5]))
    pgic: pd.DataFrame = field(default_factory=lambda: empty_table(TABLES[6]))
    blinding: pd.DataFrame = field(default_factory=lambda: empty_table(TABLES[7]))
    provenance: dict[str, Any] = field(default_factory=dict)
    files: DatasetFiles | None = None

    @classmethod
    def from_tables(
        cls,
        protocol: ProtocolFile,
        frames: Mapping[str, pd.DataFrame],
        *,
        provenance: dict[str, Any],
        files: DatasetFiles | None = None,
    ) -> TrialDataset:
        """The dataset of `frames`, one per table of `TABLES` by its name (a reader's result)."""
        return cls(
            protocol=protocol,
            **{table.name: frames[table.name] for table in TABLES},
            provenance=provenance,
            files=files,
        )

    def table(self, name: str) -> pd.DataFrame:
        """The DataFrame of the table called `name`."""
        frame = getattr(self, name, None)
        if not isinstance(frame, pd.DataFrame):
            known = ", ".join(t.name for t in TABLES)
            raise KeyError(f"no table {name!r}; the tables are {known}")
        return frame
