"""The outcome tables: the primary outcome, the secondary items and the responders."""

from __future__ import annotations

import pandas as pd

from diarytrial.analysis.primary import PrimaryContrast
from diarytrial.analysis.results import TrialResults
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.figures import TREATMENTS
from diarytrial.report.labels import better_label, scale_label
from diarytrial.report.tables.markup import Cell, CellLike, condition_names, html_table


def _improvement(results: TrialResults, item: str, condition: str) -> pd.Series | None:
    summary = results.improvement_summary
    rows = summary[(summary["item"] == item) & (summary["condition"] == condition)]
    return None if rows.empty else rows.iloc[0]


def _mean_sd_n(row: pd.Series | None) -> str:
    if row is None:
        return fmt.MISSING
    return f"{fmt.mean_sd(row['mean'], row['sd'])} [{int(row['n'])}]"


def _estimate(contrast: PrimaryContrast) -> str:
    return fmt.estimate_with_interval(contrast.estimate, contrast.ci_low, contrast.ci_high)


def primary_table(results: TrialResults, protocol: Protocol) -> str:
    """The primary outcome: % improvement per condition, the paired tests, the mixed model."""
    item_id = results.primary_item
    item = protocol.diary.item(item_id)
    names = condition_names(protocol)
    head = [["", names["active"], names["placebo"], "Estimate (95% CI)", "Statistic", "p"]]
    active = _improvement(results, item_id, "active")
    placebo = _improvement(results, item_id, "placebo")
    body: list[list[CellLike]] = [
        [
            "Improvement from baseline, %, mean (SD) [n: improvement population]",
            _mean_sd_n(active),
            _mean_sd_n(placebo),
            "",
            "",
            "",
        ],
        [
            "Improvement from baseline, %, median",
            fmt.decimal(active["median"]) if active is not None else fmt.MISSING,
            fmt.decimal(placebo["median"]) if placebo is not None else fmt.MISSING,
            "",
            "",
            "",
        ],
    ]
    notes = [
        "Improvement is the percent change from baseline, signed so that positive is better; "
        "differences are active − placebo. Each row names its population (populations table): "
        "the improvement population has a percent improvement on that condition, the paired "
        "population on both, the mixed-model population a daily value on a treatment day."
    ]
    comparison = results.comparisons.get(item_id)
    t = comparison.t if comparison else None
    w = comparison.wilcoxon if comparison else None
    if t is not None:
        body.append(
            [
                f"Paired t-test: mean % improvement and the difference (paired population, "
                f"{t.n} participants)",
                fmt.decimal(t.mean_a),
                fmt.decimal(t.mean_b),
                fmt.estimate_with_interval(t.mean_difference, t.ci_low, t.ci_high),
                f"t({t.df}) = {fmt.decimal(t.t, 2)}",
                fmt.p_value(t.p),
            ]
        )
    if w is not None:
        body.append(
            [
                f"Wilcoxon signed-rank: Hodges-Lehmann estimate (paired population, {w.n})",
                "",
                "",
                fmt.estimate_with_interval(w.pseudomedian, w.ci_low, w.ci_high),
                f"V = {fmt.decimal(w.v, 0)}",
                fmt.p_value(w.p),
            ]
        )
    if comparison is not None and comparison.problem:
        notes.append(f"Paired tests: {comparison.problem}.")
    contrast = results.primary.get(item_id)
    if contrast is not None:
        body.extend(_model_rows(contrast, item.label))
        notes.append(
            f"Mixed model ({contrast.model}) of the daily values on the {scale_label(item)}, "
            f"{better_label(item)}; mixed-model population: {contrast.n_participants} "
            f"participants, {contrast.n_obs} diary days. ρ: correlation of residuals one day "
            f"apart. Between-participant SD {fmt.decimal(contrast.sigma_b)}, residual SD "
            f"{fmt.decimal(contrast.sigma)}."
            + (
                " The random-intercept variance is at its boundary (zero)."
                if contrast.boundary
                else ""
            )
            + " The sensitivity interval is the estimate ± 1.96 standard errors."
        )
    elif item_id in results.primary_problems:
        notes.append(f"Mixed model not fitted: {results.primary_problems[item_id]}.")
    return html_table(
        f"Primary outcome: {item.label.lower()}", head, body, notes=notes, css_class="outcome"
    )


