"""Diary compliance per participant and phase, and its summary per condition (analysis step 8).

A diary day is *expected* on every day of a phase of the planned schedule (``periods``) that has
passed: up to the data cut `as_of` and, for a withdrawn participant, up to the day before the
withdrawal date. It is *completed* when the diary holds at least one answer for that date.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from diarytrial.analysis._frames import (
    dates_of,
    day_number,
    day_numbers,
    require_columns,
    string_values,
)
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import CONDITIONS

ALL = "all"
"""The ``condition`` of the last row of :func:`compliance_summary`: every phase together."""


def diary_compliance(dataset: TrialDataset, *, as_of: dt.date | None = None) -> pd.DataFrame:
    r"""Expected, completed and late diary days of each participant in each phase.

    For a phase from `start` to `end`, the expected days run from `start` to
    :math:`\min(end,\ as\_of,\ withdrawn\_on - 1)`; ``share = completed_days / expected_days``.

    Missing data: a day counts as completed when the diary holds at least one non-missing
    answer for it; an answer on a day that is not expected (after the withdrawal date's eve or
    after `as_of`) is not counted. A day is late when one of its answers is flagged ``late``
    (a missing flag is not late).

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        The last day that has passed; default: the last diary date in the dataset. An empty
        diary needs `as_of`.

    Returns
    -------
    pandas.DataFrame
        One row per participant and phase of ``periods``, by participant and phase. Columns
        ``participant_id``, ``phase``, ``period`` (Int64, NA for a washout), ``condition``,
        ``start``, ``end`` (the planned dates), ``expected_days``, ``completed_days``,
        ``late_days`` and ``share`` (NaN when no day is expected yet).

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=2, seed=3)
    >>> table = diary_compliance(trial)
    >>> table[["phase", "condition", "expected_days"]].head(1).to_numpy().tolist()
    [[0, 'baseline', 14]]
    """
    periods = dataset.periods
    require_columns(periods, "periods", ("participant_id", "phase", "period", "condition"))
    require_columns(periods, "periods", ("start", "end"))
    people = dataset.participants
    require_columns(people, "participants", ("participant_id", "withdrawn_on"))
    diary = dataset.diary
    require_columns(diary, "diary", ("participant_id", "diary_date", "value", "late"))

    answered = diary[diary["value"].notna()]
    entries = pd.DataFrame(
        {
            "participant_id": string_values(answered["participant_id"]),
            "day": day_numbers(answered["diary_date"]),
            "late": answered["late"].astype("boolean").fillna(False).to_numpy(bool),
        }
    )
    if as_of is None:
        if entries["day"].notna().sum() == 0:
            raise ValueError(
                "the diary has no answers, so the default as_of (its last date) is undefined; "
                "pass as_of, the last day that has passed"
            )
        cut = float(np.nanmax(entries["day"].to_numpy()))
    else:
        cut = day_number(as_of)
    days = entries.groupby(["participant_id", "day"], as_index=False).agg(late=("late", "max"))

    phases = pd.DataFrame(
        {
            "participant_id": string_values(periods["participant_id"]),
            "phase": periods["phase"].astype("Int64").array,
            "period": periods["period"].astype("Int64").array,
            "condition": string_values(periods["condition"]),
            "start": day_numbers(periods["start"]),
            "end": day_numbers(periods["end"]),
        }
    )
    if phases[["start", "end"]].isna().any().any():
        raise ValueError("a row of the periods table has no start or end date; fill them in")
    withdrawn = dict(
        zip(
            string_values(people["participant_id"]),
            day_numbers(people["withdrawn_on"]),
            strict=True,
        )
    )
    before_withdrawal = np.array(
        [withdrawn.get(pid, math.nan) - 1 for pid in phases["participant_id"]], dtype=float
    )
    last = np.fmin(np.fmin(phases["end"].to_numpy(), before_withdrawal), cut)
    phases["_last"] = last
    phases["expected_days"] = np.clip(last - phases["start"].to_numpy() + 1, 0, None).astype(
        np.int64
    )
    phases["_row"] = np.arange(len(phases))

    matched = days.merge(phases[["participant_id", "start", "_last", "_row"]], on="participant_id")
    matched = matched[(matched["day"] >= matched["start"]) & (matched["day"] <= matched["_last"])]
    completed = np.bincount(matched["_row"].to_numpy(np.int64), minlength=len(phases))
    late = np.bincount(
        matched["_row"].to_numpy(np.int64),
        weights=matched["late"].to_numpy(float),
        minlength=len(phases),
    )
    phases["completed_days"] = completed.astype(np.int64)
    phases["late_days"] = late.astype(np.int64)
    expected = phases["expected_days"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        phases["share"] = np.where(expected > 0, completed / expected, np.nan)
    phases["start"] = dates_of(phases["start"]).to_numpy()
    phases["end"] = dates_of(phases["end"]).to_numpy()
    phases = phases.sort_values(["participant_id", "phase"], kind="stable")
    columns = [
        "participant_id",
        "phase",
        "period",
        "condition",
        "start",
        "end",
        "expected_days",
        "completed_days",
        "late_days",
        "share",
    ]
    return phases[columns].reset_index(drop=True)


def compliance_summary(
    dataset: TrialDataset,
    *,
    as_of: dt.date | None = None,
    min_completion: float | None = None,
) -> pd.DataFrame:
    """Diary compliance per condition: the spread of participants' shares of completed days.

    A participant's share in a condition pools its phases of that condition (several blocks of
    an n-of-1 trial): completed days / expected days, from :func:`diary_compliance`.
    Participants with no expected day in the condition (not reached yet, or withdrawn before)
    are left out of that condition.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        As in :func:`diary_compliance`.
    min_completion : float, optional
        The share below which a participant is counted in ``below_min``; default: the
        protocol's ``analysis.min_completion``.

    Returns
    -------
    pandas.DataFrame
        Rows baseline, active, placebo, washout and ``"all"`` (every phase). Columns
        ``condition``, ``participants`` (with an expected day), ``expected_days``,
        ``completed_days``, ``late_days``, ``share`` (pooled: completed / expected days),
        ``mean_share``, ``min_share``, ``median_share`` (over participants), ``below_min``
        (participants whose share is below `min_completion`) and ``min_completion``.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=2, seed=3)
    >>> compliance_summary(trial)["condition"].tolist()
    ['baseline', 'active', 'placebo', 'washout', 'all']
    """
    if min_completion is None:
        min_completion = dataset.protocol.protocol.analysis.min_completion
    if not 0 < min_completion <= 1:
        raise ValueError(f"min_completion is a share in (0, 1] (got {min_completion})")
    table = diary_compliance(dataset, as_of=as_of)
    rows: list[dict[str, object]] = []
    for condition in (*CONDITIONS, ALL):
        chosen = table if condition == ALL else table[table["condition"] == condition]
        per_person = chosen.groupby("participant_id")[
            ["expected_days", "completed_days", "late_days"]
        ].sum()
        per_person = per_person[per_person["expected_days"] > 0]
        shares = (per_person["completed_days"] / per_person["expected_days"]).to_numpy(float)
        expected = int(per_person["expected_days"].sum())
        completed = int(per_person["completed_days"].sum())
        some = len(shares) > 0
        rows.append(
            {
                "condition": condition,
                "participants": len(shares),
                "expected_days": expected,
                "completed_days": completed,
                "late_days": int(per_person["late_days"].sum()),
                "share": completed / expected if expected else math.nan,
                "mean_share": float(shares.mean()) if some else math.nan,
                "min_share": float(shares.min()) if some else math.nan,
                "median_share": float(np.median(shares)) if some else math.nan,
                # A tiny tolerance keeps 7 of 10 days from falling below 0.7 on rounding.
                "below_min": int((shares < min_completion - 1e-12).sum()),
                "min_completion": float(min_completion),
            }
        )
    return pd.DataFrame(rows)
