"""Adverse events, side-effect reports and dose reductions per condition (analysis step 7).

Every event is attributed to the phase of its participant that its date falls in (the planned
schedule of ``periods``): its condition is then baseline, active, placebo or washout. An event on
no phase of its participant is ``"outside"`` (e.g. before the first baseline day); one after the
participant's withdrawal date is ``"after_withdrawal"``; one after the data cut `as_of` is
``"after_data_cut"``. Only events in one of the four conditions are counted.

Exposure: a participant's days in a condition are the days of its phases up to the data cut and
up to the day of withdrawal, that day included (the study medication may have been taken that
day, and an event that day is often the reason for the withdrawal). A participant is *exposed*
to a condition with at least one such day.

Comparisons of active with placebo: the exact McNemar test on paired per-participant indicators
("at least one event") among participants exposed to both, and the exact conditional test of two
Poisson rates (events per exposure day, all participants). They sit on the ``active`` rows of each
table; the other rows hold NaN there.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from diarytrial.analysis._frames import (
    dates_of,
    day_number,
    day_numbers,
    require_columns,
    string_values,
)
from diarytrial.analysis.paired import mcnemar_exact
from diarytrial.dataset.model import TrialDataset
from diarytrial.dataset.tables import CONDITIONS

OUTSIDE = "outside"
AFTER_WITHDRAWAL = "after_withdrawal"
AFTER_DATA_CUT = "after_data_cut"
ANY_ADVERSE_EVENT = "Any adverse event"
"""The ``term`` of the first row of :func:`adverse_event_table`: every event together."""
ANY_SIDE_EFFECT = "(any)"
"""The ``side_effect`` of the first row of :func:`side_effect_table` (not a valid id)."""

_COMPARISON = ("pairs", "p_participants")
_RATES = ("rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "p_events")


def latest_data_date(dataset: TrialDataset) -> dt.date | None:
    """The latest date in the dataset: the default data cut of :func:`adverse_event_table`.

    The maximum of the diary and side-effect diary dates, adverse-event onsets, dose changes
    and PGIC answers; None when every one of those tables is empty.
    """
    sources = (
        (dataset.diary, "diary_date"),
        (dataset.side_effects, "diary_date"),
        (dataset.adverse_events, "onset_date"),
        (dataset.doses, "effective_on"),
        (dataset.pgic, "answered_on"),
    )
    latest = -math.inf
    for frame, column in sources:
        if column in frame.columns and len(frame):
            days = day_numbers(frame[column])
            if not np.isnan(days).all():
                latest = max(latest, float(np.nanmax(days)))
    if latest == -math.inf:
        return None
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(latest))


def phase_spans(dataset: TrialDataset, *, last_day: float) -> pd.DataFrame:
    """One row per phase of ``periods`` with its day numbers and the participant's withdrawal.

    Columns: participant_id, phase, period (Int64), condition, start, end (day numbers),
    withdrawn (day number of the withdrawal or NaN) and exposure_days: the days of the phase up
    to `last_day` and up to the withdrawal day, that day included.
    """
    periods = dataset.periods
    require_columns(periods, "periods", ("participant_id", "phase", "period", "condition"))
    require_columns(periods, "periods", ("start", "end"))
    people = dataset.participants
    require_columns(people, "participants", ("participant_id", "withdrawn_on"))
    withdrawn = dict(
        zip(
            string_values(people["participant_id"]),
            day_numbers(people["withdrawn_on"]),
            strict=True,
        )
    )
    spans = pd.DataFrame(
        {
            "participant_id": string_values(periods["participant_id"]),
            "phase": periods["phase"].astype("Int64").array,
            "period": periods["period"].astype("Int64").array,
            "condition": string_values(periods["condition"]),
            "start": day_numbers(periods["start"]),
            "end": day_numbers(periods["end"]),
        }
    )
    unknown = sorted({str(c) for c in spans["condition"]} - set(CONDITIONS))
    if unknown:
        raise ValueError(
            f"the periods table has the condition(s) {', '.join(unknown)}; "
            f"a condition is one of {', '.join(CONDITIONS)}"
        )
    if spans[["start", "end"]].isna().any().any():
        raise ValueError("a row of the periods table has no start or end date; fill them in")
    spans["withdrawn"] = [withdrawn.get(pid, math.nan) for pid in spans["participant_id"]]
    last = np.fmin(np.fmin(spans["end"].to_numpy(), spans["withdrawn"].to_numpy()), last_day)
    spans["exposure_days"] = np.clip(last - spans["start"].to_numpy() + 1, 0, None).astype(np.int64)
    return spans


def _cut(dataset: TrialDataset, as_of: dt.date | None) -> float:
    if as_of is None:
        as_of = latest_data_date(dataset)
    return math.inf if as_of is None else day_number(as_of)


def _attribute(
    frame: pd.DataFrame, date: str, spans: pd.DataFrame, last_day: float
) -> pd.DataFrame:
    days = day_numbers(frame[date])
    if np.isnan(days).any():
        rows = ", ".join(str(k) for k in np.flatnonzero(np.isnan(days))[:10])
        raise ValueError(
            f"{int(np.isnan(days).sum())} row(s) have no {date} (rows {rows}); an event needs "
            "its date to be attributed to a phase, so fill it in"
        )
    events = pd.DataFrame(
        {
            "_row": np.arange(len(frame)),
            "participant_id": string_values(frame["participant_id"]),
            "_day": days,
        }
    )
    matched = events.merge(spans, on="participant_id", how="inner")
    matched = matched[(matched["_day"] >= matched["start"]) & (matched["_day"] <= matched["end"])]
    if matched["_row"].duplicated().any():
        who = matched.loc[matched["_row"].duplicated(), "participant_id"].iloc[0]
        raise ValueError(f"participant {who} has overlapping phases in the periods table")
    matched = matched.set_index("_row").reindex(np.arange(len(frame)))
    condition = matched["condition"].to_numpy(dtype=object)
    condition[pd.isna(condition)] = OUTSIDE
    inside = condition != OUTSIDE
    condition[inside & (days > matched["withdrawn"].to_numpy(dtype=float))] = AFTER_WITHDRAWAL
    condition[(condition != OUTSIDE) & (condition != AFTER_WITHDRAWAL) & (days > last_day)] = (
        AFTER_DATA_CUT
    )
    out = frame.reset_index(drop=True).copy()
    out["phase"] = pd.array(matched["phase"].to_numpy(), dtype="Int64")
    out["period"] = pd.array(matched["period"].to_numpy(), dtype="Int64")
    out["condition"] = condition
    return out


def attribute_to_phases(
    dataset: TrialDataset, frame: pd.DataFrame, *, date: str, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Attribute each row of `frame` to the phase its participant was in on its `date`.

    Parameters
    ----------
    dataset : TrialDataset
        The trial dataset; its ``periods`` and ``participants`` tables are used.
    frame : pandas.DataFrame
        Rows with a ``participant_id`` and a date column, e.g. ``dataset.adverse_events``.
    date : str
        The date column, e.g. ``"onset_date"``. A missing date raises ValueError.
    as_of : datetime.date, optional
        The data cut; default: :func:`latest_data_date` (no cut when the dataset holds no
        date at all).

    Returns
    -------
    pandas.DataFrame
        `frame` (index reset) with the columns ``phase`` and ``period`` (Int64: the planned
        phase the date falls in, NA when none) and ``condition``: baseline, active, placebo or
        washout; ``"outside"`` when the date is on no phase of the participant (a participant
        unknown to ``periods`` included); ``"after_withdrawal"`` when it is after the
        participant's ``withdrawn_on``; ``"after_data_cut"`` when it is after `as_of`.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=6, seed=3)
    >>> events = attribute_to_phases(trial, trial.adverse_events, date="onset_date")
    >>> sorted(set(events["condition"]) - {"baseline", "active", "placebo", "washout"})
    []
    """
    require_columns(frame, "given", ("participant_id", date))
    last_day = _cut(dataset, as_of)
    return _attribute(frame, date, phase_spans(dataset, last_day=last_day), last_day)


