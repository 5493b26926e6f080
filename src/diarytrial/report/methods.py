"""The methods section, written from the protocol: design, diary, outcomes and statistics.

Every sentence is built from the protocol file and the provenance of the data, so the methods
always describe what was actually run. The text is HTML: data are escaped with :func:`_e`.
"""

from __future__ import annotations

import html
from typing import Any

from diarytrial.analysis.results import TrialResults
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.labels import (
    arm_label,
    better_label,
    condition_label,
    item_label,
    scale_label,
    sequence_label,
)


def _e(text: object) -> str:
    return html.escape(str(text))


def seed_text(provenance: dict[str, Any]) -> str:
    """The recorded seed of the data, or why there is none.

    A simulated dataset records it as ``seed``; the live demo's export, whose nights were
    simulated and then run through the live system, as ``simulation.seed``. Data that the live
    system collected from people have no seed ("none: collected data"); any other source
    without one gives "not recorded".
    """
    seed = provenance.get("seed")
    simulation = provenance.get("simulation")
    if seed is None and isinstance(simulation, dict):
        seed = simulation.get("seed")
    if seed is not None:
        return str(seed)
    if provenance.get("generator") == "diarytrial export":
        return "none: collected data"
    return "not recorded"


def _join(parts: list[str], last: str = "and") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {last} " + parts[-1]


def _period_lengths(protocol: Protocol) -> str:
    days = protocol.design.treatment_days
    if isinstance(days, int):
        return f"of {fmt.plural(days, 'day')} each"
    if isinstance(days, list):
        return "of " + _join([str(d) for d in days]) + " days (in period order)"
    return "lasting " + _join(
        [f"{fmt.plural(d, 'day')} on {arm_label(protocol, arm)}" for arm, d in days.items()]
    )


def design_paragraph(protocol: Protocol) -> str:
    """Design, sequences, period lengths, washout, blinding and allocation."""
    design = protocol.design
    blinding = _e(protocol.blinding.label.lower())
    washout = (
        f"separated by a {design.washout_days}-day washout"
        if design.washout_days
        else "with no washout between periods"
    )
    baseline = (
        f"After a {design.baseline_days}-day baseline without study medication, "
        if design.baseline_days
        else "Without a baseline phase, "
    )
    sizes = _join([str(s) for s in protocol.block_sizes], "or")
    strata = protocol.randomization.strata
    stratified = (
        f", stratified by {_e(_join([s.replace('_', ' ') for s in strata]))}" if strata else ""
    )
    if design.kind == "nof1":
        blocks = design.blocks or 1
        order = {
            "randomized_pairs": "the order of the two treatments randomized within each block",
            "ABAB": "the treatments alternating in the same order in every block (ABAB)",
            "ABBA": "the order reversed in every other block (ABBA)",
        }.get(design.block_order or "", "in a fixed order")
        return (
            f"<p><strong>Design.</strong> An n-of-1 trial: a randomized, double-blind, "
            f"placebo-controlled multiple crossover in one patient. {baseline}the patient took "
            f"the {blinding} in {fmt.plural(blocks, 'block')} of two treatment periods "
            f"{_e(_period_lengths(protocol))}, one on {_e(condition_label(protocol, 'active'))} "
            f"and one on {_e(condition_label(protocol, 'placebo'))}, {_e(order)}, {washout}. "
            f"Patient and staff were blind to the treatment of each period.</p>"
        )
    sequences = [f"{_e(sequence_label(protocol, '-'.join(s)))}" for s in protocol.sequences]
    return (
        f"<p><strong>Design.</strong> A randomized, double-blind, placebo-controlled crossover "
        f"trial with {fmt.plural(len(sequences), 'sequence')}: {'; '.join(sequences)}. "
        f"{baseline}participants took the {blinding} in "
        f"{fmt.plural(len(protocol.sequences[0]), 'treatment period')} "
        f"{_e(_period_lengths(protocol))}, {washout}. Participants were allocated to a sequence "
        f"by permuted blocks of {sizes}{stratified}, from a seeded list; participants and staff "
        f"were blind to the allocation until the database was locked.</p>"
    )


