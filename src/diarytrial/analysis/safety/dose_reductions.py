"""Dose reductions: each one found and attributed to its condition, and their table."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from diarytrial.analysis._frames import dates_of, day_numbers, require_columns, string_values
from diarytrial.analysis.safety._counting import (
    COMPARISON,
    counts_per_participant,
    exposure_per_participant,
    paired_p,
    with_comparison,
)
from diarytrial.analysis.safety.attribution import attribute_rows, data_cut_day, phase_spans
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import CONDITIONS


def dose_reductions(dataset: TrialDataset, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Every dose reduction: a ``doses`` row whose level is below the participant's previous one.

    Levels are ordered by the protocol's ``dosing.levels`` (lowest first). A participant's rows
    are taken in ``effective_on`` order; the first row (the start) is never a reduction, and a
    return to a higher level is not one either. Each reduction is attributed to a condition by
    its ``effective_on`` date (see :func:`attribute_to_phases`).

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        Data cut; default: :func:`latest_data_date`.

    Returns
    -------
    pandas.DataFrame
        One row per reduction, by participant and date: ``participant_id``, ``effective_on``,
        ``from_level``, ``to_level``, ``reason``, ``phase``, ``period`` (Int64) and
        ``condition`` (including ``"outside"``, ``"after_withdrawal"``, ``"after_data_cut"``).

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=12, seed=3)
    >>> list(dose_reductions(trial).columns)[:4]
    ['participant_id', 'effective_on', 'from_level', 'to_level']
    """
    doses = dataset.doses
    require_columns(doses, "doses", ("participant_id", "effective_on", "dose_level"))
    levels = list(dataset.protocol.protocol.dosing.levels)
    rank = {level: k for k, level in enumerate(levels)}
    frame = pd.DataFrame(
        {
            "participant_id": string_values(doses["participant_id"]),
            "effective_on": day_numbers(doses["effective_on"]),
            "to_level": string_values(doses["dose_level"]),
            "reason": string_values(doses["reason"]) if "reason" in doses.columns else None,
        }
    )
    unknown = sorted({str(v) for v in frame["to_level"]} - set(levels))
    if unknown:
        raise ValueError(
            f"the doses table has the dose level(s) {', '.join(unknown)}; the protocol's levels "
            f"are {', '.join(levels)}"
        )
    if frame["effective_on"].isna().any():
        raise ValueError("a row of the doses table has no effective_on date; fill it in")
    frame = frame.sort_values(["participant_id", "effective_on"], kind="stable")
    frame["from_level"] = frame.groupby("participant_id")["to_level"].shift(1)
    previous = frame["from_level"].map(rank)
    reduced = frame[previous.notna() & (frame["to_level"].map(rank) < previous)]
    reduced = reduced.reset_index(drop=True)
    last_day = data_cut_day(dataset, as_of)
    attributed = attribute_rows(
        reduced.assign(effective_on=dates_of(reduced["effective_on"])),
        "effective_on",
        phase_spans(dataset, last_day=last_day),
        last_day,
    )
    columns = ["participant_id", "effective_on", "from_level", "to_level", "reason"]
    return attributed[[*columns, "phase", "period", "condition"]]


def dose_reduction_table(dataset: TrialDataset, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Participants with a dose reduction, and reductions, per condition.

    Reductions are found by :func:`dose_reductions`; those outside the phases, after
    withdrawal or after the data cut are not counted. Exposure is as in
    :func:`adverse_event_table`.

    On the ``active`` row, ``p_participants`` is the exact McNemar test of "at least one
    reduction under active" against "... under placebo" among the participants exposed to both
    (``pairs``; McNemar 1947), NaN when there are none.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        Data cut; default: :func:`latest_data_date`.

    Returns
    -------
    pandas.DataFrame
        One row per condition (baseline, active, placebo, washout). Columns ``condition``,
        ``exposed``, ``exposure_days``, ``participants`` (with at least one reduction),
        ``reductions``, ``pairs`` (Int64) and ``p_participants`` (active row only).

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=6, seed=3)
    >>> dose_reduction_table(trial)["condition"].tolist()
    ['baseline', 'active', 'placebo', 'washout']
    """
    last_day = data_cut_day(dataset, as_of)
    spans = phase_spans(dataset, last_day=last_day)
    exposure = exposure_per_participant(spans)
    reductions = dose_reductions(dataset, as_of=as_of)
    reductions = reductions[reductions["condition"].isin(CONDITIONS)]
    counts = counts_per_participant(reductions, exposure.index)
    pairs, p_participants = paired_p(counts, exposure)
    rows: list[dict[str, object]] = [
        {
            "condition": condition,
            "exposed": int((exposure[condition] > 0).sum()),
            "exposure_days": int(exposure[condition].sum()),
            "participants": int((counts[condition] > 0).sum()),
            "reductions": int(counts[condition].sum()),
            "pairs": pairs if condition == "active" else pd.NA,
            "p_participants": p_participants if condition == "active" else math.nan,
        }
        for condition in CONDITIONS
    ]
    columns = [
        "condition",
        "exposed",
        "exposure_days",
        "participants",
        "reductions",
        *COMPARISON,
    ]
    return with_comparison(rows, columns)
