"""The per-patient page of an n-of-1 trial, after CENT 2015, and the series pooled.

CENT 2015 (Vohra et al., BMJ 2015;350:h1738) asks an n-of-1 report to show the patient's
sequence of periods, the data of every period, the result of each block and the overall
estimate with its uncertainty. Here: the blocks and the order of treatments, the daily series
with the periods shaded, the benefit per block, and the mean benefit with its CI and the
probability that it exceeds the clinically important difference (``results.nof1``). For a
series of n-of-1 trials of one protocol, `pooled_section` gives the hierarchical model's
estimates (``results.nof1_pooled``: the combined results CENT 2015 asks of a series).
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd

from diarytrial.analysis.nof1_pooled import NormalMixture, PooledEffects
from diarytrial.analysis.results import TrialResults
from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report import svg
from diarytrial.report.daily import Series, condition_key, series_figure
from diarytrial.report.labels import condition_label
from diarytrial.report.palette import INK, MUTED, OKABE_ITO, condition_style
from diarytrial.report.tables import CellLike, html_table

_NO_BLOCKS = pd.DataFrame(columns=["participant_id", "block", "active", "placebo", "benefit"])


def benefit_figure(blocks: pd.DataFrame, effect: pd.Series, protocol: Protocol) -> str:
    """A forest plot: the benefit of each block, the mean with its CI, 0 and the CID."""
    width = 680.0
    left, right, label_w = 150.0, 540.0, 142.0
    row_h, top = 26.0, 26.0
    cid = float(effect["cid"])
    values = [0.0, cid, *blocks["benefit"].dropna().astype(float)]
    for key in ("mean_benefit", "ci_low", "ci_high"):
        if not fmt.is_missing(effect[key]):
            values.append(float(effect[key]))
    low, high = svg.nice_domain(min(values), max(values), 6)
    x = svg.Scale(low, high, left, right)
    rows = len(blocks) + 1
    bottom = top + rows * row_h + 6
    parts = [
        svg.axis_bottom(
            x,
            svg.nice_ticks(low, high, 6),
            y=bottom,
            label="Benefit: improvement on active − placebo (percentage points of baseline)",
        ),
        svg.line(x(0), top - 4, x(0), bottom, stroke=MUTED),
        svg.line(x(cid), top - 4, x(cid), bottom, stroke=OKABE_ITO["vermillion"], dash="5 3"),
        # Anchored at its end, the label stays left of the line and clear of the right column.
        svg.text(
            x(cid) - 4,
            top - 8,
            f"clinically important difference ({fmt.decimal(cid, 0)})",
            anchor="end",
            size=10,
            fill=OKABE_ITO["vermillion"],
        ),
        svg.text(right + 12, top - 8, "Benefit", size=10, weight="bold"),
    ]
    active = condition_style("active").colour
    for k, row in enumerate(blocks.to_dict("records")):
        cy = top + k * row_h + row_h / 2
        parts.append(svg.text(label_w, cy + 4, f"Block {int(row['block'])}", anchor="end"))
        if not fmt.is_missing(row["benefit"]):
            parts.append(svg.marker("square", x(float(row["benefit"])), cy, colour=INK, size=4))
        parts.append(svg.text(right + 12, cy + 4, fmt.decimal(row["benefit"]), size=10.5))
    cy = top + len(blocks) * row_h + row_h / 2
    parts.append(svg.text(label_w, cy + 4, "Mean (95% CI)", anchor="end", weight="bold"))
    if not fmt.is_missing(effect["ci_low"]):
        parts.append(
            svg.line(x(effect["ci_low"]), cy, x(effect["ci_high"]), cy, stroke=active, width=2)
        )
    parts.append(svg.marker("diamond", x(float(effect["mean_benefit"])), cy, colour=active, size=5))
    parts.append(
        svg.text(
            right + 12,
            cy + 4,
            fmt.estimate_with_interval(effect["mean_benefit"], effect["ci_low"], effect["ci_high"]),
            size=10.5,
            weight="bold",
        )
    )
    return svg.document(
        width,
        bottom + 40,
        parts,
        title=f"Benefit per block and mean benefit of patient {effect['participant_id']}",
        description=(
            "Blocks: "
            + ", ".join(fmt.decimal(b) for b in blocks["benefit"])
            + f"; mean {fmt.decimal(effect['mean_benefit'])}, 95% CI "
            + fmt.interval(effect["ci_low"], effect["ci_high"])
        ),
    )


def _order_table(
    dataset: TrialDataset, results: TrialResults, participant: str, protocol: Protocol
) -> str:
    periods = dataset.periods[dataset.periods["participant_id"].astype(str) == participant]
    treatment = periods[periods["condition"].astype(str).isin(["active", "placebo"])]
    blocks = results.nof1_blocks if results.nof1_blocks is not None else _NO_BLOCKS
    mine = blocks[blocks["participant_id"].astype(str) == participant]
    names = {c: condition_label(protocol, c) for c in ("active", "placebo")}
    head: list[list[CellLike]] = [
        [
            "Block",
            "Order",
            "Dates",
            f"Improvement on {names['active']}, %",
            f"Improvement on {names['placebo']}, %",
            "Benefit, points",
        ]
    ]
    body: list[list[CellLike]] = []
    for block in sorted(int(b) for b in treatment["block"].dropna().unique()):
        rows = treatment[treatment["block"] == block].sort_values("start")
        order = " then ".join(names[str(c)] for c in rows["condition"].astype(str))
        first = pd.Timestamp(rows["start"].min()).date().isoformat()
        last = pd.Timestamp(rows["end"].max()).date().isoformat()
        result = mine[mine["block"] == block]
        if result.empty:
            values = [fmt.MISSING] * 3
        else:
            r = result.iloc[0]
            values = [
                fmt.decimal(r["active"]),
                fmt.decimal(r["placebo"]),
                fmt.decimal(r["benefit"]),
            ]
        body.append([str(block), order, f"{first} to {last}", *values])
    return html_table(
        f"Blocks of patient {participant}: order of treatments and results",
        head,
        body,
        text_columns=(0, 1, 2),
        notes=[
            "Improvement: percent change of the primary item from baseline over each period's "
            "analysis window, positive is better; benefit = active − placebo."
        ],
    )


def patient_page(
    dataset: TrialDataset,
    results: TrialResults,
    effect: pd.Series,
    series: Series | None,
    *,
    figure: Callable[[str, str], str],
) -> str:
    """One patient's page: summary sentence, blocks table, daily series and benefit plot.

    `figure` wraps an SVG and its caption into a numbered ``<figure>`` (from the document).
    """
    protocol = dataset.protocol.protocol
    participant = str(effect["participant_id"])
    item = protocol.diary.item(results.primary_item)
    cid = fmt.decimal(effect["cid"], 0)
    e = html.escape
    summary = (
        f"<p>Over {fmt.plural(int(effect['blocks']), 'usable block')}, "
        f"{e(condition_label(protocol, 'active'))} improved {e(item.label.lower())} by "
        f"<strong>{fmt.decimal(effect['mean_benefit'])} percentage points</strong> of the "
        f"baseline more than {e(condition_label(protocol, 'placebo'))} (95% CI "
        f"{fmt.interval(effect['ci_low'], effect['ci_high'])}). The probability that "
        f"{e(condition_label(protocol, 'active'))} is better than placebo at all is "
        f"{fmt.share(effect['p_benefit'])}; the probability that the benefit exceeds the "
        f"clinically important difference of {cid} points is "
        f"<strong>{fmt.share(effect['p_exceeds_cid'])}</strong>.</p>"
    )
    contrast = results.primary.get(results.primary_item)
    if contrast is not None and contrast.n_participants == 1:
        summary += (
            f"<p>The model of the daily values ({e(contrast.model)}) estimates active − placebo "
            f"at {fmt.estimate_with_interval(contrast.estimate, contrast.ci_low, contrast.ci_high)}"
            f" points on the {e(item.label.lower())} scale ({e(item.anchors[0])} "
            f"{item.lowest} to {e(item.anchors[1])} {item.highest}), "
            f"{fmt.p_statement(contrast.p)}, with a day-to-day correlation ρ = "
            f"{fmt.decimal(contrast.rho, 2)}.</p>"
        )
    blocks = results.nof1_blocks if results.nof1_blocks is not None else _NO_BLOCKS
    mine = blocks[blocks["participant_id"].astype(str) == participant]
    parts = [
        f'<section class="patient" id="patient-{e(participant)}">',
        f"<h3>Patient {e(participant)}</h3>",
        summary,
        _order_table(dataset, results, participant, protocol),
    ]
    if series is not None:
        parts.append(
            figure(
                condition_key(protocol, ("baseline", "active", "placebo"), with_block=True)
                + series_figure(series, protocol=protocol, item=item),
                f"Daily {item.label.lower()} of patient {participant}, periods shaded by "
                "condition and numbered by block.",
            )
        )
    parts.append(
        figure(
            benefit_figure(mine, effect, protocol),
            f"Benefit of {condition_label(protocol, 'active')} over placebo in each block, and the "
            f"mean with its 95% CI; the dashed line is the clinically important difference ({cid} "
            "points).",
        )
    )
    parts.append("</section>")
    return "".join(parts)


def _posterior_cells(mixture: NormalMixture, credibility: float, cid: float) -> list[CellLike]:
    tail = (1 - credibility) / 2
    return [
        fmt.estimate_with_interval(
            mixture.mean, mixture.quantile(tail), mixture.quantile(1 - tail)
        ),
        fmt.share(mixture.prob_above(0.0)),
        fmt.share(mixture.prob_above(cid)),
    ]


def pooled_section(pooled: PooledEffects | str | None) -> str:
    """The series of n-of-1 trials pooled: each patient's benefit shrunk toward the others',
    the population's and a new patient's, and the model in words; or why it is not pooled."""
    if pooled is None:
        return ""
    title = "<h3>The series, pooled</h3>"
    if isinstance(pooled, str):
        return f"{title}<p>The patients' trials are not pooled: {html.escape(pooled)}.</p>"
    level = fmt.decimal(100 * pooled.credibility, 0)
    cid = fmt.decimal(pooled.cid, 0)
    head = [
        [
            "Patient",
            "Blocks",
            "Observed mean benefit",
            f"Pooled benefit ({level}% credible interval)",
            "P(benefit > 0)",
            f"P(benefit > {cid})",
        ]
    ]
    body: list[list[CellLike]] = [
        [
            str(row.participant_id),
            fmt.integer(row.blocks),
            fmt.decimal(row.observed),
            fmt.estimate_with_interval(row.posterior_mean, row.ci_low, row.ci_high),
            fmt.share(row.p_benefit),
            fmt.share(row.p_exceeds_cid),
        ]
        for row in pooled.participants.itertuples()
    ]
    body.append(
        [
            "All patients (population mean)",
            "",
            "",
            *_posterior_cells(pooled.population, pooled.credibility, pooled.cid),
        ]
    )
    body.append(
        [
            "A new patient like these",
            "",
            "",
            *_posterior_cells(pooled.predictive, pooled.credibility, pooled.cid),
        ]
    )
    median, low, high = pooled.tau
    table = html_table(
        "The patients' benefits, pooled by a hierarchical model",
        head,
        body,
        text_columns=(0,),
        notes=[
            "Benefit: improvement on active − placebo, percentage points of the baseline. "
            "Pooled: each patient's true benefit is drawn from the patients' common "
            "distribution, so an estimate from few blocks borrows strength from the others' "
            "(a normal hierarchical model with flat priors; Zucker et al. 2010).",
            f"How much patients' true benefits differ (SD): {fmt.decimal(median)} "
            f"({level}% credible interval {fmt.interval(low, high)}).",
            "Computed exactly by numerical integration over the model's two variances, "
            "without sampling: there is no chain whose convergence needs checking "
            "(docs/statistics.md).",
        ],
    )
    return title + table