def _model_rows(contrast: PrimaryContrast, label: str) -> list[list[CellLike]]:
    """The mixed-model rows of the primary table: contrast, sensitivity, periods, carry-over."""
    rows: list[list[CellLike]] = [
        [
            f"Mixed model of daily {label.lower()}: active − placebo, points (mixed-model "
            f"population, {contrast.n_participants})",
            "",
            "",
            _estimate(contrast),
            f"ρ = {fmt.decimal(contrast.rho, 2)}",
            fmt.p_value(contrast.p),
        ],
        [
            "Sensitivity: the same model without AR(1) residuals",
            "",
            "",
            fmt.estimate_with_interval(
                contrast.sensitivity_estimate,
                contrast.sensitivity_estimate - 1.96 * contrast.sensitivity_se,
                contrast.sensitivity_estimate + 1.96 * contrast.sensitivity_se,
            ),
            "",
            fmt.p_value(contrast.sensitivity_p),
        ],
    ]
    for term, (estimate, p) in sorted(contrast.period.items()):
        kind, number = term.split("_", 1)
        rows.append(
            [
                f"{kind.capitalize()} {number} − {kind} 1, points",
                "",
                "",
                fmt.decimal(estimate),
                "",
                fmt.p_value(p),
            ]
        )
    if contrast.carryover_p is not None:
        rows.append(
            ["Carry-over (sequence effect)", "", "", "", "", fmt.p_value(contrast.carryover_p)]
        )
    return rows


def secondary_table(results: TrialResults, protocol: Protocol) -> str:
    """Every other item: % improvement per condition, paired t p, and the mixed-model contrast."""
    names = condition_names(protocol)
    head: list[list[CellLike]] = [
        [
            "",
            Cell("Improvement from baseline, %: mean (SD) [n: improvement population]", colspan=3),
            Cell("Mixed model, points", colspan=2),
        ],
        [
            "Outcome",
            names["active"],
            names["placebo"],
            "Paired t p",
            "Active − placebo (95% CI)",
            "p",
        ],
    ]
    body: list[list[CellLike]] = []
    notes: list[str] = []
    for item in protocol.diary.items:
        if item.id == results.primary_item:
            continue
        comparison = results.comparisons.get(item.id)
        contrast = results.primary.get(item.id)
        body.append(
            [
                f"{item.label} ({better_label(item)})",
                _mean_sd_n(_improvement(results, item.id, "active")),
                _mean_sd_n(_improvement(results, item.id, "placebo")),
                fmt.p_value(comparison.t.p) if comparison and comparison.t else fmt.MISSING,
                _estimate(contrast) if contrast else fmt.MISSING,
                fmt.p_value(contrast.p) if contrast else fmt.MISSING,
            ]
        )
        if item.id in results.primary_problems:
            notes.append(
                f"{item.label}: mixed model not fitted: {results.primary_problems[item.id]}."
            )
    notes.insert(
        0,
        "Mixed-model contrasts are on each item's own scale: for an item where lower is better a "
        "negative difference favours active. Each item has populations of its own: [n] is its "
        "improvement population on the condition; the paired t-test uses those with both; the "
        "mixed model those with a daily value of the item on a treatment day. No correction "
        "for multiple comparisons.",
    )
    return html_table("Secondary outcomes", head, body, notes=notes, css_class="outcome")


def responder_table(results: TrialResults, protocol: Protocol) -> str:
    """Responders per condition under the protocol's rule, and the exact McNemar test."""
    names = condition_names(protocol)
    summary = results.responder_summary.set_index("condition")
    head = [["Condition", "Assessed (responder status decided)", "Responders", "Rate"]]
    body: list[list[CellLike]] = []
    for condition in TREATMENTS:
        if condition not in summary.index:
            body.append([names[condition], "0", fmt.MISSING, fmt.MISSING])
            continue
        row = summary.loc[condition]
        body.append(
            [
                names[condition],
                fmt.integer(row["n"]),
                fmt.integer(row["responders"]),
                fmt.share(row["rate"]),
            ]
        )
    notes = [
        f"Responder: {results.responder_rule} (protocol rule: {protocol.responder.rule}). "
        "Assessed: participants whose responder status their improvements decide (a missing "
        "improvement meets no threshold; the status is undecided when a missing one could "
        "change it)."
    ]
    test = results.responder_test
    if test is not None:
        notes.append(
            f"Exact McNemar test on the {test.n} participants assessed under both conditions "
            "(responder pairs): "
            f"{test.only_a} responded only on {names['active']}, {test.only_b} only on "
            f"{names['placebo']}; {fmt.p_statement(test.p)}."
        )
    return html_table("Responders by condition", head, body, notes=notes)