def dosing_paragraph(protocol: Protocol) -> str:
    """Dose levels per arm, the start level and blinded dose reductions."""
    dosing = protocol.dosing
    levels = []
    for level in dosing.levels:
        doses = ", ".join(
            f"{_e(arm.name)} {fmt.decimal(arm.dose_mg.get(level, 0), 1)} mg"
            for arm in protocol.arms
        )
        levels.append(f"{_e(level)} ({doses})")
    text = (
        f"<p><strong>Dosing.</strong> Dose levels, lowest first: {'; '.join(levels)}. "
        f"Participants started at the {_e(dosing.start_level)} level"
    )
    if dosing.opioid_start_level:
        text += f" (opioid users at the {_e(dosing.opioid_start_level)} level)"
    text += "."
    if dosing.reduced_level:
        text += (
            f" After an unpleasant side effect the level could be lowered to "
            f"{_e(dosing.reduced_level)}; the pharmacist dispensed the kit of that level for the "
            "participant's arm, so a reduction did not unblind anyone."
        )
    return text + "</p>"


def diary_paragraph(protocol: Protocol) -> str:
    """The diary window, the items with their scales and anchors, and the side-effect list."""
    diary = protocol.diary
    closes = f"{diary.closes:%H:%M}" + (" the next morning" if diary.crosses_midnight else "")
    items = "".join(
        f"<li><strong>{_e(item.label)}</strong>: “{_e(item.question)}” "
        f"({_e(scale_label(item))} from “{_e(item.anchors[0])}” to “{_e(item.anchors[1])}”; "
        f"{_e(better_label(item))}"
        f"{'' if item.required else '; optional'})</li>"
        for item in diary.items
    )
    text = (
        f"<p><strong>Diary.</strong> Every evening between {diary.opens:%H:%M} and {closes} "
        f"(participant's local time) the diary accepted one entry for the day; an entry made "
        f"offline could reach the server up to {diary.late_sync_grace_hours} h later and was then "
        f'flagged late. The items were:</p><ul class="items">{items}</ul>'
    )
    if diary.side_effects:
        text += (
            "<p>The diary also held a side-effect checklist ("
            + _e(", ".join(s.label for s in diary.side_effects))
            + "), each ticked side effect rated for how unpleasant it was.</p>"
        )
    return text


def outcomes_paragraph(protocol: Protocol, results: TrialResults) -> str:
    """Analysis window, percent improvement, the responder rule and the PGIC."""
    analysis = protocol.analysis
    primary = _e(item_label(protocol, results.primary_item).lower())
    if analysis.window == "last_days" and analysis.last_days:
        window = f"the last {fmt.plural(analysis.last_days, 'day')} of each treatment period"
    else:
        window = "the whole of each treatment period"
    if analysis.improvement_endpoint == "final_days":
        endpoint = f"the final {fmt.plural(analysis.final_days, 'day')} of each condition"
    else:
        endpoint = window
    pgic = {
        "end_of_each_treatment_period": "at the end of each treatment period",
        "end_of_study": "at the end of the study",
        "never": "never",
    }[protocol.pgic.schedule]
    return (
        f"<p><strong>Outcomes.</strong> The primary outcome was {primary}, the first diary item. "
        f"Phase means were taken over {_e(window)} (the analysis window) and over the whole "
        f"baseline; a phase mean needed at least {fmt.share(analysis.min_completion, 0)} of its "
        f"diary days completed. Percent improvement from baseline compared the mean over "
        f"{_e(endpoint)} with the baseline mean b: (b − x)/b × 100 for an item where lower is "
        f"better and (x − b)/b × 100 where higher is better, so that positive is better for every "
        f"item. A <em>responder</em> had {_e(results.responder_rule)} (protocol rule "
        f"<code>{_e(protocol.responder.rule)}</code>), judged separately on each condition. The "
        f"Patient Global Impression of Change (7 points, from “very much improved” to “very much "
        f"worse”) was asked {pgic}.</p>"
    )


