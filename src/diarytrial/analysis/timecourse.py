"""Weekly time course of improvement by condition, and the week the benefit sets in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from diarytrial.analysis.improvement import percent_change
from diarytrial.analysis.phases import phase_means
from diarytrial.dataset.model import TrialDataset


@dataclass(frozen=True)
class TimeCourse:
    """Weekly improvement of one item by condition.

    `weekly` has one row per condition and week of phase with columns ``condition``, ``week``
    (1 = the phase's first 7 days), ``n`` (participants with a baseline and at least one value
    that week), ``mean_value`` (mean of the participants' weekly means), ``mean_improvement``,
    ``se_improvement`` (SD / sqrt(n)). `participants` has the per-participant weekly rows:
    ``participant_id``, ``condition``, ``week``, ``value``, ``improvement``. `onset_week` maps
    each condition to its onset week (None when the improvement never stays at or above the
    threshold).
    """

    item: str
    threshold: float
    weekly: pd.DataFrame
    participants: pd.DataFrame
    onset_week: dict[str, int | None]


def weekly_course(
    dataset: TrialDataset, *, item: str = "pain", threshold: float = 30.0
) -> TimeCourse:
    r"""Mean percent improvement of `item` by condition and week of phase, and its onset.

    For participant *i*, the weekly mean :math:`x_{iw}` of week *w* of a treatment phase
    (days :math:`7(w-1)+1 \ldots 7w` of the phase; weeks of several phases of one condition are
    pooled, as in the blocks of an n-of-1 trial) is compared with the participant's baseline
    mean :math:`b_i` by the signed percent change (positive is better). The group curve is the
    mean over participants of :math:`I_{iw}`. The **onset** of a condition is the first week
    from which the group mean improvement stays at or above `threshold` up to the last week;
    None when there is no such week.

    Missing data: a week's mean uses the days answered that week; a participant without any
    answer in a week, or without a baseline mean (fewer baseline days completed than the
    protocol's ``min_completion``), is left out of that week.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=12, seed=3)
    >>> course = weekly_course(trial)
    >>> sorted(course.weekly.groupby("condition")["week"].max().items())
    [('active', 12), ('placebo', 4)]
    """
    higher_is_worse = _higher_is_worse(dataset, item)
    per_person = _weekly_values(dataset, item, _baseline_means(dataset, item))
    per_person["improvement"] = percent_change(
        per_person["baseline"].to_numpy(dtype=float),
        per_person["value"].to_numpy(dtype=float),
        np.full(len(per_person), higher_is_worse),
    )
    per_person = per_person.dropna(subset=["improvement"])
    weekly = _weekly_summary(per_person)
    onset = {
        condition: onset_week(group["mean_improvement"].to_numpy(dtype=float), threshold)
        for condition, group in weekly.groupby("condition")
    }
    return TimeCourse(
        item=item,
        threshold=threshold,
        weekly=weekly,
        participants=per_person[["participant_id", "condition", "week", "value", "improvement"]],
        onset_week={str(k): v for k, v in onset.items()},
    )


def _higher_is_worse(dataset: TrialDataset, item: str) -> bool:
    """Whether a higher value of `item` is worse; ValueError for an unknown item."""
    protocol = dataset.protocol.protocol
    try:
        direction = protocol.diary.item(item).direction
    except KeyError:
        known = ", ".join(i.id for i in protocol.diary.items)
        raise ValueError(f"{item!r} is not a diary item; the items are {known}") from None
    return direction == "higher_is_worse"


def _baseline_means(dataset: TrialDataset, item: str) -> pd.DataFrame:
    """Each participant's baseline mean of `item`: columns participant_id, baseline."""
    means = phase_means(dataset, window="whole_phase", items=[item])
    baseline = means.loc[means["condition"] == "baseline", ["participant_id", "mean"]]
    return baseline.rename(columns={"mean": "baseline"})


def _weekly_values(dataset: TrialDataset, item: str, baseline: pd.DataFrame) -> pd.DataFrame:
    """Mean of `item` per participant, treatment condition and week, beside the `baseline`."""
    periods = dataset.periods
    treatment = periods[periods["condition"].astype(str).isin(["active", "placebo"])]
    diary = dataset.diary[dataset.diary["item"].astype(str) == item]
    rows = diary.assign(participant_id=diary["participant_id"].astype(str)).merge(
        treatment.assign(participant_id=treatment["participant_id"].astype(str))[
            ["participant_id", "condition", "start", "end"]
        ],
        on="participant_id",
    )
    dates = pd.to_datetime(rows["diary_date"])
    inside = (dates >= pd.to_datetime(rows["start"])) & (dates <= pd.to_datetime(rows["end"]))
    rows = rows.loc[inside].copy()
    rows["week"] = (dates[inside] - pd.to_datetime(rows["start"])).dt.days // 7 + 1
    rows["condition"] = rows["condition"].astype(str)
    per_person: pd.DataFrame = (
        rows.groupby(["participant_id", "condition", "week"], as_index=False)["value"]
        .mean()
        .merge(baseline, on="participant_id", how="inner")
    )
    return per_person


def _weekly_summary(per_person: pd.DataFrame) -> pd.DataFrame:
    """The group curve: n, mean value, mean and SE of the improvement per condition and week."""
    weekly = (
        per_person.groupby(["condition", "week"])
        .agg(
            n=("improvement", "size"),
            mean_value=("value", "mean"),
            mean_improvement=("improvement", "mean"),
            sd=("improvement", "std"),
        )
        .reset_index()
    )
    weekly["se_improvement"] = weekly["sd"] / np.sqrt(weekly["n"])
    return weekly.drop(columns="sd").sort_values(["condition", "week"]).reset_index(drop=True)


def onset_week(improvement: np.ndarray, threshold: float) -> int | None:
    """First week (1-based) from which `improvement` stays >= `threshold` to the end.

    >>> onset_week(np.array([5.0, 31.0, 28.0, 33.0, 35.0]), 30.0)
    4
    >>> onset_week(np.array([5.0, 20.0]), 30.0) is None
    True
    """
    below = np.flatnonzero(~(improvement >= threshold))
    if len(below) == 0:
        return 1 if len(improvement) else None
    last_below = int(below[-1])
    return last_below + 2 if last_below + 1 < len(improvement) else None
