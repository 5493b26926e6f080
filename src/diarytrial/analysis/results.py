"""The whole analysis of a trial dataset, as one object and as JSON (docs/results-schema.md)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from diarytrial import __version__
from diarytrial.analysis.blinding import ARMS, GUESSES
from diarytrial.analysis.compliance import compliance_summary, diary_compliance
from diarytrial.analysis.flow import baseline_table, participant_flow
from diarytrial.analysis.guesses import BlindingSummary, blinding_summary
from diarytrial.analysis.improvement import percent_improvement, responders
from diarytrial.analysis.nof1 import nof1_blocks, nof1_effects
from diarytrial.analysis.nof1_pooled import NormalMixture, PooledEffects, pool_nof1
from diarytrial.analysis.paired import (
    McNemar,
    PairedT,
    Wilcoxon,
    mcnemar_exact,
    paired_t,
    paired_values,
    wilcoxon_signed_rank,
)
from diarytrial.analysis.pgic import (
    PgicComparison,
    pgic_answers,
    pgic_by_visit,
    pgic_comparison,
    pgic_improved,
    pgic_table,
)
from diarytrial.analysis.populations import analysis_populations
from diarytrial.analysis.primary import PrimaryContrast, primary_contrasts
from diarytrial.analysis.safety import adverse_event_table, dose_reduction_table, side_effect_table
from diarytrial.analysis.timecourse import TimeCourse, weekly_course
from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol import parse_rule

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ItemComparison:
    """Percent improvement of one item on drug vs placebo, compared in pairs."""

    item: str
    t: PairedT | None
    wilcoxon: Wilcoxon | None
    problem: str | None


@dataclass(frozen=True)
class TrialResults:
    """Every number of the analysis, as raw values (formatting is the report's job)."""

    study_id: str
    title: str
    design: str
    protocol_sha256: str
    provenance: dict[str, Any]
    code_version: str
    primary_item: str
    flow: pd.DataFrame
    populations: pd.DataFrame
    baseline: pd.DataFrame
    improvement: pd.DataFrame
    improvement_summary: pd.DataFrame
    comparisons: dict[str, ItemComparison]
    responders: pd.DataFrame
    responder_summary: pd.DataFrame
    responder_test: McNemar | None
    responder_rule: str
    primary: dict[str, PrimaryContrast]
    primary_problems: dict[str, str]
    time_course: TimeCourse
    pgic: pd.DataFrame
    pgic_improved: pd.DataFrame
    pgic_comparison: PgicComparison
    pgic_by_visit: pd.DataFrame
    blinding: BlindingSummary
    adverse_events: pd.DataFrame
    side_effects: pd.DataFrame
    dose_reductions: pd.DataFrame
    compliance: pd.DataFrame
    compliance_summary: pd.DataFrame
    nof1_blocks: pd.DataFrame | None
    nof1: pd.DataFrame | None
    nof1_pooled: PooledEffects | str | None = None
    """A series of n-of-1 trials pooled (`nof1_pooled.pool_nof1`), or why it could not be
    (fewer than three participants...); None for a crossover trial."""


def analyze_trial(dataset: TrialDataset) -> TrialResults:
    """Run every analysis of design.md § Statistics on `dataset`.

    The primary item is the protocol's first diary item. Per item, the mixed model is fitted
    independently; an item that cannot be fitted (too little data) is reported in
    ``primary_problems`` rather than stopping the analysis.
    """
    if dataset.provenance.get("blinded"):
        raise ValueError(
            "this is a blinded export: it says nothing about who received the drug, so it "
            "cannot be analysed by condition. Analyse the unblinded export the statistician "
            "makes after the database lock and unblinding."
        )
    if len(dataset.participants) == 0:
        raise ValueError("the dataset has no participants, so there is nothing to analyse")
    if len(dataset.diary) == 0:
        raise ValueError(
            "the diary has no answers, so there is nothing to analyse; check that diary.csv "
            "is the file exported with the other tables"
        )
    protocol = dataset.protocol.protocol
    items = [item.id for item in protocol.diary.items]
    improvement = percent_improvement(dataset)
    comparisons = {item: _compare(improvement[improvement["item"] == item], item) for item in items}
    responder_rows = responders(dataset)
    primary, problems = primary_contrasts(dataset, items)
    compliance = diary_compliance(dataset)
    answers = pgic_answers(dataset)
    nof1 = protocol.design.kind == "nof1"
    time_course = weekly_course(
        dataset, item=items[0], threshold=protocol.analysis.clinically_important_difference_pct
    )
    return TrialResults(
        study_id=protocol.study.id,
        title=protocol.study.title,
        design=protocol.design.kind,
        protocol_sha256=dataset.protocol.sha256,
        provenance=dict(dataset.provenance),
        code_version=__version__,
        primary_item=items[0],
        flow=participant_flow(dataset),
        populations=analysis_populations(
            dataset,
            improvement=improvement,
            responders=responder_rows,
            time_course=time_course.participants,
        ),
        baseline=baseline_table(dataset),
        improvement=improvement,
        improvement_summary=_summarise_improvement(improvement),
        comparisons=comparisons,
        responders=responder_rows,
        responder_summary=_summarise_responders(responder_rows),
        responder_test=_responder_test(responder_rows),
        responder_rule=parse_rule(protocol.responder.rule).describe(),
        primary=primary,
        primary_problems=problems,
        time_course=time_course,
        pgic=pgic_table(dataset, answers=answers),
        pgic_improved=pgic_improved(dataset, answers=answers),
        pgic_comparison=pgic_comparison(dataset, answers=answers),
        pgic_by_visit=pgic_by_visit(dataset),
        blinding=blinding_summary(dataset),
        adverse_events=adverse_event_table(dataset),
        side_effects=side_effect_table(dataset),
        dose_reductions=dose_reduction_table(dataset),
        compliance=compliance,
        compliance_summary=compliance_summary(dataset, table=compliance),
        nof1_blocks=nof1_blocks(dataset, item=items[0]) if nof1 else None,
        nof1=nof1_effects(dataset, item=items[0]) if nof1 else None,
        nof1_pooled=_pooled(dataset, items[0]) if nof1 else None,
    )


def _pooled(dataset: TrialDataset, item: str) -> PooledEffects | str:
    try:
        return pool_nof1(dataset, item=item)
    except ValueError as error:
        return str(error)


def _compare(rows: pd.DataFrame, item: str) -> ItemComparison:
    try:
        a, b = paired_values(rows, dv="improvement")
    except ValueError as error:
        return ItemComparison(item=item, t=None, wilcoxon=None, problem=str(error))
    t: PairedT | None = None
    w: Wilcoxon | None = None
    problem: list[str] = []
    for name, test in (("t", paired_t), ("wilcoxon", wilcoxon_signed_rank)):
        try:
            value = test(a, b)
        except ValueError as error:
            problem.append(f"{name}: {error}")
            continue
        if isinstance(value, PairedT):
            t = value
        elif isinstance(value, Wilcoxon):
            w = value
    return ItemComparison(item=item, t=t, wilcoxon=w, problem="; ".join(problem) or None)


def _summarise_improvement(improvement: pd.DataFrame) -> pd.DataFrame:
    """Per item and condition: n, mean, sd, median of the percent improvement."""
    valid = improvement.dropna(subset=["improvement"])
    summary = (
        valid.groupby(["item", "condition"], sort=False)["improvement"]
        .agg(n="size", mean="mean", sd="std", median="median")
        .reset_index()
    )
    return summary


def _summarise_responders(rows: pd.DataFrame) -> pd.DataFrame:
    """Per condition: participants assessed, responders and the rate."""
    valid = rows.dropna(subset=["responder"])
    out = (
        valid.groupby("condition", sort=False)["responder"]
        .agg(n="size", responders="sum")
        .reset_index()
    )
    out["responders"] = out["responders"].astype(int)
    out["rate"] = out["responders"] / out["n"]
    return out


def _responder_test(rows: pd.DataFrame) -> McNemar | None:
    valid = rows.dropna(subset=["responder"]).assign(
        responder=lambda frame: frame["responder"].astype(float)
    )
    try:
        a, b = paired_values(valid, dv="responder")
    except ValueError:
        return None
    return mcnemar_exact(a, b) if len(a) else None


def results_to_dict(results: TrialResults) -> dict[str, Any]:
    """A JSON-ready dict of every number (NaN becomes null); see docs/results-schema.md."""
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "study": {"id": results.study_id, "title": results.title, "design": results.design},
        "provenance": {
            **results.provenance,
            "protocol_sha256": results.protocol_sha256,
            "code_version": results.code_version,
        },
        "primary_item": results.primary_item,
        "flow": _records(results.flow),
        "populations": _records(results.populations),
        "baseline": _records(results.baseline),
        "improvement": _records(results.improvement_summary),
        "improvement_tests": {
            item: {
                "t": _plain(c.t),
                "wilcoxon": _plain(c.wilcoxon),
                "problem": c.problem,
            }
            for item, c in results.comparisons.items()
        },
        "responders": {
            "rule": results.responder_rule,
            "by_condition": _records(results.responder_summary),
            "mcnemar": _plain(results.responder_test),
        },
        "mixed_model": {item: _plain(c) for item, c in results.primary.items()},
        "mixed_model_problems": dict(results.primary_problems),
        "time_course": {
            "item": results.time_course.item,
            "threshold": results.time_course.threshold,
            "weekly": _records(results.time_course.weekly),
            "onset_week": results.time_course.onset_week,
        },
        "pgic": {
            "by_condition": _records(results.pgic),
            "improved": _records(results.pgic_improved),
            "comparison": _plain(results.pgic_comparison),
            "by_visit": _records(results.pgic_by_visit),
        },
        "blinding": _blinding(results.blinding),
        "adverse_events": _records(results.adverse_events),
        "side_effects": _records(results.side_effects),
        "dose_reductions": _records(results.dose_reductions),
        "compliance": {
            "by_condition": _records(results.compliance_summary),
            "by_participant": _records(results.compliance),
        },
    }
    if results.nof1 is not None and results.nof1_blocks is not None:
        out["nof1"] = {
            "effects": _records(results.nof1),
            "blocks": _records(results.nof1_blocks),
            "pooled": _pooled_json(results.nof1_pooled),
        }
    return out


