"""Patient Global Impression of Change per condition (analysis step 6), and by visit.

The PGIC is asked at the visits of the blinded visit calendar, the same days for every sequence.
An answer at a visit that is the last day of a treatment period has that period in the ``pgic``
table; the comparison by condition uses these answers only, attached to the condition of the
period through ``periods`` (participant_id, period). The answers at the other visits (period
empty) are extra data, summarised by visit without condition (:func:`pgic_by_visit`). Scores run
from 1 (very much improved) through 4 (no change) to 7 (very much worse); "improved" means
"much" or "very much improved" (score <= 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diarytrial.analysis._frames import require_columns, string_values
from diarytrial.analysis.paired import mcnemar_exact, paired_values, wilcoxon_signed_rank
from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol.schema import PGIC_LABELS

IMPROVED_AT_MOST = 2
"""Scores up to this one count as improved: 1 very much improved, 2 much improved."""

_TREATMENT = ("active", "placebo")


def pgic_answers(dataset: TrialDataset) -> pd.DataFrame:
    """The PGIC answers that close a treatment period, with the condition of that period.

    An answer whose period is empty (at a visit that closes no period) is not one of them.
    Missing data: an answer without a score is left out. An answer for a period the
    participant does not have in ``periods``, or for a period that is not a treatment period,
    raises ValueError, as does a score outside 1-7.

    Returns
    -------
    pandas.DataFrame
        Columns ``participant_id``, ``period`` (int), ``condition`` (active or placebo),
        ``score`` (int), ordered by participant and period.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=3)
    >>> list(pgic_answers(trial).columns)
    ['participant_id', 'period', 'condition', 'score']
    """
    pgic = dataset.pgic
    require_columns(pgic, "pgic", ("participant_id", "period", "score"))
    periods = dataset.periods
    require_columns(periods, "periods", ("participant_id", "period", "condition"))
    answers = pd.DataFrame(
        {
            "participant_id": string_values(pgic["participant_id"]),
            "period": pgic["period"].astype("Int64").array,
            "score": pgic["score"].astype("Float64").array,
        }
    )
    answers = answers[answers["score"].notna() & answers["period"].notna()]
    bad = answers[~answers["score"].isin(range(1, 8))]
    if len(bad):
        raise ValueError(
            f"PGIC score {bad['score'].iloc[0]} of participant {bad['participant_id'].iloc[0]} is "
            "not one of 1-7 (1 very much improved ... 7 very much worse)"
        )
    phases = pd.DataFrame(
        {
            "participant_id": string_values(periods["participant_id"]),
            "period": periods["period"].astype("Int64").array,
            "condition": string_values(periods["condition"]),
        }
    ).dropna(subset=["period"])
    joined = answers.merge(phases, on=["participant_id", "period"], how="left")
    if len(joined) != len(answers):
        raise ValueError("the periods table has two rows for one participant and period")
    unknown = joined[~joined["condition"].isin(_TREATMENT)]
    if len(unknown):
        row = unknown.iloc[0]
        what = "has no such period" if pd.isna(row["condition"]) else f"is {row['condition']}"
        raise ValueError(
            f"participant {row['participant_id']} answered the PGIC for period {row['period']}, "
            f"which {what}; the PGIC closes a treatment period (active or placebo)"
        )
    joined["period"] = joined["period"].astype(np.int64)
    joined["score"] = joined["score"].astype(np.int64)
    joined = joined.sort_values(["participant_id", "period"], kind="stable")
    return joined[["participant_id", "period", "condition", "score"]].reset_index(drop=True)


def pgic_by_visit(dataset: TrialDataset) -> pd.DataFrame:
    """The PGIC at each visit, every answer counted whatever the period it closes: blinded, the
    same for every sequence.

    Returns
    -------
    pandas.DataFrame
        One row per visit with an answer, in visit order: ``visit``, ``n`` (answers with a
        score) and ``mean_score``.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=3)
    >>> pgic_by_visit(trial)["visit"].tolist()
    [2, 3, 4, 5, 6]
    """
    pgic = dataset.pgic
    require_columns(pgic, "pgic", ("visit", "score"))
    answers = pd.DataFrame(
        {
            "visit": pgic["visit"].astype("Int64").array,
            "score": pgic["score"].astype("Float64").array,
        }
    ).dropna()
    summary = answers.groupby("visit", sort=True)["score"].agg(["size", "mean"]).reset_index()
    return pd.DataFrame(
        {
            "visit": summary["visit"].astype(np.int64),
            "n": summary["size"].astype(np.int64),
            "mean_score": summary["mean"].astype(float),
        }
    )


def pgic_table(dataset: TrialDataset, *, answers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Distribution of the PGIC scores per condition.

    ``answers``, if given, is :func:`pgic_answers` of `dataset`, computed once by the caller.

    Every answer counts (a participant of an n-of-1 trial answers once per block).
    ``share = count / n``, with n the answers in the condition (NaN when there are none).
    Missing data as in :func:`pgic_answers`.

    Returns
    -------
    pandas.DataFrame
        14 rows: conditions active and placebo, each with the scores 1-7 (a score nobody gave
        has count 0). Columns ``condition``, ``score``, ``label`` (from
        :data:`~diarytrial.protocol.schema.PGIC_LABELS`), ``count``, ``n``, ``share``.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=3)
    >>> table = pgic_table(trial)
    >>> len(table), table[["condition", "label"]].iloc[0].tolist()
    (14, ['active', 'Very much improved'])
    >>> table.groupby("condition")["share"].sum().round(6).tolist()
    [1.0, 1.0]
    """
    if answers is None:
        answers = pgic_answers(dataset)
    rows: list[dict[str, object]] = []
    for condition in _TREATMENT:
        scores = answers.loc[answers["condition"] == condition, "score"]
        n = len(scores)
        for score, label in enumerate(PGIC_LABELS, start=1):
            count = int((scores == score).sum())
            rows.append(
                {
                    "condition": condition,
                    "score": score,
                    "label": label,
                    "count": count,
                    "n": n,
                    "share": count / n if n else math.nan,
                }
            )
    return pd.DataFrame(rows)