# --- the exact conditional test of two Poisson rates -----------------------------------------


@dataclass(frozen=True)
class PoissonComparison:
    """Exact comparison of two Poisson rates: events a per exposure a against b."""

    events_a: int
    exposure_a: float
    events_b: int
    exposure_b: float
    rate_ratio: float
    ci_low: float
    ci_high: float
    p: float


def poisson_rate_comparison(
    events_a: int,
    exposure_a: float,
    events_b: int,
    exposure_b: float,
    *,
    confidence: float = 0.95,
) -> PoissonComparison:
    r"""Exact conditional test of two Poisson rates, as R's ``poisson.test(c(xa, xb), c(Ta, Tb))``.

    Given :math:`n = x_a + x_b` events, :math:`x_a` is binomial with
    :math:`p_0 = T_a / (T_a + T_b)` when the rates are equal, so the two-sided p-value is the
    exact binomial test of :math:`x_a` out of :math:`n` against :math:`p_0` (Przyborowski &
    Wilenski 1940). The rate ratio is :math:`(x_a/T_a)/(x_b/T_b)` (``inf`` when
    :math:`x_b = 0`); its confidence interval maps the Clopper-Pearson interval
    :math:`(p_L, p_U)` of :math:`x_a/n` to :math:`p/(1-p) \cdot T_b/T_a`.

    With no events (n = 0) the p-value is 1, the ratio NaN and the interval (0, inf), as in R.
    With no exposure on either side every result is NaN.

    Validated against R's ``poisson.test(c(xa, xb), c(Ta, Tb))`` (tests/analysis/test_safety.py).

    Parameters
    ----------
    events_a, events_b : int
        Numbers of events, >= 0.
    exposure_a, exposure_b : float
        Exposure times (e.g. participant-days), >= 0.
    confidence : float
        Level of the confidence interval.

    Examples
    --------
    >>> r = poisson_rate_comparison(12, 2000, 3, 700)
    >>> round(r.rate_ratio, 4), round(r.p, 4)
    (1.4, 0.7728)
    """
    for name, value in (("events_a", events_a), ("events_b", events_b)):
        if value < 0 or int(value) != value:
            raise ValueError(f"{name} is a count of events: a whole number >= 0 (got {value})")
    for name, exposure in (("exposure_a", exposure_a), ("exposure_b", exposure_b)):
        if not exposure >= 0:
            raise ValueError(f"{name} is an exposure time >= 0 (got {exposure})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a level in (0, 1) (got {confidence})")
    xa, xb = int(events_a), int(events_b)
    if exposure_a == 0 or exposure_b == 0:
        nan = math.nan
        return PoissonComparison(xa, float(exposure_a), xb, float(exposure_b), nan, nan, nan, nan)
    n = xa + xb
    scale = exposure_b / exposure_a
    if n == 0:
        return PoissonComparison(
            xa, float(exposure_a), xb, float(exposure_b), math.nan, 0.0, math.inf, 1.0
        )
    p0 = exposure_a / (exposure_a + exposure_b)
    p = float(stats.binomtest(xa, n, p0).pvalue)
    alpha = 1 - confidence
    low = 0.0 if xa == 0 else float(stats.beta.ppf(alpha / 2, xa, n - xa + 1))
    high = 1.0 if xa == n else float(stats.beta.ppf(1 - alpha / 2, xa + 1, n - xa))
    ratio = math.inf if xb == 0 else (xa / exposure_a) / (xb / exposure_b)
    return PoissonComparison(
        events_a=xa,
        exposure_a=float(exposure_a),
        events_b=xb,
        exposure_b=float(exposure_b),
        rate_ratio=ratio,
        ci_low=low / (1 - low) * scale,
        ci_high=math.inf if high == 1 else high / (1 - high) * scale,
        p=p,
    )


