"""The report's tables as HTML: baseline, outcomes, responders, safety and compliance.

Each builder takes raw numbers from :class:`~diarytrial.analysis.results.TrialResults` and
formats them with :mod:`~diarytrial.report.format`. Text from data is escaped by
:func:`html_table`; a :class:`Cell` with ``html=True`` carries markup built here.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from diarytrial.analysis.primary import PrimaryContrast
from diarytrial.analysis.results import TrialResults
from diarytrial.analysis.safety import ANY_ADVERSE_EVENT
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.daily import CONDITION_ORDER, sequence_letters
from diarytrial.report.figures import TREATMENTS
from diarytrial.report.labels import (
    better_label,
    condition_label,
    phase_label,
    scale_label,
    sequence_label,
)


@dataclass(frozen=True)
class Cell:
    """A table cell: text (escaped on output unless `html`), its span and CSS class."""

    text: str
    html: bool = False
    colspan: int = 1
    css: str = ""


CellLike = Cell | str


def _cell(value: CellLike, tag: str, *, numeric: bool, scope: str | None = None) -> str:
    cell = value if isinstance(value, Cell) else Cell(value)
    content = cell.text if cell.html else html.escape(cell.text)
    classes = " ".join(c for c in (cell.css, "num" if numeric else "") if c)
    attributes = f' class="{classes}"' if classes else ""
    if cell.colspan > 1:
        attributes += f' colspan="{cell.colspan}"'
    if scope is not None:
        attributes += f' scope="{scope}"'
    return f"<{tag}{attributes}>{content}</{tag}>"


def _span(cell: CellLike) -> int:
    return cell.colspan if isinstance(cell, Cell) else 1


def html_table(
    caption: str,
    head: Sequence[Sequence[CellLike]],
    body: Sequence[Sequence[CellLike]],
    *,
    notes: Sequence[str] = (),
    css_class: str = "",
    text_columns: Collection[int] = (0,),
) -> str:
    """A ``<table>`` with a caption, header rows, body rows and plain-text footnotes.

    The first cell of a body row is its row header. Columns are numeric (right-aligned, not
    wrapped) except those in `text_columns`. Text is escaped unless a :class:`Cell` says it is
    markup already.
    """
    head_rows = []
    for row in head:
        cells, column = [], 0
        for cell in row:
            numeric = column not in text_columns and _span(cell) == 1
            cells.append(_cell(cell, "th", numeric=numeric, scope="col"))
            column += _span(cell)
        head_rows.append("<tr>" + "".join(cells) + "</tr>")
    body_rows = []
    for row in body:
        cells = [_cell(row[0], "th", numeric=False, scope="row")]
        cells.extend(
            _cell(c, "td", numeric=k not in text_columns) for k, c in enumerate(row[1:], start=1)
        )
        body_rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = ""
    if notes:
        width = max((sum(_span(c) for c in r) for r in [*head, *body]), default=1)
        foot = (
            f'<tfoot><tr><td colspan="{width}">'
            + "<br>".join(html.escape(n) for n in notes)
            + "</td></tr></tfoot>"
        )
    classes = f' class="{html.escape(css_class)}"' if css_class else ""
    return (
        f"<table{classes}><caption>{html.escape(caption)}</caption>"
        f"<thead>{''.join(head_rows)}</thead><tbody>{''.join(body_rows)}</tbody>{foot}</table>"
    )


def _names(protocol: Protocol) -> dict[str, str]:
    return {c: condition_label(protocol, c) for c in CONDITION_ORDER}


# --- baseline -----------------------------------------------------------------------------------


def baseline_table(results: TrialResults, protocol: Protocol) -> str:
    """Baseline characteristics per sequence and overall (``results.baseline``)."""
    frame = results.baseline
    groups = list(dict.fromkeys(str(s) for s in frame["sequence"]))
    size = {
        str(r["sequence"]): int(r["n"])
        for r in frame[frame["characteristic"] == "participants"].to_dict("records")
    }
    head = [
        [
            "Characteristic",
            *(
                f"{'All' if g == 'all' else sequence_label(protocol, g)} (n = {size.get(g, 0)})"
                for g in groups
            ),
        ]
    ]
    items = {f"baseline {i.label.lower()}": i for i in protocol.diary.items}
    body: list[list[CellLike]] = []
    for name in dict.fromkeys(str(c) for c in frame["characteristic"]):
        if name == "participants":
            continue
        chosen = frame[frame["characteristic"] == name]
        rows = chosen.set_index(chosen["sequence"].astype(str))
        if name in items:
            item = items[name]
            label = f"Baseline {item.label.lower()} ({scale_label(item)}), mean (SD)"
        elif name == "age":
            label = "Age, years, mean (SD)"
        else:
            label = f"{name.capitalize()}, n (%)"
        cells: list[CellLike] = [label]
        for g in groups:
            row = rows.loc[g] if g in rows.index else None
            if row is None:
                cells.append(fmt.MISSING)
            elif fmt.is_missing(row["count"]):
                cells.append(fmt.mean_sd(row["mean"], row["sd"]))
            else:
                cells.append(fmt.count_share(row["count"], row["n"]))
        body.append(cells)
    return html_table(
        "Baseline characteristics by sequence",
        head,
        body,
        notes=[
            "Diary baselines are each participant's mean over the baseline phase, with at least "
            f"{fmt.share(protocol.analysis.min_completion, 0)} of its days completed."
        ],
    )


# --- outcomes -----------------------------------------------------------------------------------


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
    names = _names(protocol)
    head = [["", names["active"], names["placebo"], "Estimate (95% CI)", "Statistic", "p"]]
    active = _improvement(results, item_id, "active")
    placebo = _improvement(results, item_id, "placebo")
    body: list[list[CellLike]] = [
        [
            "Improvement from baseline, %, mean (SD) [n]",
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
        "differences are active − placebo."
    ]
    comparison = results.comparisons.get(item_id)
    t = comparison.t if comparison else None
    w = comparison.wilcoxon if comparison else None
    if t is not None:
        body.append(
            [
                f"Paired t-test: difference in % improvement ({t.n} pairs)",
                "",
                "",
                fmt.estimate_with_interval(t.mean_difference, t.ci_low, t.ci_high),
                f"t({t.df}) = {fmt.decimal(t.t, 2)}",
                fmt.p_value(t.p),
            ]
        )
    if w is not None:
        body.append(
            [
                f"Wilcoxon signed-rank: Hodges-Lehmann estimate ({w.n} pairs)",
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
            f"{better_label(item)}; {contrast.n_participants} participants, "
            f"{contrast.n_obs} diary days. ρ: correlation of residuals one day apart. "
            f"Between-participant SD {fmt.decimal(contrast.sigma_b)}, residual SD "
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
            f"Mixed model of daily {label.lower()}: active − placebo, points",
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
    names = _names(protocol)
    head: list[list[CellLike]] = [
        [
            "",
            Cell("Improvement from baseline, %: mean (SD) [n]", colspan=3),
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
        "negative difference favours active. No correction for multiple comparisons.",
    )
    return html_table("Secondary outcomes", head, body, notes=notes, css_class="outcome")


def responder_table(results: TrialResults, protocol: Protocol) -> str:
    """Responders per condition under the protocol's rule, and the exact McNemar test."""
    names = _names(protocol)
    summary = results.responder_summary.set_index("condition")
    head = [["Condition", "Assessed", "Responders", "Rate"]]
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
    notes = [f"Responder: {results.responder_rule} (protocol rule: {protocol.responder.rule})."]
    test = results.responder_test
    if test is not None:
        notes.append(
            f"Exact McNemar test on the {test.n} participants assessed under both conditions: "
            f"{test.only_a} responded only on {names['active']}, {test.only_b} only on "
            f"{names['placebo']}; {fmt.p_statement(test.p)}."
        )
    return html_table("Responders by condition", head, body, notes=notes)


