"""Adverse events per term and condition, with exact tests of active against placebo."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from diarytrial.analysis._frames import require_columns, string_values
from diarytrial.analysis.safety._counting import (
    COMPARISON,
    RATES,
    counts_per_participant,
    exposure_per_participant,
    paired_p,
    with_comparison,
)
from diarytrial.analysis.safety.attribution import attribute_rows, data_cut_day, phase_spans
from diarytrial.analysis.safety.poisson import poisson_rate_comparison, rate_ratio_corrected
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import CONDITIONS

ANY_ADVERSE_EVENT = "Any adverse event"
"""The ``term`` of the first row of :func:`adverse_event_table`: every event together."""

_COLUMNS = [
    "term",
    "condition",
    "exposed",
    "exposure_days",
    "participants",
    "events",
    "serious_events",
    *COMPARISON,
    *RATES,
    "rate_ratio_corrected",
    "rate_ratio_corrected_ci_low",
    "rate_ratio_corrected_ci_high",
]
_CORRECTED = _COLUMNS[-3:]


def adverse_event_table(dataset: TrialDataset, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Adverse events per term and condition, with exact tests of active against placebo.

    Each event of ``adverse_events`` is attributed to a condition by its ``onset_date`` (see
    :func:`attribute_to_phases`); events outside the phases, after withdrawal or after the
    data cut are not counted. Terms are counted as written (code them, e.g. to MedDRA
    preferred terms, beforehand).

    On the ``active`` row of each term:

    - ``p_participants``: exact McNemar test of the paired indicators "at least one event
      under active" and "... under placebo" among the participants exposed to both
      (``pairs``): the binomial test of :math:`n_{10}` of :math:`n_{10} + n_{01}` discordant
      participants against 1/2 (McNemar 1947; :func:`~diarytrial.analysis.paired.mcnemar_exact`).
      NaN when no participant was exposed to both.
    - ``p_events``: exact conditional test of the two Poisson rates, events per exposure day
      over all participants (:func:`poisson_rate_comparison`, R's ``poisson.test``), with
      ``rate_ratio`` (active over placebo) and its 95% interval. NaN when a condition has no
      exposure; 1 when neither has an event.
    - ``rate_ratio_corrected`` and its interval: only when one of the two counts is zero (the
      exact interval is then unbounded on one side), the ratio with 1/2 added to both counts
      and its Wald interval on the log scale (:func:`rate_ratio_corrected`, as R's
      ``metafor::escalc(measure = "IRR")``); NaN otherwise.

    Missing data: an event without an onset date raises ValueError; a missing ``serious``
    counts as not serious.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        Data cut: exposure and events up to this date; default: :func:`latest_data_date`.

    Returns
    -------
    pandas.DataFrame
        One row per term and condition (baseline, active, placebo, washout), the term
        ``"Any adverse event"`` first, then the terms by number of counted events (most first,
        then alphabetically). Columns:

        - ``term``, ``condition``
        - ``exposed``: participants with at least one day in the condition
        - ``exposure_days``: their days in the condition, summed
        - ``participants``: participants with at least one event of the term
        - ``events``, ``serious_events``: numbers of events, and of serious ones
        - ``pairs`` (Int64), ``p_participants``, ``rate_ratio``, ``rate_ratio_ci_low``,
          ``rate_ratio_ci_high``, ``p_events``, ``rate_ratio_corrected``,
          ``rate_ratio_corrected_ci_low``, ``rate_ratio_corrected_ci_high``: the comparison,
          on the active rows only

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=6, seed=3)
    >>> table = adverse_event_table(trial)
    >>> table[["term", "condition"]].head(4).to_numpy().tolist()
    [['Any adverse event', 'baseline'], ['Any adverse event', 'active'], \
['Any adverse event', 'placebo'], ['Any adverse event', 'washout']]
    >>> list(table.columns[2:7])
    ['exposed', 'exposure_days', 'participants', 'events', 'serious_events']
    """
    ae = dataset.adverse_events
    require_columns(ae, "adverse_events", ("participant_id", "term", "onset_date", "serious"))
    last_day = data_cut_day(dataset, as_of)
    spans = phase_spans(dataset, last_day=last_day)
    exposure = exposure_per_participant(spans)
    events = _counted_events(ae, spans, last_day)
    totals = events.groupby("term").size()
    ordered = sorted(totals.index, key=lambda term: (-int(totals[term]), str(term)))
    rows: list[dict[str, object]] = []
    for term in [ANY_ADVERSE_EVENT, *ordered]:
        chosen = events if term == ANY_ADVERSE_EVENT else events[events["term"] == term]
        rows += _term_rows(term, chosen, exposure)
    table = with_comparison(rows, _COLUMNS)
    for column in _CORRECTED:
        table[column] = table[column].astype(float)
    return table


def _counted_events(ae: pd.DataFrame, spans: pd.DataFrame, last_day: float) -> pd.DataFrame:
    """The adverse events in one of the conditions, with their term and seriousness checked."""
    events = attribute_rows(ae, "onset_date", spans, last_day)
    events = events[events["condition"].isin(CONDITIONS)].copy()
    events["term"] = string_values(events["term"])
    if events["term"].isna().any():
        raise ValueError("an adverse event has no term; fill it in")
    events["serious"] = events["serious"].astype("boolean").fillna(False)
    return events


def _term_rows(term: str, chosen: pd.DataFrame, exposure: pd.DataFrame) -> list[dict[str, object]]:
    """The rows of one term (the events `chosen`), one per condition, the tests on active."""
    counts = counts_per_participant(chosen, exposure.index)
    serious = counts_per_participant(chosen[chosen["serious"].to_numpy(dtype=bool)], exposure.index)
    pairs, p_participants = paired_p(counts, exposure)
    totals = (
        int(counts["active"].sum()),
        float(exposure["active"].sum()),
        int(counts["placebo"].sum()),
        float(exposure["placebo"].sum()),
    )
    rates = poisson_rate_comparison(*totals)
    corrected = rate_ratio_corrected(*totals)
    rows: list[dict[str, object]] = []
    for condition in CONDITIONS:
        row: dict[str, object] = {
            "term": term,
            "condition": condition,
            "exposed": int((exposure[condition] > 0).sum()),
            "exposure_days": int(exposure[condition].sum()),
            "participants": int((counts[condition] > 0).sum()),
            "events": int(counts[condition].sum()),
            "serious_events": int(serious[condition].sum()),
            "pairs": pd.NA,
            "p_participants": math.nan,
            **dict.fromkeys(RATES, math.nan),
            **dict.fromkeys(_CORRECTED, math.nan),
        }
        if condition == "active":
            row.update(
                pairs=pairs,
                p_participants=p_participants,
                rate_ratio=rates.rate_ratio,
                rate_ratio_ci_low=rates.ci_low,
                rate_ratio_ci_high=rates.ci_high,
                p_events=rates.p,
            )
            if corrected.corrected:
                row.update(
                    rate_ratio_corrected=corrected.rate_ratio,
                    rate_ratio_corrected_ci_low=corrected.ci_low,
                    rate_ratio_corrected_ci_high=corrected.ci_high,
                )
        rows.append(row)
    return rows
