"""Side effects ticked in the nightly checklist, per side effect and condition."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from diarytrial.analysis._frames import dates_of, day_numbers, require_columns, string_values
from diarytrial.analysis.safety._counting import (
    COMPARISON,
    counts_per_participant,
    paired_p,
    with_comparison,
)
from diarytrial.analysis.safety.attribution import attribute_rows, data_cut_day, phase_spans
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import CONDITIONS

ANY_SIDE_EFFECT = "(any)"
"""The ``side_effect`` of the first row of :func:`side_effect_table` (not a valid id)."""

_COLUMNS = [
    "side_effect",
    "label",
    "condition",
    "exposed",
    "diary_days",
    "participants",
    "reports",
    "share_of_days",
    "very_unpleasant",
    *COMPARISON,
]


def _diary_days(dataset: TrialDataset) -> pd.DataFrame:
    """Distinct (participant_id, diary_date) with an answer or a side-effect report."""
    diary = dataset.diary
    require_columns(diary, "diary", ("participant_id", "diary_date", "value"))
    answered = diary[diary["value"].notna()]
    parts = [
        pd.DataFrame(
            {
                "participant_id": string_values(answered["participant_id"]),
                "diary_date": day_numbers(answered["diary_date"]),
            }
        )
    ]
    effects = dataset.side_effects
    if len(effects):
        parts.append(
            pd.DataFrame(
                {
                    "participant_id": string_values(effects["participant_id"]),
                    "diary_date": day_numbers(effects["diary_date"]),
                }
            )
        )
    days = pd.concat(parts, ignore_index=True).dropna().drop_duplicates().reset_index(drop=True)
    days["diary_date"] = dates_of(days["diary_date"])
    return days


def side_effect_table(dataset: TrialDataset, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """Side effects ticked in the nightly checklist, per side effect and condition.

    Each report of ``side_effects`` is attributed to a condition by its ``diary_date`` (see
    :func:`attribute_to_phases`). A *diary day* is a date with at least one diary answer or
    side-effect report; ``share_of_days`` is reports / diary days in the condition, so a
    missing diary night counts neither way. A duplicated report (same participant, date and
    side effect) counts once.

    On the ``active`` rows, ``p_participants`` is the exact McNemar test of "reported at least
    once under active" against "... under placebo" among the participants with diary days in
    both conditions (``pairs``; McNemar 1947); NaN when there are none.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset.
    as_of : datetime.date, optional
        Data cut; default: :func:`latest_data_date`.

    Returns
    -------
    pandas.DataFrame
        One row per side effect and condition (baseline, active, placebo, washout):
        ``"(any)"`` first (a day with any report), then the protocol's checklist in its order,
        then ids found only in the data. Columns:

        - ``side_effect`` (id), ``label`` (from the protocol), ``condition``
        - ``exposed``: participants with at least one diary day in the condition
        - ``diary_days``: their diary days in the condition
        - ``participants``: participants who reported it at least once
        - ``reports``: days it was reported; ``share_of_days``: ``reports / diary_days``
        - ``very_unpleasant``: reports rated "very" unpleasant
        - ``pairs`` (Int64), ``p_participants``: the comparison, on the active rows only

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=6, seed=3)
    >>> table = side_effect_table(trial)
    >>> table["side_effect"].unique().tolist()[:3]
    ['(any)', 'vivid_dreams', 'headache']
    """
    effects = dataset.side_effects
    require_columns(effects, "side_effects", ("participant_id", "diary_date", "side_effect"))
    require_columns(effects, "side_effects", ("unpleasantness",))
    last_day = data_cut_day(dataset, as_of)
    spans = phase_spans(dataset, last_day=last_day)
    people = pd.Index(sorted(set(spans["participant_id"])), name="participant_id")
    days = attribute_rows(_diary_days(dataset), "diary_date", spans, last_day)
    days = days[days["condition"].isin(CONDITIONS)]
    diary_days = counts_per_participant(days, people)
    reports = _counted_reports(effects, spans, last_day)
    labels = {s.id: s.label for s in dataset.protocol.protocol.diary.side_effects}
    ids = list(labels) + sorted(set(reports["side_effect"].dropna()) - set(labels))
    rows: list[dict[str, object]] = []
    for effect in [ANY_SIDE_EFFECT, *ids]:
        if effect == ANY_SIDE_EFFECT:
            chosen = reports.drop_duplicates(["participant_id", "_day"])
            very = reports[reports["_very"]].drop_duplicates(["participant_id", "_day"])
            label = "Any side effect"
        else:
            chosen = reports[reports["side_effect"] == effect]
            very = chosen[chosen["_very"]]
            label = labels.get(effect, effect)
        rows += _effect_rows(effect, label, chosen, very, diary_days)
    return with_comparison(rows, _COLUMNS)


def _counted_reports(effects: pd.DataFrame, spans: pd.DataFrame, last_day: float) -> pd.DataFrame:
    """The side-effect reports in one of the conditions, each (participant, day, effect) once."""
    reports = attribute_rows(effects, "diary_date", spans, last_day)
    reports = reports[reports["condition"].isin(CONDITIONS)].copy()
    reports["side_effect"] = string_values(reports["side_effect"])
    reports["_day"] = day_numbers(reports["diary_date"])
    reports["_very"] = string_values(reports["unpleasantness"]) == "very"
    return reports.drop_duplicates(["participant_id", "_day", "side_effect"])


def _effect_rows(
    effect: str, label: str, chosen: pd.DataFrame, very: pd.DataFrame, diary_days: pd.DataFrame
) -> list[dict[str, object]]:
    """The rows of one side effect (the reports `chosen`), one per condition."""
    counts = counts_per_participant(chosen, diary_days.index)
    very_counts = counts_per_participant(very, diary_days.index)
    pairs, p_participants = paired_p(counts, diary_days)
    rows: list[dict[str, object]] = []
    for condition in CONDITIONS:
        n_days = int(diary_days[condition].sum())
        n_reports = int(counts[condition].sum())
        rows.append(
            {
                "side_effect": effect,
                "label": label,
                "condition": condition,
                "exposed": int((diary_days[condition] > 0).sum()),
                "diary_days": n_days,
                "participants": int((counts[condition] > 0).sum()),
                "reports": n_reports,
                "share_of_days": n_reports / n_days if n_days else math.nan,
                "very_unpleasant": int(very_counts[condition].sum()),
                "pairs": pairs if condition == "active" else pd.NA,
                "p_participants": p_participants if condition == "active" else math.nan,
            }
        )
    return rows