# --- safety -------------------------------------------------------------------------------------


def _conditions(frame: pd.DataFrame) -> list[str]:
    """The conditions of a safety table that somebody was exposed to (no washout without one)."""
    exposed = frame.groupby("condition")["exposed"].max()
    return [c for c in CONDITION_ORDER if c in exposed.index and int(exposed[c]) > 0]


def _exposure_head(
    frame: pd.DataFrame, protocol: Protocol, conditions: Sequence[str], days_column: str
) -> list[CellLike]:
    """One header cell per condition: its name, and below it participants and days exposed."""
    names = _names(protocol)
    first = {str(r["condition"]): r for r in frame.drop_duplicates("condition").to_dict("records")}
    return [
        Cell(
            f'{html.escape(names[c])}<br><span class="sub">{int(first[c]["exposed"])} '
            f"participants, {int(first[c][days_column])} days</span>",
            html=True,
        )
        for c in conditions
    ]


def side_effect_table(results: TrialResults, protocol: Protocol) -> str:
    """Side effects of the nightly checklist: participants reporting, share of diary days."""
    frame = results.side_effects
    conditions = _conditions(frame)
    head = [["Side effect", *_exposure_head(frame, protocol, conditions, "diary_days"), "p"]]
    body: list[list[CellLike]] = []
    for effect in dict.fromkeys(frame["side_effect"].astype(str)):
        rows = frame[frame["side_effect"] == effect].set_index("condition")
        cells: list[CellLike] = [str(rows["label"].iloc[0])]
        for condition in conditions:
            row = rows.loc[condition]
            cells.append(f"{fmt.integer(row['participants'])} ({fmt.share(row['share_of_days'])})")
        p = rows.loc["active", "p_participants"] if "active" in rows.index else None
        cells.append(fmt.p_value(p))
        body.append(cells)
    return html_table(
        "Side effects reported in the nightly diary",
        head,
        body,
        notes=[
            "Cells: participants who reported it at least once (reports as a share of diary days "
            "in the condition). p: exact McNemar test of reporting it at least once under active "
            "against placebo, among participants with diary days in both."
        ],
    )