def _blinding(summary: BlindingSummary) -> dict[str, Any]:
    table = summary.table
    return {
        "table": [
            {
                "arm": arm,
                **{guess: table.count(arm, guess) for guess in GUESSES},
                "n": table.arm_total(arm),
            }
            for arm in ARMS
        ],
        "bang": {
            "active": _plain(summary.bang_active),
            "placebo": _plain(summary.bang_placebo),
        },
        "james": _plain(summary.james),
        "other_visits": summary.other_visits,
        "by_visit": _records(summary.by_visit),
    }


def _posterior(mixture: NormalMixture, cid: float, credibility: float) -> dict[str, Any]:
    tail = (1 - credibility) / 2
    return {
        "mean": mixture.mean,
        "sd": mixture.sd,
        "ci_low": mixture.quantile(tail),
        "ci_high": mixture.quantile(1 - tail),
        "p_benefit": mixture.prob_above(0.0),
        "p_exceeds_cid": mixture.prob_above(cid),
    }


def _pooled_json(pooled: PooledEffects | str | None) -> dict[str, Any] | None:
    if pooled is None:
        return None
    if isinstance(pooled, str):
        return {"problem": pooled}
    median, low, high = pooled.tau
    return {
        "model": "normal hierarchical model of the block benefits, flat priors on mu, tau and "
        "log sigma, computed by numerical integration (docs/statistics.md)",
        "cid": pooled.cid,
        "credibility": pooled.credibility,
        "participants": _records(pooled.participants),
        "population": _posterior(pooled.population, pooled.cid, pooled.credibility),
        "new_participant": _posterior(pooled.predictive, pooled.cid, pooled.credibility),
        "between_participant_sd": {"median": median, "ci_low": low, "ci_high": high},
        "grid_mass_at_edge": pooled.grid_mass_at_edge,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _scalar(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: object) -> Any:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return _records(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _scalar(value)


_CONVERT: dict[type, Callable[[Any], Any]] = {
    np.bool_: bool,
    np.integer: int,
    np.floating: float,
}


def _scalar(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    for kind, convert in _CONVERT.items():
        if isinstance(value, kind):
            value = convert(value)
            break
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