# --- counting per condition ----------------------------------------------------------------


def _per_participant(spans: pd.DataFrame) -> pd.DataFrame:
    """Exposure days per participant (rows) and condition (columns, in CONDITIONS order)."""
    table = spans.pivot_table(
        index="participant_id",
        columns="condition",
        values="exposure_days",
        aggfunc="sum",
        fill_value=0,
    )
    return table.reindex(columns=list(CONDITIONS), fill_value=0).astype(np.int64)


def _counts(events: pd.DataFrame, people: pd.Index) -> pd.DataFrame:
    """Number of rows of `events` per participant (rows: `people`) and condition."""
    if len(events) == 0:
        return pd.DataFrame(0, index=people, columns=list(CONDITIONS), dtype=np.int64)
    table = events.groupby(["participant_id", "condition"]).size().unstack(fill_value=0)
    return table.reindex(index=people, columns=list(CONDITIONS), fill_value=0).astype(np.int64)


def _paired_p(counts: pd.DataFrame, exposed: pd.DataFrame) -> tuple[int, float]:
    """Exact McNemar p for "at least one" under active vs placebo among the exposed to both."""
    both = exposed.index[(exposed["active"] > 0) & (exposed["placebo"] > 0)]
    if len(both) == 0:
        return 0, math.nan
    active = (counts.loc[both, "active"] > 0).to_numpy()
    placebo = (counts.loc[both, "placebo"] > 0).to_numpy()
    return len(both), mcnemar_exact(active, placebo).p


