"""Who is counted where: every population of the analysis, per sequence.

A crossover trial's analyses each use the participants who have what that analysis needs (a
baseline mean and an end-of-period mean under both conditions for the paired tests, one daily
value on a treatment day for the mixed model, an answer under both conditions for the PGIC ...),
so their numbers differ. This table counts each of them per sequence, so that a reader can
account for every N of the report.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from diarytrial.analysis.flow import participant_flow
from diarytrial.analysis.pgic import pgic_answers
from diarytrial.analysis.phases import phase_means
from diarytrial.analysis.primary import model_frame
from diarytrial.analysis.safety._counting import exposure_per_participant
from diarytrial.analysis.safety.attribution import data_cut_day, phase_spans
from diarytrial.dataset.model import TrialDataset

POPULATIONS = (
    "randomized",
    "withdrawn",
    "baseline mean",
    "phase mean active",
    "phase mean placebo",
    "phase means every condition",
    "improvement active",
    "improvement placebo",
    "paired",
    "mixed model",
    "time course",
    "responder active",
    "responder placebo",
    "responder pairs",
    "pgic active",
    "pgic placebo",
    "pgic pairs",
    "exposed active",
    "exposed placebo",
    "exposed both",
)
"""The populations after the flow's period rows, in the order of :func:`analysis_populations`."""

_TREATMENT = ("active", "placebo")


def analysis_populations(
    dataset: TrialDataset,
    *,
    improvement: pd.DataFrame,
    responders: pd.DataFrame,
    time_course: pd.DataFrame,
) -> pd.DataFrame:
    """The participants counted by each analysis of the primary item, per sequence.

    Populations (column ``population``), each a set of randomized participants:

    - ``randomized``; ``period k started`` and ``period k completed`` (as in
      :func:`~diarytrial.analysis.flow.participant_flow`); ``withdrawn``;
    - ``baseline mean``, ``phase mean active``, ``phase mean placebo``: a mean of the primary
      item over the phase's analysis window, with at least the protocol's ``min_completion``
      of its days completed; ``phase means every condition``: all three (the flow's
      ``analysed``);
    - ``improvement active``, ``improvement placebo``: a percent improvement of the primary
      item (a baseline mean and a mean over the improvement endpoint), from `improvement`;
      ``paired``: both (the paired t and Wilcoxon tests);
    - ``mixed model``: at least one daily value of the primary item on a treatment day of the
      analysis window (:func:`~diarytrial.analysis.primary.model_frame`);
    - ``time course``: a baseline mean and a value in at least one treatment week
      (`time_course`, the participants' rows of the weekly course);
    - ``responder active``, ``responder placebo``: responder status decided (`responders`);
      ``responder pairs``: decided under both (the exact McNemar test);
    - ``pgic active``, ``pgic placebo``: a PGIC answer at the end of a period on that
      condition; ``pgic pairs``: under both;
    - ``exposed active``, ``exposed placebo``, ``exposed both``: at least one day on the
      condition up to the data cut (the denominators of the safety tables).

    Returns
    -------
    pandas.DataFrame
        Columns ``population``, ``sequence`` (each sequence code, then ``"all"``) and ``n``.
        Only randomized participants are counted.

    Examples
    --------
    >>> from diarytrial.analysis.improvement import percent_improvement, responders
    >>> from diarytrial.analysis.timecourse import weekly_course
    >>> from diarytrial.protocol import load_example
    >>> from diarytrial.simulate import simulate_trial
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=8, seed=1)
    >>> table = analysis_populations(
    ...     trial,
    ...     improvement=percent_improvement(trial),
    ...     responders=responders(trial),
    ...     time_course=weekly_course(trial).participants,
    ... )
    >>> table[(table["population"] == "randomized") & (table["sequence"] == "all")]["n"].item()
    8
    """
    people = dataset.participants
    ids = people["participant_id"].astype(str)
    sequence = people["sequence"].astype(object).where(people["sequence"].notna(), None)
    sequence_of = {
        pid: str(code) for pid, code in zip(ids, sequence, strict=True) if code is not None
    }
    codes = sorted(set(sequence_of.values()))
    item = dataset.protocol.protocol.diary.items[0].id
    members = _memberships(dataset, item, improvement, responders, time_course)
    flow = participant_flow(dataset)
    period_stages = [
        str(s) for s in dict.fromkeys(flow["stage"].astype(str)) if str(s).startswith("period ")
    ]
    rows: list[dict[str, object]] = []
    for population in ("randomized", *period_stages):
        counts = flow[flow["stage"] == population].set_index("sequence")["n"]
        for code in codes:
            rows.append({"population": population, "sequence": code, "n": int(counts.get(code, 0))})
        rows.append({"population": population, "sequence": "all", "n": int(counts.sum())})
    withdrawn = {
        pid for pid, gone in zip(ids, people["withdrawn_on"], strict=True) if not pd.isna(gone)
    }
    members["withdrawn"] = withdrawn
    for population in POPULATIONS[1:]:
        chosen = {pid for pid in members[population] if pid in sequence_of}
        for code in codes:
            n = sum(1 for pid in chosen if sequence_of[pid] == code)
            rows.append({"population": population, "sequence": code, "n": n})
        rows.append({"population": population, "sequence": "all", "n": len(chosen)})
    return pd.DataFrame(rows, columns=["population", "sequence", "n"])


def _ids(values: Iterable[object]) -> set[str]:
    return {str(v) for v in values}


def _memberships(
    dataset: TrialDataset,
    item: str,
    improvement: pd.DataFrame,
    responders: pd.DataFrame,
    time_course: pd.DataFrame,
) -> dict[str, set[str]]:
    """Each population (but ``randomized`` and ``withdrawn``) as a set of participant ids."""
    out: dict[str, set[str]] = {}
    means = phase_means(dataset, by="condition", items=[item]).dropna(subset=["mean"])
    for condition, name in (
        ("baseline", "baseline mean"),
        ("active", "phase mean active"),
        ("placebo", "phase mean placebo"),
    ):
        out[name] = _ids(means.loc[means["condition"] == condition, "participant_id"])
    out["phase means every condition"] = (
        out["baseline mean"] & out["phase mean active"] & out["phase mean placebo"]
    )
    mine = improvement[improvement["item"].astype(str) == item].dropna(subset=["improvement"])
    for condition in _TREATMENT:
        out[f"improvement {condition}"] = _ids(
            mine.loc[mine["condition"] == condition, "participant_id"]
        )
    out["paired"] = out["improvement active"] & out["improvement placebo"]
    frame = model_frame(dataset, item)
    out["mixed model"] = _ids(frame["participant_id"].astype(str).unique())
    out["time course"] = _ids(time_course["participant_id"])
    decided = responders.dropna(subset=["responder"])
    for condition in _TREATMENT:
        out[f"responder {condition}"] = _ids(
            decided.loc[decided["condition"] == condition, "participant_id"]
        )
    out["responder pairs"] = out["responder active"] & out["responder placebo"]
    answers = pgic_answers(dataset)
    for condition in _TREATMENT:
        out[f"pgic {condition}"] = _ids(
            answers.loc[answers["condition"] == condition, "participant_id"]
        )
    out["pgic pairs"] = out["pgic active"] & out["pgic placebo"]
    exposure = exposure_per_participant(phase_spans(dataset, last_day=data_cut_day(dataset, None)))
    for condition in _TREATMENT:
        out[f"exposed {condition}"] = _ids(exposure.index[exposure[condition] > 0])
    out["exposed both"] = out["exposed active"] & out["exposed placebo"]
    return out
