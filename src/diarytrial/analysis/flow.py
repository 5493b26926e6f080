"""Participant flow (CONSORT for crossover trials) and the baseline table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from diarytrial.analysis.phases import phase_means
from diarytrial.dataset.model import TrialDataset


def participant_flow(dataset: TrialDataset, *, analysed: pd.Series | None = None) -> pd.DataFrame:
    """Counts for the CONSORT flow diagram of a crossover trial, per sequence.

    Rows (column ``stage``): ``assessed`` (every participant in the dataset), ``not
    randomized`` (no sequence), ``randomized``, then for each treatment period k
    ``period k started`` (not withdrawn before its first day) and ``period k completed``
    (not withdrawn on or before its last day, and the period's last day is in the data),
    ``withdrawn``, and ``analysed`` (the participants in `analysed`, a boolean Series indexed
    by participant id; by default those randomized who have a value in every condition of
    the primary analysis). Columns: ``stage``, ``sequence`` (``"all"`` for the pre-randomization
    stages), ``n``.

    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=10, seed=2)
    >>> flow = participant_flow(trial)
    >>> flow[flow["stage"] == "randomized"]["n"].sum()
    np.int64(10)
    """
    people = dataset.participants.assign(
        participant_id=dataset.participants["participant_id"].astype(str)
    )
    withdrawn_on = pd.to_datetime(people["withdrawn_on"])
    sequence = people["sequence"].astype(object).where(people["sequence"].notna(), None)
    randomized = sequence.notna()
    last_data = pd.to_datetime(dataset.diary["diary_date"]).max() if len(dataset.diary) else None
    rows: list[dict[str, object]] = [
        {"stage": "assessed", "sequence": "all", "n": len(people)},
        {"stage": "not randomized", "sequence": "all", "n": int((~randomized).sum())},
    ]
    periods = dataset.periods.assign(participant_id=dataset.periods["participant_id"].astype(str))
    treatment = periods[periods["kind"].astype(str) == "treatment"]
    if analysed is None:
        analysed = _complete_in_every_condition(dataset)
    for code in sorted(sequence.dropna().unique()):
        members = people.loc[sequence == code, "participant_id"]
        rows.append({"stage": "randomized", "sequence": code, "n": len(members)})
        mine = treatment[treatment["participant_id"].isin(members)]
        for period, group in mine.groupby("period", sort=True):
            gone = group["participant_id"].map(
                dict(zip(people["participant_id"], withdrawn_on, strict=True))
            )
            start, end = pd.to_datetime(group["start"]), pd.to_datetime(group["end"])
            started = gone.isna() | (gone >= start)
            completed = (gone.isna() | (gone > end)) & (
                end <= last_data if last_data is not None else False
            )
            rows.append(
                {"stage": f"period {period} started", "sequence": code, "n": int(started.sum())}
            )
            rows.append(
                {"stage": f"period {period} completed", "sequence": code, "n": int(completed.sum())}
            )
        is_withdrawn = withdrawn_on[sequence == code].notna()
        rows.append({"stage": "withdrawn", "sequence": code, "n": int(is_withdrawn.sum())})
        rows.append(
            {
                "stage": "analysed",
                "sequence": code,
                "n": int(members.isin(analysed.index[analysed]).sum()),
            }
        )
    return pd.DataFrame(rows, columns=["stage", "sequence", "n"])


def _complete_in_every_condition(dataset: TrialDataset) -> pd.Series:
    """Participants with a mean of the first item in baseline, active and placebo."""
    first_item = dataset.protocol.protocol.diary.items[0].id
    means = phase_means(dataset, by="condition", items=[first_item]).dropna(subset=["mean"])
    counts = means.groupby(means["participant_id"].astype(str))["condition"].nunique()
    return counts >= 3


def baseline_table(dataset: TrialDataset) -> pd.DataFrame:
    """Baseline characteristics per sequence and overall.

    Rows (column ``characteristic``): ``participants``, ``age``, ``opioid use``, and the
    baseline mean of each diary item (the participant's mean over the baseline phase, subject
    to the protocol's ``min_completion``). Columns: ``characteristic``, ``sequence`` (each
    sequence and ``"all"``), ``n`` (participants with a value), ``mean``, ``sd`` (for counts:
    ``count`` and ``percent`` instead; the other columns NaN).
    """
    people = dataset.participants.assign(
        participant_id=dataset.participants["participant_id"].astype(str),
        sequence=dataset.participants["sequence"].astype(object),
    )
    people = people[people["sequence"].notna()]
    means = phase_means(dataset, by="condition")
    base = means[means["condition"] == "baseline"].pivot(
        index="participant_id", columns="item", values="mean"
    )
    groups = [
        (str(code), people[people["sequence"] == code])
        for code in sorted(people["sequence"].unique())
    ]
    groups.append(("all", people))
    rows: list[dict[str, object]] = []
    for code, group in groups:
        rows.append(_count_row("participants", code, len(group), len(group)))
        rows.append(_mean_row("age", code, group["age"].astype(float)))
        opioid = group["opioid_use"].astype("boolean")
        rows.append(_count_row("opioid use", code, int(opioid.sum()), int(opioid.notna().sum())))
        for item in dataset.protocol.protocol.diary.items:
            values = (
                group["participant_id"].map(base[item.id])
                if item.id in base
                else pd.Series(dtype=float)
            )
            rows.append(_mean_row(f"baseline {item.label.lower()}", code, values.astype(float)))
    return pd.DataFrame(
        rows, columns=["characteristic", "sequence", "n", "mean", "sd", "count", "percent"]
    )


def _count_row(name: str, sequence: str, count: int, n: int) -> dict[str, object]:
    return {
        "characteristic": name,
        "sequence": sequence,
        "n": n,
        "mean": np.nan,
        "sd": np.nan,
        "count": count,
        "percent": 100 * count / n if n else np.nan,
    }


def _mean_row(name: str, sequence: str, values: pd.Series) -> dict[str, object]:
    values = values.dropna()
    return {
        "characteristic": name,
        "sequence": sequence,
        "n": len(values),
        "mean": float(values.mean()) if len(values) else np.nan,
        "sd": float(values.std(ddof=1)) if len(values) > 1 else np.nan,
        "count": np.nan,
        "percent": np.nan,
    }