def _with_comparison(rows: list[dict[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["pairs"] = frame["pairs"].astype("Int64")
    for column in ("p_participants", *[c for c in _RATES if c in frame.columns]):
        frame[column] = frame[column].astype(float)
    return frame


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
          ``rate_ratio_ci_high``, ``p_events``: the comparison, on the active rows only

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
    last_day = _cut(dataset, as_of)
    spans = phase_spans(dataset, last_day=last_day)
    exposure = _per_participant(spans)
    events = _attribute(ae, "onset_date", spans, last_day)
    events = events[events["condition"].isin(CONDITIONS)].copy()
    events["term"] = string_values(events["term"])
    if events["term"].isna().any():
        raise ValueError("an adverse event has no term; fill it in")
    events["serious"] = events["serious"].astype("boolean").fillna(False)
    totals = events.groupby("term").size()
    ordered = sorted(totals.index, key=lambda term: (-int(totals[term]), str(term)))
    columns = [
        "term",
        "condition",
        "exposed",
        "exposure_days",
        "participants",
        "events",
        "serious_events",
        *_COMPARISON,
        *_RATES,
    ]
    rows: list[dict[str, object]] = []
    for term in [ANY_ADVERSE_EVENT, *ordered]:
        chosen = events if term == ANY_ADVERSE_EVENT else events[events["term"] == term]
        counts = _counts(chosen, exposure.index)
        serious = _counts(chosen[chosen["serious"].to_numpy(dtype=bool)], exposure.index)
        pairs, p_participants = _paired_p(counts, exposure)
        rates = poisson_rate_comparison(
            int(counts["active"].sum()),
            float(exposure["active"].sum()),
            int(counts["placebo"].sum()),
            float(exposure["placebo"].sum()),
        )
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
                **dict.fromkeys(_RATES, math.nan),
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
            rows.append(row)
    return _with_comparison(rows, columns)


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
    last_day = _cut(dataset, as_of)
    spans = phase_spans(dataset, last_day=last_day)
    people = pd.Index(sorted(set(spans["participant_id"])), name="participant_id")
    days = _attribute(_diary_days(dataset), "diary_date", spans, last_day)
    days = days[days["condition"].isin(CONDITIONS)]
    diary_days = _counts(days, people)
    reports = _attribute(effects, "diary_date", spans, last_day)
    reports = reports[reports["condition"].isin(CONDITIONS)].copy()
    reports["side_effect"] = string_values(reports["side_effect"])
    reports["_day"] = day_numbers(reports["diary_date"])
    reports["_very"] = string_values(reports["unpleasantness"]) == "very"
    reports = reports.drop_duplicates(["participant_id", "_day", "side_effect"])
    labels = {s.id: s.label for s in dataset.protocol.protocol.diary.side_effects}
    ids = list(labels) + sorted(set(reports["side_effect"].dropna()) - set(labels))
    columns = [
        "side_effect",
        "label",
        "condition",
        "exposed",
        "diary_days",
        "participants",
        "reports",
        "share_of_days",
        "very_unpleasant",
        *_COMPARISON,
    ]
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
        counts = _counts(chosen, people)
        very_counts = _counts(very, people)
        pairs, p_participants = _paired_p(counts, diary_days)
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
    return _with_comparison(rows, columns)


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
    last_day = _cut(dataset, as_of)
    attributed = _attribute(
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
    last_day = _cut(dataset, as_of)
    spans = phase_spans(dataset, last_day=last_day)
    exposure = _per_participant(spans)
    reductions = dose_reductions(dataset, as_of=as_of)
    reductions = reductions[reductions["condition"].isin(CONDITIONS)]
    counts = _counts(reductions, exposure.index)
    pairs, p_participants = _paired_p(counts, exposure)
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
        *_COMPARISON,
    ]
    return _with_comparison(rows, columns)
