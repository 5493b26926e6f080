"""Counting per participant and condition, and the paired comparison of active with placebo,
which the adverse-event, side-effect and dose-reduction tables share."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from diarytrial.analysis.paired import mcnemar_exact
from diarytrial.dataset.tables import CONDITIONS

COMPARISON = ("pairs", "p_participants")
RATES = ("rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "p_events")


def exposure_per_participant(spans: pd.DataFrame) -> pd.DataFrame:
    """Exposure days per participant (rows) and condition (columns, in CONDITIONS order)."""
    table = spans.pivot_table(
        index="participant_id",
        columns="condition",
        values="exposure_days",
        aggfunc="sum",
        fill_value=0,
    )
    return table.reindex(columns=list(CONDITIONS), fill_value=0).astype(np.int64)


def counts_per_participant(events: pd.DataFrame, people: pd.Index) -> pd.DataFrame:
    """Number of rows of `events` per participant (rows: `people`) and condition."""
    if len(events) == 0:
        return pd.DataFrame(0, index=people, columns=list(CONDITIONS), dtype=np.int64)
    table = events.groupby(["participant_id", "condition"]).size().unstack(fill_value=0)
    return table.reindex(index=people, columns=list(CONDITIONS), fill_value=0).astype(np.int64)


def paired_p(counts: pd.DataFrame, exposed: pd.DataFrame) -> tuple[int, float]:
    """Exact McNemar p for "at least one" under active vs placebo among the exposed to both."""
    both = exposed.index[(exposed["active"] > 0) & (exposed["placebo"] > 0)]
    if len(both) == 0:
        return 0, math.nan
    active = (counts.loc[both, "active"] > 0).to_numpy()
    placebo = (counts.loc[both, "placebo"] > 0).to_numpy()
    return len(both), mcnemar_exact(active, placebo).p


def with_comparison(rows: list[dict[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    """The table of `rows`, the comparison columns typed (Int64 pairs, float p-values)."""
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["pairs"] = frame["pairs"].astype("Int64")
    for column in ("p_participants", *[c for c in RATES if c in frame.columns]):
        frame[column] = frame[column].astype(float)
    return frame