def adverse_event_table(results: TrialResults, protocol: Protocol) -> str:
    """Adverse events per term and condition, with the exact tests of active against placebo."""
    frame = results.adverse_events
    conditions = _conditions(frame)
    head = [
        [
            "Adverse event",
            *_exposure_head(frame, protocol, conditions, "exposure_days"),
            "p (participants)",
            "Rate ratio (95% CI)",
            "p (events)",
        ]
    ]
    body: list[list[CellLike]] = []
    for term in dict.fromkeys(frame["term"].astype(str)):
        rows = frame[frame["term"] == term].set_index("condition")
        cells: list[CellLike] = [term]
        for condition in conditions:
            row = rows.loc[condition]
            cells.append(f"{fmt.integer(row['participants'])} ({fmt.integer(row['events'])})")
        active = rows.loc["active"] if "active" in rows.index else None
        if active is None:
            cells.extend([fmt.MISSING] * 3)
        else:
            ratio = fmt.ratio(active["rate_ratio"])
            ci = fmt.ratio_interval(active["rate_ratio_ci_low"], active["rate_ratio_ci_high"])
            cells.extend(
                [
                    fmt.p_value(active["p_participants"]),
                    ratio if ci == fmt.MISSING else f"{ratio} ({ci})",
                    fmt.p_value(active["p_events"]),
                ]
            )
        body.append(cells)
    any_event = frame[frame["term"] == ANY_ADVERSE_EVENT]
    return html_table(
        "Adverse events",
        head,
        body,
        notes=[
            "Cells: participants with at least one event (events). p (participants): exact "
            "McNemar test among participants exposed to both conditions; rate ratio and p "
            "(events): exact conditional test of the two Poisson rates per exposure day, "
            "active over placebo; ∞ when no event occurred on placebo.",
            f"Serious adverse events: {int(any_event['serious_events'].sum())}.",
        ],
    )


