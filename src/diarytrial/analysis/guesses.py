"""The blinding guesses of a trial dataset, and the blinding indices they give.

At every visit after the first the participant says what they think they took since the visit
before: the study drug, placebo, or don't know (the ``blinding`` table). The guesses given at a
visit that is the last day of a treatment period (period filled) are compared with the true arm
of that period, the condition the ``periods`` table gives it (active or placebo): the guess
``drug`` counts as ``active``. They make the 2 x 3 guess table from which
:mod:`diarytrial.analysis.blinding` computes Bang's index per arm and James' index. The guesses at
the other visits (period empty: a stretch inside a period, or a washout) are kept as extra data
and counted by visit, without arm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from diarytrial.analysis._frames import require_columns, string_values
from diarytrial.analysis.blinding import (
    GUESSES,
    GuessTable,
    IndexEstimate,
    bang_index,
    guess_table,
    james_index,
)
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import GUESSES as DATASET_GUESSES

GUESS_LABELS = dict(zip(DATASET_GUESSES, GUESSES, strict=True))
"""The dataset's guesses as the blinding indices name them: drug is active."""


@dataclass(frozen=True)
class BlindingSummary:
    """The guess table of the guesses at the end of each treatment period, the indices, and
    the guesses by visit (every visit, no arm)."""

    table: GuessTable
    bang_active: IndexEstimate
    bang_placebo: IndexEstimate
    james: IndexEstimate
    other_visits: int
    """Guesses given at visits that close no treatment period (not in the table)."""
    by_visit: pd.DataFrame


def period_guesses(dataset: TrialDataset) -> pd.DataFrame:
    """The guesses given at the end of a treatment period, with the true arm of the period.

    Returns
    -------
    pandas.DataFrame
        Columns ``participant_id``, ``visit``, ``period``, ``arm`` (active or placebo, from the
        period's condition in ``periods``) and ``guess`` (active, placebo or dont_know), by
        participant and visit. A period that is not a treatment period of the participant
        raises ValueError.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=3)
    >>> list(period_guesses(trial).columns)
    ['participant_id', 'visit', 'period', 'arm', 'guess']
    """
    guesses = dataset.blinding
    require_columns(guesses, "blinding", ("participant_id", "visit", "period", "guess"))
    periods = dataset.periods
    require_columns(periods, "periods", ("participant_id", "period", "condition"))
    answers = pd.DataFrame(
        {
            "participant_id": string_values(guesses["participant_id"]),
            "visit": guesses["visit"].astype("Int64").array,
            "period": guesses["period"].astype("Int64").array,
            "guess": string_values(guesses["guess"]),
        }
    ).dropna(subset=["period", "guess"])
    unknown = sorted(set(answers["guess"]) - set(GUESS_LABELS))
    if unknown:
        raise ValueError(
            f"unknown blinding guess {unknown[0]!r} (the guesses: {', '.join(GUESS_LABELS)})"
        )
    phases = pd.DataFrame(
        {
            "participant_id": string_values(periods["participant_id"]),
            "period": periods["period"].astype("Int64").array,
            "arm": string_values(periods["condition"]),
        }
    ).dropna(subset=["period"])
    joined = answers.merge(phases, on=["participant_id", "period"], how="left")
    if len(joined) != len(answers):
        raise ValueError("the periods table has two rows for one participant and period")
    wrong = joined[~joined["arm"].isin(("active", "placebo"))]
    if len(wrong):
        row = wrong.iloc[0]
        raise ValueError(
            f"participant {row['participant_id']} gave a blinding guess for period "
            f"{row['period']}, which is not one of their treatment periods (active or placebo)"
        )
    joined["guess"] = joined["guess"].map(GUESS_LABELS)
    joined["visit"] = joined["visit"].astype(np.int64)
    joined["period"] = joined["period"].astype(np.int64)
    joined = joined.sort_values(["participant_id", "visit"], kind="stable")
    return joined[["participant_id", "visit", "period", "arm", "guess"]].reset_index(drop=True)


def guesses_by_visit(dataset: TrialDataset) -> pd.DataFrame:
    """The guesses at each visit, every one counted: ``visit``, ``n`` and a count per guess
    (``drug``, ``placebo``, ``dont_know``). Blinded: the same for every sequence."""
    guesses = dataset.blinding
    require_columns(guesses, "blinding", ("visit", "guess"))
    frame = pd.DataFrame(
        {
            "visit": guesses["visit"].astype("Int64").array,
            "guess": string_values(guesses["guess"]),
        }
    ).dropna()
    rows: list[dict[str, int]] = []
    for visit in sorted(int(v) for v in frame["visit"].unique()):
        group = frame[frame["visit"] == visit]
        counts = {guess: int((group["guess"] == guess).sum()) for guess in DATASET_GUESSES}
        rows.append({"visit": visit, "n": len(group), **counts})
    return pd.DataFrame(rows, columns=["visit", "n", *DATASET_GUESSES])


def blinding_summary(dataset: TrialDataset, *, level: float = 0.95) -> BlindingSummary:
    """The guess table at the end of each treatment period, Bang's index per arm and James'
    index with their `level` confidence intervals, and the guesses by visit.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=12, seed=3)
    >>> summary = blinding_summary(trial)
    >>> summary.table.total + summary.other_visits == len(trial.blinding)
    True
    >>> 0 <= summary.james.estimate <= 1
    True
    """
    used = period_guesses(dataset)
    table = guess_table(zip(used["arm"], used["guess"], strict=True))
    return BlindingSummary(
        table=table,
        bang_active=bang_index(table, "active", level=level),
        bang_placebo=bang_index(table, "placebo", level=level),
        james=james_index(table, level=level),
        other_visits=int(dataset.blinding["guess"].notna().sum()) - len(used),
        by_visit=guesses_by_visit(dataset),
    )