def pgic_improved(dataset: TrialDataset, *, answers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of answers "much" or "very much improved" (score <= 2) per condition.

    ``answers``, if given, is :func:`pgic_answers` of `dataset`, computed once by the caller.

    Returns
    -------
    pandas.DataFrame
        Rows active and placebo; columns ``condition``, ``n`` (answers), ``improved``
        (answers scoring 1 or 2) and ``share_improved`` (``improved / n``, NaN when n = 0).

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=3)
    >>> improved = pgic_improved(trial)
    >>> improved["condition"].tolist(), list(improved.columns)
    (['active', 'placebo'], ['condition', 'n', 'improved', 'share_improved'])
    """
    if answers is None:
        answers = pgic_answers(dataset)
    rows: list[dict[str, object]] = []
    for condition in _TREATMENT:
        scores = answers.loc[answers["condition"] == condition, "score"]
        n = len(scores)
        improved = int((scores <= IMPROVED_AT_MOST).sum())
        rows.append(
            {
                "condition": condition,
                "n": n,
                "improved": improved,
                "share_improved": improved / n if n else math.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PgicComparison:
    """Paired comparison of the PGIC under active and under placebo.

    ``pairs`` participants answered under both. Scores: lower is better, so a negative
    ``pseudomedian`` (of active minus placebo) favours active. The Wilcoxon fields are NaN when
    there is no pair or every difference is zero; the McNemar p is NaN without pairs.
    """

    pairs: int
    median_active: float
    median_placebo: float
    wilcoxon_v: float
    wilcoxon_p: float
    wilcoxon_exact: bool
    pseudomedian: float
    ci_low: float
    ci_high: float
    rank_biserial: float
    improved_active: int
    improved_placebo: int
    only_active: int
    only_placebo: int
    mcnemar_p: float


def pgic_comparison(
    dataset: TrialDataset, *, answers: pd.DataFrame | None = None
) -> PgicComparison:
    r"""Paired tests of the PGIC, active against placebo.

    ``answers``, if given, is :func:`pgic_answers` of `dataset`, computed once by the caller.

    Among participants with an answer under both conditions:

    - the Wilcoxon signed-rank test of the score differences :math:`d_i = a_i - p_i`
      (Wilcoxon 1945; :func:`~diarytrial.analysis.paired.wilcoxon_signed_rank`, as R's
      ``wilcox.test(a, p, paired = TRUE, conf.int = TRUE)``: scores are tied integers, so the
      p-value is normally the normal approximation with continuity and tie correction);
    - the exact McNemar test of "much or very much improved" (score <= 2) under each
      (McNemar 1947; :func:`~diarytrial.analysis.paired.mcnemar_exact`).

    Missing data: participants without an answer under one condition are left out. A
    participant with several answers under a condition (an n-of-1 trial) contributes the mean of
    them, and counts as improved when that mean is <= 2.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=12, seed=3)
    >>> result = pgic_comparison(trial)
    >>> 0 < result.pairs <= 12, 0 <= result.mcnemar_p <= 1
    (True, True)
    """
    if answers is None:
        answers = pgic_answers(dataset)
    means = answers.groupby(["participant_id", "condition"], as_index=False).agg(
        score=("score", "mean")
    )
    if set(_TREATMENT) <= set(means["condition"]):
        active, placebo = paired_values(means, dv="score")
    else:
        active = placebo = np.array([], dtype=float)
    pairs = len(active)
    nan = math.nan
    v = p = pseudomedian = low = high = rank_biserial = nan
    exact = False
    if pairs and np.any(active != placebo):
        test = wilcoxon_signed_rank(active, placebo)
        v, p, exact = test.v, test.p, test.exact
        pseudomedian, low, high, rank_biserial = (
            test.pseudomedian,
            test.ci_low,
            test.ci_high,
            test.rank_biserial,
        )
    better_a = active <= IMPROVED_AT_MOST
    better_p = placebo <= IMPROVED_AT_MOST
    mcnemar = mcnemar_exact(better_a, better_p)
    return PgicComparison(
        pairs=pairs,
        median_active=float(np.median(active)) if pairs else nan,
        median_placebo=float(np.median(placebo)) if pairs else nan,
        wilcoxon_v=v,
        wilcoxon_p=p,
        wilcoxon_exact=exact,
        pseudomedian=pseudomedian,
        ci_low=low,
        ci_high=high,
        rank_biserial=rank_biserial,
        improved_active=int(better_a.sum()),
        improved_placebo=int(better_p.sum()),
        only_active=mcnemar.only_a,
        only_placebo=mcnemar.only_b,
        mcnemar_p=mcnemar.p if pairs else nan,
    )