def dose_reduction_table(results: TrialResults, protocol: Protocol) -> str:
    """Dose reductions per condition (blinded: the level was lowered, not the arm changed)."""
    names = _names(protocol)
    head = [
        ["Condition", "Exposed", "Exposure days", "Participants with a reduction", "Reductions"]
    ]
    body: list[list[CellLike]] = []
    rows = {str(r["condition"]): r for r in results.dose_reductions.to_dict("records")}
    for condition in CONDITION_ORDER:
        row = rows.get(condition)
        if row is None or int(row["exposed"]) == 0:
            continue
        body.append(
            [
                names[condition],
                fmt.integer(row["exposed"]),
                fmt.integer(row["exposure_days"]),
                fmt.count_share(row["participants"], row["exposed"]),
                fmt.integer(row["reductions"]),
            ]
        )
    notes = []
    active = rows.get("active")
    if active is not None:
        notes.append(
            f"Exact McNemar test of at least one reduction under active against placebo "
            f"({fmt.integer(active['pairs'])} participants exposed to both): "
            f"{fmt.p_statement(active['p_participants'])}."
        )
    return html_table("Dose reductions", head, body, notes=notes)


# --- compliance ---------------------------------------------------------------------------------


def compliance_summary_table(results: TrialResults, protocol: Protocol) -> str:
    """Diary compliance per condition (``results.compliance_summary``)."""
    names = {**_names(protocol), "all": "All phases"}
    head = [
        [
            "Condition",
            "Participants",
            "Expected days",
            "Completed days",
            "Late days",
            "Participant share, median (min)",
            "Below minimum",
        ]
    ]
    body: list[list[CellLike]] = []
    minimum = protocol.analysis.min_completion
    for row in results.compliance_summary.to_dict("records"):
        if int(row["participants"]) == 0:  # e.g. the washout of a design without one
            continue
        minimum = float(row["min_completion"])
        body.append(
            [
                names.get(str(row["condition"]), str(row["condition"])),
                fmt.integer(row["participants"]),
                fmt.integer(row["expected_days"]),
                f"{fmt.integer(row['completed_days'])} ({fmt.share(row['share'])})",
                fmt.integer(row["late_days"]),
                f"{fmt.share(row['median_share'])} ({fmt.share(row['min_share'])})",
                fmt.integer(row["below_min"]),
            ]
        )
    return html_table(
        "Diary compliance",
        head,
        body,
        notes=[
            "A diary day is expected on every day of a phase up to the data cut or the "
            "withdrawal; completed when it has at least one answer; late when sent after its "
            f"window closed. Below minimum: participants with less than {fmt.share(minimum, 0)} "
            "of their expected days completed."
        ],
    )


def compliance_participant_table(
    results: TrialResults, protocol: Protocol, sequences: Mapping[str, str]
) -> str:
    """Each participant's share of completed diary days per phase, in one compact table.

    `sequences` maps participant ids to their sequence code (as in ``participants.csv``).
    """
    table = results.compliance
    minimum = float(protocol.analysis.min_completion)
    phases = (
        table.groupby("phase", sort=True)
        .agg(period=("period", "first"), condition=("condition", "first"))
        .reset_index()
    )
    headers = [phase_label(r.period, str(r.condition)) for r in phases.itertuples(index=False)]
    head = [["Participant", "Sequence", *(f"{h}, %" for h in headers)]]
    body: list[list[CellLike]] = []
    for pid, rows in table.groupby(table["participant_id"].astype(str), sort=True):
        by_phase = rows.set_index("phase")
        code = sequences.get(str(pid), "")
        cells: list[CellLike] = [str(pid), sequence_letters(protocol, code) if code else ""]
        for phase in phases["phase"]:
            value = by_phase.loc[phase, "share"] if phase in by_phase.index else None
            if value is None or fmt.is_missing(value):
                cells.append(fmt.MISSING)
            elif float(value) < minimum - 1e-12:  # the analysis' tolerance for 7 of 10 days
                cells.append(Cell(f"{fmt.decimal(100 * float(value), 0)}*", css="low"))
            else:
                cells.append(fmt.decimal(100 * float(value), 0))
        body.append(cells)
    return html_table(
        "Diary compliance per participant and phase",
        head,
        body,
        notes=[
            "Share of expected diary days completed. Sequence: A active, P placebo, in the "
            f"order given; * below the minimum of {fmt.share(minimum, 0)} needed for a phase mean."
        ],
        css_class="dense",
        text_columns=(0, 1),
    )