def statistics_paragraph(protocol: Protocol, results: TrialResults) -> str:
    """The mixed model in words and as the nlme call, the other tests, the n-of-1 analysis."""
    nof1 = protocol.design.kind == "nof1"
    cid = fmt.decimal(protocol.analysis.clinically_important_difference_pct, 0)
    single = any(c.n_participants == 1 for c in results.primary.values())
    term = "block" if nof1 else "treatment period"
    if single:
        model_words = (
            f"a linear model of the patient's daily values on the treatment days with fixed "
            f"effects for condition (active vs placebo) and {term}, and first-order "
            "autoregressive residuals whose correlation between two days g days apart is "
            "ρ<sup>g</sup>, fitted by REML"
        )
        call = 'nlme::gls(y ~ active + block, correlation = corAR1(form = ~day), method = "REML")'
    else:
        model_words = (
            f"a linear mixed model of the daily values on the treatment days (baseline and "
            f"washout days left out) with fixed effects for the intercept, condition (active vs "
            f"placebo) and {term}, a random intercept per participant, and first-order "
            f"autoregressive (AR(1)) residuals whose correlation between two days of one "
            "participant g days apart is ρ<sup>g</sup>, fitted by restricted maximum likelihood "
            "(REML)"
        )
        fixed = "active + block" if nof1 else "active + period"
        call = (
            f"nlme::lme(y ~ {fixed}, random = ~1 | id, "
            'correlation = corAR1(form = ~day | id), method = "REML")'
        )
    text = (
        f"<p><strong>Statistical analysis.</strong> The contrast of active against placebo on "
        f"each item came from {model_words}; in R, <code>{_e(call)}</code> with integer day "
        f"numbers. A sensitivity analysis refitted the model without the AR(1) term"
        + ("" if nof1 or single else "; a carry-over test added the sequence to the model")
        + ". Percent improvement on active and on placebo was compared in pairs with the paired "
        "t-test and the Wilcoxon signed-rank test (with the Hodges-Lehmann estimate and its "
        "interval); responder rates with the exact McNemar test. The weekly time course is the "
        f"mean improvement of {_e(item_label(protocol, results.primary_item).lower())} per week "
        f"of each treatment period; its onset is the first week from which the mean improvement "
        f"stays at or above {cid}% to the end. The PGIC was compared with the Wilcoxon "
        "signed-rank test and the exact McNemar test of “much or very much improved”. For adverse "
        "events, side effects and dose reductions, having at least one under active and under "
        "placebo was compared with the exact McNemar test, and event rates per exposure day with "
        "the exact conditional test of two Poisson rates, whose exact interval gives the rate "
        "ratio's; when one condition had no event, 1/2 was added to both counts for the ratio "
        "and its Wald interval on the log scale (Haldane-Anscombe correction). Tests are "
        "two-sided with no adjustment for multiple comparisons.</p>"
    )
    if nof1:
        text += (
            "<p><strong>n-of-1 analysis.</strong> For each block, the benefit is the improvement "
            "on active minus the improvement on placebo (percentage points of the baseline). The "
            "mean benefit over blocks has a t interval on k − 1 degrees of freedom; the "
            f"probability that the true benefit exceeds the clinically important difference of "
            f"{cid} points comes from the normal model with the reference prior p(μ, σ) "
            "proportional to 1/σ, "
            "whose posterior for μ is the mean plus its standard error times a t variate on "
            "k − 1 degrees of freedom (Gelman et al., Bayesian Data Analysis, 3rd ed., § 3.2). "
            "The per-patient pages follow the CENT 2015 statement (Vohra et al., BMJ "
            "2015;350:h1738).</p>"
        )
    return text


def _source(provenance: dict[str, Any]) -> str:
    """Where the data came from, in words (HTML-escaped)."""
    generator = provenance.get("generator")
    if generator == "diarytrial export":
        source = "The data were exported from the live trial system"
        facts = []
        if provenance.get("study"):
            facts.append(f"study {_e(provenance['study'])}")
        if provenance.get("protocol_version") is not None:
            facts.append(f"protocol version {_e(provenance['protocol_version'])}")
        lock = provenance.get("database_lock")
        if isinstance(lock, dict) and lock.get("locked_at"):
            facts.append(f"database locked {_e(str(lock['locked_at'])[:10])}")
        if facts:
            source += f" ({', '.join(facts)})"
        simulation = provenance.get("simulation")
        if isinstance(simulation, dict):
            source += (
                f"; the participants and their nights were simulated by "
                f"{_e(simulation.get('generator', 'the simulator'))} and entered through the "
                "system's services (the diary windows, the audit trail and the blinding applied)"
            )
        return source
    if generator:
        source = f"The data were produced by {_e(generator)}"
        parameters = provenance.get("parameters")
        if parameters:
            source += f" ({_e(parameters)})"
        return source
    return "The data come from the trial dataset named in the footer"


def provenance_paragraph(results: TrialResults) -> str:
    """Where the data came from, the seed and the code version."""
    provenance = results.provenance
    seed = seed_text(provenance)
    seed_sentence = "" if seed == "none: collected data" else f"; random seed {_e(seed)}"
    return (
        f"<p><strong>Reproducibility.</strong> {_source(provenance)}{seed_sentence}. The "
        f"analysis and this report were made by diarytrial {_e(results.code_version)}; the same "
        "dataset always gives the same report, byte for byte.</p>"
    )


def methods_section(protocol: Protocol, results: TrialResults) -> str:
    """The whole methods section body (paragraphs and the list of items), as HTML."""
    return "".join(
        [
            design_paragraph(protocol),
            dosing_paragraph(protocol),
            diary_paragraph(protocol),
            outcomes_paragraph(protocol, results),
            statistics_paragraph(protocol, results),
            provenance_paragraph(results),
        ]
    )
